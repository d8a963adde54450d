"""Rules: the list with hits and precision, the editor with live checks and preview, the test
box, saving, history and revert."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from monitor.langid import item_language
from monitor.rules import RuleLoadError, RuleSet
from monitor.web.auth import Principal
from monitor.web.console import Console, action, console_of, not_found, page
from monitor.web.preview import WINDOW_DAYS, Preview, preview
from monitor.web.rule_edits import DraftInvalidError, revert_rule, save_rule
from monitor.web.rule_files import CheckedDraft, ConflictError, RuleFileError, digest
from monitor.web.rule_yaml import RuleDraft

DEFAULT_DAYS = 7
MAX_TEST_TEXT = 50_000


@page()
async def rules_list(request: Request, who: Principal) -> Response:
    console = console_of(request)
    stats = await console.run(console.store.console.rule_stats, console.clock())
    current = console.rules.get()
    return console.render(
        request, who, "rules.html", rules=current.rules if isinstance(current, RuleSet) else (),
        load_error=str(current) if isinstance(current, RuleLoadError) else "", stats=stats,
        done=request.query_params.get("done"),
    )  # fmt: skip


def draft_from_form(form: FormData, rule_id: str) -> RuleDraft:
    return RuleDraft.from_dict(
        {
            "id": rule_id,
            "title": str(form.get("title") or "").strip(),
            "query": str(form.get("query") or "").replace("\r\n", "\n"),
            "exclude": str(form.get("exclude") or "").replace("\r\n", "\n"),
            "severity": str(form.get("severity") or "medium"),
            "notify": str(form.get("notify") or ""),
            "feeds": str(form.get("feeds") or ""),
            "enabled": form.get("enabled") == "1",
            "muted_until": str(form.get("muted_until") or "").strip(),
        }
    )


def _days(value: object) -> int:
    text = str(value or "")
    return int(text) if text.isdigit() and int(text) in WINDOW_DAYS else DEFAULT_DAYS


def draft_report(console: Console, checked: CheckedDraft, days: int) -> Preview | None:
    """The preview of a valid draft against the rule in force (None when it has errors)."""
    if checked.rule is None:
        return None
    in_force = console.rules.single(checked.draft.id)
    items, cut = console.window.items(days)
    regressions = console.store.console.regression_items(checked.draft.id if in_force else None)
    known = console.rules.decisions(checked.draft.id)
    return preview(checked.rule, in_force, items, regressions, days, cut, known)


async def _editor(
    request: Request, who: Principal, draft: RuleDraft, file: Path, version: str, status: int = 200, **extra: Any
) -> Response:
    console = console_of(request)
    days = _days(request.query_params.get("days"))
    checked = await console.run(console.files.check, draft, file)
    report = await console.run(draft_report, console, checked, days)
    files = [str(path) for path in console.files.files()]
    return console.render(
        request, who, "editor.html", status, draft=draft, file=str(file), version=version, checked=checked,
        report=report, days=days, window_days=WINDOW_DAYS, files=files, is_new=extra.pop("is_new", False),
        problem="", **extra,
    )  # fmt: skip


@page()
async def editor(request: Request, who: Principal) -> Response:
    console = console_of(request)
    rule_id = request.path_params["rule_id"]
    located = await console.run(console.files.locate, rule_id)
    if located is None:
        return not_found(request, who, f"no rule {rule_id} in the rule files")
    file, text, draft = located
    return await _editor(request, who, draft, file, digest(text), done=request.query_params.get("done"))


@page("editor")
async def new_rule(request: Request, who: Principal) -> Response:
    console = console_of(request)
    files = console.files.files()
    file = files[0] if files else Path("rules.yaml")
    draft = RuleDraft(id="", query="")
    return await _editor(request, who, draft, file, "", is_new=True, done=None)


async def _checked(request: Request, form: FormData) -> CheckedDraft | str:
    """The form's draft checked in its file, or why the file name is refused."""
    console = console_of(request)
    rule_id = str(form.get("id") or request.path_params.get("rule_id") or "").strip()
    try:
        file = console.files.resolve(str(form.get("file") or ""))
    except RuleFileError as exc:
        return str(exc)
    return await console.run(console.files.check, draft_from_form(form, rule_id), file)


