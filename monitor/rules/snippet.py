"""A short excerpt around the evidence, with matched words marked «like this»."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from monitor.types import Span

SNIPPET_WIDTH = 240
_FIELD_PREFERENCE = ("title", "summary", "content")


def make_snippet(texts: Mapping[str, str], spans: Sequence[Span], width: int = SNIPPET_WIDTH) -> str:
    """About ``width`` characters of one field: the title if it holds evidence, otherwise the
    window holding the most evidence. Whitespace is collapsed; "…" marks cut ends."""
    if not spans:
        field = next((f for f in _FIELD_PREFERENCE if texts.get(f)), "title")
        return _render(texts.get(field, ""), [], 0, min(width, len(texts.get(field, ""))))
    in_title = [s for s in spans if s.field == "title"]
    title = texts.get("title", "")
    if in_title and len(title) <= width:  # the common case: the whole title fits
        return _render(title, [(s.start, s.end) for s in in_title], 0, len(title))
    if in_title:
        chosen, field = _densest(in_title, width)
    else:
        field_windows = []
        for name in _FIELD_PREFERENCE:
            field_spans = [s for s in spans if s.field == name]
            if field_spans:
                field_windows.append(_densest(field_spans, width))
        chosen, field = max(field_windows, key=lambda window: len(window[0]))
    text = texts.get(field, "")
    start, end = _window(text, chosen[0].start, chosen[-1].end, width)
    return _render(text, [(s.start, s.end) for s in spans if s.field == field], start, end)


def _densest(spans: Sequence[Span], width: int) -> tuple[list[Span], str]:
    """The longest run of spans fitting in ``width`` characters (earliest wins ties)."""
    ordered = sorted(spans, key=lambda s: (s.start, s.end))
    best: list[Span] = ordered[:1]
    right = 0
    for left, first in enumerate(ordered):
        right = max(right, left)
        while right + 1 < len(ordered) and ordered[right + 1].end - first.start <= width:
            right += 1
        if right - left + 1 > len(best):
            best = ordered[left : right + 1]
    return best, ordered[0].field


def _window(text: str, first: int, last: int, width: int) -> tuple[int, int]:
    """Centre [first, last) in a window of ``width``, then pull both ends in to whole words."""
    slack = max(width - (last - first), 0)
    start = max(first - slack // 2, 0)
    end = min(max(last, start + width), len(text))
    start = max(min(start, end - width), 0) if end == len(text) else start
    if start > 0:
        space = text.find(" ", start, first)
        start = space + 1 if space >= 0 else start
    if end < len(text):
        space = text.rfind(" ", last, end)
        end = space if space >= 0 else end
    return start, end


def _render(text: str, spans: list[tuple[int, int]], start: int, end: int) -> str:
    pieces: list[str] = []
    cursor = start
    for span_start, span_end in _merge(spans):
        span_start, span_end = max(span_start, start), min(span_end, end)
        if span_start >= span_end or span_start < cursor:
            continue
        pieces += [text[cursor:span_start], "«", text[span_start:span_end], "»"]
        cursor = span_end
    pieces.append(text[cursor:end])
    body = " ".join("".join(pieces).split())
    return ("…" if start > 0 else "") + body + ("…" if end < len(text) else "")


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
