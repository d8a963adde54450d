"""Log output: JSON lines that parse, context extras, and URLs with credentials redacted."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from monitor.logs import setup_logging

SECRET_URL = "mailtos://user:pw-S3CRET@smtp.example.org/?pass=pw-S3CRET"
SECRETS = ("pw-S3CRET", "user:")


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    noisy = {name: logging.getLogger(name).level for name in ("httpx", "httpcore", "alembic")}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, saved in noisy.items():
        logging.getLogger(name).setLevel(saved)


LogLines = Callable[[], list[dict[str, Any]]]


def configure(fmt: str) -> io.StringIO:
    """setup_logging(fmt), with its stderr handler pointed at a buffer we can read.

    pytest swaps sys.stderr between test phases, so the handler's stream is replaced after the
    fact rather than by patching sys.stderr beforehand.
    """
    setup_logging(fmt)
    buffer = io.StringIO()
    (handler,) = logging.getLogger().handlers
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)
    return buffer


@pytest.fixture
def json_lines() -> LogLines:
    buffer = configure("json")
    return lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_every_line_is_a_json_object(json_lines: LogLines) -> None:
    log = logging.getLogger("monitor.test")
    log.info("cycle done: %d feeds", 3)
    log.warning("unicode survives: «Ümlaut» 日本")

    first, second = json_lines()

    assert first["level"] == "info"
    assert first["logger"] == "monitor.test"
    assert first["message"] == "cycle done: 3 feeds"
    assert first["time"].endswith("+00:00")
    assert second["level"] == "warning"
    assert second["message"] == "unicode survives: «Ümlaut» 日本"


def test_context_extras_are_fields(json_lines: LogLines) -> None:
    logging.getLogger("monitor.pipeline").info(
        "feed parsed", extra={"feed": "BBC World", "rule_id": "arms-transfer", "channel": "mail"}
    )
    logging.getLogger("monitor.daemon").info("no context")

    with_context, without = json_lines()

    assert with_context["feed"] == "BBC World"
    assert with_context["rule_id"] == "arms-transfer"
    assert with_context["channel"] == "mail"
    assert not {"feed", "rule_id", "channel"} & without.keys()


def test_library_logger_urls_are_redacted(json_lines: LogLines) -> None:
    logging.getLogger("apprise").warning(f"posting to {SECRET_URL} failed")
    logging.getLogger("httpx").warning("GET %s -> 401", "https://bot:tok3n@api.example.org/x?k=1")

    apprise_line, httpx_line = json_lines()

    assert apprise_line["logger"] == "apprise"
    assert apprise_line["message"] == "posting to mailtos://smtp.example.org/… failed"
    assert httpx_line["message"] == "GET https://api.example.org/… -> 401"
    dumped = json.dumps([apprise_line, httpx_line])
    assert "tok3n" not in dumped
    assert not any(secret in dumped for secret in SECRETS)


def test_apprise_stays_quiet_while_it_parses_a_url_for_redaction(json_lines: LogLines) -> None:
    """Apprise logs the token of a URL it rejects ("invalid PagerTree Integration ID (…)"); while
    it parses one for redaction those records are dropped, so they neither leak nor recurse."""
    logging.getLogger("apprise").error("cannot use pagertree://HjVI3TTsSRBPurwE")
    logging.getLogger("apprise").error("An invalid Integration ID was specified")

    first, second = json_lines()

    assert first["message"] == "cannot use pagertree://…"
    assert second["message"] == "An invalid Integration ID was specified"  # Apprise's own, kept


def test_exception_tracebacks_are_redacted_in_json(json_lines: LogLines) -> None:
    try:
        raise ConnectionError(f"cannot reach {SECRET_URL}")
    except ConnectionError:
        logging.getLogger("apprise").exception("send failed")

    (line,) = json_lines()

    assert "ConnectionError: cannot reach mailtos://smtp.example.org/…" in line["exception"]
    assert not any(secret in json.dumps(line) for secret in SECRETS)


def test_noisy_libraries_are_quietened(json_lines: LogLines) -> None:
    logging.getLogger("httpx").info("HTTP Request: GET https://example.org/feed 200")
    logging.getLogger("httpx").warning("kept")
    assert [line["message"] for line in json_lines()] == ["kept"]


def test_text_format_carries_context_and_redacts() -> None:
    stderr = configure("text")
    logging.getLogger("apprise").warning("posting to %s failed", SECRET_URL, extra={"channel": "mail", "rule_id": "r1"})

    (line,) = stderr.getvalue().splitlines()

    assert "WARNING" in line
    assert "apprise: posting to mailtos://smtp.example.org/… failed" in line
    assert line.endswith("[rule_id=r1 channel=mail]")
    assert not any(secret in line for secret in SECRETS)


def test_exception_tracebacks_are_redacted_in_text() -> None:
    stderr = configure("text")
    try:
        raise ConnectionError(f"cannot reach {SECRET_URL}")
    except ConnectionError:
        logging.getLogger("apprise").exception("send failed")

    output = stderr.getvalue()

    assert "cannot reach mailtos://smtp.example.org/…" in output
    assert not any(secret in output for secret in SECRETS)


def test_a_malformed_log_call_does_not_raise(json_lines: LogLines) -> None:
    logging.getLogger("some.library").warning("two args wanted: %s %s", "only one")
    (line,) = json_lines()
    assert line["message"].startswith("two args wanted: %s %s [bad log arguments ('only one',)")
