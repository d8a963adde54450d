"""HTML → plain text for matching: tags removed, scripts/styles dropped, entities decoded, block
elements turned into line breaks and whitespace collapsed.

Feed HTML is hostile and often broken. The stdlib `html.parser` tolerates almost anything; for
the few inputs it still rejects (odd marked sections) we fall back to a crude tag strip, because
losing markup structure is better than losing the item.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

# Content that is never prose an analyst would want matched.
_SKIPPED = frozenset(
    {"script", "style", "template", "noscript", "head", "title", "iframe", "object", "embed",
     "svg", "math", "canvas", "select", "option", "textarea"}
)  # fmt: skip
# Elements that start a new line in rendered text.
_BLOCKS = frozenset(
    {"address", "article", "aside", "blockquote", "br", "caption", "dd", "details", "div", "dl",
     "dt", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
     "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table",
     "tbody", "td", "tfoot", "th", "thead", "tr", "ul"}
)  # fmt: skip
_VOID = frozenset({"br", "hr", "img", "input", "meta", "link", "wbr", "source", "embed"})
_TAG = re.compile(r"<[^>]*>?")
_WHITESPACE = re.compile(r"\s+")
_SCRIPT_OR_STYLE = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._parts: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED and tag not in _VOID:
            self._skip_depth += 1
        elif tag in _BLOCKS:
            self._parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:  # <br/>, <hr/>; a self-closed <script/> has no content to skip
            self._parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCKS:
            self._parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            # Source line breaks are just spaces in HTML; only block elements break lines.
            self._parts.append(_WHITESPACE.sub(" ", data))

    def unknown_decl(self, data: str) -> None:
        if data.startswith("CDATA["):  # CDATA inside HTML content is still text
            self.handle_data(data[len("CDATA[") :])

    def text(self) -> str:
        return "".join(self._parts)


def html_to_text(markup: str) -> str:
    """Readable plain text from an HTML fragment or document."""
    if "<" not in markup and "&" not in markup:
        return collapse_whitespace(markup)
    text = _extract(markup)
    if text is None:  # html.parser rejects unknown "<![keyword[" sections: show them as text
        text = _extract(markup.replace("<![", "&lt;!["))
    if text is None:
        text = _crude_text(markup)
    return collapse_whitespace(text)


def _extract(markup: str) -> str | None:
    extractor = _TextExtractor()
    try:
        extractor.feed(markup)
        extractor.close()
    except (AssertionError, ValueError, IndexError):  # html.parser's rare hard failures
        return None
    return extractor.text()


def _crude_text(markup: str) -> str:
    without_code = _SCRIPT_OR_STYLE.sub(" ", markup)
    return _WHITESPACE.sub(" ", html.unescape(_TAG.sub(" ", without_code)))


def collapse_whitespace(text: str) -> str:
    """One space between words, one newline between non-empty lines, nothing at either end."""
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)
