"""The story is the unit of alerting, end to end with the shipped rule pack: one article that
matches five rules is one e-mail and one signed webhook post per channel; old news stays quiet;
three outlets make one update at most."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from support.feedserver import FeedServer
from support.smtp import SmtpSink
from support.webhook import WebhookReceiver
from test_webhook import verifying_reply

from tests.e2e.conftest import run_cli
from tests.e2e.feeds import Entry, rss

REPO = Path(__file__).resolve().parents[2]
SECRET = "s3cr3t-Token_42"
FIVE_RULES = {"dprk-russia-arms", "dprk-sanctions-evasion", "sanctions-evasion", "un-arms-embargo", "un-panel-findings"}
ARTICLE = Entry(
    "partnership-1",
    "North Korea deepens partnership with Putin as missiles and munitions are sent to Russia",
    "Pyongyang has shipped ballistic missiles and artillery shells to Moscow in violation of UN Security "
    "Council sanctions and the arms embargo, according to a UN panel of experts report on the arms transfers.",
    "https://example.org/world/partnership",
)


def setup(tmp_path: Path, server: FeedServer, smtp: SmtpSink, hook: WebhookReceiver, feeds: list[str]) -> Path:
    shutil.copytree(REPO / "rules", tmp_path / "rules")
    listed = "".join(f'  - {{url: "{server.url(path)}", name: "{name}"}}\n' for path, name in feeds)
    config = tmp_path / "monitor.yaml"
    config.write_text(
        f"""
database: sqlite:///{tmp_path / "monitor.db"}
feeds:
{listed}notify:
  - {{name: analysts, url: "{smtp.apprise_url()}", min_interval: 0s, timezone: Europe/Brussels}}
  - {{name: integrations, url: "webhook://127.0.0.1:{hook.port}/story?secret=${{HOOK_SECRET}}"}}
""",
        encoding="utf-8",
    )
    return config


@contextmanager
def article_and_receiver(
    tmp_path: Path, server: FeedServer, smtp: SmtpSink, verifying_secret: bytes
) -> Iterator[tuple[Path, WebhookReceiver]]:
    """The article in one feed, and a webhook receiver that checks signatures as the docs say."""
    hook = WebhookReceiver(verifying_reply(verifying_secret))
    hook.start()
    try:
        server.route("/world.xml", rss("World", [ARTICLE]))
        yield setup(tmp_path, server, smtp, hook, [("/world.xml", "World desk")]), hook
    finally:
        hook.stop()


def once(config: Path, cwd: Path) -> str:
    result = run_cli("once", "--config", str(config), cwd=cwd, env={"HOOK_SECRET": SECRET})
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_one_article_matching_five_rules_is_one_message_per_channel(
    tmp_path: Path, feed_server: FeedServer, smtp: SmtpSink
) -> None:
    with article_and_receiver(tmp_path, feed_server, smtp, SECRET.encode()) as (config, hook):
        out = once(config, tmp_path)
        assert "alerts: 2 sent" in out
        (mail,) = smtp.wait_for(1)
        hook.wait_for(1)
        assert len(smtp.messages) == 1 and len(hook.requests) == 1
    assert mail.subject == f"{ARTICLE.title} — HIGH, 5 rules"
    text = mail.text()
    for rule_id in FIVE_RULES:
        assert f"({rule_id})" in text
    assert "<mark>ballistic missiles</mark>" in text or "<mark>missiles</mark>" in text
    assert "Pyongyang" in text and "panel of experts" in text  # the summary is quoted
    assert "CET" in text  # times in the channel's timezone
    path, headers, document = hook.requests[0]
    assert path.startswith("/story")
    assert document["schema"] == "sanctions-monitor.story/1" and document["event"] == "first"
    assert {rule["id"] for rule in document["rules"]} == FIVE_RULES
    assert document["rules"][0]["severity"] == "high"
    assert document["summary"]["text"].startswith("Pyongyang has shipped")
    assert headers["Idempotency-Key"] == document["id"]
    assert headers["X-Signature-256"].startswith("sha256=")  # and the documented verifier accepted it


def test_a_wrongly_signed_post_is_refused_by_the_documented_receiver(
    tmp_path: Path, feed_server: FeedServer, smtp: SmtpSink
) -> None:
    with article_and_receiver(tmp_path, feed_server, smtp, b"not-the-secret") as (config, hook):
        out = once(config, tmp_path)
        assert "1 sent, 1 retrying" in out
        hook.wait_for(1)
    pending = run_cli("alerts", "--status", "pending", "--config", str(config), cwd=tmp_path)
    assert "HTTP 401" in pending.stdout and SECRET not in pending.stdout


def test_old_news_on_a_new_feed_is_stored_without_alerting(
    tmp_path: Path, feed_server: FeedServer, smtp: SmtpSink, webhook: WebhookReceiver
) -> None:
    feed_server.route("/archive.xml", rss("Archive", [ARTICLE], published=datetime.now(UTC) - timedelta(days=60)))
    config = setup(tmp_path, feed_server, smtp, webhook, [("/archive.xml", "Archive")])
    out = once(config, tmp_path)
    assert "Archive: ok, 1 items, 1 new, 5 new hits" in out and "alerts: 0 sent" in out
    listed = run_cli("hits", "--format", "json", "--config", str(config), cwd=tmp_path)
    assert {hit["rule_id"] for hit in json.loads(listed.stdout)} == FIVE_RULES
    assert smtp.messages == [] and webhook.requests == []


def test_three_outlets_make_one_first_message_and_at_most_one_update_per_channel(
    tmp_path: Path, feed_server: FeedServer, smtp: SmtpSink, webhook: WebhookReceiver
) -> None:
    copies = [
        Entry(f"copy-{n}", ARTICLE.title, ARTICLE.summary, f"https://outlet{n}.example/partnership") for n in range(3)
    ]
    for n, copy in enumerate(copies):
        feed_server.route(f"/outlet{n}.xml", rss(f"Outlet {n}", [copy]))
    config = setup(tmp_path, feed_server, smtp, webhook, [("/outlet0.xml", "Outlet 0")])
    once(config, tmp_path)
    text = config.read_text(encoding="utf-8")
    extra = "".join(f'  - {{url: "{feed_server.url(f"/outlet{n}.xml")}", name: "Outlet {n}"}}\n' for n in (1, 2))
    config.write_text(text.replace("notify:\n", extra + "notify:\n"), encoding="utf-8")
    once(config, tmp_path)
    once(config, tmp_path)
    mails = smtp.wait_for(2)
    posts = webhook.wait_for(2)
    assert len(smtp.messages) == 2 and len(webhook.requests) == 2
    assert [document["event"] for document in posts] == ["first", "outlets:3"]
    assert posts[1]["story"]["outlets"][0] == "Outlet 0"
    assert sorted(posts[1]["story"]["outlets"]) == ["Outlet 0", "Outlet 1", "Outlet 2"]
    assert mails[1].message["In-Reply-To"] == mails[0].message["Message-ID"]
