"""Synthetic feeds for end-to-end tests (our own text, in the style of wire reports)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

# Recent news: items older than the configured max_age (3 days) are stored but raise no alert.
PUBLISHED = (datetime.now(UTC) - timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class Entry:
    guid: str
    title: str
    summary: str
    link: str


def rss(title: str, entries: list[Entry], published: datetime = PUBLISHED) -> bytes:
    items = "".join(
        f"<item><guid>{escape(e.guid)}</guid><title>{escape(e.title)}</title>"
        f"<link>{escape(e.link)}</link><description>{escape(e.summary)}</description>"
        f"<pubDate>{format_datetime(published, usegmt=True)}</pubDate></item>"
        for e in entries
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>https://example.org/</link>"
        f"<description>test</description>{items}</channel></rss>"
    ).encode()


ARMS_1 = Entry(
    "wire-1",
    "North Korean artillery shells reach Russian front, officials say",
    "Pyongyang has shipped millions of artillery shells to Russia in breach of UN sanctions.",
    "https://example.org/wire/1",
)
ARMS_2 = Entry(
    "wire-2",
    "Iranian-designed drones launched from Russia-held territory",
    "Shahed drones supplied by Iran were used against Ukrainian cities, investigators said.",
    "https://example.org/wire/2",
)
QUIET = Entry(
    "wire-3",
    "Central bank holds rates steady",
    "Inflation eased in the autumn, the bank said.",
    "https://example.org/wire/3",
)
ARMS_3 = Entry(
    "other-1",
    "Kremlin denies taking North Korean missiles <b>for</b> the war",
    "Moscow rejected reports that DPRK ballistic missiles were fired at Kharkiv.",
    "https://example.org/other/1",
)
ARMS_NEW = Entry(
    "wire-4",
    "Satellite images show DPRK munitions train crossing into Russia",
    "Analysts counted wagons carrying ammunition containers across the Tumen river bridge.",
    "https://example.org/wire/4",
)

RULES_YAML = """
aliases:
  dprk: ["North Korea", "North Korean", "DPRK", "Pyongyang"]
rules:
  - id: dprk-russia-arms
    title: North Korea–Russia arms transfers
    query: >-
      @dprk AND (Russia OR Russian OR Moscow OR Kremlin)
      AND (missile* OR artillery OR ammunition OR munitions OR shell*)
    severity: high
    notify: [analysts]
  - id: iran-drones-russia
    title: Iranian drones for Russia
    query: '(Iran OR Iranian) AND (drone* OR Shahed) AND Russia*'
    severity: medium
"""
