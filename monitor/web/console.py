"""What every request handler shares (the Console) and the three doors into a handler:

* ``page``: a GET that shows something; anonymous visitors are sent to the sign-in page.
* ``action``: a state change from a form (POST only). It needs a signed-in user with the role,
  the session's CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``), and a
  writable database.
* ``api``: the JSON API. A bearer token and nothing else: a session cookie alone gets 401.

Every route goes through one of them, so none can forget a check (tests/web enumerate them).
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import escape
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from monitor.store import Store
from monitor.web.auth import Principal, SessionSigner, authenticate, bearer
from monitor.web.preview import ItemWindow, RulesView
from monitor.web.rule_files import RuleFiles
from monitor.web.settings import WebSettings
from monitor.web.throttle import LoginThrottle
from monitor.web.viewhelpers import register_filters

TEMPLATES = Path(__file__).resolve().parent / "templates"
T = TypeVar("T")


@dataclass
class Console:
    store: Store
    settings: WebSettings
    files: RuleFiles
    rules: RulesView
    window: ItemWindow
    throttle: LoginThrottle
    signer: SessionSigner
    clock: Callable[[], datetime]
    read_only_reason: str = ""  # why nothing can be changed here ("" when changes are allowed)

    def __post_init__(self) -> None:
        self.templates = Environment(
            loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined
        )
        register_filters(self.templates)

    @property
    def read_only(self) -> bool:
        return bool(self.read_only_reason)

    async def run(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Store calls and the rule engine block: they run on the thread pool."""
        return await run_in_threadpool(function, *args, **kwargs)

    def render(self, request: Request, who: Principal | None, name: str, status: int = 200, **context: Any) -> Response:
        html = self.templates.get_template(name).render(
            request=request, who=who, console=self, path=request.url.path, now=self.clock(), **context
        )
        return HTMLResponse(html, status_code=status)


def console_of(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


PageHandler = Callable[[Request, Principal], Awaitable[Response]]
ActionHandler = Callable[[Request, Principal, FormData], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


async def browser_user(request: Request) -> Principal | None:
    console = console_of(request)
    return await console.run(authenticate, request, console.store, console.settings, console.signer, console.clock())


def page(role: str = "viewer") -> Callable[[PageHandler], Endpoint]:
    def wrap(handler: PageHandler) -> Endpoint:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            who = await browser_user(request)
            if who is None:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
            if not who.account.may(role):
                return forbidden(request, who, f"this page needs the {role} role")
            return await handler(request, who)

        endpoint.door = "page"  # type: ignore[attr-defined]
        return endpoint

    return wrap


def action(role: str = "viewer", *, writes: bool = True) -> Callable[[ActionHandler], Endpoint]:
    def wrap(handler: ActionHandler) -> Endpoint:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            console = console_of(request)
            who = await browser_user(request)
            if who is None:
                return plain_error(403, "sign in first")
            form = await request.form()
            token = str(form.get("csrf_token") or request.headers.get("x-csrf-token") or "")
            if not hmac.compare_digest(token, who.csrf):
                return plain_error(403, "missing or wrong CSRF token: reload the page and try again")
            if not who.account.may(role):
                return forbidden(request, who, f"this needs the {role} role")
            if writes and console.read_only:
                return console.render(
                    request, who, "error.html", 409, title="Read-only", message=console.read_only_reason
                )
            return await handler(request, who, form)

        endpoint.door = "action"  # type: ignore[attr-defined]
        return endpoint

    return wrap


ApiHandler = Callable[[Request, Principal], Awaitable[Response]]


def api(role: str = "viewer", *, writes: bool = False) -> Callable[[ApiHandler], Endpoint]:
    def wrap(handler: ApiHandler) -> Endpoint:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            console = console_of(request)
            who = await console.run(bearer, request, console.store)
            if who is None:
                return JSONResponse(
                    {
                        "error": "unauthorized",
                        "detail": "send Authorization: Bearer <token from `monitor users token`>",
                    },
                    status_code=401,
                    headers={"WWW-Authenticate": 'Bearer realm="sanctions-monitor"'},
                )
            if not who.account.may(role):
                return JSONResponse({"error": "forbidden", "detail": f"needs the {role} role"}, status_code=403)
            if writes and console.read_only:
                return JSONResponse({"error": "read_only", "detail": console.read_only_reason}, status_code=409)
            return await handler(request, who)

        endpoint.door = "api"  # type: ignore[attr-defined]
        return endpoint

    return wrap


def plain_error(status: int, message: str) -> Response:
    return HTMLResponse(f"<!DOCTYPE html><title>{status}</title><p>{escape(message)}</p>", status_code=status)


def forbidden(request: Request, who: Principal, message: str) -> Response:
    return console_of(request).render(request, who, "error.html", 403, title="Not allowed", message=message)


def not_found(request: Request, who: Principal, what: str) -> Response:
    return console_of(request).render(request, who, "error.html", 404, title="Not found", message=what)


def utc_now() -> datetime:
    return datetime.now(UTC)
