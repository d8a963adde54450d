"""Configuration: read once, validated, passed down as frozen values.

The only place that looks at the process environment is `load_settings` (through the `environ`
mapping its caller passes), so everything else stays testable and free of hidden inputs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from monitor.durations import parse_duration, parse_pause, parse_size
from monitor.fetch import MAX_RETRY_AFTER_SECONDS, FetchSettings
from monitor.policies import DAY, AlertPolicy, HealthPolicy, RetentionPolicy
from monitor.redact import redact_url
from monitor.schedule import parse_digest_schedule
from monitor.secret_refs import SecretSource, referenced, substitute
from monitor.types import ChannelSpec, FeedSpec, FullTextMode, ListSpec, Severity, UpdateKind
from monitor.web.settings import WebConfig, WebSettings
from monitor.yamlsource import YamlSourceError, load_yaml

DEFAULT_CONFIG_PATH = Path("config/monitor.yaml")

Duration = Annotated[float, BeforeValidator(parse_duration)]
Pause = Annotated[float, BeforeValidator(parse_pause)]
Size = Annotated[int, BeforeValidator(parse_size)]
MIN_RETENTION_DAYS = 7


def _retention_age(value: object) -> float | None:
    """A duration of at least a week, or `never`. Story grouping looks back 3 days, digests
    need the last sent alert and feeds still list items for days: a shorter age would re-store
    (and could re-alert) items the feed still carries."""
    if isinstance(value, str) and value.strip().lower() == "never":
        return None
    if not isinstance(value, str | int | float):
        raise ValueError(f"invalid age {value!r} (use e.g. 90d, 52w, or never)")
    seconds = parse_duration(value)
    if seconds < MIN_RETENTION_DAYS * DAY:
        raise ValueError(f"must be at least {MIN_RETENTION_DAYS}d, or never")
    return seconds


Age = Annotated[float | None, BeforeValidator(_retention_age)]


class ConfigError(Exception):
    """Invalid configuration; `str()` lists every problem as `file:line: key: cause`."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Feed(_Strict):
    url: str
    name: str | None = None
    interval: Duration | None = None
    tags: list[str] = Field(default_factory=list)
    max_age: Duration | None = None
    fulltext: FullTextMode | None = None  # None: the `fulltext.default`

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str, info: ValidationInfo) -> str:
        # the URL keeps its ${NAME} references (see _expand_env); check what will be fetched
        secrets: Mapping[str, str] = (info.context or {}).get("feed_secrets", {})
        fetched = substitute(value, secrets.get)
        parts = urlsplit(fetched)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {redact_url(fetched)!r}")
        return value


class _Channel(_Strict):
    url: str | None = None
    config: str | None = None
    name: str | None = None
    tags: list[str] = Field(default_factory=list)
    min_severity: Severity = Severity.LOW
    min_interval: Pause | None = None
    digest: str | None = None
    timezone: str = "UTC"
    immediate_severity: Severity | None = None
    templates: str | None = None
    updates: list[UpdateKind] = Field(default_factory=lambda: list(UpdateKind))
    corroboration: list[Annotated[int, Field(ge=2, le=10_000)]] = Field(default_factory=lambda: [3, 10])

    @model_validator(mode="after")
    def _valid_digest(self) -> _Channel:
        if self.digest is not None:
            parse_digest_schedule(self.digest, self.timezone)
        elif self.immediate_severity is not None:
            raise ValueError("immediate_severity only applies to a channel with a digest")
        if self.templates is not None and not Path(self.templates).is_dir():
            raise ValueError(f"templates: no such directory {self.templates!r}")
        return self


class _Fetch(_Strict):
    connect_timeout: Duration = 10
    read_timeout: Duration = 20
    deadline: Duration = 60
    max_bytes: Size = 10_000_000
    max_redirects: int = Field(5, ge=0, le=20)
    concurrency: int = Field(16, ge=1, le=512)
    max_items: int = Field(500, ge=1)
    user_agent: str | None = None


class _List(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_-]*$", max_length=100)
    source: str  # http(s) URL or file path
    format: Literal["ftm", "un", "ofac"] | None = None
    refresh: Duration = Field(86_400, ge=60)
    max_bytes: Size = 200_000_000


class _FullText(_Strict):
    default: FullTextMode = FullTextMode.CANDIDATES
    teaser_words: int = Field(30, ge=0, le=1_000)  # summaries shorter than this are teasers
    max_bytes: Size = 5_000_000  # per article page, after decompression


