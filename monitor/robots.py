"""robots.txt for article pages (RFC 9309): fetched once per site and hour, with the fetcher's
limits, and obeyed for our User-Agent.

A robots.txt that does not exist (4xx) allows everything; one that cannot be read (5xx, network
errors, too large) disallows everything for a while, as the RFC asks: a site in trouble is no
site to crawl.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser

from monitor.fetch import Fetcher

ROBOTS_TTL_SECONDS = 3_600.0
UNREADABLE_TTL_SECONDS = 600.0
MAX_ROBOTS_BYTES = 500_000  # RFC 9309 asks crawlers to read at least 500 KiB
_ALLOW_ALL = "User-agent: *\nAllow: /\n"
_DISALLOW_ALL = "User-agent: *\nDisallow: /\n"


class RobotsCache:
    def __init__(self, fetcher: Fetcher, user_agent: str) -> None:
        self._fetcher = fetcher
        self._agent = user_agent
        self._sites: dict[str, tuple[float, RobotFileParser]] = {}
        self._reading: dict[str, asyncio.Lock] = {}  # one read per site, however many pages wait

    async def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        site = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
        async with self._reading.setdefault(site, asyncio.Lock()):
            cached = self._sites.get(site)
            if cached is None or cached[0] < time.monotonic():
                cached = self._sites[site] = await self._read(site)
        return cached[1].can_fetch(self._agent, url)

    async def _read(self, site: str) -> tuple[float, RobotFileParser]:
        result = await self._fetcher.fetch(site + "/robots.txt")
        body, ttl = _ALLOW_ALL, ROBOTS_TTL_SECONDS
        if result.ok and result.body is not None and len(result.body) <= MAX_ROBOTS_BYTES:
            body = result.body.decode("utf-8", "replace")
        elif result.status_code is None or result.status_code >= 500 or result.ok:
            body, ttl = _DISALLOW_ALL, UNREADABLE_TTL_SECONDS
        parser = RobotFileParser()
        parser.parse(body.splitlines())
        return time.monotonic() + ttl, parser