@action(writes=False)
async def check(request: Request, who: Principal, form: FormData) -> Response:
    """The editor's live part (htmx): inline errors and the preview of the draft as typed."""
    console = console_of(request)
    checked = await _checked(request, form)
    if isinstance(checked, str):
        return console.render(request, who, "draft_results.html", 400, checked=None, report=None, problem=checked)
    report = await console.run(draft_report, console, checked, _days(form.get("days")))
    return console.render(request, who, "draft_results.html", checked=checked, report=report, problem="")


@action(writes=False)
async def test_text(request: Request, who: Principal, form: FormData) -> Response:
    """The paste-an-article box: does the draft match this text, and why."""
    console = console_of(request)
    checked = await _checked(request, form)
    if isinstance(checked, str):
        return console.render(request, who, "test_results.html", 400, result=None, problem=checked)
    fields = {
        "title": str(form.get("test_title") or "")[:MAX_TEST_TEXT],
        "summary": str(form.get("test_text") or "")[:MAX_TEST_TEXT],
        "content": "",
    }
    result = await console.run(_test, console, checked, fields, str(form.get("test_feed") or "") or None)
    return console.render(request, who, "test_results.html", result=result, problem="")


def _test(console: Console, checked: CheckedDraft, fields: dict[str, str], feed: str | None) -> dict[str, Any] | None:
    if checked.rule is None:
        return None
    rule_id = checked.draft.id
    lang = item_language(fields["title"], fields["summary"])
    matches = checked.rule.match(fields, feed_name=feed, lang=lang)
    current = console.rules.get()
    others = current.match(fields, feed_name=feed, lang=lang) if isinstance(current, RuleSet) else ()
    return {
        "matched": bool(matches),
        "match": matches[0] if matches else None,
        "explanation": checked.rule.explain(rule_id, fields, feed_name=feed, lang=lang).render(),
        "others": [match for match in others if match.rule_id != rule_id],
    }


@action("editor")
async def save(request: Request, who: Principal, form: FormData) -> Response:
    console = console_of(request)
    is_new = "rule_id" not in request.path_params
    rule_id = str(form.get("id") if is_new else request.path_params["rule_id"]).strip()
    draft = draft_from_form(form, rule_id)
    expected = str(form.get("version") or "") or None
    try:
        file = console.files.resolve(str(form.get("file") or ""))
        if is_new and await console.run(console.files.locate, rule_id) is not None:
            raise RuleFileError(f"a rule with id {rule_id!r} exists already")
        await console.run(save_rule, console, draft, file, expected, who.account.name, "save", console.clock())
    except DraftInvalidError:
        return await _editor(request, who, draft, file, expected or "", 422, is_new=is_new, done=None)
    except (ConflictError, RuleFileError) as exc:
        return console.render(request, who, "error.html", 409 if isinstance(exc, ConflictError) else 400,
                              title="Not saved", message=str(exc))  # fmt: skip
    return RedirectResponse(f"/rules/{rule_id}?done=saved", status_code=303)


@page()
async def history(request: Request, who: Principal) -> Response:
    console = console_of(request)
    rule_id = request.path_params["rule_id"]
    versions = await console.run(console.store.console.rule_versions, rule_id)
    return console.render(request, who, "history.html", rule_id=rule_id, versions=versions,
                          done=request.query_params.get("done"))  # fmt: skip


@action("editor")
async def revert(request: Request, who: Principal, form: FormData) -> Response:
    console = console_of(request)
    rule_id = request.path_params["rule_id"]
    version = str(form.get("version") or "")
    if not version.isdigit():
        return not_found(request, who, "no such version")
    try:
        await console.run(revert_rule, console, rule_id, int(version), who.account.name, console.clock())
    except DraftInvalidError as exc:
        return console.render(request, who, "error.html", 422, title="Not reverted", message=str(exc))
    except RuleFileError as exc:
        return console.render(request, who, "error.html", 400, title="Not reverted", message=str(exc))
    return RedirectResponse(f"/rules/{rule_id}/history?done=reverted", status_code=303)