class _Alerts(_Strict):
    max_attempts: int = Field(8, ge=1, le=100)
    retry_base: Duration = 60
    retry_max: Duration = 6 * 3600
    batch: int = Field(100, ge=1)


class _Health(_Strict):
    failures: int = Field(5, ge=1)
    silence_factor: float = Field(3.0, gt=1)
    check_every: Duration = 60


class _Retention(_Strict):
    items: Age = 90 * DAY
    hits: Age = None
    deliveries: Age = 30 * DAY


class _Config(_Strict):
    database: str = "sqlite:///data/monitor.db"
    rules: str | list[str] = "rules/"
    interval: Duration = 900
    max_age: Duration = 3 * 86400
    max_backoff: Duration = 6 * 3600
    max_retry_after: Duration = Field(MAX_RETRY_AFTER_SECONDS, le=MAX_RETRY_AFTER_SECONDS)
    tick: Duration = 5
    feeds: list[_Feed] = Field(default_factory=list)
    notify: list[_Channel] = Field(default_factory=list)
    fetch: _Fetch = Field(default_factory=lambda: _Fetch())
    alerts: _Alerts = Field(default_factory=lambda: _Alerts())
    health: _Health = Field(default_factory=lambda: _Health())
    retention: _Retention = Field(default_factory=lambda: _Retention())
    log_format: Literal["text", "json"] = "text"
    web: WebConfig | None = None
    lists: list[_List] = Field(default_factory=list)
    fulltext: _FullText = Field(default_factory=lambda: _FullText())


@dataclass(frozen=True, slots=True)
class Settings:
    config_file: Path
    database_url: str
    rule_paths: tuple[Path, ...]
    default_interval_seconds: float
    max_backoff_seconds: float
    max_retry_after_seconds: float
    tick_seconds: float
    max_age_seconds: float
    feeds: tuple[FeedSpec, ...]
    channels: tuple[ChannelSpec, ...]
    channel_min_intervals: Mapping[str, float]
    fetch: FetchSettings
    max_items_per_feed: int
    alerts: AlertPolicy
    health: HealthPolicy
    health_check_seconds: float
    retention: RetentionPolicy
    log_format: str
    web: WebSettings | None = None  # the console (monitor.web); None when `web:` is absent
    lists: tuple[ListSpec, ...] = ()
    fulltext_teaser_words: int = 30
    fulltext_max_bytes: int = 5_000_000


UNSET_PLACEHOLDER = "unset"  # stands in for a secret that is not set, where a command tolerates it


def config_path(explicit: Path | None, environ: Mapping[str, str]) -> Path:
    if explicit is not None:
        return explicit
    from_env = environ.get("MONITOR_CONFIG")
    return Path(from_env) if from_env else DEFAULT_CONFIG_PATH


def load_settings(path: Path, environ: Mapping[str, str], *, channel_secrets: bool = True) -> Settings:
    """Read and validate the configuration. ``channel_secrets=False`` is for commands that never
    send (reports, rule tools): an unset secret inside ``notify`` becomes a placeholder instead
    of an error, so an analyst can list hits without the mail server's password."""
    try:
        document = load_yaml(path)
    except YamlSourceError as exc:
        raise ConfigError([str(exc)]) from exc
    raw = document.data if document.data is not None else {}
    if not isinstance(raw, dict):
        raise ConfigError([f"{path}:1: the configuration must be a mapping of keys"])
    missing: list[tuple[tuple[Any, ...], str]] = []
    feed_secrets: dict[str, str] = {}
    expanded = _expand_env(raw, SecretSource(environ, feed_secrets), (), missing)
    if not channel_secrets:
        missing = [(location, message) for location, message in missing if not _needed_only_to_send(location)]
    problems = [f"{path}:{document.line_of(loc)}: {'.'.join(map(str, loc))}: {message}" for loc, message in missing]
    try:
        model = _Config.model_validate(expanded, context={"feed_secrets": feed_secrets})
    except ValidationError as exc:
        for error in exc.errors():
            location = tuple(error["loc"])
            key = ".".join(str(part) for part in location) or "(top level)"
            message = _clean_message(error)
            problems.append(f"{path}:{document.line_of(location)}: {key}: {message}")
        raise ConfigError(problems) from exc
    if problems:
        raise ConfigError(problems)
    return _settings(model, path, environ, document.line_of, feed_secrets)


def _needed_only_to_send(location: tuple[Any, ...]) -> bool:
    """Channel secrets, and feed URL secrets (only fetching substitutes them)."""
    return location[:1] == ("notify",) or _is_feed_url(location)


