"""Redaction of URLs: web URLs keep their host; Apprise URLs show only what Apprise's privacy
mode masks or a real host; for every scheme Apprise knows, no token value survives."""

from __future__ import annotations

import apprise
import pytest
from apprise.apprise import N_MGR
from support.apprise_samples import Sample, samples, schemes, schemes_of

from monitor.redact import redact_text, redact_url

SHOWN_RUN = 5  # Apprise's masks show at most 4 characters of a value ("...abcd", "o...6")


def leaked(sample: Sample, redacted: str) -> list[str]:
    """Token values of which some SHOWN_RUN-character run appears after the scheme."""
    shown = redacted.split("://", 1)[-1]
    return [
        secret
        for secret in sample.secrets
        if any(secret[i : i + SHOWN_RUN] in shown for i in range(len(secret) - SHOWN_RUN + 1))
    ]


def test_no_token_of_any_apprise_scheme_survives_redaction() -> None:
    failures = []
    for sample in samples():
        redacted = redact_url(sample.url)
        if found := leaked(sample, redacted):
            failures.append(f"{sample.plugin} {sample.template}: {sample.url} -> {redacted} shows {found}")
    assert not failures, "\n".join(failures)


def test_the_samples_cover_every_scheme_and_mostly_go_through_apprise() -> None:
    """Guards the test above against passing vacuously: every scheme has samples, and Apprise
    accepts samples of most enabled schemes (the rest need values such as a +1 phone number or
    an 8-character gateway id; they, and disabled plugins, take the scheme-only fallback)."""
    assert schemes() == set(N_MGR.schemas())
    enabled = {scheme for plugin in N_MGR.plugins() if plugin.enabled for scheme in schemes_of(plugin)}
    accepted = {
        sample.url.split("://", 1)[0]
        for sample in samples()
        if apprise.Apprise.instantiate(sample.url, suppress_exceptions=True) is not None
    }
    assert len(accepted & enabled) >= 0.75 * len(enabled), sorted(enabled - accepted)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # the cases: the host position is the secret
        ("pbul://o.SecretToken123456", "pbul://o...6"),
        ("join://abcdef0123456789abcdef0123456789/device1", "join://a...9/…"),
        ("pover://userkeyabcdefghijklmnopqrstu@apptokenabcdefghijklmnopqrst", "pover://a...t/…"),
        ("ntfy://secrettopic", "ntfy://…"),
        ("ntfys://user:pw@ntfy.example.org/secrettopic", "ntfys://ntfy.example.org/…"),
        ("slack://t1slas907/B2SECRETB/SecretTokenCCCCCCCCCCCCC/#chan", "slack://t...7/…"),
        # a real host stays visible; user-info, paths and queries never are
        ("mailtos://user:pw@smtp.example.org:587?pass=x", "mailtos://smtp.example.org/…"),
        ("json://127.0.0.1:8080", "json://127.0.0.1:8080"),
        ("json://hooks.example.org/T0KEN", "json://hooks.example.org/…"),
        # web and database URLs (feeds, the native webhook, PostgreSQL) keep host and port
        ("https://u:p@feeds.example.org:8443/x?key=1", "https://feeds.example.org:8443/…"),
        ("webhooks://hooks.example.org/in?secret=s3", "webhooks://hooks.example.org/…"),
        ("postgresql+psycopg://monitor:pw@db:5432/monitor", "postgresql+psycopg://db:5432/…"),
        # Apprise does not accept it, or does not know it: only the scheme is left
        ("pbul://", "pbul://…"),
        ("nope://secret@host.example.org/x", "nope://…"),
        ("46elks://sid:token@phonenumber", "46elks://…"),
        ("no scheme at all", "<not a URL>"),
    ],
)
def test_redacted_forms(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_urls_inside_text_are_redacted() -> None:
    text = redact_text("failed to send to mailtos://a:secret@smtp.example.org/x?pass=secret; pbul://o.T0kenT0ken next")
    assert text == "failed to send to mailtos://smtp.example.org/… pbul://o...n next"
