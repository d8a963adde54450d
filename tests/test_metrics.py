"""Metrics registry and the /metrics + /healthz endpoint, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from monitor.metrics import HealthStatus, Metrics, MetricsServer
from monitor.observe import HealthCheck
from monitor.store import Store
from tests.store.store_factories import T0, at, by_notify, feed, item, match, save


def _healthy() -> HealthStatus:
    return HealthStatus(
        ok=True,
        scheduler_alive=True,
        database_ok=True,
        overdue_feeds=0,
        last_cycle_at=datetime(2025, 3, 1, 12, 0, tzinfo=UTC),
        detail="",
    )


def _samples(exposition: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(exposition.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


Serve = Callable[[Metrics, Callable[[], HealthStatus]], MetricsServer]


@pytest.fixture
def serve() -> Iterator[Serve]:
    started: list[MetricsServer] = []

    def start(metrics: Metrics, health: Callable[[], HealthStatus]) -> MetricsServer:
        server = MetricsServer(metrics, health, host="127.0.0.1", port=0)
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def test_render_reports_every_metric_with_values() -> None:
    metrics = Metrics()
    metrics.polls.labels(status="ok").inc(3)
    metrics.polls.labels(status="error").inc()
    metrics.fetch_failures.labels(kind="timeout").inc()
    metrics.hits.inc(2)
    metrics.alerts_sent.labels(channel="mail").inc()
    metrics.alerts_failed.labels(channel="slack").inc(4)
    metrics.cycle_seconds.observe(1.5)
    metrics.fetch_seconds.observe(0.2)
    metrics.feeds_overdue.set(2)
    metrics.pending_alerts.set(7)

    samples = _samples(metrics.render())

    assert samples[("monitor_polls_total", (("status", "ok"),))] == 3
    assert samples[("monitor_polls_total", (("status", "error"),))] == 1
    assert samples[("monitor_fetch_failures_total", (("kind", "timeout"),))] == 1
    assert samples[("monitor_hits_total", ())] == 2
    assert samples[("monitor_alerts_sent_total", (("channel", "mail"),))] == 1
    assert samples[("monitor_alerts_failed_total", (("channel", "slack"),))] == 4
    assert samples[("monitor_cycle_seconds_count", ())] == 1
    assert samples[("monitor_cycle_seconds_sum", ())] == 1.5
    assert samples[("monitor_fetch_seconds_bucket", (("le", "0.25"),))] == 1
    assert samples[("monitor_feeds_overdue", ())] == 2
    assert samples[("monitor_pending_alerts", ())] == 7


def test_known_labels_start_at_zero() -> None:
    samples = _samples(Metrics().render())
    for status in ("ok", "not_modified", "unchanged", "error"):
        assert samples[("monitor_polls_total", (("status", status),))] == 0
    assert samples[("monitor_fetch_failures_total", (("kind", "dns"),))] == 0


def test_instances_do_not_share_a_registry() -> None:
    first, second = Metrics(), Metrics()
    first.hits.inc(5)
    assert _samples(second.render())[("monitor_hits_total", ())] == 0
    assert _samples(first.render())[("monitor_hits_total", ())] == 5


def test_metrics_endpoint_serves_the_exposition(serve: Serve) -> None:
    metrics = Metrics()
    metrics.hits.inc()
    server = serve(metrics, _healthy)
    assert server.port != 0

    response = httpx.get(f"http://127.0.0.1:{server.port}/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert _samples(response.content)[("monitor_hits_total", ())] == 1


def test_healthz_ok_returns_200_with_fields(serve: Serve) -> None:
    server = serve(Metrics(), _healthy)

    response = httpx.get(f"http://127.0.0.1:{server.port}/healthz")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "ok": True,
        "scheduler_alive": True,
        "database_ok": True,
        "overdue_feeds": 0,
        "last_cycle_at": "2025-03-01T12:00:00+00:00",
        "detail": "",
    }


def test_healthz_unhealthy_returns_503_without_secrets(serve: Serve) -> None:
    def broken_database() -> HealthStatus:
        return HealthStatus(
            ok=False,
            scheduler_alive=True,
            database_ok=False,
            overdue_feeds=3,
            last_cycle_at=None,
            detail="connection to postgresql://monitor:hunter2@db:5432/monitor refused",
        )

    server = serve(Metrics(), broken_database)

    response = httpx.get(f"http://127.0.0.1:{server.port}/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["ok"] is False
    assert body["database_ok"] is False
    assert body["overdue_feeds"] == 3
    assert body["last_cycle_at"] is None
    assert "hunter2" not in response.text
    assert "postgresql://db:5432/…" in body["detail"]


def test_healthz_check_that_raises_reads_as_unhealthy(serve: Serve) -> None:
    def explodes() -> HealthStatus:
        raise RuntimeError("password=hunter2")

    server = serve(Metrics(), explodes)

    response = httpx.get(f"http://127.0.0.1:{server.port}/healthz")

    assert response.status_code == 503
    assert response.json()["ok"] is False
    assert "hunter2" not in response.text


@pytest.mark.parametrize("path", ["/", "/metrics/extra", "/health", "/../etc/passwd"])
def test_other_paths_are_404(serve: Serve, path: str) -> None:
    server = serve(Metrics(), _healthy)
    response = httpx.get(f"http://127.0.0.1:{server.port}{path}")
    assert response.status_code == 404


def test_query_string_is_ignored(serve: Serve) -> None:
    server = serve(Metrics(), _healthy)
    assert httpx.get(f"http://127.0.0.1:{server.port}/healthz?verbose=1").status_code == 200


def test_slow_health_check_does_not_block_metrics(serve: Serve) -> None:
    release = threading.Event()
    entered = threading.Event()

    def stuck() -> HealthStatus:
        entered.set()
        release.wait(timeout=30)
        return _healthy()

    server = serve(Metrics(), stuck)
    base = f"http://127.0.0.1:{server.port}"
    with httpx.Client() as slow_client:
        worker = threading.Thread(target=slow_client.get, args=(f"{base}/healthz",), daemon=True)
        worker.start()
        assert entered.wait(timeout=10)
        try:
            assert httpx.get(f"{base}/metrics", timeout=10).status_code == 200
        finally:
            release.set()
            worker.join(timeout=10)


def test_stop_releases_the_port() -> None:
    server = MetricsServer(Metrics(), _healthy, port=0)
    server.start()
    port = server.port
    assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
    server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/healthz")
    server.stop()  # a second stop is harmless


def test_health_json_is_plain_data() -> None:
    payload = json.dumps(_healthy().to_json())
    assert json.loads(payload)["scheduler_alive"] is True


def test_gauges_follow_the_outbox_without_healthz(tmp_path: Path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 'm.db'}") as store:
        store.sync_feeds([feed(1)], T0)
        feed_id = store.claim_feeds(T0, "w", 60, 1)[0].id
        save(store, feed_id, [item("a")], {"a": [match("arms", notify=("ops",))]}, by_notify, T0)
        metrics = Metrics()
        check = HealthCheck(store, metrics, 5.0, lambda: at(1))
        assert check.refresh_gauges() == 0
        assert _samples(metrics.render())[("monitor_pending_alerts", ())] == 1
        (job,) = store.claim_deliveries(at(1), "w", 30, 10)
        store.mark_sent(job.delivery_id, at(2))
        check.refresh_gauges()
        assert _samples(metrics.render())[("monitor_pending_alerts", ())] == 0
