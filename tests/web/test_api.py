"""The JSON API end to end (in-process): stories, search, feedback, rules (get, put, preview,
history, revert), feeds and deliveries."""

from __future__ import annotations

from tests.web.conftest import Env


def test_stories_search_and_story(env: Env) -> None:
    headers = env.token("vic")
    listed = env.client.get("/api/stories", headers=headers).json()
    assert len(listed["stories"]) == 3  # the rates item matched no rule
    assert {story["severity"] for story in listed["stories"]} <= {"high", "medium", "low"}
    found = env.client.get("/api/stories", params={"q": "autumn"}, headers=headers).json()
    assert [item["title"] for item in found["items"]] == ["Central bank holds rates steady"]
    by_rule = env.client.get("/api/stories", params={"rule": "iran-drones-russia"}, headers=headers).json()
    assert all("iran-drones-russia" in story["rules"] for story in by_rule["stories"])
    story_id = listed["stories"][-1]["id"]
    story = env.client.get(f"/api/stories/{story_id}", headers=headers).json()
    assert story["schema"] == "sanctions-monitor.brief/1"
    assert story["reports"] and story["evidence"]
    assert story["explanations"]  # why each rule matches, from the rules in force
    assert env.client.get("/api/stories/99999", headers=headers).status_code == 404


def test_feedback_and_precision(env: Env) -> None:
    headers = env.token("vic")
    story = env.client.get("/api/stories", headers=headers).json()["stories"][0]
    answer = env.client.post(
        f"/api/stories/{story['id']}/feedback", json={"verdict": "not_relevant", "note": "a drill"}, headers=headers
    )
    assert answer.status_code == 200 and answer.json()["by"] == "vic"
    bad = env.client.post(f"/api/stories/{story['id']}/feedback", json={"verdict": "maybe"}, headers=headers)
    assert bad.status_code == 422
    rules = {rule["id"]: rule for rule in env.client.get("/api/rules", headers=headers).json()["rules"]}
    judged = rules[story["rules"][0]]
    assert judged["not_relevant"] == 1 and judged["precision"] == 0.0
    marked = env.client.get("/api/stories", params={"state": "not_relevant"}, headers=headers).json()
    assert [s["id"] for s in marked["stories"]] == [story["id"]]


def test_put_a_broken_query_answers_with_file_line_column(env: Env) -> None:
    headers = env.token("eda")
    rule = env.client.get("/api/rules/dprk-russia-arms", headers=headers).json()
    answer = env.client.put("/api/rules/dprk-russia-arms", json={**rule, "query": "@dprk AND ("}, headers=headers)
    assert answer.status_code == 422
    error = answer.json()["errors"][0]
    assert error["file"].endswith("dprk.yaml") and error["line"] > 1 and error["column"] > 1
    assert f"dprk.yaml:{error['line']}:{error['column']}: rule dprk-russia-arms:" in error["text"]


def test_put_saves_keeps_comments_and_records_a_version_then_reverts(env: Env) -> None:
    headers = env.token("eda")
    path = env.rules_dir / "dprk.yaml"
    before = path.read_text()
    rule = env.client.get("/api/rules/dprk-russia-arms", headers=headers).json()
    answer = env.client.put(
        "/api/rules/dprk-russia-arms", json={**rule, "severity": "medium", "notify": ["analysts", "desk"]},
        headers=headers,
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    after = path.read_text()
    assert "severity: medium" in after and "notify: [analysts, desk]" in after
    assert [line for line in before.splitlines() if line.strip().startswith("#")] == [
        line for line in after.splitlines() if line.strip().startswith("#")
    ]
    stale = env.client.put("/api/rules/dprk-russia-arms", json={**rule, "title": "x"}, headers=headers)
    assert stale.status_code == 409  # "version" is the digest of the file the client read
    versions = env.client.get("/api/rules/dprk-russia-arms/history", headers=headers).json()["versions"]
    assert [v["action"] for v in versions] == ["save", "baseline"]
    assert versions[0]["author"] == "eda" and "+    severity: medium" in versions[0]["diff"]
    reverted = env.client.post(
        "/api/rules/dprk-russia-arms/revert", json={"version": versions[1]["id"]}, headers=headers
    )
    assert reverted.status_code == 200
    assert path.read_text() == before


def test_preview_gains_and_losses(env: Env) -> None:
    headers = env.token("vic")
    rule = env.client.get("/api/rules/iran-drones-russia", headers=headers).json()
    body = {"rule": {**rule, "query": "Iran* OR Pyongyang"}, "days": 7}
    answer = env.client.post("/api/rules/preview", json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    preview = answer.json()
    assert preview["gained_count"] >= 1  # the North Korean items
    assert preview["lost_count"] == 0
    narrower = {"rule": {**rule, "query": "Shahed AND Pyongyang"}}
    lost = env.client.post("/api/rules/preview", json=narrower, headers=headers).json()
    assert lost["lost_count"] == 1 and lost["lost"][0]["title"].startswith("Iran supplied Shahed drones")


def test_a_new_rule_in_a_new_file(env: Env) -> None:
    headers = env.token("eda")
    rule = {"title": "Rates", "query": '"central bank" AND rates', "severity": "low", "file": "economy.yaml"}
    answer = env.client.put("/api/rules/rates-watch", json=rule, headers=headers)
    assert answer.status_code == 200, answer.text
    assert (env.rules_dir / "economy.yaml").read_text().startswith("rules:\n  - id: rates-watch\n")
    assert env.client.get("/api/rules/rates-watch", headers=headers).json()["query"] == '"central bank" AND rates'


def test_feeds_poll_and_deliveries_retry(env: Env) -> None:
    viewer, editor = env.token("vic"), env.token("eda")
    feed = env.client.get("/api/feeds", headers=viewer).json()["feeds"][0]
    assert env.client.post(f"/api/feeds/{feed['id']}/poll", headers=viewer).status_code == 403
    assert env.client.post(f"/api/feeds/{feed['id']}/poll", headers=editor).status_code == 200
    pending = env.client.get("/api/deliveries", params={"status": "pending"}, headers=viewer).json()["deliveries"]
    assert pending
    story = pending[0]["story_id"]
    muted = env.client.post(f"/api/stories/{story}/mute", json={"muted": True}, headers=editor).json()
    assert muted["withdrawn_messages"] >= 1
    failed = env.client.get("/api/deliveries", params={"status": "failed"}, headers=viewer).json()["deliveries"]
    assert "muted in the console by eda" in failed[0]["last_error"]
    assert env.client.post(f"/api/deliveries/{failed[0]['id']}/retry", headers=editor).json() == {"requeued": 1}
