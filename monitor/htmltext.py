"""HTML → plain text for matching: tags removed, scripts/styles dropped, entities decoded, block
elements turned into line breaks and whitespace collapsed.

A small linear scanner rather than `html.parser`: the stdlib parser runs at about 1 MB/s and
raises on some odd markup, and feed HTML is both large and hostile. Every regex here is
anchored on `<` and stops at the next `<` or `>`, so run time stays linear in the input even for
unterminated tags, comments and quotes. The price is that a `>` inside a quoted attribute value
ends the tag early and leaves a few characters of attribute text behind, which costs matching
nothing that matters.
"""

from __future__ import annotations

import html
import re

# Elements whose content is not prose: raw-text elements are skipped to their closing tag,
# containers are skipped by nesting depth.
_RAW_TEXT = ("script", "style", "textarea", "title", "xmp", "noscript", "iframe", "noembed")
_CONTAINERS = frozenset(
    {"head", "template", "svg", "math", "object", "canvas", "select", "noframes"}
)  # fmt: skip
# Elements that start a new line in rendered text.
_BLOCKS = frozenset(
    {"address", "article", "aside", "blockquote", "br", "caption", "dd", "details", "div", "dl",
     "dt", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
     "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table",
     "tbody", "td", "tfoot", "th", "thead", "tr", "ul"}
)  # fmt: skip
_MARKUP = re.compile(
    r"<(?:(?P<comment>!--)|(?P<cdata>!\[CDATA\[)|(?P<close>/?)(?P<name>[A-Za-z][^\s/<>]*)[^<>]*>?|[!?][^<>]*>?)"
)
_RAW_TEXT_END = {name: re.compile(rf"</{name}[^<>]*>?", re.IGNORECASE) for name in _RAW_TEXT}
_WHITESPACE = re.compile(r"\s+")


def html_to_text(markup: str) -> str:
    """Readable plain text from an HTML fragment or document."""
    if "<" not in markup and "&" not in markup:
        return collapse_whitespace(markup)
    parts: list[str] = []
    depth = position = 0  # depth: how many skipped containers we are inside
    while match := _MARKUP.search(markup, position):
        if not depth:
            parts.append(_text(markup[position : match.start()]))
        position = match.end()
        if match.group("comment"):
            end = markup.find("-->", position)
            position = len(markup) if end < 0 else end + 3
            continue
        if match.group("cdata"):  # CDATA inside HTML content is literal text
            end = markup.find("]]>", position)
            end = len(markup) if end < 0 else end
            if not depth:
                parts.append(_WHITESPACE.sub(" ", markup[position:end]))
            position = min(len(markup), end + 3)
            continue
        name = (match.group("name") or "").lower()
        closing = bool(match.group("close"))
        if name in _RAW_TEXT_END and not closing and not match.group().endswith("/>"):
            end_tag = _RAW_TEXT_END[name].search(markup, position)
            position = len(markup) if end_tag is None else end_tag.end()
        elif name in _CONTAINERS and not match.group().endswith("/>"):
            depth = max(0, depth - 1) if closing else depth + 1
        elif name in _BLOCKS:
            parts.append("\n")
    if not depth:
        parts.append(_text(markup[position:]))
    return collapse_whitespace("".join(parts))


def _text(segment: str) -> str:
    # Source line breaks are plain spaces in HTML; only block elements break lines.
    return _WHITESPACE.sub(" ", html.unescape(segment)) if segment else ""


def collapse_whitespace(text: str) -> str:
    """One space between words, one newline between non-empty lines, nothing at either end."""
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)
