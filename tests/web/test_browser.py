"""A real browser (Playwright with Debian's chromium) against a real daemon serving the console,
with the shipped rule pack and a local feed server. Screenshots of every page are saved in the
test's temporary folder (…/screenshots/*.png)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.feedserver import FeedServer

from tests.e2e.feeds import ARMS_1, ARMS_NEW, QUIET, Entry, rss
from tests.web.daemon import Daemon, cli, free_port, start, write_config

CHROMIUM = Path("/usr/bin/chromium")
sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install -y chromium"),
]
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
PASSWORD = "a long pass phrase"
HOSTILE = Entry(
    "hostile-1",
    "North Korea sends missiles to Russia <script>alert('t')</script><img src='http://evil.invalid/t.png' "
    "onerror='alert(1)'>",
    "Pyongyang shipped missiles to Moscow. <a href='javascript:alert(2)'>more</a> "
    "<img src='http://evil.invalid/s.png' onerror='alert(3)'>",
    "javascript:alert(4)",
)


@pytest.fixture
def daemon(tmp_path: Path, feed_server: FeedServer) -> Iterator[Daemon]:
    feed_server.route("/wire.xml", rss("Wire", [ARMS_1, ARMS_NEW, QUIET, HOSTILE]))
    port = free_port()
    write_config(tmp_path, feed_server.url("/wire.xml"), port)
    for name, role in (("ana", "editor"), ("val", "viewer")):
        added = cli(tmp_path, "users", "add", name, "--role", role, stdin=PASSWORD + "\n")
        assert added.returncode == 0, added.stderr
    running = start(tmp_path, port)
    try:
        running.wait_for(r"console on http://")
        running.wait_for(r"Wire: .*new")  # the first poll stored the feed's items
        yield running
    finally:
        running.stop()


@pytest.fixture
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


def _sign_in(page: object, base: str, name: str = "ana") -> None:
    page.goto(base + "/")  # type: ignore[attr-defined]
    sync_api.expect(page).to_have_url(re.compile(r"/login\?next="))
    page.fill("input[name=username]", name)  # type: ignore[attr-defined]
    page.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    page.click("button:has-text('Sign in')")  # type: ignore[attr-defined]
    sync_api.expect(page.locator("h1")).to_have_text("Inbox")  # type: ignore[attr-defined]


def test_triage_edit_a_rule_save_and_revert(daemon: Daemon, browser: object, tmp_path: Path) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    expect = sync_api.expect
    page = browser.new_page(viewport={"width": 1360, "height": 900})  # type: ignore[attr-defined]
    base = daemon.base_url
    page.goto(base + "/")
    page.screenshot(path=shots / "01-login.png")
    _sign_in(page, base)

    # the inbox shows the stored story
    expect(page.locator("a.headline", has_text=ARMS_1.title)).to_be_visible()
    page.screenshot(path=shots / "02-inbox.png", full_page=True)

    # search finds an item by a word of its summary (an item no rule matched)
    page.fill("input[name=q]", "Tumen")
    page.click("button:has-text('Apply')")
    expect(page.locator(".result .headline")).to_have_text(ARMS_NEW.title)
    page.screenshot(path=shots / "03-search.png", full_page=True)

    # open the story and mark it not relevant
    page.goto(base + "/")
    page.click(f"a.headline:has-text('{ARMS_1.title[:30]}')")
    expect(page.locator("h1")).to_have_text(ARMS_1.title)
    expect(page.locator(".report mark").first).to_be_visible()  # evidence from the stored spans
    page.screenshot(path=shots / "04-story.png", full_page=True)
    page.fill("textarea[name=note]", "artillery from a 2023 report")
    page.click("button:has-text('Not relevant')")
    expect(page.locator(".flash")).to_contain_text("Marked not relevant")
    expect(page.locator(".story-head .state")).to_have_text("not relevant")

    # open a rule, type a syntax error: the inline error names line and column
    rules_file = daemon.folder / "rules" / "dprk.yaml"
    original = rules_file.read_text()
    page.goto(base + "/rules")
    page.screenshot(path=shots / "05-rules.png", full_page=True)
    page.click("a:has-text('dprk-russia-arms')")
    query = page.locator("textarea[name=query]")
    query.fill("Pyongyang AND (shells OR")
    error = page.locator("#rule-errors")
    expect(error).to_contain_text(re.compile(r"line \d+, column \d+"))
    expect(error).to_contain_text(re.compile(r"rules/dprk\.yaml:\d+:\d+: rule dprk-russia-arms: "))
    page.screenshot(path=shots / "06-editor-error.png", full_page=True)

    # a draft that still matches the item marked not relevant is warned about
    query.fill("Pyongyang AND shells")
    expect(page.locator("#regressions")).to_contain_text("marked not relevant")

    # fix it: the preview shows what the draft gains and loses against the rule in force
    query.fill("Tumen\nOR autumn")
    expect(page.locator("#preview-gain")).to_contain_text(ARMS_NEW.title)
    expect(page.locator("#preview-gain")).to_contain_text(QUIET.title)
    expect(page.locator("#preview-loss")).to_contain_text(ARMS_1.title)
    page.screenshot(path=shots / "07-editor-preview.png", full_page=True)
    page.fill("input[name=test_title]", "Wagons cross the Tumen bridge")
    page.click("button:has-text('Test the draft')")
    expect(page.locator("#test-results")).to_contain_text("The draft matches")

    # save: the file changed on disk, its comments intact, and the daemon reloaded it
    page.click("#save")
    expect(page.locator(".flash")).to_contain_text("Saved")
    saved = rules_file.read_text()
    assert "    query: >-\n      Tumen\n      OR autumn\n" in saved
    assert _comments(saved) == _comments(original)
    daemon.wait_for(r"rules reloaded")

    # history, one-click revert to the file as it was
    page.goto(base + "/rules/dprk-russia-arms/history")
    expect(page.locator(".version")).to_have_count(2)
    page.screenshot(path=shots / "08-history.png", full_page=True)
    page.click("button:has-text('Revert to this version')")
    expect(page.locator(".flash")).to_contain_text("Reverted")
    assert rules_file.read_text() == original
    daemon.wait_for(r"rules reloaded")

    for name, path in (("09-feeds", "/feeds"), ("10-deliveries", "/deliveries")):
        page.goto(base + path)
        page.screenshot(path=shots / f"{name}.png", full_page=True)
    assert len(list(shots.glob("*.png"))) == 10


def _comments(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip().startswith("#")]


def test_hostile_feed_text_is_inert_in_the_browser(daemon: Daemon, browser: object, tmp_path: Path) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    dialogs: list[str] = []
    requests: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("request", lambda request: requests.append(request.url))
    _sign_in(page, daemon.base_url, "val")
    page.goto(daemon.base_url + "/?q=Pyongyang")
    hostile = page.locator(".result .headline", has_text="North Korea sends missiles")
    expect = sync_api.expect
    expect(hostile).to_be_visible()
    hostile.click()
    expect(page.locator("h1")).to_contain_text("North Korea sends missiles to Russia")
    for link in page.locator("a").all():
        assert not (link.get_attribute("href") or "").lower().startswith("javascript:")
    page.screenshot(path=tmp_path / "hostile-story.png", full_page=True)
    page.goto(daemon.base_url + "/?state=all")
    expect(page.locator("h1")).to_have_text("Inbox")
    assert dialogs == []
    assert [url for url in requests if not url.startswith(daemon.base_url)] == []
