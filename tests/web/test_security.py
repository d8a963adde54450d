"""The console's safety rules, checked over HTTP: sign-in required, CSRF on every state change,
roles, throttling, bearer-only API, refused file names, escaped feed text, headers."""

from __future__ import annotations

import re

import pytest
from starlette.routing import Route

from monitor.web.app import CSP, routes
from monitor.web.settings import WebConfig
from tests.web.conftest import PASSWORD, Env, with_settings


def test_unauthenticated_pages_redirect_to_sign_in(env: Env) -> None:
    for path in ("/", "/rules", "/rules/dprk-russia-arms", "/feeds", "/deliveries", "/stories/1"):
        answer = env.client.get(path, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/login?next=")


def test_every_route_goes_through_a_door_and_no_get_changes_state() -> None:
    """page/api GETs, action POSTs: the wrappers carry the checks, so none can be forgotten."""
    for route in routes():
        if not isinstance(route, Route) or route.path in ("/login",):
            continue
        door = getattr(route.endpoint, "door", None)
        methods = route.methods or set()
        if "GET" in methods:
            assert door in ("page", "api"), route.path
        if methods & {"POST", "PUT"} and not route.path.startswith("/api/"):
            assert door == "action", route.path
        if route.path.startswith("/api/"):
            assert door == "api", route.path


def _action_paths(story_id: int) -> list[str]:
    paths = []
    for route in routes():
        if isinstance(route, Route) and getattr(route.endpoint, "door", None) == "action":
            paths.append(
                route.path.replace("{story_id:int}", str(story_id))
                .replace("{rule_id}", "dprk-russia-arms")
                .replace("{feed_id:int}", "1")
                .replace("{delivery_id:int}", "1")
            )
    return paths


def test_posts_without_the_csrf_token_are_refused(env: Env) -> None:
    csrf = env.login("ada")
    story = env.story_ids()[0]
    paths = _action_paths(story)
    assert len(paths) >= 12
    for path in paths:
        answer = env.client.post(path, data={"verdict": "relevant", "muted": "1"}, follow_redirects=False)
        assert answer.status_code == 403, path
        wrong = env.client.post(path, data={"csrf_token": "0" * 64}, follow_redirects=False)
        assert wrong.status_code == 403, path
    assert env.store.console.story(story).summary.triage is None  # type: ignore[union-attr]
    answer = env.client.post(f"/stories/{story}/feedback", data={"verdict": "relevant", "csrf_token": csrf},
                             follow_redirects=False)  # fmt: skip
    assert answer.status_code == 303


def test_a_viewer_cannot_change_rules(env: Env) -> None:
    before = (env.rules_dir / "dprk.yaml").read_text()
    csrf = env.login("vic")
    form = {"csrf_token": csrf, "file": str(env.rules_dir / "dprk.yaml"), "query": "@dprk AND missile*"}
    assert env.client.post("/rules/dprk-russia-arms", data=form).status_code == 403
    headers = env.token("vic")
    rule = env.client.get("/api/rules/dprk-russia-arms", headers=headers).json()
    answer = env.client.put("/api/rules/dprk-russia-arms", json={**rule, "query": "@dprk"}, headers=headers)
    assert answer.status_code == 403
    assert (env.rules_dir / "dprk.yaml").read_text() == before
    # a viewer may still look at the editor and its preview
    assert env.client.get("/rules/dprk-russia-arms").status_code == 200


def test_the_api_takes_bearer_tokens_only(env: Env) -> None:
    env.login("ada")
    assert env.client.get("/").status_code == 200  # signed in
    answer = env.client.get("/api/stories")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert env.client.get("/api/stories", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert env.client.get("/api/stories", headers=env.token("ada")).status_code == 200


def test_ten_wrong_passwords_are_throttled(env: Env) -> None:
    statuses = [
        env.client.post("/login", data={"username": "eda", "password": f"wrong-{n}"}).status_code for n in range(10)
    ]
    assert statuses[:5] == [401] * 5
    assert statuses[5:] == [429] * 5
    refused = env.client.post("/login", data={"username": "eda", "password": PASSWORD}, follow_redirects=False)
    assert refused.status_code == 429  # even the right password waits
    assert int(refused.headers["retry-after"]) > 0
    assert "monitor_session" not in refused.headers.get("set-cookie", "")


def test_sign_in_from_another_site_is_refused(env: Env) -> None:
    answer = env.client.post(
        "/login", data={"username": "eda", "password": PASSWORD}, headers={"Origin": "https://evil.example"}
    )
    assert answer.status_code == 403


@pytest.mark.parametrize("name", ["../../outside.yaml", "/etc/passwd", "sub/dir.yaml", "x.txt", "..yaml", "a\\b.yaml"])
def test_path_traversal_in_a_rule_file_name_is_refused(env: Env, name: str) -> None:
    headers = env.token("eda")
    rule = {"title": "t", "query": "missile*", "severity": "low", "file": name}
    answer = env.client.put("/api/rules/new-rule", json=rule, headers=headers)
    assert answer.status_code == 400
    assert "refused rule file name" in answer.json()["detail"]
    csrf = env.login("eda")
    form = {"csrf_token": csrf, "id": "new-rule", "file": name, "query": "missile*", "severity": "low"}
    assert env.client.post("/rules", data=form).status_code == 400
    assert not (env.rules_dir.parent / "outside.yaml").exists()
    assert "new-rule" not in "".join(path.read_text() for path in env.rules_dir.iterdir())


def test_feed_text_is_escaped_and_links_are_http_only(env: Env) -> None:
    env.login("vic")
    story = max(env.story_ids())  # the hostile item is saved last
    for path in (f"/stories/{story}", "/?state=all", "/?q=ballistic"):
        html = env.client.get(path).text
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;" in html
        assert 'href="javascript:' not in html
        assert re.search(r"<script(?![^>]*\bsrc=)", html) is None  # no inline script at all
        assert " on" + "error=" not in html.replace("onerror=alert", "")


def test_security_headers(env: Env) -> None:
    env.login("vic")
    answer = env.client.get("/")
    assert answer.headers["content-security-policy"] == CSP
    assert "script-src 'self'" in CSP and "unsafe-inline" not in CSP
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["cache-control"] == "no-store"
    cookie = env.client.post("/login", data={"username": "vic", "password": PASSWORD}, follow_redirects=False)
    set_cookie = cookie.headers["set-cookie"].lower()
    assert "httponly" in set_cookie and "samesite=lax" in set_cookie and "secure" not in set_cookie


def test_cookies_are_secure_behind_https(env: Env) -> None:
    client = with_settings(env, base_url="https://monitor.example.org")
    answer = client.post("/login", data={"username": "vic", "password": PASSWORD}, follow_redirects=False)
    assert "__Host-monitor_session=" in answer.headers["set-cookie"]
    assert "secure" in answer.headers["set-cookie"].lower()


def test_no_anonymous_access_unless_auth_none_on_loopback(env: Env) -> None:
    with pytest.raises(ValueError, match="loopback"):
        WebConfig(listen="0.0.0.0:8080", auth="none")
    client = with_settings(env, auth="none")
    assert client.get("/").status_code == 200
    rebinding = client.get("/", headers={"Host": "attacker.example"})
    assert rebinding.status_code == 421


def test_a_trusted_proxy_header_counts_only_from_the_proxy(env: Env) -> None:
    proxy = {"trusted_proxies": ("10.0.0.0/8",), "proxy_user_header": "X-Remote-User"}
    from_proxy = with_settings(env, peer="10.1.2.3", **proxy)
    assert from_proxy.get("/", headers={"X-Remote-User": "ada"}, follow_redirects=False).status_code == 200
    assert from_proxy.get("/", headers={"X-Remote-User": "nobody"}, follow_redirects=False).status_code == 303
    elsewhere = with_settings(env, peer="192.0.2.7", **proxy)
    assert elsewhere.get("/", headers={"X-Remote-User": "ada"}, follow_redirects=False).status_code == 303
