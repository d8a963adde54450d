"""The JSON API (docs/api.md): the console's stories, feedback, rules, previews, feeds and
deliveries for scripts. Bearer tokens only (`monitor users token NAME`)."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from monitor.alerts.format_json import iso_utc
from monitor.rules import RuleError, RuleSet
from monitor.store import DELIVERY_STATUSES
from monitor.web.auth import Principal
from monitor.web.console import api, console_of
from monitor.web.export import story_json, summary_json
from monitor.web.preview import Preview, PreviewRow
from monitor.web.rule_edits import DraftInvalidError, revert_rule, save_rule
from monitor.web.rule_files import ConflictError, RuleFileError, digest
from monitor.web.rule_yaml import RuleDraft
from monitor.web.views_rules import _days, draft_report
from monitor.web.views_stories import explanations, inbox_filter


def _error(status: int, error: str, detail: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail, **extra}, status_code=status)


async def _body(request: Request) -> dict[str, Any] | JSONResponse:
    try:
        body = json.loads(await request.body() or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _error(400, "bad_json", "the body must be a JSON object")
    return body if isinstance(body, dict) else _error(400, "bad_json", "the body must be a JSON object")


@api()
async def stories(request: Request, who: Principal) -> Response:
    console = console_of(request)
    wanted = inbox_filter(dict(request.query_params), console.clock())
    page = await console.run(console.store.console.inbox, wanted)
    body: dict[str, Any] = {"stories": [summary_json(story) for story in page.stories]}
    if wanted.q:
        body["items"] = [
            {"item_id": found.item_id, "title": found.title, "summary": found.summary, "feed": found.feed_name,
             "published": iso_utc(found.published), "fetched": iso_utc(found.fetched_at),
             "story": summary_json(found.story) if found.story else None}
            for found in page.items
        ]  # fmt: skip
    body["next_before"] = page.older
    body["prev_after"] = page.newer
    return JSONResponse(body)


@api()
async def story(request: Request, who: Principal) -> Response:
    console = console_of(request)
    story_id = int(request.path_params["story_id"])
    detail = await console.run(console.store.console.story, story_id)
    if detail is None:
        return _error(404, "not_found", f"no story {story_id}")
    body = story_json(detail, console.settings.story_url(story_id))
    body["explanations"] = await console.run(explanations, console.rules.get(), detail)
    return JSONResponse(body)


async def _story_body(request: Request) -> tuple[int, dict[str, Any]] | JSONResponse:
    """The story id of the path (which must exist) and the JSON body."""
    body = await _body(request)
    if isinstance(body, JSONResponse):
        return body
    story_id = int(request.path_params["story_id"])
    console = console_of(request)
    if not await console.run(console.store.console.story_exists, story_id):
        return _error(404, "not_found", f"no story {story_id}")
    return story_id, body


@api(writes=True)
async def feedback(request: Request, who: Principal) -> Response:
    console = console_of(request)
    found = await _story_body(request)
    if isinstance(found, JSONResponse):
        return found
    story_id, body = found
    verdict = body.get("verdict")
    if verdict not in ("relevant", "not_relevant", None):
        return _error(422, "bad_verdict", 'verdict must be "relevant", "not_relevant" or null')
    note = str(body.get("note") or "")
    triage = await console.run(
        console.store.console.set_verdict, story_id, verdict, note, who.account.name, console.clock()
    )
    return JSONResponse({"story": story_id, "verdict": triage.verdict, "note": triage.note, "by": triage.updated_by,
                         "at": iso_utc(triage.updated_at)})  # fmt: skip


@api("editor", writes=True)
async def mute(request: Request, who: Principal) -> Response:
    console = console_of(request)
    found = await _story_body(request)
    if isinstance(found, JSONResponse):
        return found
    story_id, body = found
    muted = body.get("muted", True) is not False
    triage, withdrawn = await console.run(
        console.store.console.set_muted, story_id, muted, who.account.name, console.clock()
    )
    return JSONResponse({"story": story_id, "muted": triage.muted, "withdrawn_messages": withdrawn})


def rule_json(draft: RuleDraft, file: str, version: str) -> dict[str, Any]:
    return {**draft.as_dict(), "file": file, "version": version}


@api()
async def rules(request: Request, who: Principal) -> Response:
    console = console_of(request)
    current = console.rules.get()
    if not isinstance(current, RuleSet):
        return _error(503, "rules_invalid", str(current), errors=[_error_json(e) for e in current.errors])
    stats = await console.run(console.store.console.rule_stats, console.clock())
    listed = []
    for rule in current.rules:
        found = stats.get(rule.id)
        listed.append({
            "id": rule.id, "title": rule.title, "severity": rule.severity.value, "file": rule.file,
            "enabled": rule.enabled, "muted_until": rule.muted_until.isoformat() if rule.muted_until else None,
            "hits_7d": found.hits_7d if found else 0, "hits_30d": found.hits_30d if found else 0,
            "relevant": found.relevant if found else 0, "not_relevant": found.not_relevant if found else 0,
            "precision": found.precision if found else None,
        })  # fmt: skip
    return JSONResponse({"rules": listed})


@api()
async def rule(request: Request, who: Principal) -> Response:
    console = console_of(request)
    rule_id = request.path_params["rule_id"]
    located = await console.run(console.files.locate, rule_id)
    if located is None:
        return _error(404, "not_found", f"no rule {rule_id}")
    file, text, draft = located
    return JSONResponse(rule_json(draft, str(file), digest(text)))


def _error_json(error: RuleError) -> dict[str, Any]:
    return {"file": error.file, "line": error.line, "column": error.column, "rule_id": error.rule_id,
            "message": error.message, "text": str(error)}  # fmt: skip


@api("editor", writes=True)
async def put_rule(request: Request, who: Principal) -> Response:
    console = console_of(request)
    body = await _body(request)
    if isinstance(body, JSONResponse):
        return body
    rule_id = request.path_params["rule_id"]
    located = await console.run(console.files.locate, rule_id)
    try:
        named = body.get("file")
        file = console.files.resolve(str(named)) if named is not None else (located[0] if located else None)
        if file is None:
            return _error(400, "file_needed", 'a new rule needs "file": an existing rule file or a new name')
        if located is not None and file != located[0]:
            return _error(400, "file_mismatch", f"rule {rule_id} is in {located[0]}; moving rules is not supported")
        draft = RuleDraft.from_dict({**body, "id": rule_id})
        expected = body.get("version")
        saved = await console.run(save_rule, console, draft, file, expected if isinstance(expected, str) else None,
                                  who.account.name, "save", console.clock())  # fmt: skip
    except DraftInvalidError as exc:
        return _error(422, "invalid_rule", str(exc.errors[0]), errors=[_error_json(e) for e in exc.errors])
    except ConflictError as exc:
        return _error(409, "conflict", str(exc))
    except RuleFileError as exc:
        return _error(400, "bad_file", str(exc))
    return JSONResponse({**rule_json(draft, str(file), digest(saved.checked.text)), "saved_version": saved.version.id})


def _rows(rows: tuple[PreviewRow, ...]) -> list[dict[str, Any]]:
    return [{"item_id": row.item_id, "story_id": row.story_id, "title": row.title, "feed": row.feed_name,
             "fetched": iso_utc(row.fetched_at), "snippet": row.snippet, "matched": list(row.matched)}
            for row in rows]  # fmt: skip


def preview_json(report: Preview) -> dict[str, Any]:
    return {"days": report.days, "checked": report.checked, "cut": report.cut, "matches": report.matches,
            "gained_count": report.gained_count, "lost_count": report.lost_count, "gained": _rows(report.gained),
            "lost": _rows(report.lost), "newest_matches": _rows(report.shown),
            "regressions": _rows(report.regressions), "regression_cases": report.regression_cases}  # fmt: skip


@api()
async def preview(request: Request, who: Principal) -> Response:
    console = console_of(request)
    body = await _body(request)
    if isinstance(body, JSONResponse):
        return body
    nested = body.get("rule")
    fields: dict[str, Any] = nested if isinstance(nested, dict) else body
    rule_id = str(fields.get("id") or "").strip()
    if not rule_id:
        return _error(422, "invalid_rule", "the rule needs an id")
    located = await console.run(console.files.locate, rule_id)
    try:
        named = fields.get("file")
        file = console.files.resolve(str(named)) if named else (located[0] if located else console.files.files()[0])
    except (RuleFileError, IndexError) as exc:
        return _error(400, "bad_file", str(exc))
    checked = await console.run(console.files.check, RuleDraft.from_dict({**fields, "id": rule_id}), file)
    if not checked.ok:
        return _error(422, "invalid_rule", str(checked.errors[0]), errors=[_error_json(e) for e in checked.errors])
    report = await console.run(draft_report, console, checked, _days(body.get("days")))
    assert report is not None, "a valid draft has a preview"
    return JSONResponse({"ok": True, **preview_json(report)})


@api()
async def history(request: Request, who: Principal) -> Response:
    console = console_of(request)
    versions = await console.run(console.store.console.rule_versions, request.path_params["rule_id"])
    return JSONResponse({"versions": [
        {"id": v.id, "action": v.action, "author": v.author, "at": iso_utc(v.created_at), "file": v.file,
         "rule": json.loads(v.content), "diff": v.diff}
        for v in versions
    ]})  # fmt: skip


@api("editor", writes=True)
async def revert(request: Request, who: Principal) -> Response:
    console = console_of(request)
    body = await _body(request)
    if isinstance(body, JSONResponse):
        return body
    version = body.get("version")
    if not isinstance(version, int):
        return _error(422, "bad_version", '"version" must be a version id from the history')
    try:
        saved = await console.run(
            revert_rule, console, request.path_params["rule_id"], version, who.account.name, console.clock()
        )
    except DraftInvalidError as exc:
        return _error(422, "invalid_rule", str(exc.errors[0]), errors=[_error_json(e) for e in exc.errors])
    except RuleFileError as exc:
        return _error(400, "bad_version", str(exc))
    return JSONResponse({"saved_version": saved.version.id})


@api()
async def feeds(request: Request, who: Principal) -> Response:
    console = console_of(request)
    listed = await console.run(console.store.list_feeds)
    return JSONResponse({"feeds": [
        {"id": f.id, "name": f.name, "url": f.url, "active": f.active, "health": f.health_state,
         "last_status": f.last_status, "last_error": f.last_error, "last_fetch": iso_utc(f.last_fetch_at),
         "next_poll": iso_utc(f.next_poll_at), "consecutive_failures": f.consecutive_failures, "items": f.item_count}
        for f in listed
    ]})  # fmt: skip


@api("editor", writes=True)
async def poll(request: Request, who: Principal) -> Response:
    console = console_of(request)
    feed_id = int(request.path_params["feed_id"])
    if not await console.run(console.store.console.poll_now, feed_id, console.clock()):
        return _error(404, "not_found", f"no active feed {feed_id}")
    return JSONResponse({"feed": feed_id, "due": iso_utc(console.clock())})


@api()
async def deliveries(request: Request, who: Principal) -> Response:
    console = console_of(request)
    status = request.query_params.get("status") or None
    if status is not None and status not in DELIVERY_STATUSES:
        return _error(422, "bad_status", f"status must be one of {', '.join(sorted(DELIVERY_STATUSES))}")
    listed = await console.run(console.store.list_deliveries, status, 500)
    return JSONResponse({"deliveries": [
        {"id": d.delivery_id, "story_id": d.story_id, "channel": d.channel, "event": d.event, "status": d.status,
         "attempts": d.attempts, "last_error": d.last_error, "created": iso_utc(d.created_at),
         "sent": iso_utc(d.sent_at), "headline": d.headline}
        for d in listed
    ]})  # fmt: skip


@api("editor", writes=True)
async def retry(request: Request, who: Principal) -> Response:
    console = console_of(request)
    count = await console.run(console.store.requeue, [int(request.path_params["delivery_id"])], console.clock())
    return JSONResponse({"requeued": count})
