"""Durations ('90m', '1h30m', '2d', 6) and times ('2026-11-23T20:00Z', '+6h', 'now')."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|s)")
_UNIT_H = {"d": 24.0, "h": 1.0, "m": 1 / 60, "s": 1 / 3600}


def parse_hours(value: object) -> float:
    """Hours from a number (hours) or a string like '1h30m', '45m', '2d'."""
    if isinstance(value, bool):
        # a bad value like any other: every caller reports ValueError as bad input
        raise ValueError(f"expected a duration like '6h' or '90m', got {value!r}")  # noqa: TRY004
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip().lower().replace(" ", "")
    pos, hours = 0, 0.0
    for match in _PART.finditer(text):
        if match.start() != pos:
            break
        hours += float(match.group(1)) * _UNIT_H[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise ValueError(f"expected a duration like '6h', '90m' or '1h30m', got {value!r}")
    return hours


def parse_time(value: object, *, now: datetime) -> datetime:
    """A tz-aware UTC time from ISO 8601 with offset, 'now', or '+<duration>' after now."""
    if isinstance(value, datetime):
        dt = value
    else:
        text = str(value).strip()
        if text == "now":
            return now
        if text.startswith("+"):
            return now + timedelta(hours=parse_hours(text[1:]))
        try:
            dt = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"expected an ISO 8601 time like '2026-11-23T20:00Z' or '+6h', got {value!r}"
            ) from None
    if dt.tzinfo is None:
        raise ValueError(f"time {value!r} has no time zone; add 'Z' for UTC or an offset like '+01:00'")
    return dt.astimezone(UTC)
