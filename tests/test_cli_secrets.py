"""Secrets through the real command line: a feed URL's `${NAME}` is fetched with its value but
stored, printed and exported as the reference; a database written by an earlier version (the
value stored in the URL) is taken over without losing the feed's items; an unreadable NAME_FILE
is one line and exit 2."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from support.cli import invoke, write_config
from support.feedserver import FeedServer

from tests.e2e.feeds import ARMS_1, ARMS_NEW, QUIET, rss

SECRET = "s3cr&t/pw?#"
ENCODED = "s3cr%26t%2Fpw%3F%23"


def stored_urls(folder: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(folder / "monitor.db") as conn:
        return list(conn.execute("SELECT url, active FROM feeds ORDER BY id"))


@pytest.fixture
def private_feed(feed_server: FeedServer) -> str:
    feed_server.route("/private.xml", rss("Private", [ARMS_1, QUIET]))
    return feed_server.url("/private.xml?key=${FEED_PW}")


def test_a_feed_secret_is_fetched_but_never_stored_printed_or_exported(
    tmp_path: Path, feed_server: FeedServer, private_feed: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEED_PW", SECRET)
    config = write_config(tmp_path, f"  - url: {private_feed}\n    name: Private\n")

    code, out, err = invoke("once", "--config", str(config))

    assert code == 0, err
    assert "Private: ok, 2 items, 2 new" in out
    assert feed_server.targets("/private.xml") == [f"/private.xml?key={ENCODED}"]
    assert stored_urls(tmp_path) == [(private_feed, 1)]
    monkeypatch.delenv("FEED_PW")  # reports and exports do not need it
    for command in (["feeds"], ["hits", "--format", "json"], ["feeds", "export"]):
        code, out, err = invoke(*command, "--config", str(config))
        assert code == 0, (command, err)
        assert SECRET not in out + err and ENCODED not in out + err
    _, exported, _ = invoke("feeds", "export", "--config", str(config))
    assert "key=${FEED_PW}" in exported


def test_a_row_stored_with_the_secret_is_renamed_and_keeps_its_items(
    tmp_path: Path, feed_server: FeedServer, private_feed: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    earlier = private_feed.replace("${FEED_PW}", "old-value")  # how earlier versions stored it
    config = write_config(tmp_path, f"  - url: {earlier}\n    name: Private\n")
    assert invoke("once", "--config", str(config))[0] == 0
    monkeypatch.setenv("FEED_PW", "rotated-value")
    write_config(tmp_path, f"  - url: {private_feed}\n    name: Private\n")
    feed_server.route("/private.xml", rss("Private", [ARMS_NEW, ARMS_1, QUIET]))

    code, out, err = invoke("once", "--config", str(config))

    assert code == 0, err
    assert "Private: ok, 3 items, 1 new, 1 new hits" in out, "the two earlier items were known: no second alert"
    assert stored_urls(tmp_path) == [(private_feed, 1)]


def test_an_unreadable_secret_file_exits_2_with_one_line(
    tmp_path: Path, private_feed: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FEED_PW", raising=False)
    monkeypatch.setenv("FEED_PW_FILE", str(tmp_path / "missing"))
    config = write_config(tmp_path, f"  - url: {private_feed}\n")

    code, out, err = invoke("once", "--config", str(config))

    assert code == 2 and out == ""
    assert err == (
        f"invalid configuration:\n{config}:4: feeds.0.url: "
        f"FEED_PW_FILE: cannot read {tmp_path / 'missing'}: No such file or directory\n"
    )
