// Small enhancements of the server-rendered pages; everything works without them.
// Loaded as a file: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    // Ctrl+S / Cmd+S in the rule editor saves (the server checks the draft again).
    if ((event.ctrlKey || event.metaKey) && event.key === "s") {
      var save = document.getElementById("save");
      if (save) {
        event.preventDefault();
        save.click();
      }
    }
  });
  document.addEventListener("htmx:responseError", function (event) {
    // 4xx answers carry a readable page part (errors, read-only notices): show it anyway.
    var target = event.detail.target;
    if (target && event.detail.xhr && event.detail.xhr.status < 500) {
      target.innerHTML = event.detail.xhr.responseText;
    }
  });
})();
