"""The whole path through the real command line: local feeds → rules → SQL → e-mail and webhook.

Runs against SQLite and PostgreSQL. Only loopback servers are involved.
"""

from __future__ import annotations

import json
from pathlib import Path

from support.feedserver import FeedServer
from support.smtp import SmtpSink
from support.webhook import WebhookReceiver

from tests.e2e.conftest import run_cli
from tests.e2e.feeds import ARMS_1, ARMS_2, ARMS_3, ARMS_NEW, PUBLISHED, QUIET, RULES_YAML, Entry, rss

BROKEN_XML = b'<?xml version="1.0"?>\n<rss version="2.0"><<<>>>&&&'


def write_setup(
    tmp_path: Path,
    server: FeedServer,
    smtp: SmtpSink,
    webhook: WebhookReceiver,
    database_url: str,
    extra_feeds: str = "",
) -> Path:
    (tmp_path / "rules").mkdir(exist_ok=True)
    (tmp_path / "rules" / "test.yaml").write_text(RULES_YAML, encoding="utf-8")
    config = tmp_path / "monitor.yaml"
    config.write_text(
        f"""
database: {database_url}
rules: rules/
interval: 15m
feeds:
  - url: {server.url("/wire.xml")}
    name: Wire
  - url: {server.url("/other.xml")}
    name: Other
{extra_feeds}
notify:
  - name: mail
    url: {smtp.apprise_url()}
    tags: [analysts]
    min_interval: 0s
  - name: hook
    url: json://127.0.0.1:{webhook.port}/hook
alerts:
  retry_base: 1s
fetch:
  read_timeout: 2s
  deadline: 5s
  max_bytes: 200KB
""",
        encoding="utf-8",
    )
    return config


def serve_initial(server: FeedServer) -> None:
    server.route("/wire.xml", rss("Wire", [ARMS_1, ARMS_2, QUIET]), etag='"w1"')
    server.route("/other.xml", rss("Other", [ARMS_3]))


