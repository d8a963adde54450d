"""A console over a seeded SQLite (or PostgreSQL) database and a copy of the shipped rule pack,
driven in-process through Starlette's test client; users for every role."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from monitor.rules import load_rules
from monitor.runtime import utc_now
from monitor.store import Store
from monitor.web.app import build_app
from monitor.web.console import Console
from monitor.web.passwords import hash_password
from monitor.web.server import make_console
from monitor.web.settings import WebSettings
from tests.web.seed import ARMS, DRONES, HOSTILE, QUIET, seed

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"
USERS = {"vic": "viewer", "eda": "editor", "ada": "admin"}
BASE = "http://127.0.0.1:8080"


@dataclass
class Env:
    store: Store
    rules_dir: Path
    console: Console
    client: TestClient

    def login(self, name: str, password: str = PASSWORD) -> str:
        """Sign in; returns the session's CSRF token (read from a page, as a browser would)."""
        answer = self.client.post("/login", data={"username": name, "password": password}, follow_redirects=False)
        assert answer.status_code == 303, answer.text
        return csrf_of(self.client.get("/").text)

    def token(self, name: str) -> dict[str, str]:
        from monitor.web.passwords import new_token

        value = new_token()
        self.store.console.add_token(name, value, utc_now())
        return {"Authorization": f"Bearer {value}"}

    def story_ids(self) -> list[int]:
        return [int(found) for found in re.findall(r'href="/stories/(\d+)"', self.client.get("/?state=all").text)]


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert found is not None, "no CSRF token on the page"
    return found.group(1)


def make_env(tmp_path: Path, url: str, settings: WebSettings | None = None) -> Env:
    rules_dir = tmp_path / "rules"
    shutil.copytree(REPO / "rules", rules_dir)
    store = Store.open(url)
    seed(store, load_rules([rules_dir]), [ARMS, DRONES, QUIET, HOSTILE])
    for name, role in USERS.items():
        store.console.add_user(name, role, hash_password(PASSWORD), utc_now())
    console = make_console(store, settings or WebSettings(), (rules_dir,), utc_now)
    return Env(store, rules_dir, console, TestClient(build_app(console), base_url=BASE))


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    made = make_env(tmp_path, f"sqlite:///{tmp_path / 'monitor.db'}")
    yield made
    made.store.close()


def with_settings(env: Env, peer: str = "testclient", **changes: object) -> TestClient:
    """Another client on the same console with other web settings, connecting from ``peer``."""
    console = replace(env.console, settings=replace(env.console.settings, **changes))  # type: ignore[arg-type]
    return TestClient(build_app(console), base_url=BASE, client=(peer, 50000))
