"""`${NAME}` secrets: percent-encoded where they land inside a URL, kept as references in feed
URLs (substituted only by the fetcher, masked in what it reports), one-line errors when a
NAME_FILE cannot be read."""

from __future__ import annotations

import asyncio
from pathlib import Path

import apprise
import pytest
from sqlalchemy.engine import make_url
from support.feedserver import FeedServer

from monitor.config import ConfigError, load_settings
from monitor.fetch import Fetcher, FetchSettings
from monitor.secret_refs import mask, substitute, template_pattern
from monitor.types import FetchResult

AWKWARD = "p&ss#w/rd@x?:%+ é"  # every character that means something in a URL
ENCODED = "p%26ss%23w%2Frd%40x%3F%3A%25%2B%20%C3%A9"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "monitor.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_values_are_encoded_only_inside_a_url() -> None:
    values = {"PW": AWKWARD, "SCHEME": "https"}.get
    assert substitute("https://u:${PW}@h/x?k=${PW}", values) == f"https://u:{ENCODED}@h/x?k={ENCODED}"
    assert substitute("${SCHEME}://h/", values) == "https://h/"
    assert substitute("agent ${PW}", values) == f"agent {AWKWARD}"
    assert substitute("https://h/${UNKNOWN}", values) == "https://h/${UNKNOWN}"


def test_mask_hides_both_forms_of_the_referenced_values_only() -> None:
    values = {"PW": AWKWARD, "OTHER": "x", "EMPTY": ""}
    text = f"GET https://h/{ENCODED} failed; {AWKWARD}; x stays"
    assert mask(text, "https://h/${PW}?${EMPTY}", values) == "GET https://h/${PW} failed; ${PW}; x stays"


def test_template_pattern_matches_any_substitution() -> None:
    pattern = template_pattern("https://h.example/feed?key=${K}&u=${U}")
    assert pattern.fullmatch("https://h.example/feed?key=s3cret&u=me")
    assert not pattern.fullmatch("https://h.example/other?key=s3cret&u=me")


def test_awkward_secrets_survive_in_channel_urls_and_the_database_url(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
database: postgresql+psycopg://monitor:${DB_PASSWORD}@db.example.org/monitor
fetch:
  user_agent: "monitor ${AGENT_SUFFIX}"
notify:
  - url: mailtos://smtp.example.org:587?user=monitor&pass=${SMTP_PASSWORD}&to=a@example.org
""",
    )
    environ = {"DB_PASSWORD": AWKWARD, "SMTP_PASSWORD": AWKWARD, "AGENT_SUFFIX": "a&b/c"}
    settings = load_settings(path, environ)
    assert make_url(settings.database_url).password == AWKWARD
    (channel,) = settings.channels
    assert apprise.Apprise.instantiate(channel.url).password == AWKWARD  # Apprise decodes it back
    assert settings.fetch.user_agent == "monitor a&b/c"  # not a URL: as written


def test_feed_urls_keep_their_references(tmp_path: Path) -> None:
    feeds = "  - url: https://feeds.example.org/private.rss?key=${FEED_PW}\n  - url: ${FEED_URL}\n    name: whole\n"
    path = write(tmp_path, f"feeds:\n{feeds}")
    settings = load_settings(path, {"FEED_PW": AWKWARD, "FEED_URL": "https://other.example.org/x.rss"})
    private, whole = settings.feeds
    assert private.url == "https://feeds.example.org/private.rss?key=${FEED_PW}"
    assert private.name == "feeds.example.org"
    assert whole.url == "${FEED_URL}"
    assert AWKWARD not in repr(settings)
    assert dict(settings.fetch.url_secrets) == {"FEED_PW": AWKWARD, "FEED_URL": "https://other.example.org/x.rss"}


def test_a_feed_url_is_checked_with_its_secrets_substituted(tmp_path: Path) -> None:
    path = write(tmp_path, "feeds:\n  - url: ${FEED_URL}\n")
    with pytest.raises(ConfigError, match=r":2: feeds.0.url: not an http\(s\) URL: 'ftp://…'"):
        load_settings(path, {"FEED_URL": "ftp://user:pw@files.example.org/feed"})


def test_reports_need_no_feed_secret(tmp_path: Path) -> None:
    path = write(tmp_path, "feeds:\n  - url: https://feeds.example.org/x.rss?key=${FEED_PW}\n")
    with pytest.raises(ConfigError, match=r":2: feeds.0.url: environment variable FEED_PW"):
        load_settings(path, {})
    (feed,) = load_settings(path, {}, channel_secrets=False).feeds
    assert feed.url.endswith("${FEED_PW}")


def test_an_unreadable_secret_file_is_one_line_naming_it(tmp_path: Path) -> None:
    path = write(tmp_path, "interval: 5m\nnotify:\n  - url: json://127.0.0.1/${HOOK_TOKEN}\n")
    missing = tmp_path / "no-such-file"
    with pytest.raises(ConfigError) as info:
        load_settings(path, {"HOOK_TOKEN_FILE": str(missing)})
    assert str(info.value) == (
        f"{path}:3: notify.0.url: HOOK_TOKEN_FILE: cannot read {missing}: No such file or directory"
    )


def fetch(url: str, secrets: dict[str, str]) -> FetchResult:
    async def run() -> FetchResult:
        async with Fetcher(FetchSettings(read_timeout=5, deadline=10, url_secrets=secrets)) as fetcher:
            return await fetcher.fetch(url)

    return asyncio.run(run())


def test_the_fetcher_substitutes_and_the_server_gets_the_value(feed_server: FeedServer) -> None:
    feed_server.route("/private.rss", "<rss version='2.0'><channel><title>P</title></channel></rss>")
    template = feed_server.url("/private.rss?key=${FEED_PW}")
    result = fetch(template, {"FEED_PW": AWKWARD})
    assert result.ok and result.url == template
    assert AWKWARD not in result.final_url and ENCODED not in result.final_url
    (target,) = feed_server.targets("/private.rss")
    assert target == f"/private.rss?key={ENCODED}"  # one query value, decoded by the server as is


def test_the_fetcher_masks_secrets_in_its_errors(feed_server: FeedServer) -> None:
    token = "T0ken-in-the-path"
    feed_server.redirect(f"/{token}/a", f"/{token}/b")
    feed_server.redirect(f"/{token}/b", f"/{token}/a")
    result = fetch(feed_server.url("/${FEED_TOKEN}/a"), {"FEED_TOKEN": token})
    assert result.error is not None and "redirects" in result.error
    assert token not in result.error and "${FEED_TOKEN}" in result.error
    assert token not in result.final_url
