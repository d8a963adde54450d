"""The benchmark's feed server, in its own process so it never shares a GIL with what it serves.

Two implementations of the same routes, to show whether the server limits the figures:
`asyncio` (keep-alive, one event loop) and `threaded` (the stdlib ThreadingHTTPServer).

    GET /feed/<n>.xml                     the feed, ETag per version, 304 on If-None-Match
    GET /_admin/add?feed=N&index=I&ref=R  a corpus item (title + ref) on top of feed N
    GET /_admin/refresh?count=K           one ordinary new item on K feeds spread over the set
    GET /_admin/stats, /_admin/reset      counts of 200 and 304 answers
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from urllib.parse import parse_qs, urlsplit

from feedgen import FeedSet, load_corpus


class Routes:
    def __init__(self, feeds: FeedSet) -> None:
        self._feeds = feeds
        self._bodies = [feeds.body(n) for n in range(len(feeds))]
        self._versions = [1] * len(feeds)
        self.stats: Counter[str] = Counter()

    def answer(self, target: str, if_none_match: str | None) -> tuple[int, bytes, str | None]:
        parts = urlsplit(target)
        if parts.path.startswith("/feed/"):
            return self._feed(parts.path, if_none_match)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        if parts.path == "/_admin/add":
            self._change(int(query["feed"]), int(query["index"]), query.get("ref", ""))
        elif parts.path == "/_admin/refresh":
            count = int(query["count"])
            for j in range(count):
                self._change(j * len(self._bodies) // count, None, "")
        elif parts.path == "/_admin/reset":
            self.stats.clear()
        elif parts.path != "/_admin/stats":
            return 404, b"not found", None
        return 200, json.dumps(self.stats).encode(), None

    def _feed(self, path: str, if_none_match: str | None) -> tuple[int, bytes, str | None]:
        try:
            feed = int(path.removeprefix("/feed/").removesuffix(".xml"))
            body = self._bodies[feed]
        except (ValueError, IndexError):
            return 404, b"not found", None
        etag = f'"v{self._versions[feed]}"'
        if if_none_match == etag:
            self.stats["304"] += 1
            return 304, b"", etag
        self.stats["200"] += 1
        return 200, body, etag

    def _change(self, feed: int, index: int | None, ref: str) -> None:
        if index is None:
            self._feeds.refresh(feed)
        else:
            self._feeds.add(feed, index, ref)
        self._bodies[feed] = self._feeds.body(feed)
        self._versions[feed] += 1


def _head(status: int, length: int, etag: str | None) -> bytes:
    reason = {200: "OK", 304: "Not Modified", 404: "Not Found"}[status]
    lines = [
        f"HTTP/1.1 {status} {reason}",
        "Content-Type: application/rss+xml; charset=utf-8",
        f"Content-Length: {length}",
    ]
    if etag:
        lines.append(f"ETag: {etag}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _serve_asyncio(routes: Routes, ready: Connection) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while request_line := await reader.readline():
                headers: dict[str, str] = {}
                while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                target = request_line.decode("latin-1").split(" ")[1]
                status, body, etag = routes.answer(target, headers.get("if-none-match"))
                writer.write(_head(status, len(body), etag) + body)
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (ConnectionError, IndexError):
            pass  # a client hung up or sent garbage: drop the connection
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    ready.send(server.sockets[0].getsockname()[1])
    async with server:
        await server.serve_forever()


def _serve_threaded(routes: Routes, ready: Connection) -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

        def do_GET(self) -> None:
            status, body, etag = routes.answer(self.path, self.headers.get("If-None-Match"))
            self.wfile.write(_head(status, len(body), etag) + body)

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 1024

    httpd = Server(("127.0.0.1", 0), Handler)
    ready.send(httpd.server_address[1])
    httpd.serve_forever()


def _main(kind: str, feeds: int, per_feed: int, reserved: frozenset[int], ready: Connection) -> None:
    routes = Routes(FeedSet(load_corpus(), feeds, per_feed, reserved))
    if kind == "asyncio":
        asyncio.run(_serve_asyncio(routes, ready))
    else:
        _serve_threaded(routes, ready)


class ServerProcess:
    def __init__(self, kind: str, feeds: int, per_feed: int, reserved: frozenset[int]) -> None:
        context = multiprocessing.get_context("spawn")
        self._ready, child_end = context.Pipe()
        self._process = context.Process(target=_main, args=(kind, feeds, per_feed, reserved, child_end), daemon=True)
        self.kind = kind
        self.port = 0

    def start(self) -> ServerProcess:
        self._process.start()
        if not self._ready.poll(120):
            raise RuntimeError("the feed server did not start")
        self.port = int(self._ready.recv())
        return self

    def stop(self) -> None:
        self._process.terminate()
        self._process.join(10)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def admin(self, path: str) -> dict[str, int]:
        with urllib.request.urlopen(self.url(path), timeout=30) as reply:  # noqa: S310 (loopback)
            loaded: dict[str, int] = json.loads(reply.read())
            return loaded