def test_alerts_once_per_item_and_channel_and_survive_smtp_outage(
    tmp_path: Path,
    feed_server: FeedServer,
    smtp: SmtpSink,
    webhook: WebhookReceiver,
    database_url: str,
) -> None:
    serve_initial(feed_server)
    config = write_setup(tmp_path, feed_server, smtp, webhook, database_url)

    first = run_cli("once", "--config", str(config), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "Wire: ok, 3 items, 3 new, 2 new hits" in first.stdout
    assert "Other: ok, 1 items, 1 new, 1 new hits" in first.stdout
    # both rules reach the `analysts` mail channel: one by its tag, one by having no tags
    mails = smtp.wait_for(3)
    subjects = sorted(mail.subject for mail in mails)
    assert subjects == [  # the headline first
        "Iranian-designed drones launched from Russia-held territory — MEDIUM",
        "Kremlin denies taking North Korean missiles for the war — HIGH",  # feed titles are HTML: <b> dropped
        "North Korean artillery shells reach Russian front, officials say — HIGH",
    ]
    body = next(m for m in mails if "artillery" in m.subject).text()
    for expected in (
        "https://example.org/wire/1",
        f"Wire · {PUBLISHED:%Y-%m-%d %H:%M} UTC",
        "North Korea–Russia arms transfers",
        "dprk-russia-arms",
        "<mark>artillery</mark> <mark>shells</mark>",  # in the summary, marked from the stored spans
        "Reported by 1 outlet: Wire",
    ):
        assert expected in body
    hooks = webhook.wait_for(3)
    assert len(hooks) == 3
    assert sorted(hook["title"].rsplit(" — ", 1)[1] for hook in hooks) == ["HIGH", "HIGH", "MEDIUM"]

    second = run_cli("once", "--config", str(config), cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "Wire: not_modified" in second.stdout
    assert "Other: unchanged" in second.stdout
    assert "alerts: 0 sent" in second.stdout
    assert len(smtp.messages) == 3 and len(webhook.bodies()) == 3

    feed_server.route("/wire.xml", rss("Wire", [ARMS_NEW, ARMS_1, ARMS_2, QUIET]), etag='"w2"')
    smtp.stop()
    third = run_cli("once", "--config", str(config), cwd=tmp_path)
    assert third.returncode == 0, third.stderr
    assert "Wire: ok, 4 items, 1 new, 1 new hits" in third.stdout
    assert "1 sent, 1 retrying" in third.stdout  # webhook delivered, mail pending
    assert len(webhook.wait_for(4)) == 4
    pending = run_cli("alerts", "--status", "pending", "--config", str(config), cwd=tmp_path)
    assert "Connection error" in pending.stdout and "mail" in pending.stdout

    smtp.start()
    fourth = _once_until_sent(config, tmp_path)
    assert "1 sent" in fourth
    mails = smtp.wait_for(4)
    assert sum("Satellite images" in m.subject for m in mails) == 1
    assert len(webhook.bodies()) == 4

    listed = run_cli("hits", "--format", "json", "--config", str(config), cwd=tmp_path)
    records = json.loads(listed.stdout)
    assert len(records) == 4
    assert {"rule_id", "title", "link", "feed", "published", "matched"} <= set(records[0])
    assert records[0]["title"].startswith("Satellite images")


def _once_until_sent(config: Path, cwd: Path) -> str:
    """The failed mail is retried after its backoff (retry_base 1s, with jitter)."""
    import time

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        result = run_cli("once", "--config", str(config), cwd=cwd)
        assert result.returncode == 0, result.stderr
        if "1 sent" in result.stdout:
            return result.stdout
        time.sleep(0.5)
    raise AssertionError("the pending mail was never retried")


def test_broken_feeds_are_recorded_while_others_are_processed(
    tmp_path: Path,
    feed_server: FeedServer,
    smtp: SmtpSink,
    webhook: WebhookReceiver,
    database_url: str,
) -> None:
    serve_initial(feed_server)
    feed_server.route("/missing.xml", b"not here", status=404, content_type="text/plain")
    feed_server.route("/error.xml", b"oops", status=500, content_type="text/plain")
    feed_server.stall("/slow.xml")
    feed_server.route(
        "/page.xml",
        b"<html><head><title>Sign in</title></head><body><form></form></body></html>",
        content_type="text/html",
    )
    feed_server.route("/broken.xml", BROKEN_XML)
    feed_server.route("/huge.xml", b"<rss>" + b" " * 300_000 + b"</rss>")
    feed_server.gzip_bomb("/bomb.xml", inflated_bytes=64 * 1024 * 1024)
    feed_server.endless("/endless.xml")
    feed_server.drip("/drip.xml", rss("Drip", [QUIET]), interval=1.0)
    feed_server.redirect("/loop-a.xml", "/loop-b.xml")
    feed_server.redirect("/loop-b.xml", "/loop-a.xml")
    feed_server.reset("/reset.xml")
    latin1 = rss("Latin", [Entry("l-1", "Café owner denies selling drones", "Nothing shipped.", "https://e.org/l1")])
    feed_server.route("/latin1.xml", latin1.decode("utf-8").encode("latin-1"), content_type="text/xml; charset=utf-8")
    feed_server.route("/plain.xml", rss("Plain", [QUIET]), content_type="text/plain")
    closed_port = _closed_port()
    extra = "\n".join(
        f"  - url: {url}\n    name: {name}"
        for name, url in [
            ("Missing", feed_server.url("/missing.xml")),
            ("Error", feed_server.url("/error.xml")),
            ("Slow", feed_server.url("/slow.xml")),
            ("Page", feed_server.url("/page.xml")),
            ("Broken", feed_server.url("/broken.xml")),
            ("Huge", feed_server.url("/huge.xml")),
            ("Unreachable", f"http://127.0.0.1:{closed_port}/feed.xml"),
            ("Bomb", feed_server.url("/bomb.xml")),
            ("Endless", feed_server.url("/endless.xml")),
            ("Drip", feed_server.url("/drip.xml")),
            ("Loop", feed_server.url("/loop-a.xml")),
            ("Reset", feed_server.url("/reset.xml")),
            ("Latin", feed_server.url("/latin1.xml")),
            ("Plain", feed_server.url("/plain.xml")),
            ("TLS", feed_server.url("/wire.xml").replace("http://", "https://")),
        ]
    )
    config = write_setup(tmp_path, feed_server, smtp, webhook, database_url, extra)

    result = run_cli("once", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = {line.split(":", 1)[0]: line for line in result.stdout.splitlines()}
    assert "ok, 3 items" in lines["Wire"]
    assert "ok, 1 items" in lines["Other"]
    assert "error — http_status: HTTP 404" in lines["Missing"]
    assert "error — http_status: HTTP 500" in lines["Error"]
    assert "error — timeout" in lines["Slow"]
    assert "error — not_a_feed" in lines["Page"]
    assert "error — not_a_feed: malformed XML at line 2" in lines["Broken"]
    assert "error — too_large" in lines["Huge"]
    assert "error — connect" in lines["Unreachable"]
    assert "error — too_large" in lines["Bomb"]
    assert "error — too_large" in lines["Endless"]
    assert "error — timeout" in lines["Drip"]
    assert "error — too_many_redirects" in lines["Loop"]
    assert "error — connect" in lines["Reset"] and "reset" in lines["Reset"].lower()
    assert "error — tls: TLS error" in lines["TLS"]
    assert "ok, 1 items" in lines["Latin"], "a body in another charset than declared is still read"
    assert "ok, 1 items" in lines["Plain"], "a feed served as text/plain is still a feed"
    assert len(smtp.wait_for(3)) == 3

    feeds = run_cli("feeds", "--config", str(config), cwd=tmp_path)
    assert feeds.returncode == 0
    rows = {line.split("  ", 1)[0]: line for line in feeds.stdout.splitlines()[1:]}
    assert "HTTP 404" in rows["Missing"] and " 1 " in rows["Missing"]
    assert "ok" in rows["Wire"]


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
