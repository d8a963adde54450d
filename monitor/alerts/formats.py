"""Story messages and digests per channel kind: e-mail (HTML), Slack mrkdwn, Markdown, plain text
and a JSON webhook document. Jinja2 templates shipped in ``templates/`` can be overridden one
file at a time from a directory (see docs/alerts.md for file names and variables).

How a Rendered message goes through Apprise::

    rendered = renderer.render(story_alert, channel_kind(url), channel_timezone)
    apprise_obj.notify(title=rendered.title, body=rendered.body,
                       body_format=apprise_body_format(kind))
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from monitor.alerts.format_digest import Digest
from monitor.alerts.format_json import digest_payload, dumps, story_payload
from monitor.alerts.format_text import clean_line
from monitor.alerts.format_views import (
    Dialect,
    HtmlDialect,
    MarkdownDialect,
    PlainDialect,
    SlackDialect,
    digest_view,
    story_context,
)
from monitor.types import RuleEvidence, Severity, Span, StoryAlert

__all__ = [
    "SHIPPED_TEMPLATES",
    "ChannelKind",
    "Digest",
    "Rendered",
    "Renderer",
    "apprise_body_format",
    "channel_kind",
    "digest_payload",
    "story_payload",
]

SHIPPED_TEMPLATES = Path(__file__).resolve().parent / "templates"
MAX_RENDERED_TITLE = 250  # Apprise cuts titles at 250 characters; cut first, with an ellipsis


class ChannelKind(StrEnum):
    EMAIL = "email"
    SLACK = "slack"
    JSON = "json"
    MARKDOWN = "markdown"
    TEXT = "text"


BodyFormat = Literal["text", "html", "markdown"]


@dataclass(frozen=True, slots=True)
class Rendered:
    """A message ready for Apprise. Chat kinds (Slack, Markdown) carry their heading in the body
    and leave ``title`` empty: Apprise pastes titles unescaped into some services' bodies."""

    title: str
    body: str
    body_format: BodyFormat


_EMAIL_SCHEMAS = frozenset({
    "mailto", "mailtos", "ses", "sendgrid", "mailgun", "postmark", "resend", "smtp2go",
    "sparkpost", "brevo", "mailersend", "sendpulse", "o365",
})  # fmt: skip
_SLACK_SCHEMAS = frozenset({"slack", "mmost", "mmosts"})
# webhook(s):// is our own channel (monitor.alerts.webhook), not an Apprise plugin.
_JSON_SCHEMAS = frozenset({"json", "jsons", "webhook", "webhooks"})
# Generic relays take Markdown too, but their receivers are programs, not people.
_GENERIC_SCHEMAS = frozenset({"form", "forms", "xml", "xmls", "apprise", "apprises", "amqp", "amqps"})


def channel_kind(apprise_url: str) -> ChannelKind:
    """Which message format suits the Apprise service behind ``apprise_url``."""
    schema = apprise_url.partition("://")[0].strip().lower()
    if schema in _EMAIL_SCHEMAS:
        return ChannelKind.EMAIL
    if schema in _SLACK_SCHEMAS:
        return ChannelKind.SLACK
    if schema in _JSON_SCHEMAS:
        return ChannelKind.JSON
    if schema not in _GENERIC_SCHEMAS and "markdown" in _apprise_formats(schema):
        return ChannelKind.MARKDOWN
    return ChannelKind.TEXT


@lru_cache(maxsize=256)
def _apprise_formats(schema: str) -> frozenset[str]:
    """The formats the Apprise plugin for ``schema`` declares (empty when there is none)."""
    from apprise.apprise import N_MGR  # Apprise's plugin registry, loaded on first use

    if not schema or schema not in N_MGR:
        return frozenset()
    declared = N_MGR[schema].notify_format
    formats = declared if isinstance(declared, list | tuple) else (declared,)
    return frozenset(str(getattr(fmt, "value", fmt)) for fmt in formats)


def apprise_body_format(kind: ChannelKind) -> str | None:
    """The ``body_format`` to pass to ``Apprise.notify`` for a body rendered for ``kind``.

    Slack mrkdwn goes as None (pass-through): declared Markdown would make Apprise's Slack
    plugin translate CommonMark to mrkdwn, turning our *bold* into _italic_ and mangling
    links. Mattermost sends the body verbatim either way.
    """
    return {
        ChannelKind.EMAIL: "html",
        ChannelKind.SLACK: None,
        ChannelKind.MARKDOWN: "markdown",
        ChannelKind.JSON: "text",
        ChannelKind.TEXT: "text",
    }[kind]


