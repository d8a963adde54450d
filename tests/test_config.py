"""Configuration loading: defaults, env overrides, secrets, and errors that name file, line and key."""

from pathlib import Path

import pytest

from monitor.config import ConfigError, config_path, load_settings
from monitor.durations import format_duration, parse_duration, parse_size
from monitor.types import Severity

REPO = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "monitor.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_config_loads() -> None:
    settings = load_settings(REPO / "config" / "monitor.yaml", {})
    assert settings.database_url == "sqlite:///data/monitor.db"
    assert settings.rule_paths == (Path("rules/"),)
    assert settings.default_interval_seconds == 900
    assert len(settings.feeds) >= 5
    assert settings.channels == ()
    assert settings.fetch.max_bytes == 10_000_000


def test_minimal_config_and_database_override(tmp_path: Path) -> None:
    path = write(tmp_path, "feeds:\n  - url: https://example.org/world.rss\n    interval: 10m\n")
    settings = load_settings(path, {"MONITOR_DATABASE_URL": "postgresql+psycopg://u@h/db"})
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    (feed,) = settings.feeds
    assert feed.name == "example.org"
    assert feed.interval_seconds == 600


def test_channels_with_tags_severity_and_secret_from_env(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
notify:
  - url: mailto://localhost:1025?from=m@example.org&to=a@example.org&pass=${SMTP_PASSWORD}
    tags: [analysts]
    min_severity: high
  - url: json://127.0.0.1:8080/hook
    name: hook
""",
    )
    settings = load_settings(path, {"SMTP_PASSWORD": "s3cret"})
    mail, hook = settings.channels
    assert "pass=s3cret" in mail.url
    assert mail.tags == ("analysts",)
    assert mail.min_severity is Severity.HIGH
    assert mail.name.startswith("mailto-") and "s3cret" not in mail.name
    assert hook.name == "hook"


def test_secret_from_file(tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text("from-file\n")
    path = write(tmp_path, "notify:\n  - url: json://127.0.0.1/${HOOK_TOKEN}\n")
    (channel,) = load_settings(path, {"HOOK_TOKEN_FILE": str(secret)}).channels
    assert channel.url == "json://127.0.0.1/from-file"


def test_missing_secret_names_key_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "interval: 5m\nnotify:\n  - url: json://h/${NOPE}\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path, {})
    assert str(info.value) == (f"{path}:3: notify.0.url: environment variable NOPE (or NOPE_FILE) is not set")


def test_commands_that_never_send_tolerate_a_missing_channel_secret(tmp_path: Path) -> None:
    path = write(tmp_path, "interval: 5m\nnotify:\n  - url: json://h/${NOPE}\n")
    (channel,) = load_settings(path, {}, channel_secrets=False).channels
    assert "${" not in channel.url and channel.url.endswith("/unset")


def test_a_missing_secret_outside_notify_is_still_an_error_for_reports(tmp_path: Path) -> None:
    path = write(tmp_path, "database: postgresql+psycopg://u:${DB_PASS}@h/db\n")
    with pytest.raises(ConfigError, match=r":1: database: environment variable DB_PASS"):
        load_settings(path, {}, channel_secrets=False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("feedz: []\n", ":1: feedz: unknown key"),
        ("interval: 10x\n", ":1: interval: invalid duration '10x' (use e.g. 30s, 15m, 2h, 1d)"),
        ("feeds:\n  - url: ftp://example.org/x\n", ":2: feeds.0.url: not an http(s) URL"),
        ("feeds:\n  - url: https://e.org/a\n    colour: red\n", ":3: feeds.0.colour: unknown key"),
        ("notify:\n  - url: nosuchscheme://x\n", ":2: notify.0.url: Apprise does not accept"),
        ("notify:\n  - tags: [a]\n", ":2: notify.0: give exactly one of 'url' or 'config'"),
        ("fetch:\n  max_bytes: lots\n", ":2: fetch.max_bytes: invalid size 'lots'"),
        ("interval: [\n", ":2: invalid YAML"),
        ("- a\n- b\n", ":1: the configuration must be a mapping of keys"),
    ],
)
def test_errors_name_file_line_and_key(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, {})
    assert f"{path}{expected}" in str(info.value)


def test_duplicate_feed_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "feeds:\n  - url: https://e.org/a\n  - url: https://e.org/a\n")
    with pytest.raises(ConfigError, match=r":3: feeds.1.url: duplicate feed"):
        load_settings(path, {})


def test_duplicate_feed_name_is_an_error(tmp_path: Path) -> None:
    text = "feeds:\n  - url: https://e.org/a\n    name: Wire\n  - url: https://e.org/b\n    name: Wire\n"
    with pytest.raises(ConfigError, match=r":5: feeds.1.name: duplicate feed name 'Wire' \(feeds.0 has it\)"):
        load_settings(write(tmp_path, text), {})


def test_unnamed_feeds_get_unique_names(tmp_path: Path) -> None:
    text = (
        "feeds:\n"
        "  - url: https://news.example/world.xml\n"
        "  - url: https://news.example/asia.xml\n"
        "  - url: https://other.example/rss\n"
        "  - url: https://third.example/feed\n"
        "    name: news.example\n"  # an explicit name wins; the unnamed feeds avoid it
    )
    names = [feed.name for feed in load_settings(write(tmp_path, text), {}).feeds]
    assert names == ["news.example/world.xml", "news.example/asia.xml", "other.example", "news.example"]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read file"):
        load_settings(tmp_path / "absent.yaml", {})


def test_config_path_precedence(tmp_path: Path) -> None:
    assert config_path(tmp_path / "x.yaml", {"MONITOR_CONFIG": "y.yaml"}) == tmp_path / "x.yaml"
    assert config_path(None, {"MONITOR_CONFIG": "y.yaml"}) == Path("y.yaml")
    assert config_path(None, {}) == Path("config/monitor.yaml")


def test_durations_and_sizes() -> None:
    assert parse_duration("90s") == 90
    assert parse_duration("1h30m") == 5400
    assert parse_duration(45) == 45
    for bad in ("", "ten", "5 parsecs", "0s", "-5m"):
        with pytest.raises(ValueError):
            parse_duration(bad)
    assert parse_size("10MB") == 10_000_000
    assert parse_size("1MiB") == 1_048_576
    assert parse_size(512) == 512
    assert format_duration(5400) == "1h30m"
    assert format_duration(42) == "42s"