def _settings(
    model: _Config, path: Path, environ: Mapping[str, str], line_of: Any, feed_secrets: Mapping[str, str]
) -> Settings:
    problems: list[str] = []
    feeds = _feeds(model, path, line_of, problems)
    channels = _channels(model, path, line_of, problems, model.web.base_url if model.web else "")
    lists = _lists(model, path, line_of, problems)
    database_url = environ.get("MONITOR_DATABASE_URL") or model.database
    database_problem = _database_problem(database_url)
    if database_problem is not None:
        where = "MONITOR_DATABASE_URL" if environ.get("MONITOR_DATABASE_URL") else f"{path}:{line_of(('database',))}"
        problems.append(f"{where}: database: {database_problem}")
    if problems:
        raise ConfigError(problems)
    rule_paths = (model.rules,) if isinstance(model.rules, str) else tuple(model.rules)
    user_agent = model.fetch.user_agent or FetchSettings().user_agent
    return Settings(
        config_file=path,
        database_url=database_url,
        rule_paths=tuple(Path(p) for p in rule_paths),
        default_interval_seconds=model.interval,
        max_backoff_seconds=model.max_backoff,
        max_retry_after_seconds=model.max_retry_after,
        tick_seconds=model.tick,
        max_age_seconds=model.max_age,
        feeds=feeds,
        channels=tuple(spec for spec, _ in channels),
        channel_min_intervals={s.name: i for s, i in channels if i is not None},
        fetch=FetchSettings(
            user_agent=user_agent,
            connect_timeout=model.fetch.connect_timeout,
            read_timeout=model.fetch.read_timeout,
            deadline=model.fetch.deadline,
            max_redirects=model.fetch.max_redirects,
            max_bytes=model.fetch.max_bytes,
            concurrency=model.fetch.concurrency,
            url_secrets=feed_secrets,
        ),
        max_items_per_feed=model.fetch.max_items,
        alerts=AlertPolicy(
            model.alerts.max_attempts,
            model.alerts.retry_base,
            model.alerts.retry_max,
            model.alerts.batch,
        ),
        health=HealthPolicy(model.health.failures, model.health.silence_factor),
        health_check_seconds=model.health.check_every,
        retention=RetentionPolicy(model.retention.items, model.retention.hits, model.retention.deliveries),
        log_format=model.log_format,
        web=model.web.settings() if model.web is not None else None,
        lists=lists,
        fulltext_teaser_words=model.fulltext.teaser_words,
        fulltext_max_bytes=model.fulltext.max_bytes,
    )


def _lists(model: _Config, path: Path, line_of: Any, problems: list[str]) -> tuple[ListSpec, ...]:
    specs: dict[str, ListSpec] = {}
    for index, entry in enumerate(model.lists):
        if entry.name in specs:
            line = line_of(("lists", index, "name"))
            problems.append(f"{path}:{line}: lists.{index}.name: duplicate list name {entry.name!r}")
            continue
        specs[entry.name] = ListSpec(entry.name, entry.source, entry.format, entry.refresh, entry.max_bytes)
    return tuple(specs.values())


def _feeds(model: _Config, path: Path, line_of: Any, problems: list[str]) -> tuple[FeedSpec, ...]:
    """Feeds by unique URL and unique name: the name identifies a feed in logs, alerts and
    rules' `feeds:` filters. Unnamed feeds are named after their host, or host and path when
    another feed already has that name; alerts show them by their own title once fetched."""
    seen: set[str] = set()
    named: dict[str, int] = {}
    kept: list[_Feed] = []
    for index, feed in enumerate(model.feeds):
        if feed.url in seen:
            line = line_of(("feeds", index, "url"))
            problems.append(f"{path}:{line}: feeds.{index}.url: duplicate feed {redact_url(feed.url)}")
            continue
        seen.add(feed.url)
        if feed.name is not None and feed.name in named:
            line = line_of(("feeds", index, "name"))
            problems.append(
                f"{path}:{line}: feeds.{index}.name: duplicate feed name {feed.name!r} "
                f"(feeds.{named[feed.name]} has it); names identify feeds in logs, alerts and `feeds:` filters"
            )
            continue
        if feed.name is not None:
            named[feed.name] = index
        kept.append(feed)
    taken = set(named)
    feeds: list[FeedSpec] = []
    for feed in kept:
        name = feed.name if feed.name is not None else _default_feed_name(feed.url, taken)
        taken.add(name)
        feeds.append(
            FeedSpec(
                feed.url,
                name,
                feed.interval or model.interval,
                tuple(feed.tags),
                feed.max_age,
                named=feed.name is not None,
                fulltext=feed.fulltext or model.fulltext.default,
            )
        )
    return tuple(feeds)


