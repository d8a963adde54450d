"""The inbox, a story's page, feedback, muting and exports."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from monitor.durations import parse_duration
from monitor.rules import RuleSet
from monitor.store.web_records import STATES, InboxFilter, Report, StoryDetail
from monitor.store.web_search import parse_search
from monitor.types import Severity
from monitor.web.auth import Principal
from monitor.web.console import action, console_of, not_found, page
from monitor.web.export import story_json, story_markdown

PAGE_SIZE = 50


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() and len(value) < 19 else None


def _day(value: str | None, now: datetime, *, end: bool = False) -> datetime | None:
    """A day (YYYY-MM-DD, in UTC; the end of a range is the start of the next day), an ISO time,
    or a duration back from now (7d, 12h)."""
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
        return day + timedelta(days=1) if end else day
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    except ValueError:
        pass
    try:
        return now - timedelta(seconds=parse_duration(value))
    except ValueError:
        return None


def inbox_filter(params: dict[str, str], now: datetime) -> InboxFilter:
    """From query parameters (the inbox's and the API's); invalid values are ignored."""
    severity = params.get("severity", "")
    state = params.get("state", "open")
    return InboxFilter(
        q=params.get("q", "").strip()[:500],
        rule=params.get("rule") or None,
        severity=Severity(severity) if severity in {s.value for s in Severity} else None,
        feed=params.get("feed") or None,
        since=_day(params.get("since"), now),
        until=_day(params.get("until"), now, end=True),
        state=state if state in STATES else "open",
        before=_int(params.get("before")),
        after=_int(params.get("after")),
        limit=min(_int(params.get("limit")) or PAGE_SIZE, 200),
    )


@page()
async def inbox(request: Request, who: Principal) -> Response:
    console = console_of(request)
    params = dict(request.query_params)
    wanted = inbox_filter(params, console.clock())
    result = await console.run(console.store.console.inbox, wanted)
    feeds = await console.run(console.store.console.feed_names)
    rules = console.rules.get()
    search = parse_search(wanted.q) if wanted.q else None
    return console.render(
        request, who, "inbox.html", page=result, wanted=wanted, params=params, states=STATES,
        rule_ids=[rule.id for rule in rules.rules] if isinstance(rules, RuleSet) else [],
        feed_names=feeds, words=search.words if search else (),
        filters=_keep(params),
    )  # fmt: skip


def _keep(params: dict[str, str]) -> dict[str, str]:
    """The filters to carry into the next page's link (not the cursors)."""
    return {key: value for key, value in params.items() if key not in ("before", "after") and value}


def explanations(rules: RuleSet | Exception, detail: StoryDetail) -> dict[str, str]:
    """Why each matched rule (as it is now) matches its report, branch by branch."""
    if not isinstance(rules, RuleSet):
        return {}
    reports: dict[int, Report] = {report.item_id: report for report in detail.reports}
    found: dict[str, str] = {}
    known = {rule.id for rule in rules.rules}
    for evidence in detail.rules:
        report = reports.get(evidence.item_id)
        if report is None or evidence.rule_id not in known:
            continue
        fields = {"title": report.title, "summary": report.summary, "content": report.content}
        why = rules.explain(
            evidence.rule_id, fields, feed_name=report.feed_name, feed_tags=report.feed_tags, lang=report.lang
        )
        found[evidence.rule_id] = why.render()
    return found


async def _detail(request: Request, who: Principal) -> StoryDetail | Response:
    """The story the path names, or the not-found page."""
    console = console_of(request)
    story_id = int(request.path_params["story_id"])
    detail = await console.run(console.store.console.story, story_id)
    return detail if detail is not None else not_found(request, who, f"no story {story_id}")


async def missing_story(request: Request, who: Principal) -> Response | None:
    """The not-found page when the story the path names does not exist (None when it does)."""
    console = console_of(request)
    story_id = int(request.path_params["story_id"])
    if await console.run(console.store.console.story_exists, story_id):
        return None
    return not_found(request, who, f"no story {story_id}")


@page()
async def story(request: Request, who: Principal) -> Response:
    console = console_of(request)
    detail = await _detail(request, who)
    if not isinstance(detail, StoryDetail):
        return detail
    why = await console.run(explanations, console.rules.get(), detail)
    return console.render(request, who, "story.html", detail=detail, why=why, done=request.query_params.get("done"))


@page()
async def confirm_not_relevant(request: Request, who: Principal) -> Response:
    """Where an alert's "Not relevant" link lands: a GET changes nothing, the button POSTs."""
    console = console_of(request)
    detail = await _detail(request, who)
    if not isinstance(detail, StoryDetail):
        return detail
    return console.render(request, who, "confirm.html", detail=detail)


@action()
async def feedback(request: Request, who: Principal, form: FormData) -> Response:
    console = console_of(request)
    story_id = int(request.path_params["story_id"])
    verdict = str(form.get("verdict") or "")
    if verdict not in ("relevant", "not_relevant", "clear"):
        return not_found(request, who, "unknown verdict")
    missing = await missing_story(request, who)
    if missing is not None:
        return missing
    await console.run(
        console.store.console.set_verdict, story_id, None if verdict == "clear" else verdict,
        str(form.get("note") or "").strip(), who.account.name, console.clock(),
    )  # fmt: skip
    return RedirectResponse(f"/stories/{story_id}?done={verdict}", status_code=303)


@action("editor")
async def mute(request: Request, who: Principal, form: FormData) -> Response:
    console = console_of(request)
    story_id = int(request.path_params["story_id"])
    missing = await missing_story(request, who)
    if missing is not None:
        return missing
    muted = form.get("muted") != "0"
    await console.run(console.store.console.set_muted, story_id, muted, who.account.name, console.clock())
    return RedirectResponse(f"/stories/{story_id}?done={'muted' if muted else 'unmuted'}", status_code=303)


@page()
async def export(request: Request, who: Principal) -> Response:
    console = console_of(request)
    detail = await _detail(request, who)
    if not isinstance(detail, StoryDetail):
        return detail
    story_id = detail.summary.story_id
    url = console.settings.story_url(story_id)
    name = f"story-{story_id}"
    if request.path_params["format"] == "json":
        body = json.dumps(story_json(detail, url), ensure_ascii=False, indent=2)
        return Response(body, media_type="application/json", headers=_attachment(f"{name}.json"))
    return PlainTextResponse(
        story_markdown(detail, url), media_type="text/markdown; charset=utf-8", headers=_attachment(f"{name}.md")
    )


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}
