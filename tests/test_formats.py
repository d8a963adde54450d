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
    story_payload,
)
from monitor.types import RuleEvidence, Severity, Span, StoryAlert

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


HOSTILE_SUMMARY = (
    "Officials said the sanctions on Rosoboronexport were «quoted here» <img src=x onerror=alert(1)> "
    "«<b>sanctions</b>» [bank](https://evil.example) <!everyone> @everyone ![i](x.png) &amp;"
)


def spans_of(text: str, *words: str) -> tuple[Span, ...]:
    return tuple(Span("summary", text.index(w), text.index(w) + len(w), w) for w in words)


def make_rule(**changes: object) -> RuleEvidence:
    base = RuleEvidence(
        rule_id="arms-transfers",
        rule_title="Arms transfers & <sanctions>",
        severity=Severity.HIGH,
        matched=("sanctions", "rosoboronexport"),
        snippet=HOSTILE_SNIPPET,
        feed_name="Wire <b>@here</b>",
        item_title=HOSTILE_TITLE,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def make_alert(**changes: object) -> StoryAlert:
    base = StoryAlert(
        delivery_id=41,
        story_id=9,
        event="first",
        headline=HOSTILE_TITLE,
        link="https://news.example/story?id=1&src=rss",
        feed_name="Wire <b>@here</b>",
        published=datetime(2024, 5, 1, 12, 30, tzinfo=UTC),
        summary=HOSTILE_SUMMARY,
        summary_spans=spans_of(HOSTILE_SUMMARY, "sanctions", "Rosoboronexport"),
        rules=(make_rule(),),
        outlets=("Wire <b>@here</b>", "Agency <!channel>", "Daily @here"),
        first_seen=datetime(2024, 5, 1, 12, 40, tzinfo=UTC),
        message_id="<m41.story9@sanctions-monitor>",
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
             "mark", "a", "ul", "li", "br", "span", "div"}  # fmt: skip


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
    assert all(not attrs or tag in ("a", "meta", "p", "h2", "body", "blockquote", "ul", "li", "span")
               for tag, attrs in tags)  # fmt: skip
    marks = re.findall(r"<mark>(.*?)</mark>", rendered.body)
    # Summary marks come from stored offsets; in the rule's snippet «quoted here» is feed
    # punctuation, not evidence; «<b>…</b>» stays escaped text.
    assert marks == ["sanctions", "Rosoboronexport"] * 2
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


def test_titles_are_one_plain_line_headline_first(renderer: Renderer) -> None:
    for kind in (ChannelKind.EMAIL, ChannelKind.TEXT, ChannelKind.JSON):
        title = renderer.render(make_alert(headline=HOSTILE_TITLE * 20), kind).title
        assert "\n" not in title and "\r" not in title and "\x1b" not in title
        assert len(title) <= 250 and title.endswith("…")
        assert title.startswith("<script>alert(1)</script> <!channel>")
    two_rules = make_alert(rules=(make_rule(), make_rule(rule_id="b", severity=Severity.LOW)))
    assert renderer.render(two_rules, ChannelKind.EMAIL).title.endswith("Subject: injected — HIGH, 2 rules")
    update = renderer.render(make_alert(event="outlets:3"), ChannelKind.EMAIL).title
    assert update.startswith("Re: <script>") and update.endswith("— now reported by 3 outlets")
    for kind in (ChannelKind.SLACK, ChannelKind.MARKDOWN):
        assert renderer.render(make_alert(), kind).title == ""


def test_slack_mrkdwn_cannot_mention_or_spoof_links(renderer: Renderer) -> None:
    rendered = renderer.render(make_alert(), ChannelKind.SLACK)
    body = rendered.body
    # The only angle brackets are our own link, on a line of its own.
    link = body.splitlines()[0].strip("*")
    assert re.findall(r"<[^>]*>", body) == [link]
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
        strong = re.findall(r"<strong>(.*?)</strong>", html)
        assert strong[1:3] == ["sanctions", "Rosoboronexport"]
        assert "javascript" not in html.split("</a>")[1]
    assert f"@{ZWSP}here" in rendered.body and f"@{ZWSP}everyone" in rendered.body


def test_text_marks_matches_and_strips_controls(renderer: Renderer) -> None:
    body = renderer.render(make_alert(), ChannelKind.TEXT).body
    assert "«sanctions»" in body and "«Rosoboronexport»" in body
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f\u202e]", body)
    assert "Subject: injected" in body.splitlines()[0]  # folded into the title line, not a header


