"""carbon.repair: bad intensity data is repaired with a note, or refused with a clear error."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbon.intensity import IntensityKind
from carbon.repair import IntensityDataError, IntensityDataWarning, RepairPolicy, to_hourly

K = IntensityKind.ACTUAL


def _h(times, values, **kw):
    return to_hourly(times, values, zone="Z", source="test", kind=K, **kw)


def test_clean_hourly_utc_data_passes_untouched():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = _h(["2026-01-01T00:00Z", "2026-01-01T01:00Z"], [1, 2])
    assert s.g_per_kwh == (1, 2) and s.notes == () and s.start == datetime(2026, 1, 1, tzinfo=UTC)


def test_short_gap_is_interpolated_long_gap_is_an_error():
    with pytest.warns(IntensityDataWarning, match="interpolated 2 missing hours in 1 gaps"):
        s = _h(["2026-01-01T00:00Z", "2026-01-01T03:00Z"], [100, 400])
    assert s.g_per_kwh == (100, 200, 300, 400)
    assert s.notes == ("repaired: interpolated 2 missing hours in 1 gaps (longest 2 h)",)
    with pytest.raises(IntensityDataError, match="gap of 5 missing hours from 2026-01-01T01:00Z"):
        _h(["2026-01-01T00:00Z", "2026-01-01T06:00Z"], [100, 400])


def test_negative_and_absurd_values_are_dropped_or_refused():
    times = [f"2026-01-01T0{i}:00Z" for i in range(4)]
    with pytest.warns(IntensityDataWarning, match=r"dropped 2 values outside \[0, 2000\]"):
        s = _h(times, [100, -1, 2500, 400])
    assert s.g_per_kwh == (100, 200, 300, 400)
    with pytest.raises(IntensityDataError, match="first -1 at 2026-01-01T01:00Z; check the unit"):
        _h(times, [100, -1, 2500, 400], policy=RepairPolicy(on_invalid="error"))


def test_duplicates_identical_kept_once_conflicting_averaged_or_refused():
    times = ["2026-01-01T00:00Z", "2026-01-01T00:00Z", "2026-01-01T01:00Z", "2026-01-01T01:00Z"]
    with pytest.warns(IntensityDataWarning, match="2 duplicate timestamps"):
        s = _h(times, [100, 100, 200, 300])
    assert s.g_per_kwh == (100, 250)
    assert "1 had different values" in s.notes[0]
    with pytest.raises(IntensityDataError, match="more than once with different values, first "
                                                 "2026-01-01T01:00Z"):
        _h(times, [100, 100, 200, 300], policy=RepairPolicy(duplicates="error"))


def test_non_utc_offsets_are_converted():
    with pytest.warns(IntensityDataWarning, match="different UTC offsets"):
        s = _h(["2026-03-29T00:30+00:00", "2026-03-29T02:30+01:00"], [10, 20])
    assert s.start == datetime(2026, 3, 29, tzinfo=UTC) and s.g_per_kwh == (10, 20)
    with pytest.warns(IntensityDataWarning, match="converted to UTC"):
        s = _h(["2026-01-01T09:00+09:00"], [10])
    assert s.start == datetime(2026, 1, 1, tzinfo=UTC)


def test_spring_forward_local_hour_that_does_not_exist():
    # 2026-03-29 01:30 does not exist in London (clocks jump 01:00 -> 02:00)
    times = ["2026-03-29 00:30", "2026-03-29 01:30", "2026-03-29 02:30"]
    with pytest.raises(IntensityDataError, match="NonExistentTimeError.*nonexistent="):
        _h(times, [1, 2, 3], policy=RepairPolicy(naive_tz="Europe/London"))
    with pytest.warns(IntensityDataWarning):
        s = _h(times, [1, 2, 3], policy=RepairPolicy(naive_tz="Europe/London",
                                                     nonexistent="shift_forward"))
    assert s.start == datetime(2026, 3, 29, 0, tzinfo=UTC)


def test_unparseable_empty_and_mismatched_inputs():
    with pytest.raises(IntensityDataError, match="cannot be parsed"):
        _h(["yesterday-ish"], [1])
    with pytest.raises(IntensityDataError, match="no data points"):
        _h([], [])
    with pytest.raises(IntensityDataError, match="2 timestamps but 1 values"):
        _h(["2026-01-01T00:00Z", "2026-01-01T01:00Z"], [1])
    with pytest.raises(IntensityDataError, match="no valid values left"):
        _h(["2026-01-01T00:00Z"], ["n/a"])


def test_policy_values_are_checked():
    with pytest.raises(ValueError, match="RepairPolicy.ambiguous"):
        RepairPolicy(ambiguous="guess")


@settings(deadline=None)  # the CI machine is shared: no wall-clock limits
@given(st.lists(st.floats(0, 2000, allow_nan=False), min_size=1, max_size=60),
       st.integers(0, 10_000))
def test_clean_data_round_trips_exactly(values, offset_h):
    start = datetime(2025, 1, 1, tzinfo=UTC)
    times = [datetime.fromtimestamp(start.timestamp() + 3600 * (offset_h + i), UTC)
             for i in range(len(values))]
    s = _h(times, values)
    assert s.g_per_kwh == tuple(values) and s.notes == ()
