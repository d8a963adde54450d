"""Human durations ("90s", "15m", "1h30m", "2d") and sizes ("10MB")."""

from __future__ import annotations

import re

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]?i?b?)\s*$", re.IGNORECASE)


def parse_duration(text: str | int | float, *, allow_zero: bool = False) -> float:
    """Seconds in `text`; a bare number means seconds. Raises ValueError with a usable hint."""
    if isinstance(text, bool):
        raise ValueError(f"invalid duration {text!r} (use e.g. 30s, 15m, 2h, 1d)")
    if isinstance(text, int | float):
        seconds = float(text)
    else:
        compact = text.strip().lower().replace(" ", "")
        parts = _DURATION_PART.findall(compact)
        if not compact or "".join(n + u for n, u in parts) != compact:
            raise ValueError(f"invalid duration {text!r} (use e.g. 30s, 15m, 2h, 1d)")
        seconds = sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)
    if seconds < 0 or (seconds == 0 and not allow_zero):
        raise ValueError(f"duration must be positive, got {text!r}")
    return seconds


def parse_pause(text: str | int | float) -> float:
    """Like parse_duration, but zero is allowed (no pause)."""
    return parse_duration(text, allow_zero=True)


def parse_size(text: str | int) -> int:
    """Bytes in `text` ("10MB", "512k", "1GiB", or a number of bytes)."""
    if isinstance(text, int) and not isinstance(text, bool):
        value = text
    else:
        match = _SIZE.match(str(text))
        if match is None:
            raise ValueError(f"invalid size {text!r} (use e.g. 512KB, 10MB)")
        number, unit = match.groups()
        unit = unit.lower()
        base = 1024 if "i" in unit else 1000
        scale = base ** "bkmg".index(unit[0]) if unit and unit[0] in "kmg" else 1
        value = int(float(number) * scale)
    if value <= 0:
        raise ValueError(f"size must be positive, got {text!r}")
    return value


def format_size(count: int) -> str:
    """Short form for messages: 512 bytes, 256.0 kB, 10.0 MB."""
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):.1f} MB"
    if count >= 1024:
        return f"{count / 1024:.1f} kB"
    return f"{count} bytes"


def format_duration(seconds: float) -> str:
    """Short form for tables: 45s, 15m, 2h, 1d3h."""
    remaining = round(seconds)
    if remaining < 60:
        return f"{remaining}s"
    parts: list[str] = []
    for unit in ("d", "h", "m", "s"):
        size = _UNIT_SECONDS[unit]
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts[:2])