def test_long_fields_are_truncated(renderer: Renderer) -> None:
    summary = "The sanctions " + "word " * 400
    alert = make_alert(
        headline="T" * 5000,
        summary=summary,
        summary_spans=spans_of(summary, "sanctions"),
        rules=(make_rule(snippet="word «sanctions» " + "x" * 5000, matched=tuple(f"w{i}" for i in range(100))),),
    )
    payload = story_payload(alert)
    story, rules, text_part = payload["story"], payload["rules"], payload["summary"]
    assert isinstance(story, dict) and isinstance(rules, list) and isinstance(text_part, dict)
    assert len(story["headline"]) == 300 and story["headline"].endswith("…")
    assert len(rules[0]["snippet"]) == 600
    assert rules[0]["matched"] == [f"w{i}" for i in range(30)]
    assert len(text_part["text"]) <= 600 and text_part["text"].endswith("word…")  # cut between words
    assert text_part["matched"] == [{"start": 4, "end": 13, "text": "sanctions"}]
    text = renderer.render(alert, ChannelKind.TEXT).body
    assert "T" * 299 + "…" in text and "T" * 300 not in text
    assert "w29" in text and "w30" not in text
    assert "The «sanctions» word" in text


def test_json_schema(renderer: Renderer) -> None:
    payload = story_payload(make_alert(published=datetime(2024, 5, 1, 14, 30, tzinfo=UTC)))
    assert payload["schema"] == "sanctions-monitor.story/1"
    assert set(payload) == {"schema", "id", "event", "update", "severity", "story", "summary", "rules"}
    assert (payload["id"], payload["event"], payload["update"], payload["severity"]) == (
        "m41.story9@sanctions-monitor", "first", False, "high"
    )  # fmt: skip
    story = payload["story"]
    assert isinstance(story, dict)
    assert set(story) == {"id", "headline", "link", "feed", "published", "first_seen", "outlets"}
    assert (story["id"], story["published"], story["first_seen"]) == (9, "2024-05-01T14:30:00Z", "2024-05-01T12:40:00Z")
    assert story["link"] == "https://news.example/story?id=1&src=rss"
    assert story["outlets"] == ["Wire <b>@here</b>", "Agency <!channel>", "Daily @here"]
    summary = payload["summary"]
    assert isinstance(summary, dict)
    start = HOSTILE_SUMMARY.index("sanctions")
    assert summary["matched"][0] == {"start": start, "end": start + 9, "text": "sanctions"}
    assert payload["rules"] == [
        {
            "id": "arms-transfers",
            "title": "Arms transfers & <sanctions>",
            "severity": "high",
            "matched": ["sanctions", "rosoboronexport"],
            "snippet": HOSTILE_SNIPPET,
            "feed": "Wire <b>@here</b>",
            "entities": [],
            "article": None,
        }
    ]
    rendered = renderer.render(make_alert(), ChannelKind.JSON)
    assert json.loads(rendered.body) == story_payload(make_alert())
    bare = story_payload(make_alert(link="javascript:x", published=None))
    assert bare["story"] == {**story, "link": None, "published": None}


def test_times_show_in_the_channel_timezone(renderer: Renderer) -> None:
    body = renderer.render(make_alert(), ChannelKind.TEXT, "Europe/Brussels").body
    assert "2024-05-01 14:30 CEST" in body and "First seen: 2024-05-01 14:40 CEST" in body
    assert "2024-05-01 12:30 UTC" in renderer.render(make_alert(), ChannelKind.TEXT).body


def test_naive_times_are_taken_as_utc() -> None:
    story = story_payload(make_alert(published=datetime(2024, 1, 2, 3, 4, 5)))["story"]
    assert isinstance(story, dict) and story["published"] == "2024-01-02T03:04:05Z"


def test_every_rule_is_listed_highest_severity_first_with_its_evidence(renderer: Renderer) -> None:
    rules = (
        make_rule(rule_id="dprk-russia-arms", rule_title="DPRK arms", snippet="«missiles» sent"),
        make_rule(rule_id="un-sanctions", rule_title="UN sanctions", severity=Severity.MEDIUM, snippet="in «breach»"),
    )
    body = renderer.render(make_alert(rules=rules), ChannelKind.TEXT).body
    assert body.index("[HIGH] DPRK arms (dprk-russia-arms)") < body.index("[MEDIUM] UN sanctions (un-sanctions)")
    assert "«missiles» sent" in body and "in «breach»" in body
    assert "explain" in body and "dprk-russia-arms un-sanctions" in body
    assert "Reported by 3 outlets" in body


def _digest() -> Digest:
    start = datetime(2024, 5, 1, tzinfo=UTC)

    def story(delivery: int, story_id: int, severity: Severity, minutes: int, event: str = "first") -> StoryAlert:
        return make_alert(
            delivery_id=delivery, story_id=story_id, event=event, headline=f"Story {story_id}",
            rules=(make_rule(rule_id=f"rule-{story_id}", rule_title=f"Rule {story_id}", severity=severity),),
            first_seen=start + timedelta(minutes=minutes),
        )  # fmt: skip

    alerts = (
        story(1, 1, Severity.LOW, 1),
        story(2, 7, Severity.HIGH, 5),
        story(3, 8, Severity.HIGH, 20),
        story(4, 7, Severity.HIGH, 5, "outlets:3"),  # the same story twice counts once
    )
    return Digest(channel="analysts", period_label="Daily digest, 1 May", alerts=alerts, timezone="Europe/Brussels")


