"""Feeds (health, "poll now"), deliveries (the outbox, retry) and accounts."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from monitor.store import DELIVERY_STATUSES
from monitor.web.auth import Principal
from monitor.web.console import action, console_of, not_found, page


@page()
async def feeds(request: Request, who: Principal) -> Response:
    console = console_of(request)
    listed = await console.run(console.store.list_feeds)
    return console.render(request, who, "feeds.html", feeds=listed, done=request.query_params.get("done"))


@action("editor")
async def poll_now(request: Request, who: Principal, form: FormData) -> Response:
    console = console_of(request)
    feed_id = int(request.path_params["feed_id"])
    if not await console.run(console.store.console.poll_now, feed_id, console.clock()):
        return not_found(request, who, f"no active feed {feed_id}")
    return RedirectResponse("/feeds?done=polling", status_code=303)


@page()
async def deliveries(request: Request, who: Principal) -> Response:
    console = console_of(request)
    status = request.query_params.get("status") or None
    status = status if status in DELIVERY_STATUSES else None
    listed = await console.run(console.store.list_deliveries, status, 200)
    return console.render(
        request, who, "deliveries.html", deliveries=listed, shown_status=status or "",
        statuses=sorted(DELIVERY_STATUSES), done=request.query_params.get("done"),
    )  # fmt: skip


@action("editor")
async def retry(request: Request, who: Principal, form: FormData) -> Response:
    console = console_of(request)
    ids = None if form.get("all") == "1" else [int(request.path_params.get("delivery_id", 0))]
    count = await console.run(console.store.requeue, ids, console.clock())
    return RedirectResponse(f"/deliveries?status=pending&done=retried-{count}", status_code=303)


@page("admin")
async def accounts(request: Request, who: Principal) -> Response:
    console = console_of(request)
    users = await console.run(console.store.console.users)
    return console.render(request, who, "accounts.html", users=users)
