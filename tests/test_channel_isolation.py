"""Channel sends run in a child process with a hard deadline: a webhook that trickles its answer
is cut off and its socket really closed, and closing a channel interrupts a send at once."""

from __future__ import annotations

import logging
import threading

import pytest
from support.trickle import TrickleServer
from support.webhook import WebhookReceiver

from monitor.alerts import channels as channels_module
from monitor.alerts.channels import Channel, ChannelSet, SendOutcome
from monitor.alerts.isolation import ChannelClosedError
from monitor.types import ChannelSpec


def slow_channel(trickle: TrickleServer) -> Channel:
    return Channel(ChannelSpec("slow", f"json://127.0.0.1:{trickle.port}/hook"), min_interval=0)


def test_a_trickling_webhook_is_cut_off_at_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(channels_module, "SEND_DEADLINE_SECONDS", 2.0)
    with TrickleServer(interval=0.5) as trickle:
        channel = slow_channel(trickle)
        try:
            # The deadline covers starting the child process too; on a loaded machine that can
            # take longer than 2 s, and then the send is cut off before it connects. Each new
            # try starts a fresh child, so a few tries reach the server.
            for _ in range(5):
                outcome = channel.send_notice("title", "body")
                assert outcome == SendOutcome(False, "no answer within 2 s; the send was cut off")
                if trickle.connected.is_set():
                    break
            assert trickle.connected.is_set(), "no try reached the webhook within its deadline"
            assert trickle.hung_up.wait(timeout=10), "the sender's socket was closed"
        finally:
            channel.close()


def test_closing_a_channel_interrupts_its_send_and_refuses_more() -> None:
    with TrickleServer(interval=0.5) as trickle:
        channels = ChannelSet([ChannelSpec("slow", f"json://127.0.0.1:{trickle.port}/hook")], {"slow": 0})
        (channel,) = channels
        raised: list[BaseException] = []

        def send() -> None:
            try:
                channel.send_notice("title", "body")
            except BaseException as exc:
                raised.append(exc)

        sender = threading.Thread(target=send)
        sender.start()
        assert trickle.connected.wait(timeout=30)
        channels.close(grace=0.1)
        sender.join(timeout=10)
        assert not sender.is_alive()
        assert [type(exc) for exc in raised] == [ChannelClosedError]
        assert trickle.hung_up.wait(timeout=10)
        with pytest.raises(ChannelClosedError):
            channel.send_notice("again", "body")


def test_sends_reuse_one_child_and_its_logs_reach_ours(
    webhook: WebhookReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    channel = Channel(ChannelSpec("hook", f"json://127.0.0.1:{webhook.port}/hook"), min_interval=0)
    try:
        with caplog.at_level(logging.INFO):
            assert channel.send_notice("first", "body").ok
            assert channel.send_notice("second", "body").ok
    finally:
        channel.close()
    assert [body["title"] for body in webhook.bodies()] == ["first", "second"]
    from_child = [r for r in caplog.records if r.name.startswith("apprise")]
    assert from_child, "Apprise logs in the child are replayed in the parent"
    assert {getattr(r, "channel", None) for r in from_child} == {"hook"}


def test_a_refused_webhook_is_an_ordinary_failure(webhook: WebhookReceiver) -> None:
    webhook.status = 500
    channel = Channel(ChannelSpec("hook", f"json://127.0.0.1:{webhook.port}/hook"), min_interval=0)
    try:
        outcome = channel.send_notice("title", "body")
    finally:
        channel.close()
    assert not outcome.ok
    assert outcome.error is not None and "500" in outcome.error
