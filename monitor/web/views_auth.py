"""Signing in and out. The sign-in form posts `username` and `password`; it is protected from
cross-site posting by its Origin check (a CSRF token needs a session, which it creates) and
from guessing by the login throttle."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from monitor.web.auth import Principal, client_address, cookie_name
from monitor.web.console import action, browser_user, console_of, plain_error
from monitor.web.passwords import verify_password


def safe_next(target: str | None) -> str:
    """Only a path on this site: no scheme, no host, no `//` or backslash tricks."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    return "/" if parts.scheme or parts.netloc else target


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return True  # not a browser's cross-site form: browsers send Origin on every POST
    parts = urlsplit(origin)
    return parts.netloc == request.headers.get("host", "") or parts.netloc == request.url.netloc


async def login_page(request: Request) -> Response:
    console = console_of(request)
    target = safe_next(request.query_params.get("next"))
    if console.settings.auth == "none" or await browser_user(request) is not None:
        return RedirectResponse(target, status_code=303)
    return console.render(request, None, "login.html", next=target, error="", username="")


async def login(request: Request) -> Response:
    console = console_of(request)
    if not _same_origin(request):
        return plain_error(403, "sign-in from another site refused")
    form = await request.form()
    name = str(form.get("username") or "").strip()[:100]
    password = str(form.get("password") or "")
    target = safe_next(str(form.get("next") or "/"))
    keys = (f"user:{name.casefold()}", f"ip:{client_address(request, console.settings)}")
    wait = console.throttle.wait_seconds(*keys)
    if wait:
        message = f"Too many failed sign-ins. Try again in {wait} seconds."
        response = console.render(request, None, "login.html", 429, next=target, error=message, username=name)
        response.headers["Retry-After"] = str(wait)
        return response
    found = await console.run(console.store.console.user_by_name, name) if name else None
    stored = found[1] if found is not None else None
    valid = await console.run(verify_password, stored, password)
    if found is None or not valid or found[0].disabled:
        console.throttle.failed(*keys)
        error = "Wrong user name or password."
        return console.render(request, None, "login.html", 401, next=target, error=error, username=name)
    console.throttle.succeeded(keys[0])
    lifetime = timedelta(hours=console.settings.session_hours)
    cookie = console.signer.issue(found[0], console.clock(), lifetime)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        cookie_name(console.settings),
        cookie,
        max_age=int(lifetime.total_seconds()),
        httponly=True,
        samesite="lax",  # links from alert e-mails open signed in; forms carry CSRF tokens
        secure=console.settings.secure_cookies or request.url.scheme == "https",
        path="/",
    )
    return response


@action(writes=False)
async def logout(request: Request, who: Principal, form: FormData) -> Response:
    console = console_of(request)
    if form.get("everywhere") == "1" and not console.read_only and who.via == "session":
        await console.run(console.store.console.sign_out_everywhere, who.account.id)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(cookie_name(console.settings), path="/")
    return response
