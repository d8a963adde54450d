"""Digest schedules are pure functions of the previous digest time."""

from datetime import UTC, datetime

import pytest

from monitor.schedule import next_digest_at, parse_digest_schedule


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_hourly() -> None:
    schedule = parse_digest_schedule("hourly")
    assert next_digest_at(schedule, at("2026-11-27T10:15:00+00:00")) == at("2026-11-27T11:00:00+00:00")
    assert next_digest_at(schedule, at("2026-11-27T11:00:00+00:00")) == at("2026-11-27T12:00:00+00:00")


def test_daily_in_the_channels_timezone() -> None:
    schedule = parse_digest_schedule("daily at 08:00", "Europe/Berlin")
    # 07:30 UTC is 08:30 in Berlin (winter): the next digest is tomorrow 08:00 Berlin = 07:00 UTC
    assert next_digest_at(schedule, at("2026-11-27T07:30:00+00:00")) == at("2026-11-28T07:00:00+00:00")
    assert next_digest_at(schedule, at("2026-11-27T06:00:00+00:00")) == at("2026-11-27T07:00:00+00:00")


def test_cron_expression_weekdays() -> None:
    schedule = parse_digest_schedule("30 17 * * mon-fri", "UTC")
    friday_evening = at("2026-11-27T18:00:00+00:00")  # a Friday
    assert next_digest_at(schedule, friday_evening) == at("2026-11-30T17:30:00+00:00")


@pytest.mark.parametrize(
    ("text", "timezone", "message"),
    [
        ("weekly", "UTC", "invalid digest schedule 'weekly'"),
        ("daily at 25:00", "UTC", "invalid time of day"),
        ("61 * * * *", "UTC", "invalid cron expression"),
        ("hourly", "Mars/Olympus", "unknown timezone 'Mars/Olympus'"),
    ],
)
def test_invalid_schedules(text: str, timezone: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_digest_schedule(text, timezone)
