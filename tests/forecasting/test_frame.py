"""frame.prepare: every kind of bad input is repaired with a warning or rejected by name."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from forecasting.errors import InputDataError
from forecasting.frame import prepare
from tests.forecasting.synth import hourly


def _one(y, start="2024-01-01T00:00Z", uid="a"):
    return pd.DataFrame({"unique_id": uid, "ds": pd.date_range(start, periods=len(y), freq="h"),
                         "y": y})


def test_clean_history_passes_unchanged_without_repairs():
    df = hourly(2, days=15)
    prep = prepare(df)
    assert prep.repairs == ()
    expected = df.sort_values(["unique_id", "ds"], ignore_index=True)
    pd.testing.assert_frame_equal(prep.frame, expected)
    assert prep.seasons == {"s0": (24, 168), "s1": (24, 168)}


def test_naive_timestamps_are_read_as_utc_and_said_so():
    df = hourly(1, days=3)
    df["ds"] = df["ds"].dt.tz_localize(None).astype(str)
    prep = prepare(df)
    assert str(prep.frame["ds"].dt.tz) == "UTC"
    assert any("no time zone" in r for r in prep.repairs)


def test_other_time_zones_are_converted_to_utc():
    df = hourly(1, days=3)
    df["ds"] = df["ds"].dt.tz_convert("Europe/Berlin")
    prep = prepare(df, season_lengths=(24,))
    assert prep.frame["ds"].iloc[0] == pd.Timestamp("2024-03-04T00:00Z")
    assert prep.repairs == ()


def test_naive_timestamps_among_zoned_ones_are_read_as_utc_and_counted():
    # pandas reads a naive value after a +02:00 one as +02:00 when both are parsed in one call
    ds = ["2024-03-31T00:00+02:00", "2024-03-31T00:00", "2024-03-31T03:00+02:00",
          "2024-03-30T23:00Z"]
    prep = prepare(pd.DataFrame({"unique_id": "a", "ds": ds, "y": [1.0, 2.0, 3.0, 4.0]}),
                   season_lengths=())
    assert prep.frame["ds"].iloc[0] == pd.Timestamp("2024-03-30T22:00Z")
    assert prep.frame["y"].tolist() == [1.0, 4.0, 2.0, 3.0]   # naive 00:00 is UTC, not +02:00
    assert any("1 timestamp(s) in 'a' had no time zone while 3 had one; they were read as UTC"
               in r for r in prep.repairs)


def test_offsets_that_change_across_dst_parse_to_the_right_instants_without_a_warning():
    ds = ["2024-03-31T00:00+01:00", "2024-03-31T01:00+01:00", "2024-03-31T03:00+02:00",
          "2024-03-31T04:00+02:00"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")                  # pandas' FutureWarning on mixed zones
        prep = prepare(pd.DataFrame({"unique_id": "a", "ds": ds, "y": [1.0, 2.0, 3.0, 4.0]}),
                       season_lengths=())
    assert prep.frame["ds"].tolist() == list(pd.date_range("2024-03-30T23:00Z", periods=4,
                                                           freq="h"))
    assert prep.frame["y"].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert prep.repairs == ()


def test_every_zone_spelling_pandas_reads_counts_as_a_zone():
    ds = ["2024-01-01T00Z", "2024-01-01T02:00+01", "2024-01-01T03:00+0100",
          "2024-01-01 04:00:00.0 +01:00", "20240101T040000Z"]
    prep = prepare(pd.DataFrame({"unique_id": "a", "ds": ds, "y": [1.0, 2.0, 3.0, 4.0, 5.0]}),
                   season_lengths=())
    assert prep.frame["ds"].tolist() == list(pd.date_range("2024-01-01T00:00Z", periods=5,
                                                           freq="h"))
    assert prep.repairs == ()


def test_duplicates_are_averaged_with_a_warning():
    df = _one([1.0, 2.0, 3.0, 4.0])
    df = pd.concat([df, pd.DataFrame({"unique_id": ["a"], "ds": [df["ds"][1]], "y": [4.0]})])
    prep = prepare(df, season_lengths=())
    assert prep.frame["y"].tolist() == [1.0, 3.0, 3.0, 4.0]
    assert any("duplicate" in r and "'a'" in r for r in prep.repairs)


def test_irregular_timestamps_are_floored_to_the_grid_and_averaged():
    ds = pd.to_datetime(["2024-01-01T00:10Z", "2024-01-01T00:50Z", "2024-01-01T01:05Z",
                         "2024-01-01T02:00Z"])
    prep = prepare(pd.DataFrame({"unique_id": "a", "ds": ds, "y": [1.0, 3.0, 5.0, 7.0]}),
                   season_lengths=())
    assert prep.frame["y"].tolist() == [2.0, 5.0, 7.0]
    assert any("off the hour grid" in r for r in prep.repairs)


def test_short_gaps_are_interpolated_and_long_gaps_copy_the_previous_season():
    y = np.tile(np.arange(24, dtype=float), 4)
    y[30] = np.nan                      # one hour: linear
    y[50:74] = np.nan                   # a whole day: from the day before
    prep = prepare(_one(y), season_lengths=(24,))
    out = prep.frame["y"].to_numpy()
    assert out[30] == pytest.approx(6.0)
    np.testing.assert_allclose(out[50:74], out[26:50])
    assert any("1 by linear interpolation" in r and "24 from the same time" in r
               for r in prep.repairs)


def test_missing_rows_are_gaps_too():
    df = _one(np.arange(48, dtype=float)).drop(index=[10, 11])
    prep = prepare(df, season_lengths=(24,))
    assert len(prep.frame) == 48
    assert prep.frame["y"].iloc[10] == pytest.approx(10.0)


def test_nan_and_infinite_values_are_reported():
    y = np.arange(30, dtype=float)
    y[5], y[6] = np.nan, np.inf
    prep = prepare(_one(y), season_lengths=())
    assert np.isfinite(prep.frame["y"]).all()
    assert any("infinite" in r for r in prep.repairs)
    assert any("missing" in r for r in prep.repairs)


def test_leading_and_trailing_missing_values_are_dropped():
    y = [np.nan, 1.0, 2.0, 3.0, np.nan]
    prep = prepare(_one(y), season_lengths=())
    assert prep.frame["y"].tolist() == [1.0, 2.0, 3.0]
    assert any("leading/trailing" in r for r in prep.repairs)


def test_too_short_for_a_season_drops_that_season_with_a_warning():
    prep = prepare(hourly(1, days=10))          # 240 h < 2 x 168 h
    assert prep.seasons["s0"] == (24,)
    assert any("[168]" in r and "not modelled" in r for r in prep.repairs)


def test_constant_and_all_zero_series_are_flagged():
    df = pd.concat([_one(np.zeros(50), uid="zero"), _one(np.full(50, 3.0), uid="three")])
    prep = prepare(df, season_lengths=(24,))
    assert prep.constant == {"zero", "three"}
    assert any("constant" in r for r in prep.repairs)


def _noisy(n=720, seed=1):
    return np.random.default_rng(seed).normal(50.0, 20.0, n)


def test_an_extreme_outlier_is_reported_with_series_count_value_and_time_but_kept():
    y = _noisy()
    y[200] = 1e6
    df = pd.concat([_one(y, uid="gpu"), _one(_noisy(seed=2), uid="calm")])
    prep = prepare(df, season_lengths=(24,))
    line = next(r for r in prep.repairs if "robust standard deviations" in r)
    assert line.startswith("1 value(s) in 'gpu' lie over 100 ")
    assert "1e+06 in 'gpu' at 2024-01-09T08:00Z" in line
    assert "forecasts and intervals will follow them" in line
    assert "'calm'" not in line
    assert prep.frame["y"].max() == 1e6                  # warned, not changed


def test_a_tenfold_peak_in_a_noisy_series_is_not_an_outlier():
    y = _noisy()
    y[200] = 500.0
    assert prepare(_one(y), season_lengths=(24,)).repairs == ()


def test_outliers_in_a_mostly_idle_series_are_measured_against_its_iqr():
    y = np.where(np.arange(720) % 24 < 14, 0.0, _noisy())   # idle 14 h a day: MAD 0
    y[300] = 1e6
    prep = prepare(_one(y), season_lengths=(24,))
    assert any("1 value(s) in 'a'" in r and "1e+06" in r for r in prep.repairs)


def test_a_series_ending_well_before_the_newest_is_named_with_its_lag():
    df = pd.concat([_one(_noisy(), uid="new"), _one(_noisy()[:-120], uid="old")])
    prep = prepare(df, season_lengths=(24,))
    assert ("'old': ends 120 hour(s) before the newest series (2024-01-30T23:00Z); its forecast "
            "starts after its own last point") in prep.repairs


def test_a_series_one_step_behind_is_not_stale():
    df = pd.concat([_one(_noisy(), uid="new"), _one(_noisy()[:-1], uid="late")])
    assert prepare(df, season_lengths=(24,)).repairs == ()


@pytest.mark.parametrize(("frame", "match"), [
    (pd.DataFrame({"id": ["a"], "ds": ["2024-01-01T00:00Z"], "y": [1.0]}), "missing column"),
    (pd.DataFrame(columns=["unique_id", "ds", "y"]), "has no rows"),
    (_one(["1", "x", "3"]), "series 'a': field 'y': value 'x' is not a number"),
    (pd.DataFrame({"unique_id": "b", "ds": ["2024-01-01T00:00Z", "yesterday"], "y": [1, 2]}),
     "series 'b': field 'ds': cannot read timestamp 'yesterday'"),
    (pd.DataFrame({"unique_id": "a", "ds": [1, 2, 3], "y": [1, 2, 3]}), "numbers, not dates"),
    (_one([1.0, 2.0]), "series 'a': field 'ds': has 2 hour"),
    (_one([1.0] + [np.nan] * 8 + [2.0]), "series 'a': field 'y': 8 of 10 hours are missing"),
    (_one([np.nan, np.nan]), "no numeric values"),
    (pd.DataFrame({"unique_id": ["a", None], "ds": ["2024-01-01T00:00Z"] * 2, "y": [1, 2]}),
     "field 'unique_id': row 3 has no series id"),   # as the file shows it: header = row 1
])
def test_unrepairable_input_is_rejected_naming_series_field_and_fix(frame, match):
    with pytest.raises(InputDataError, match=match) as info:
        prepare(frame, season_lengths=())
    assert "fix:" in str(info.value)


def test_calendar_frequencies_are_refused():
    with pytest.raises(InputDataError, match="fixed-length"):
        prepare(hourly(1, days=3), freq="MS")
