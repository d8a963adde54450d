"""E-mail threading: a story's updates reply to its first message.

Apprise's e-mail plugin writes its own Message-ID (``make_msgid``) and takes extra headers from
``service.headers``. While one message is sent, the Message-ID it generates is replaced by the
delivery's own, stable across retries, and an update carries In-Reply-To/References naming the
first message's id, so mail clients show a story and its updates as one thread.

The replacement is scoped to the calling thread (a context variable), so other channels sending
at the same moment keep Apprise's default behaviour.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

log = logging.getLogger(__name__)

_forced_message_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("forced_message_id", default=None)
_install_lock = threading.Lock()
_installed = False
_THREAD_HEADERS = ("In-Reply-To", "References")


def _install() -> bool:
    """Wrap the e-mail plugin's ``make_msgid`` once; False when this Apprise has none."""
    global _installed
    with _install_lock:
        if _installed:
            return True
        try:
            from apprise.plugins.email import base
        except ImportError:
            return False
        original = getattr(base, "make_msgid", None)
        if original is None:
            return False

        def make_msgid(*args: Any, **kwargs: Any) -> str:
            forced = _forced_message_id.get()
            return forced if forced is not None else str(original(*args, **kwargs))

        base.make_msgid = make_msgid  # type: ignore[attr-defined]
        _installed = True
        return True


@contextmanager
def email_thread(services: Iterable[Any], message_id: str, thread_id: str | None) -> Iterator[None]:
    """While the block sends, e-mails carry ``message_id`` and, for an update, reply to
    ``thread_id``. The channel sends one message at a time, so its headers are its own."""
    if not _install():
        log.warning("this Apprise version cannot set e-mail Message-IDs; updates will not thread")
    token = _forced_message_id.set(message_id)
    touched: list[Any] = []
    try:
        for service in services:
            headers = getattr(service, "headers", None)
            if not isinstance(headers, dict):
                continue
            for name in _THREAD_HEADERS:
                headers.pop(name, None)
            if thread_id is not None:
                headers.update({"In-Reply-To": thread_id, "References": thread_id})
            touched.append(headers)
        yield
    finally:
        _forced_message_id.reset(token)
        for headers in touched:
            for name in _THREAD_HEADERS:
                headers.pop(name, None)