def _default_feed_name(url: str, taken: set[str]) -> str:
    parts = urlsplit(url)
    host = parts.hostname or url
    for candidate in (host, f"{host}{parts.path}", redact_url(url)):
        if candidate not in taken:
            return candidate
    return url


def _channels(
    model: _Config, path: Path, line_of: Any, problems: list[str], console_url: str
) -> list[tuple[ChannelSpec, float | None]]:
    channels: list[tuple[ChannelSpec, float | None]] = []
    names: set[str] = set()
    for index, channel in enumerate(model.notify):
        where = f"{path}:{line_of(('notify', index))}: notify.{index}"
        if (channel.url is None) == (channel.config is None):
            problems.append(f"{where}: give exactly one of 'url' or 'config'")
            continue
        target = channel.url or channel.config or ""
        url_problem = _channel_url_problem(channel.url) if channel.url is not None else None
        if url_problem is not None:
            problems.append(f"{where}.url: {url_problem}")
            continue
        if channel.config is not None and not Path(channel.config).is_file():
            problems.append(f"{where}.config: no such Apprise config file {channel.config!r}")
            continue
        name = channel.name or _default_channel_name(target)
        if name in names:
            problems.append(f"{where}.name: duplicate channel name {name!r}")
            continue
        names.add(name)
        spec = ChannelSpec(
            name=name,
            url=target,
            tags=tuple(channel.tags),
            min_severity=channel.min_severity,
            is_config_file=channel.config is not None,
            digest=channel.digest,
            timezone=channel.timezone,
            immediate_severity=channel.immediate_severity,
            template_dir=channel.templates,
            updates=frozenset(channel.updates),
            corroboration=tuple(sorted(set(channel.corroboration))),
            console_url=console_url,
        )
        channels.append((spec, channel.min_interval))
    return channels


def _channel_url_problem(url: str) -> str | None:
    """Why no sender can take ``url``, or None; never echoes a secret. webhook:// URLs are ours
    (monitor.alerts.webhook), every other scheme is Apprise's."""
    # Imported here: the alerts package loads Apprise and its plugins, only needed with channels.
    import apprise

    from monitor.alerts.webhook import is_webhook_url, parse_webhook_url

    if is_webhook_url(url):
        try:
            parse_webhook_url(url)
        except ValueError as exc:
            return str(exc)
        return None
    if apprise.Apprise.instantiate(url) is None:
        return f"Apprise does not accept {redact_url(url)!r}"
    return None


def _default_channel_name(target: str) -> str:
    # hashing keeps the name stable when channels are reordered, and keeps secrets out of it
    scheme = target.split("://", 1)[0] if "://" in target else "config"
    return f"{scheme}-{hashlib.sha256(target.encode()).hexdigest()[:8]}"


def _is_feed_url(location: tuple[Any, ...]) -> bool:
    return len(location) == 3 and location[0] == "feeds" and location[2] == "url"


def _expand_env(
    value: Any,
    secrets: SecretSource,
    location: tuple[Any, ...],
    problems: list[tuple[tuple[Any, ...], str]],
) -> Any:
    """Replace ${NAME} with its secret, so secrets stay out of the file. Feed URLs keep their
    references: they are the feed's key in the database and appear in logs and OPML exports;
    their values are collected for the fetcher instead."""
    if isinstance(value, dict):
        return {k: _expand_env(v, secrets, (*location, k), problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_env(v, secrets, (*location, i), problems) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def value_of(name: str) -> str:
        try:
            return secrets.value(name)
        except ValueError as exc:
            problems.append((location, str(exc)))
            return UNSET_PLACEHOLDER

    if _is_feed_url(location):
        secrets.used_by_feeds.update({name: value_of(name) for name in referenced(value)})
        return value
    return substitute(value, value_of)


def _database_problem(url: str) -> str | None:
    """Why ``url`` cannot be our database, or None. The URL itself is never echoed: it may
    hold a password."""
    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError:
        return "not a database URL (use sqlite:///path/to/file.db or postgresql+psycopg://user@host/db)"
    if backend not in ("sqlite", "postgresql"):
        return f"unsupported database {backend!r}: use sqlite or postgresql"
    return None


def _clean_message(error: Any) -> str:
    message = str(error.get("msg", "invalid value"))
    if error.get("type") == "extra_forbidden":
        return "unknown key"
    return message.removeprefix("Value error, ")