@dataclass(frozen=True, slots=True)
class _Layout:
    dialect: Dialect
    title_template: str | None  # None: the kind puts its heading in the body
    body_template: str | None  # None: the body is the JSON document
    body_format: BodyFormat


_LAYOUTS = {
    ChannelKind.EMAIL: _Layout(HtmlDialect(), "email.subject.j2", "email.html.j2", "html"),
    ChannelKind.SLACK: _Layout(SlackDialect(), None, "slack.j2", "markdown"),
    ChannelKind.MARKDOWN: _Layout(MarkdownDialect(), None, "markdown.j2", "markdown"),
    ChannelKind.TEXT: _Layout(PlainDialect(), "text.title.j2", "text.j2", "text"),
    ChannelKind.JSON: _Layout(PlainDialect(), "text.title.j2", None, "text"),
}
_TITLE_DIALECT = PlainDialect()

SAMPLE_STORY = StoryAlert(
    delivery_id=0, story_id=1, event="first", headline="Sample headline",
    link="https://example.org/item", feed_name="Sample feed", published=datetime(2000, 1, 1, tzinfo=UTC),
    summary="A sample summary with a matched word.",
    summary_spans=(Span("summary", 24, 31, "matched"),),
    rules=(
        RuleEvidence("sample", "Sample rule", Severity.HIGH, ("sample",), "a «sample» snippet", "Sample feed", "S"),
        RuleEvidence("other", "Other rule", Severity.LOW, ("other",), "an «other» snippet", "Other feed", "Other"),
    ),
    outlets=("Sample feed", "Other feed"), first_seen=datetime(2000, 1, 1, tzinfo=UTC),
    message_id="<sample@sanctions-monitor>",
)  # fmt: skip


class Renderer:
    """Renders alerts and digests. Template files found in ``template_dir`` replace the shipped
    file of the same name (e.g. ``email.html.j2``, ``digest_slack.j2``); the rest stay default."""

    def __init__(self, template_dir: Path | None = None, console_url: str = "") -> None:
        self._console_url = console_url  # web.base_url: messages link to the story in the console
        if template_dir is not None and not template_dir.is_dir():
            raise FileNotFoundError(f"alert template directory not found: {template_dir}")
        loaders = [FileSystemLoader(str(template_dir))] if template_dir is not None else []
        loaders.append(FileSystemLoader(str(SHIPPED_TEMPLATES)))
        # Sandboxed: a template may come from an operator's config directory.
        self._env = SandboxedEnvironment(
            loader=ChoiceLoader(loaders),
            autoescape=lambda name: bool(name and name.endswith(".html.j2")),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def render(self, alert: StoryAlert, kind: ChannelKind, timezone: str = "UTC") -> Rendered:
        layout = _LAYOUTS[kind]
        title = ""
        if layout.title_template:
            context = story_context(alert, _TITLE_DIALECT, timezone, self._console_url)
            title = self._title(layout.title_template, **context.as_dict())
        if layout.body_template is None:
            return Rendered(title, dumps(story_payload(alert)), layout.body_format)
        body = self._body(
            layout.body_template, **story_context(alert, layout.dialect, timezone, self._console_url).as_dict()
        )
        return Rendered(title, body, layout.body_format)

    def render_digest(self, digest: Digest, kind: ChannelKind) -> Rendered:
        layout = _LAYOUTS[kind]
        title = ""
        if layout.title_template:
            view = digest_view(digest, _TITLE_DIALECT, self._console_url)
            title = self._title("digest_" + layout.title_template, digest=view)
        if layout.body_template is None:
            return Rendered(title, dumps(digest_payload(digest)), layout.body_format)
        view = digest_view(digest, layout.dialect, self._console_url)
        return Rendered(title, self._body("digest_" + layout.body_template, digest=view), layout.body_format)

    def check(self) -> None:
        """Render a sample story and digest in every kind, so a broken override template fails
        at start-up (with Jinja2's file:line error) rather than at the first alert."""
        for kind in ChannelKind:
            self.render(SAMPLE_STORY, kind, "Europe/Brussels")
            self.render(replace(SAMPLE_STORY, event="outlets:3"), kind)
            self.render_digest(Digest("sample", "Daily digest, 1 Jan", (SAMPLE_STORY,)), kind)

    def _title(self, name: str, **context: object) -> str:
        # Whatever a template does, a title is one line: no header injection via newlines.
        return clean_line(self._env.get_template(name).render(**context), MAX_RENDERED_TITLE)

    def _body(self, name: str, **context: object) -> str:
        return self._env.get_template(name).render(**context).strip() + "\n"
