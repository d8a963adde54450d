"""The console's part of the configuration (`web:`), validated with the rest of monitor.yaml.

No web framework is imported here: monitor.config reads this model for every command.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DEFAULT_LISTEN = "127.0.0.1:8080"
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


@dataclass(frozen=True, slots=True)
class WebSettings:
    """Where the console listens and who may use it (see docs/console.md)."""

    host: str = "127.0.0.1"
    port: int = 8080
    base_url: str = ""  # public address, e.g. https://monitor.example.org; "" when not set
    auth: Literal["password", "none"] = "password"
    trusted_proxies: tuple[str, ...] = ()  # networks whose user header is believed
    proxy_user_header: str | None = None
    session_hours: float = 12.0

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def listen(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def story_url(self, story_id: int) -> str:
        return f"{self.base_url}/stories/{story_id}" if self.base_url else ""


def split_listen(text: str) -> tuple[str, int]:
    """'127.0.0.1:8080', '[::1]:8080', ':8080' (all addresses) → (host, port)."""
    host, sep, port = text.strip().rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"listen must be HOST:PORT, got {text!r}")
    host = host.strip("[]") or "0.0.0.0"  # noqa: S104 (an explicit ':PORT' asks for every address)
    return host, int(port)


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class WebConfig(BaseModel):
    """The `web:` mapping of monitor.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    listen: str = DEFAULT_LISTEN
    base_url: str = ""
    auth: Literal["password", "none"] = "password"
    trusted_proxies: list[str] = Field(default_factory=list)
    proxy_user_header: str | None = None
    session_hours: float = Field(12.0, gt=0, le=24 * 30)

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        split_listen(value)
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if value and (parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment):
            raise ValueError(f"base_url must be an http(s) address such as https://monitor.example.org, got {value!r}")
        return value.rstrip("/")

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for network in value:
            ipaddress.ip_network(network, strict=False)  # ValueError names the bad one
        return value

    @model_validator(mode="after")
    def _safe(self) -> WebConfig:
        host, _ = split_listen(self.listen)
        if self.auth == "none" and not is_loopback(host):
            raise ValueError("auth: none is only allowed when listen is a loopback address (127.0.0.1, ::1)")
        if self.trusted_proxies and not self.proxy_user_header:
            raise ValueError("trusted_proxies needs proxy_user_header (the header carrying the user name)")
        if self.proxy_user_header and not self.trusted_proxies:
            raise ValueError("proxy_user_header needs trusted_proxies (the proxies' addresses)")
        return self

    def settings(self) -> WebSettings:
        host, port = split_listen(self.listen)
        return WebSettings(
            host=host,
            port=port,
            base_url=self.base_url,
            auth=self.auth,
            trusted_proxies=tuple(self.trusted_proxies),
            proxy_user_header=self.proxy_user_header,
            session_hours=self.session_hours,
        )
