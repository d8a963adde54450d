"""The Starlette application: routes, static files and the security headers every answer carries."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from monitor.web import api, views_auth, views_ops, views_rules, views_stories
from monitor.web.console import Console
from monitor.web.settings import LOOPBACK_NAMES

STATIC = Path(__file__).resolve().parent / "static"
# No inline script or style anywhere: feed text that slipped through escaping still could not run.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
INT = "{story_id:int}"


def routes() -> list[BaseRoute]:
    get, post, put = ["GET"], ["POST"], ["PUT"]
    return [
        Route("/login", views_auth.login_page, methods=get),
        Route("/login", views_auth.login, methods=post),
        Route("/logout", views_auth.logout, methods=post),
        Route("/", views_stories.inbox, methods=get),
        Route(f"/stories/{INT}", views_stories.story, methods=get),
        Route(f"/stories/{INT}/not-relevant", views_stories.confirm_not_relevant, methods=get),
        Route(f"/stories/{INT}/feedback", views_stories.feedback, methods=post),
        Route(f"/stories/{INT}/mute", views_stories.mute, methods=post),
        Route(f"/stories/{INT}/export.{{format:str}}", views_stories.export, methods=get),
        Route("/rules", views_rules.rules_list, methods=get),
        Route("/rules", views_rules.save, methods=post),  # a new rule
        Route("/rules/new", views_rules.new_rule, methods=get),
        Route("/rules/new/check", views_rules.check, methods=post),
        Route("/rules/new/test", views_rules.test_text, methods=post),
        Route("/rules/{rule_id}", views_rules.editor, methods=get),
        Route("/rules/{rule_id}", views_rules.save, methods=post),
        Route("/rules/{rule_id}/check", views_rules.check, methods=post),
        Route("/rules/{rule_id}/test", views_rules.test_text, methods=post),
        Route("/rules/{rule_id}/history", views_rules.history, methods=get),
        Route("/rules/{rule_id}/revert", views_rules.revert, methods=post),
        Route("/feeds", views_ops.feeds, methods=get),
        Route("/feeds/{feed_id:int}/poll", views_ops.poll_now, methods=post),
        Route("/deliveries", views_ops.deliveries, methods=get),
        Route("/deliveries/retry", views_ops.retry, methods=post),
        Route("/deliveries/{delivery_id:int}/retry", views_ops.retry, methods=post),
        Route("/accounts", views_ops.accounts, methods=get),
        Route("/api/stories", api.stories, methods=get),
        Route(f"/api/stories/{INT}", api.story, methods=get),
        Route(f"/api/stories/{INT}/feedback", api.feedback, methods=post),
        Route(f"/api/stories/{INT}/mute", api.mute, methods=post),
        Route("/api/rules", api.rules, methods=get),
        Route("/api/rules/preview", api.preview, methods=post),
        Route("/api/rules/{rule_id}", api.rule, methods=get),
        Route("/api/rules/{rule_id}", api.put_rule, methods=put),
        Route("/api/rules/{rule_id}/history", api.history, methods=get),
        Route("/api/rules/{rule_id}/revert", api.revert, methods=post),
        Route("/api/feeds", api.feeds, methods=get),
        Route("/api/feeds/{feed_id:int}/poll", api.poll, methods=post),
        Route("/api/deliveries", api.deliveries, methods=get),
        Route("/api/deliveries/{delivery_id:int}/retry", api.retry, methods=post),
        Mount("/static", StaticFiles(directory=str(STATIC)), name="static"),
    ]


class SecurityHeaders:
    """Adds the headers above to every response; pages are never cached (they show who is
    signed in). With `auth: none` only loopback host names are served: a DNS-rebinding page
    cannot reach the unauthenticated console under its own name."""

    def __init__(self, app: ASGIApp, loopback_only: bool) -> None:
        self.app = app
        self.loopback_only = loopback_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.loopback_only and _host(scope) not in LOOPBACK_NAMES:
            await PlainTextResponse("this console answers on its loopback address only", 421)(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += _HEADERS
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def _host(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"host":
            host = str(value.decode("latin-1"))
            return host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return ""


def build_app(console: Console) -> ASGIApp:
    app = Starlette(routes=routes())
    app.state.console = console
    return SecurityHeaders(app, loopback_only=console.settings.auth == "none")
