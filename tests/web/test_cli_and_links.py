"""`monitor users` and `monitor web`, and the links alert messages carry to the console."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from monitor.alerts.formats import SAMPLE_STORY, ChannelKind, Renderer
from monitor.cli.web_cmd import SQLITE_READ_ONLY
from monitor.runtime import utc_now
from monitor.store import Store
from monitor.web.app import build_app
from monitor.web.passwords import verify_password
from monitor.web.server import make_console
from monitor.web.settings import WebSettings
from tests.web.daemon import cli, free_port, write_config


def test_users_add_reads_the_password_from_stdin_and_tokens_work(tmp_path: Path) -> None:
    write_config(tmp_path, "https://feeds.example/rss", free_port())
    added = cli(tmp_path, "users", "add", "ana", "--role", "editor", stdin="a long pass phrase\n")
    assert added.returncode == 0, added.stderr
    assert cli(tmp_path, "users", "add", "ana", stdin="a long pass phrase\n").returncode == 2  # exists
    assert cli(tmp_path, "users", "add", "bob", "--role", "boss", stdin="a long pass phrase\n").returncode == 2
    assert "at least" in cli(tmp_path, "users", "add", "bob", stdin="short\n").stderr
    token = cli(tmp_path, "users", "token", "ana").stdout.strip()
    assert token.startswith("smc_")
    store = Store.open(f"sqlite:///{tmp_path / 'data' / 'monitor.db'}")
    try:
        found = store.console.user_by_name("ana")
        assert found is not None and found[0].role == "editor" and verify_password(found[1], "a long pass phrase")
        assert store.console.user_by_token(token) is not None
        client = TestClient(build_app(make_console(store, WebSettings(), (tmp_path / "rules",), utc_now)))
        assert client.get("/api/rules", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    finally:
        store.close()
    listed = cli(tmp_path, "users", "list").stdout
    assert "ana\teditor\tpassword" in listed
    assert cli(tmp_path, "users", "set", "ana", "--disable").returncode == 0
    assert "disabled" in cli(tmp_path, "users", "list").stdout


def test_monitor_web_beside_a_sqlite_daemon_is_read_only(tmp_path: Path) -> None:
    port = free_port()
    write_config(tmp_path, "https://feeds.example/rss", port)
    assert cli(tmp_path, "users", "add", "ana", "--role", "admin", stdin="a long pass phrase\n").returncode == 0
    store = Store.open_read_only(f"sqlite:///{tmp_path / 'data' / 'monitor.db'}")
    try:
        console = make_console(store, WebSettings(), (tmp_path / "rules",), utc_now, SQLITE_READ_ONLY)
        client = TestClient(build_app(console), base_url="http://127.0.0.1:8080")
        signed = client.post("/login", data={"username": "ana", "password": "a long pass phrase"})
        assert "Read-only" in signed.text and "SQLite allows one writing process" in signed.text
        headers = {"Authorization": "Bearer x"}
        assert client.post("/api/feeds/1/poll", headers=headers).status_code == 401
    finally:
        store.close()


def test_alerts_link_to_the_story_and_its_not_relevant_page() -> None:
    linked = Renderer(None, "https://monitor.example.org")
    for kind in (ChannelKind.EMAIL, ChannelKind.SLACK, ChannelKind.MARKDOWN, ChannelKind.TEXT):
        body = linked.render(SAMPLE_STORY, kind).body
        assert "https://monitor.example.org/stories/1" in body, kind
        assert "https://monitor.example.org/stories/1/not-relevant" in body, kind
        assert "/stories/" not in Renderer().render(SAMPLE_STORY, kind).body, kind
