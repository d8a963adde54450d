"""Who is asking: signed session cookies, a trusted proxy's user header, bearer tokens for the
API, or nobody (`web.auth: none`, loopback only). Also the per-session CSRF token.

Session cookies are signed, not stored: a read-only console (beside a SQLite daemon) can sign
people in. A cookie names the user and the session epoch it was issued in; bumping the user's
epoch (new password, role change, disabling, "sign out everywhere") ends every such session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from starlette.requests import Request

from monitor.store import Store
from monitor.store.web_records import Account
from monitor.web.settings import WebSettings

COOKIE = "monitor_session"
SECURE_COOKIE = "__Host-monitor_session"  # the __Host- prefix: Secure, path /, no Domain
LOCAL_USER = Account(id=0, name="local", role="admin", disabled=False, session_epoch=0, created_at=datetime.min)


@dataclass(frozen=True, slots=True)
class Principal:
    account: Account
    csrf: str
    via: str  # session | proxy | none | token


class SessionSigner:
    def __init__(self, key: str) -> None:
        self._key = bytes.fromhex(key) if _is_hex(key) else key.encode()

    def _mac(self, text: str) -> str:
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()

    def issue(self, account: Account, now: datetime, lifetime: timedelta) -> str:
        payload = {"u": account.id, "e": account.session_epoch, "n": secrets.token_hex(16),
                   "x": int((now + lifetime).timestamp())}  # fmt: skip
        body = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()
        return f"{body}.{self._mac('session|' + body)}"

    def read(self, cookie: str, now: datetime) -> tuple[int, int, str] | None:
        """(user id, epoch, nonce) of a valid, unexpired cookie."""
        body, _, mac = cookie.partition(".")
        if not body or not hmac.compare_digest(mac, self._mac("session|" + body)):
            return None
        try:
            payload = json.loads(base64.urlsafe_b64decode(body.encode()))
            user_id, epoch, nonce, expires = int(payload["u"]), int(payload["e"]), str(payload["n"]), payload["x"]
        except (ValueError, KeyError, TypeError):
            return None
        if not isinstance(expires, int) or expires < now.timestamp():
            return None
        return user_id, epoch, nonce

    def csrf(self, *parts: object) -> str:
        return self._mac("csrf|" + "|".join(str(part) for part in parts))


def _is_hex(text: str) -> bool:
    try:
        bytes.fromhex(text)
    except ValueError:
        return False
    return len(text) >= 32


def cookie_name(settings: WebSettings) -> str:
    return SECURE_COOKIE if settings.secure_cookies else COOKIE


def client_address(request: Request, settings: WebSettings) -> str:
    """The peer's address; behind a trusted proxy, the last address X-Forwarded-For names that
    is not itself a trusted proxy."""
    peer = request.client.host if request.client else ""
    if not _trusted(peer, settings):
        return peer
    hops = [hop.strip() for hop in request.headers.get("x-forwarded-for", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, settings):
            return hop
    return peer


def _trusted(address: str, settings: WebSettings) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(network, strict=False) for network in settings.trusted_proxies)


def authenticate(
    request: Request, store: Store, settings: WebSettings, signer: SessionSigner, now: datetime
) -> Principal | None:
    """The signed-in user of a browser request (never from a bearer token: that is the API's)."""
    if settings.auth == "none":
        return Principal(LOCAL_USER, signer.csrf("none"), "none")
    peer = request.client.host if request.client else ""
    header = settings.proxy_user_header
    if header and _trusted(peer, settings) and request.headers.get(header):
        found = store.console.user_by_name(request.headers[header].strip())
        if found is None or found[0].disabled:
            return None
        proxied = found[0]
        return Principal(proxied, signer.csrf("proxy", proxied.id, proxied.session_epoch), "proxy")
    cookie = request.cookies.get(cookie_name(settings))
    session = signer.read(cookie, now) if cookie else None
    if session is None:
        return None
    user_id, epoch, nonce = session
    account = store.console.user_by_id(user_id)
    if account is None or account.disabled or account.session_epoch != epoch:
        return None
    return Principal(account, signer.csrf("session", nonce), "session")


def bearer(request: Request, store: Store) -> Principal | None:
    """The API's only way in: `Authorization: Bearer <token from monitor users token>`."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    account = store.console.user_by_token(token.strip())
    if account is None or account.disabled:
        return None
    return Principal(account, "", "token")
