"""Alert formats: hostile feed text per kind, the JSON schema, digests, template overrides, and
real sends through Apprise to local SMTP and HTTP receivers."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import apprise
import feedparser
import pytest
from support import corpus_path
from support.smtp import SmtpSink
from support.webhook import WebhookReceiver

from monitor.alerts.formats import (
    ChannelKind,
    Digest,
    Renderer,
    apprise_body_format,
    channel_kind,
    json_payload,
)
from monitor.types import Alert, Severity, Span

ZWSP = "\u200b"
HOSTILE_TITLE = (
    "<script>alert(1)</script> <!channel> <!here> <@U123> @here @channel "
    "<https://evil.example|https://bank.example> [x](javascript:alert(1)) «fake» *bold* _it_ "
    "~st~ `code` |pipe| \x00\x07\x1b[31m\u202eevil\r\nSubject: injected"
)
HOSTILE_SNIPPET = (
    "…the «sanctions» on «Rosoboronexport» were «quoted here» <img src=x onerror=alert(1)> "
    "«<b>sanctions</b>» [bank](https://evil.example) <!everyone> @everyone ![i](x.png) &amp;"
)


def make_alert(**changes: object) -> Alert:
    base = Alert(
        hit_id=41,
        rule_id="arms-transfers",
        rule_title="Arms transfers & <sanctions>",
        severity=Severity.HIGH,
        item_title=HOSTILE_TITLE,
        link="https://news.example/story?id=1&src=rss",
        feed_name="Wire <b>@here</b>",
        published=datetime(2024, 5, 1, 12, 30, tzinfo=UTC),
        matched=("sanctions", "rosoboronexport"),
        snippet=HOSTILE_SNIPPET,
        spans=(Span("summary", 10, 19, "sanctions"), Span("summary", 27, 42, "Rosoboronexport")),
        story_id=9,
        also_reported_by=("Agency <!channel>", "Daily @here"),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def html_tags(body: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(body)
    return parser.tags


SAFE_TAGS = {"html", "head", "meta", "title", "body", "p", "strong", "h1", "h2", "blockquote",
             "mark", "a", "ul", "li", "br", "span"}  # fmt: skip


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("mailto://user:pw@example.org", ChannelKind.EMAIL),
        ("MAILTOS://example.org", ChannelKind.EMAIL),
        ("slack://T1/B2/C3", ChannelKind.SLACK),
        ("mmost://chat.example/token", ChannelKind.SLACK),
        ("mmosts://chat.example/token", ChannelKind.SLACK),
        ("json://hooks.example/x", ChannelKind.JSON),
        ("jsons://hooks.example/x", ChannelKind.JSON),
        ("discord://1234/abcd", ChannelKind.MARKDOWN),
        ("tgram://123:abc/456", ChannelKind.MARKDOWN),
        ("matrix://user:pw@matrix.example/#room", ChannelKind.MARKDOWN),
        ("ntfy://topic", ChannelKind.TEXT),
        ("form://hooks.example", ChannelKind.TEXT),
        ("nonsense://x", ChannelKind.TEXT),
        ("not a url", ChannelKind.TEXT),
    ],
)
def test_channel_kind(url: str, kind: ChannelKind) -> None:
    assert channel_kind(url) is kind


def test_email_html_escapes_feed_text_and_marks_only_real_matches(renderer: Renderer) -> None:
    rendered = renderer.render(make_alert(), ChannelKind.EMAIL)
    assert rendered.body_format == "html"
    tags = html_tags(rendered.body)
    assert {tag for tag, _ in tags} <= SAFE_TAGS
    assert [attrs["href"] for tag, attrs in tags if tag == "a"] == ["https://news.example/story?id=1&src=rss"]
    assert all(not attrs or tag in ("a", "meta", "p", "h2", "body", "blockquote")
               for tag, attrs in tags)  # fmt: skip
    marks = re.findall(r"<mark>(.*?)</mark>", rendered.body)
    # «quoted here» is feed punctuation, not evidence; «<b>…</b>» stays escaped text.
    assert marks == ["sanctions", "Rosoboronexport"]
    assert "«quoted here»" in rendered.body
    assert "&lt;b&gt;sanctions&lt;/b&gt;" in rendered.body
    assert "\x00" not in rendered.body and "\u202e" not in rendered.body


def test_email_link_must_be_http(renderer: Renderer) -> None:
    for link in ("javascript:alert(1)", "data:text/html,x", "//evil.example/x", "ftp://x/y", None):
        body = renderer.render(make_alert(link=link), ChannelKind.EMAIL).body
        assert not [tag for tag, _ in html_tags(body) if tag == "a"], link
    quoted = renderer.render(make_alert(link='https://x.example/"onmouseover=1'), ChannelKind.EMAIL)
    hrefs = [attrs for tag, attrs in html_tags(quoted.body) if tag == "a"]
    assert hrefs == [{"href": "https://x.example/%22onmouseover=1", "rel": "noopener noreferrer"}]


def test_titles_are_one_plain_line(renderer: Renderer) -> None:
    for kind in (ChannelKind.EMAIL, ChannelKind.TEXT, ChannelKind.JSON):
        title = renderer.render(make_alert(item_title=HOSTILE_TITLE * 20), kind).title
        assert "\n" not in title and "\r" not in title and "\x1b" not in title
        assert len(title) <= 250 and title.endswith("…")
        assert title.startswith("[HIGH] Arms transfers & <sanctions>: <script>")
    for kind in (ChannelKind.SLACK, ChannelKind.MARKDOWN):
        assert renderer.render(make_alert(), kind).title == ""


def test_slack_mrkdwn_cannot_mention_or_spoof_links(renderer: Renderer) -> None:
    rendered = renderer.render(make_alert(), ChannelKind.SLACK)
    body = rendered.body
    # The only angle brackets are our own link, on a line of its own.
    assert re.findall(r"<[^>]*>", body) == [body.splitlines()[1]]
    link = body.splitlines()[1]
    assert link.startswith("<https://news.example/story?id=1&src=rss|&lt;script&gt;")
    assert link.count("|") == 1 and link.count(">") == 1
    for word in ("here", "channel", "everyone"):
        assert f"@{word}" not in body and f"@{ZWSP}{word}" in body
    assert "!channel" not in body
    assert "](" not in body  # Mattermost reads Markdown links
    assert "*sanctions*" in body and "*Rosoboronexport*" in body
    assert "*quoted here*" not in body and "∗bold∗" in body and "ˋcodeˋ" in body
    assert "*bold*" not in body and "`" not in body and "~st~" not in body


def test_markdown_renders_no_foreign_links_or_html(renderer: Renderer) -> None:
    markdown_it = pytest.importorskip("markdown_it")
    from apprise.conversion import markdown_to_html  # what Apprise sends to Matrix and others

    rendered = renderer.render(make_alert(), ChannelKind.MARKDOWN)
    assert rendered.body_format == "markdown"
    for html in (markdown_it.MarkdownIt("commonmark").render(rendered.body),
                 markdown_to_html(rendered.body)):  # fmt: skip
        tags = html_tags(html)
        assert {tag for tag, _ in tags} <= {"p", "strong", "a", "blockquote", "ul", "li", "br"}
        assert [attrs["href"] for tag, attrs in tags if tag == "a"] == ["https://news.example/story?id=1&src=rss"]
        assert re.findall(r"<strong>(.*?)</strong>", html)[1:] == ["sanctions", "Rosoboronexport"]
        assert "javascript" not in html.split("</a>")[1]
    assert f"@{ZWSP}here" in rendered.body and f"@{ZWSP}everyone" in rendered.body


def test_text_marks_matches_and_strips_controls(renderer: Renderer) -> None:
    body = renderer.render(make_alert(), ChannelKind.TEXT).body
    assert "«sanctions»" in body and "«Rosoboronexport»" in body
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f\u202e]", body)
    assert "Subject: injected" in body.splitlines()[0]  # folded into the title line, not a header


def test_long_fields_are_truncated(renderer: Renderer) -> None:
    alert = make_alert(
        item_title="T" * 5000,
        snippet="word «sanctions» " + "x" * 5000,
        matched=tuple(f"w{i}" for i in range(100)),
    )
    payload = json_payload(alert)
    item = payload["item"]
    assert isinstance(item, dict)
    assert len(item["title"]) == 300 and item["title"].endswith("…")
    assert len(str(payload["snippet"])) == 600
    assert payload["matched"] == [f"w{i}" for i in range(30)]
    text = renderer.render(alert, ChannelKind.TEXT).body
    assert "T" * 299 + "…" in text and "T" * 300 not in text
    assert "w29" in text and "w30" not in text


def test_json_schema(renderer: Renderer) -> None:
    payload = json_payload(make_alert(published=datetime(2024, 5, 1, 14, 30, tzinfo=UTC)))
    assert payload["schema"] == "sanctions-monitor.alert/1"
    assert set(payload) == {"schema", "hit_id", "rule", "item", "story", "matched", "spans",
                            "snippet"}  # fmt: skip
    assert payload["rule"] == {"id": "arms-transfers", "title": "Arms transfers & <sanctions>",
                               "severity": "high"}  # fmt: skip
    item = payload["item"]
    assert isinstance(item, dict) and set(item) == {"title", "link", "feed", "published"}
    assert item["published"] == "2024-05-01T14:30:00Z"
    assert item["link"] == "https://news.example/story?id=1&src=rss"
    assert payload["story"] == {"id": 9, "also_reported_by": ["Agency <!channel>", "Daily @here"]}
    assert payload["spans"] == [
        {"field": "summary", "start": 10, "end": 19, "text": "sanctions"},
        {"field": "summary", "start": 27, "end": 42, "text": "Rosoboronexport"},
    ]
    assert isinstance(payload["hit_id"], int) and isinstance(payload["snippet"], str)
    rendered = renderer.render(make_alert(), ChannelKind.JSON)
    assert json.loads(rendered.body) == json_payload(make_alert())
    bare = json_payload(make_alert(link="javascript:x", published=None, story_id=None))
    assert bare["item"] == {**item, "link": None, "published": None}


def test_naive_times_are_taken_as_utc() -> None:
    item = json_payload(make_alert(published=datetime(2024, 1, 2, 3, 4, 5)))["item"]
    assert isinstance(item, dict) and item["published"] == "2024-01-02T03:04:05Z"


def _digest() -> Digest:
    start = datetime(2024, 5, 1, tzinfo=UTC)

    def hit(hit_id: int, rule: str, severity: Severity, story: int | None, feed: str,
            minutes: int) -> Alert:  # fmt: skip
        return make_alert(hit_id=hit_id, rule_id=rule, rule_title=f"Rule {rule}",
                          severity=severity, story_id=story, feed_name=feed, also_reported_by=(),
                          published=start + timedelta(minutes=minutes))  # fmt: skip

    alerts = (
        hit(1, "low-rule", Severity.LOW, None, "Alpha", 1),
        hit(2, "hot", Severity.HIGH, 7, "Beta", 5),
        hit(3, "hot", Severity.HIGH, 7, "Alpha", 2),  # first report of story 7
        hit(4, "hot", Severity.HIGH, 7, "Gamma", 9),
        hit(5, "hot", Severity.HIGH, None, "Beta", 30),
        hit(6, "hot", Severity.HIGH, 8, "Delta", 20),
        hit(2, "hot", Severity.HIGH, 7, "Beta", 5),  # the same hit twice counts once
    )
    return Digest(channel="analysts", period_label="Daily 2024-05-01", alerts=alerts)


def test_digest_groups_by_rule_then_story(renderer: Renderer) -> None:
    rendered = renderer.render_digest(_digest(), ChannelKind.JSON)
    assert rendered.title == "Daily 2024-05-01: 6 alerts for 2 rules"
    document = json.loads(rendered.body)
    assert document["schema"] == "sanctions-monitor.digest/1" and document["total"] == 6
    hot, low = document["rules"]
    assert (hot["rule"]["id"], hot["count"], hot["stories_total"]) == ("hot", 5, 3)
    assert (low["rule"]["id"], low["count"], low["stories_total"]) == ("low-rule", 1, 1)
    leads = [(story["lead"]["hit_id"], story["alerts"]) for story in hot["stories"]]
    assert leads == [(5, 1), (6, 1), (3, 3)]  # newest story first
    assert hot["stories"][2]["lead"]["story"]["also_reported_by"] == ["Beta", "Gamma"]
    text = renderer.render_digest(_digest(), ChannelKind.TEXT).body
    assert "[HIGH] Rule hot: 5 alerts, 3 stories" in text
    assert "[LOW] Rule low-rule: 1 alert, 1 story" in text
    assert text.index("Rule hot") < text.index("Rule low-rule")
    assert "also reported by Beta, Gamma" in text


def test_digest_renders_safely_in_every_kind(renderer: Renderer) -> None:
    digest = _digest()
    html = renderer.render_digest(digest, ChannelKind.EMAIL)
    assert {tag for tag, _ in html_tags(html.body)} <= SAFE_TAGS
    assert html.body.count("<mark>sanctions</mark>") == 4
    slack = renderer.render_digest(digest, ChannelKind.SLACK).body
    assert re.findall(r"<[^>|]*", slack) == ["<https://news.example/story?id=1&src=rss"] * 4
    assert "*[HIGH] Rule hot* (5 alerts, 3 stories)" in slack
    markdown = renderer.render_digest(digest, ChannelKind.MARKDOWN).body
    assert "**[HIGH] Rule hot** (5 alerts, 3 stories)" in markdown


def test_digest_caps_listed_stories(renderer: Renderer) -> None:
    alerts = tuple(make_alert(hit_id=i, story_id=i) for i in range(60))
    text = renderer.render_digest(Digest("c", "p", alerts), ChannelKind.TEXT).body
    assert "60 alerts, 60 stories" in text and "… and 10 more stories." in text


def test_template_override(tmp_path: Path) -> None:
    (tmp_path / "email.subject.j2").write_text("ALERT {{ alert.rule_id }}\n{{ alert.item_title }}")
    (tmp_path / "slack.j2").write_text("custom {{ alert.item_title }} {{ alert.link }}")
    overridden = Renderer(tmp_path)
    email = overridden.render(make_alert(), ChannelKind.EMAIL)
    assert email.title.startswith("ALERT arms-transfers <script>")  # one line despite the \n
    assert "<mark>sanctions</mark>" in email.body  # the shipped HTML body is still used
    slack = overridden.render(make_alert(), ChannelKind.SLACK).body
    assert slack.startswith("custom &lt;script&gt;")  # overrides only see escaped values
    assert "<!channel>" not in slack
    overridden.check()
    (tmp_path / "text.j2").write_text("{{ alert.no_such_variable }}")
    with pytest.raises(Exception, match="no_such_variable"):
        Renderer(tmp_path).render(make_alert(), ChannelKind.TEXT)
    with pytest.raises(Exception, match="no_such_variable"):
        Renderer(tmp_path).check()  # caught at start-up, not at the first alert
    with pytest.raises(FileNotFoundError):
        Renderer(tmp_path / "missing")


@pytest.mark.corpus
def test_real_feed_items_render_safely(renderer: Renderer) -> None:
    """Real news entries (TIME World, Reuters 2018) through every kind; the text stays in place."""
    paths = [
        corpus_path("kagisearch_fastfeedparser", "benchmark_data", "9f9555d69283aeda"),
        corpus_path("bnjr_rn-rss-parser", "src", "test", "samples", "reuters.ts.extracted.xml"),
    ]
    checked = 0
    for path in paths:
        for index, entry in enumerate(feedparser.parse(path.read_bytes()).entries):
            summary = str(entry.get("summary", ""))
            word = next(iter(summary.split()), "x")
            alert = make_alert(hit_id=index, item_title=str(entry.get("title", "")),
                               link=entry.get("link"), matched=(word,),
                               snippet=summary.replace(word, f"«{word}»", 1))  # fmt: skip
            html = renderer.render(alert, ChannelKind.EMAIL).body
            assert {tag for tag, _ in html_tags(html)} <= SAFE_TAGS, (path, index)
            slack = renderer.render(alert, ChannelKind.SLACK).body
            assert len(re.findall(r"<[^>]*>", slack)) <= 1, (path, index)
            assert json.loads(renderer.render(alert, ChannelKind.JSON).body)["hit_id"] == index
            checked += 1
    assert checked > 20


# Real sends through Apprise ------------------------------------------------------------------


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    hook = WebhookReceiver()
    hook.start()
    yield hook
    hook.stop()


def _apprise(url: str, slack_base: str | None = None) -> apprise.Apprise:
    notifier = apprise.Apprise()
    assert notifier.add(url)
    for service in notifier:
        service.request_rate_per_sec = 0  # no 5.5 s e-mail throttle against local servers
        if slack_base is not None:
            # Apprise's Slack plugin, aimed at loopback instead of hooks.slack.com
            service.webhook_url = slack_base  # type: ignore[attr-defined]
    return notifier


def _send(url: str, kind: ChannelKind, renderer: Renderer, slack_base: str | None = None) -> bool:
    rendered = renderer.render(make_alert(), kind)
    notifier = _apprise(url, slack_base)
    result = notifier.notify(title=rendered.title, body=rendered.body, body_format=apprise_body_format(kind))
    return bool(result)


def test_email_through_apprise_has_html_and_text_parts(renderer: Renderer) -> None:
    sink = SmtpSink()
    sink.start()
    try:
        assert _send(sink.apprise_url(), ChannelKind.EMAIL, renderer)
        (mail,) = sink.wait_for(1)
    finally:
        sink.stop()
    message = mail.message
    assert message.get_content_type() == "multipart/alternative"
    parts = {part.get_content_type(): part.get_content() for part in message.iter_parts()}
    assert set(parts) == {"text/plain", "text/html"}
    assert "<mark>sanctions</mark>" in parts["text/html"]
    assert "<script>" not in parts["text/html"]
    plain = parts["text/plain"]
    assert "https://news.example/story?id=1&src=rss" in plain  # shown as text in the HTML
    assert "Matched: sanctions, rosoboronexport" in plain
    assert mail.subject == renderer.render(make_alert(), ChannelKind.EMAIL).title


def test_mattermost_through_apprise_gets_our_mrkdwn_verbatim(renderer: Renderer, receiver: WebhookReceiver) -> None:
    assert _send(f"mmost://127.0.0.1:{receiver.port}/token", ChannelKind.SLACK, renderer)
    (payload,) = receiver.wait_for(1)
    assert receiver.requests[0][0] == "/hooks/token"
    assert payload["text"] == renderer.render(make_alert(), ChannelKind.SLACK).body.rstrip()


def test_slack_plugin_through_apprise_forms_no_mentions(renderer: Renderer, receiver: WebhookReceiver) -> None:
    body = renderer.render(make_alert(), ChannelKind.SLACK).body.rstrip()
    token = "T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7"
    # Slack answers a webhook with the bare text "ok"; our receiver answers JSON, so Apprise
    # reports these sends as failed. What matters here is the payload that arrived.
    _send(f"slack://{token}?blocks=yes", ChannelKind.SLACK, renderer, receiver.url("/blocks"))
    _send(f"slack://{token}", ChannelKind.SLACK, renderer, receiver.url("/legacy"))
    blocks, legacy = receiver.wait_for(2)
    section = blocks["attachments"][0]["blocks"][0]["text"]
    assert section == {"type": "mrkdwn", "text": body}  # blocks mode: verbatim
    text = legacy["attachments"][0]["text"]
    assert legacy["mrkdwn"] is True
    # Legacy mode re-escapes '&' (cosmetic), but our link survives and no special forms.
    assert re.findall(r"<[^>]*>", text) == [body.splitlines()[1].replace("&lt;", "&amp;lt;")
                                            .replace("&gt;", "&amp;gt;")]  # fmt: skip
    assert "*sanctions*" in text and "<!" not in text and "<@" not in text


def test_json_webhook_through_apprise(renderer: Renderer, receiver: WebhookReceiver) -> None:
    rendered = renderer.render(make_alert(), ChannelKind.JSON)
    assert _send(f"json://127.0.0.1:{receiver.port}/hook", ChannelKind.JSON, renderer)
    renamed = f"json://127.0.0.1:{receiver.port}/hook2?:message=alert&:version=&:attachments="
    assert _send(renamed, ChannelKind.JSON, renderer)
    envelope, trimmed = receiver.wait_for(2)
    assert envelope["title"] == rendered.title and envelope["type"] == "info"
    assert json.loads(envelope["message"]) == json_payload(make_alert())
    assert set(trimmed) == {"title", "alert", "type"}
    assert json.loads(trimmed["alert"])["schema"] == "sanctions-monitor.alert/1"