def test_digest_lists_each_story_once_with_its_rules(renderer: Renderer) -> None:
    rendered = renderer.render_digest(_digest(), ChannelKind.JSON)
    assert rendered.title == "Daily digest, 1 May: 3 stories, 2 high"
    document = json.loads(rendered.body)
    assert document["schema"] == "sanctions-monitor.digest/2"
    assert (document["total"], document["high"]) == (3, 2)
    listed = [(s["story"]["id"], s["event"]) for s in document["stories"]]
    assert listed == [(8, "first"), (7, "outlets:3"), (1, "first")]
    text = renderer.render_digest(_digest(), ChannelKind.TEXT).body
    assert text.count("[HIGH] Story 7") == 1 and "[LOW] Story 1" in text
    assert text.index("Story 8") < text.index("Story 7") < text.index("Story 1")
    assert "2024-05-01 14:30 CEST" in text  # times in the channel's timezone


def test_digest_renders_safely_in_every_kind(renderer: Renderer) -> None:
    digest = _digest()
    html = renderer.render_digest(digest, ChannelKind.EMAIL)
    assert {tag for tag, _ in html_tags(html.body)} <= SAFE_TAGS
    assert html.body.count("<mark>sanctions</mark>") == 6  # summary and snippet of 3 stories
    slack = renderer.render_digest(digest, ChannelKind.SLACK).body
    assert re.findall(r"<[^>|]*", slack) == ["<https://news.example/story?id=1&src=rss"] * 3
    assert "*[HIGH] <https://news.example/story?id=1&src=rss|Story 8>*" in slack
    markdown = renderer.render_digest(digest, ChannelKind.MARKDOWN).body
    assert "**[HIGH] [Story 8](https://news.example/story?id=1&src=rss)**" in markdown


def test_digest_caps_listed_stories(renderer: Renderer) -> None:
    alerts = tuple(make_alert(delivery_id=i, story_id=i) for i in range(130))
    text = renderer.render_digest(Digest("c", "p", alerts), ChannelKind.TEXT).body
    assert "p: 130 stories, 130 high" in text and "… and 30 more stories." in text


def test_template_override(tmp_path: Path) -> None:
    (tmp_path / "email.subject.j2").write_text("ALERT {{ rules[0].rule_id }}\n{{ story.headline }}")
    (tmp_path / "slack.j2").write_text("custom {{ story.headline }} {{ story.link }} {{ summary }} {{ outlets_list }}")
    overridden = Renderer(tmp_path)
    email = overridden.render(make_alert(), ChannelKind.EMAIL)
    assert email.title.startswith("ALERT arms-transfers <script>")  # one line despite the \n
    assert "<mark>sanctions</mark>" in email.body  # the shipped HTML body is still used
    slack = overridden.render(make_alert(), ChannelKind.SLACK).body
    assert slack.startswith("custom &lt;script&gt;")  # overrides only see escaped values
    assert "<!channel>" not in slack and "*sanctions*" in slack
    overridden.check()
    (tmp_path / "text.j2").write_text("{{ story.no_such_variable }}")
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
            rule = make_rule(matched=(word,), snippet=summary.replace(word, f"«{word}»", 1))
            alert = make_alert(story_id=index, headline=str(entry.get("title", "")), link=entry.get("link"),
                               summary=summary, summary_spans=spans_of(summary, word) if summary else (),
                               rules=(rule,))  # fmt: skip
            html = renderer.render(alert, ChannelKind.EMAIL).body
            assert {tag for tag, _ in html_tags(html)} <= SAFE_TAGS, (path, index)
            slack = renderer.render(alert, ChannelKind.SLACK).body
            assert len(re.findall(r"<[^>]*>", slack)) <= 1, (path, index)
            assert json.loads(renderer.render(alert, ChannelKind.JSON).body)["story"]["id"] == index
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
    assert "matched sanctions, rosoboronexport" in plain
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
    assert re.findall(r"<[^>]*>", text) == [body.splitlines()[0].strip("*").replace("&lt;", "&amp;lt;")
                                            .replace("&gt;", "&amp;gt;")]  # fmt: skip
    assert "*sanctions*" in text and "<!" not in text and "<@" not in text


def test_json_webhook_through_apprise(renderer: Renderer, receiver: WebhookReceiver) -> None:
    rendered = renderer.render(make_alert(), ChannelKind.JSON)
    assert _send(f"json://127.0.0.1:{receiver.port}/hook", ChannelKind.JSON, renderer)
    renamed = f"json://127.0.0.1:{receiver.port}/hook2?:message=alert&:version=&:attachments="
    assert _send(renamed, ChannelKind.JSON, renderer)
    envelope, trimmed = receiver.wait_for(2)
    assert envelope["title"] == rendered.title and envelope["type"] == "info"
    assert json.loads(envelope["message"]) == story_payload(make_alert())
    assert set(trimmed) == {"title", "alert", "type"}
    assert json.loads(trimmed["alert"])["schema"] == "sanctions-monitor.story/1"
