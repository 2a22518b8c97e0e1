"""Durations and times as users write them in YAML and on the command line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.timeparse import parse_hours, parse_time

NOW = datetime(2026, 11, 23, 20, tzinfo=UTC)


@pytest.mark.parametrize(("text", "hours"), [
    (6, 6.0), (1.5, 1.5), ("6h", 6.0), ("90m", 1.5), ("1h30m", 1.5), ("2d", 48.0),
    ("1d 6h", 30.0), ("3600s", 1.0), ("0.5h", 0.5),
])
def test_durations(text, hours):
    assert parse_hours(text) == pytest.approx(hours)


@pytest.mark.parametrize("text", ["", "six hours", "6x", "h6", "6h garbage", True])
def test_bad_durations_say_what_is_expected(text):
    with pytest.raises(ValueError, match="expected a duration"):
        parse_hours(text)


def test_times_are_utc_and_relative_times_count_from_the_plan_start():
    assert parse_time("now", now=NOW) == NOW
    assert parse_time("+6h", now=NOW) == NOW + timedelta(hours=6)
    assert parse_time("2026-11-24T01:00Z", now=NOW) == datetime(2026, 11, 24, 1, tzinfo=UTC)
    berlin = parse_time("2026-11-24T02:00+01:00", now=NOW)
    assert berlin == datetime(2026, 11, 24, 1, tzinfo=UTC) and berlin.tzinfo is UTC
    assert parse_time(datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=9))), now=NOW).hour == 15


def test_naive_times_are_refused_with_the_fix():
    with pytest.raises(ValueError, match="no time zone; add 'Z'"):
        parse_time("2026-11-24T01:00", now=NOW)
