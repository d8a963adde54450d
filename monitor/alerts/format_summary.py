"""A story's summary for a message: cleaned, trimmed at a word boundary, evidence marked.

The rule engine stores each matched word's offsets into the item's fields; the summary's are
turned into segments here, before any cleaning, so markers can never be forged by feed text
(which may itself contain «», ** or <mark>).
"""

from __future__ import annotations

from collections.abc import Sequence

from monitor.alerts.format_text import ELLIPSIS, Segment, clean_line
from monitor.types import Span

MAX_SUMMARY = 600


def summary_segments(summary: str, spans: Sequence[Span], limit: int = MAX_SUMMARY) -> tuple[Segment, ...]:
    """The summary as segments (matched or not), at most ``limit`` characters in all."""
    return _trim(_merge(_raw_segments(summary, spans)), limit)


def _raw_segments(summary: str, spans: Sequence[Span]) -> list[Segment]:
    segments: list[Segment] = []
    cursor = 0
    for span in sorted(spans, key=lambda s: (s.start, s.end)):
        if span.start < cursor or span.end > len(summary) or span.start >= span.end:
            continue  # overlapping, out of range or empty: not ours to trust
        if summary[span.start : span.end].casefold() != span.text.casefold():
            continue  # offsets from another version of the text
        if span.start > cursor:
            segments.append(Segment(summary[cursor : span.start], False))
        segments.append(Segment(summary[span.start : span.end], True))
        cursor = span.end
    if cursor < len(summary):
        segments.append(Segment(summary[cursor:], False))
    return segments


def _merge(segments: list[Segment]) -> list[Segment]:
    """Clean each segment (controls removed, white space collapsed) and keep the spaces at its
    edges, which ``clean_line`` would strip, so words on either side stay apart."""
    cleaned: list[Segment] = []
    for segment in segments:
        text = clean_line(segment.text, len(segment.text) + 1)
        if not text:
            if segment.text[:1].isspace() and cleaned and not cleaned[-1].text.endswith(" "):
                cleaned.append(Segment(" ", False))
            continue
        lead = " " if segment.text[:1].isspace() and cleaned else ""
        tail = " " if segment.text[-1:].isspace() else ""
        cleaned.append(Segment(lead + text + tail, segment.matched))
    if cleaned:
        cleaned[-1] = Segment(cleaned[-1].text.rstrip(), cleaned[-1].matched)
    return [segment for segment in cleaned if segment.text]


def _trim(segments: list[Segment], limit: int) -> tuple[Segment, ...]:
    kept: list[Segment] = []
    used = 0
    for segment in segments:
        if used + len(segment.text) <= limit:
            kept.append(segment)
            used += len(segment.text)
            continue
        room = limit - used - 1
        if not segment.matched and room > 0:
            cut = segment.text[:room]
            boundary = cut.rfind(" ")
            cut = cut[:boundary] if boundary > 0 else ""
            if cut.strip():
                kept.append(Segment(cut.rstrip(), False))
        kept.append(Segment(ELLIPSIS, False))
        break
    return tuple(kept)
