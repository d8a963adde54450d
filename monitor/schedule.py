"""Digest schedules: "hourly", "daily at 08:00", or a five-field cron expression, in a timezone.

`next_digest_at` is pure: the previous digest time and the schedule give the next one, so the
outbox needs no state of its own beyond the deliveries it already stores.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

_DAILY = re.compile(r"^daily(?:\s+at\s+(\d{1,2}):(\d{2}))?$")


@dataclass(frozen=True, slots=True)
class DigestSchedule:
    text: str
    crontab: str
    timezone: str


def parse_digest_schedule(text: str, timezone: str = "UTC") -> DigestSchedule:
    """Raises ValueError naming what is wrong."""
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown timezone {timezone!r}") from exc
    spec = " ".join(text.strip().lower().split())
    if spec == "hourly":
        crontab = "0 * * * *"
    elif (daily := _DAILY.match(spec)) is not None:
        hour, minute = (int(daily.group(1)), int(daily.group(2))) if daily.group(1) else (8, 0)
        if hour > 23 or minute > 59:
            raise ValueError(f"invalid time of day in {text!r}")
        crontab = f"{minute} {hour} * * *"
    elif len(spec.split()) == 5:
        crontab = spec
    else:
        raise ValueError(f"invalid digest schedule {text!r} (use hourly, 'daily at 08:00' or a cron expression)")
    try:
        CronTrigger.from_crontab(crontab, timezone=timezone)
    except ValueError as exc:
        raise ValueError(f"invalid cron expression {text!r}: {exc}") from exc
    return DigestSchedule(text=text, crontab=crontab, timezone=timezone)


def next_digest_at(schedule: DigestSchedule, previous: datetime) -> datetime:
    """The first scheduled time strictly after `previous` (an aware datetime)."""
    trigger = CronTrigger.from_crontab(schedule.crontab, timezone=schedule.timezone)
    after = previous + timedelta(microseconds=1)
    fire = trigger.get_next_fire_time(None, after)
    if fire is None:  # a cron expression that never fires again
        raise ValueError(f"digest schedule {schedule.text!r} has no future time")
    assert isinstance(fire, datetime)
    return fire


def digest_period_label(schedule: DigestSchedule, moment: datetime) -> str:
    """A digest's name in words, in the schedule's timezone: "Daily digest, 2 Dec",
    "Hourly digest, 2 Dec 14:00", or "Digest, 2 Dec 17:00" for other schedules."""
    local = moment.astimezone(ZoneInfo(schedule.timezone))
    day = f"{local.day} {local:%b}"
    minute, hour, *rest = schedule.crontab.split()
    if rest == ["*", "*", "*"] and hour == "*":
        return f"Hourly digest, {day} {local:%H:00}"
    if rest == ["*", "*", "*"] and hour.isdigit() and minute.isdigit():
        return f"Daily digest, {day}"
    return f"Digest, {day} {local:%H:%M}"
