"""`fulltext: candidates`: a teaser feed whose evidence is only in the article pages (real saved
pages and hostile ones), served locally. Recall rises; items no rule could match cost no
request; robots.txt, the per-host limit and the size cap hold."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from e2e.feeds import Entry, rss
from fulltext.pages import CACHE, CORPUS_TEASERS, EMPTY_ARTICLE, HOSTILE_ARTICLE, corpus_page
from support.configs import write_config
from support.feedserver import FeedServer

from monitor.config import load_settings
from monitor.fetch import Fetcher
from monitor.runtime import Runtime, open_runtime
from monitor.store import HitView

HTML = "text/html; charset=utf-8"
PACK = Path(__file__).resolve().parents[2] / "rules"


def teaser_rules() -> str:
    rules = "".join(f"  - id: page-{i}\n    query: '{query}'\n" for i, (*_, query) in enumerate(CORPUS_TEASERS))
    return "rules:\n" + rules


def serve(server: FeedServer, entries: list[Entry], pages: dict[str, bytes], robots: str = "") -> None:
    server.route("/feed.xml", rss("Teasers", entries))
    server.route("/robots.txt", robots, content_type="text/plain")
    for path, body in pages.items():
        server.route(path, body, content_type=HTML)


def poll(tmp_path: Path, server: FeedServer, mode: str, rules: str, extra: str = "") -> list[HitView]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    body = f"feeds:\n  - url: {server.url('/feed.xml')}\n    name: Teasers\n    fulltext: {mode}\n{extra}"
    runtime = open_runtime(load_settings(write_config(tmp_path, body, rules), {}), exclusive=True)
    try:
        asyncio.run(_cycle(runtime))
        return runtime.store.list_hits()
    finally:
        runtime.close()


async def _cycle(runtime: Runtime) -> None:
    async with Fetcher(runtime.settings.fetch) as fetcher, runtime.article_pages() as pages:
        await runtime.pipeline(fetcher, None, pages=pages).poll_feeds(runtime.worker_id, due_only=False, limit=10)


def corpus_feed(server: FeedServer) -> tuple[list[Entry], dict[str, bytes]]:
    entries, pages = [], {}
    for index, (name, title, summary, _) in enumerate(CORPUS_TEASERS):
        entries.append(Entry(f"t-{index}", title, summary, server.url(f"/news/{name}")))
        pages[f"/news/{name}"] = corpus_page(name)
    return entries, pages


@pytest.mark.corpus
def test_candidates_raise_recall_on_real_article_pages(tmp_path: Path, feed_server: FeedServer) -> None:
    if not CACHE.is_dir():
        pytest.skip("the trafilatura test pages (../shared/corpus) are absent")
    entries, pages = corpus_feed(feed_server)
    # An item no rule could match: its page must never be requested.
    entries.append(Entry("quiet", "Local bakery wins a prize", "Bread.", feed_server.url("/news/quiet.html")))
    pages["/news/quiet.html"] = corpus_page("phys.org.tool.html")
    serve(feed_server, entries, pages)
    before = poll(tmp_path / "never", feed_server, "never", teaser_rules())
    after = poll(tmp_path / "candidates", feed_server, "candidates", teaser_rules())
    recall_before, recall_after = len(before) / len(CORPUS_TEASERS), len(after) / len(CORPUS_TEASERS)
    print(f"full-text recall on {len(CORPUS_TEASERS)} teasers: before {recall_before:.2f}, after {recall_after:.2f}")
    assert (recall_before, recall_after) == (0.0, 1.0)
    assert feed_server.hits("/news/quiet.html") == 0
    assert feed_server.max_in_flight <= 2  # one host: at most two requests at a time
    for hit in after:
        assert hit.article is not None and hit.article.final_url.endswith(".html")
        content = [span for span in hit.spans if span.field == "content"]
        assert content and all(hit.article.text[s.start : s.end] == s.text for s in content)


def test_hostile_markup_gives_the_body_evidence_not_the_scripts(tmp_path: Path, feed_server: FeedServer) -> None:
    entries = [
        Entry("rajin", "Cargo ships seen at Rajin again", "Satellite images.", feed_server.url("/a/rajin.html")),
        Entry("empty", "North Korea port report", "Images.", feed_server.url("/a/empty.html")),
    ]
    serve(feed_server, entries, {"/a/rajin.html": HOSTILE_ARTICLE.encode(), "/a/empty.html": EMPTY_ARTICLE.encode()})
    rules = (
        "rules:\n  - id: body\n    query: 'Rajin AND \"artillery shells\" AND Vostochny AND resolution'\n"
        "  - id: script\n    query: 'Rajin AND (Pyongyang OR advertisement OR footer)'\n"
    )
    hits = poll(tmp_path, feed_server, "candidates", rules)
    assert [hit.rule_id for hit in hits] == ["body"]
    assert hits[0].article is not None and "document.write" not in hits[0].article.text
    assert feed_server.hits("/a/empty.html") == 0  # no rule has "port" or "images" as its rarest word


def test_the_shipped_pack_catches_an_allegation_only_in_the_body(tmp_path: Path, feed_server: FeedServer) -> None:
    teaser = Entry("t", "North Korean cargo ships seen at Rajin", "Satellite images.", feed_server.url("/a/r.html"))
    serve(feed_server, [teaser], {"/a/r.html": HOSTILE_ARTICLE.encode()})
    for folder in ("never", "candidates"):
        (tmp_path / folder / "rules").mkdir(parents=True)
        for path in PACK.glob("*.yaml"):
            (tmp_path / folder / "rules" / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    pack = "rules: []\n"  # main.yaml beside the pack's files
    before = poll(tmp_path / "never", feed_server, "never", pack)
    after = poll(tmp_path / "candidates", feed_server, "candidates", pack)
    assert before == [] and {"dprk-sanctions-evasion", "un-panel-findings"} <= {hit.rule_id for hit in after}


def test_robots_txt_and_the_size_cap_are_obeyed(tmp_path: Path, feed_server: FeedServer) -> None:
    entries = [
        Entry("private", "Rajin report", "Images.", feed_server.url("/private/rajin.html")),
        Entry("huge", "Rajin again", "Images.", feed_server.url("/a/huge.html")),
    ]
    huge = HOSTILE_ARTICLE.replace("</body>", "<p>" + "padding " * 200_000 + "</p></body>")
    serve(feed_server, entries, {"/private/rajin.html": HOSTILE_ARTICLE.encode(), "/a/huge.html": huge.encode()},
          robots="User-agent: sanctions-monitor\nDisallow: /private/\n")  # fmt: skip
    rules = "rules:\n  - id: body\n    query: 'Rajin AND Vostochny'\n"
    hits = poll(tmp_path, feed_server, "candidates", rules, "fulltext:\n  max_bytes: 1MB\n")
    assert hits == []
    assert feed_server.hits("/private/rajin.html") == 0
    assert feed_server.hits("/robots.txt") == 1  # read once per site
    assert "sanctions-monitor" in feed_server.requests("/a/huge.html")[0]["user-agent"]
