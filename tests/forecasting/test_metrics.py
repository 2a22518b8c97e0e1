"""MASE, coverage and the conformal width factor, on numbers worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.backtest import MAX_FACTOR, MIN_FACTOR, PRIOR_WINDOWS, _conformal_factor
from forecasting.metrics import score_windows, seasonal_scale


def test_seasonal_scale_is_the_running_mean_of_seasonal_differences():
    y = np.array([1.0, 2.0, 4.0, 3.0, 6.0])
    scale = seasonal_scale(y, 2)
    assert np.isnan(scale[:2]).all()
    assert scale[2:] == pytest.approx([3.0, 2.0, 2.0])    # |4-1|, |3-2|, |6-4|


def test_score_windows_mase_and_coverage():
    ds = pd.date_range("2024-01-01", periods=6, freq="h", tz="UTC")
    history = pd.DataFrame({"unique_id": "a", "ds": ds, "y": [0.0, 2.0, 0.0, 2.0, 1.0, 3.0]})
    cv = pd.DataFrame({"unique_id": "a", "ds": ds[4:], "cutoff": ds[3], "y": [1.0, 3.0],
                       "m": [2.0, 2.0], "m-lo-80": [0.0, 0.0], "m-hi-80": [2.5, 2.5]})
    out = score_windows(cv, history, model_columns={"m": "m"}, levels=(80,), periods={"a": 1})
    # scale at the cutoff: mean |diff| of 0,2,0,2 = 2; MAE = 1
    assert out.loc[0, "mase"] == pytest.approx(0.5)
    assert out.loc[0, "mae"] == pytest.approx(1.0)
    assert out.loc[0, "coverage-80"] == pytest.approx(0.5)
    assert out.loc[0, "windows"] == 1


def test_score_windows_averages_windows_per_series_and_skips_a_failed_window():
    ds = pd.date_range("2024-01-01", periods=6, freq="h", tz="UTC")
    history = pd.concat([
        pd.DataFrame({"unique_id": "b", "ds": ds, "y": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]}),
        pd.DataFrame({"unique_id": "a", "ds": ds, "y": [0.0, 2.0, 0.0, 2.0, 1.0, 3.0]})])
    # series a: windows at cutoffs ds[3] (ok) and ds[4] (failed: NaN); series b: one window
    cv = pd.DataFrame({
        "unique_id": ["a", "a", "b"], "ds": [ds[4], ds[5], ds[5]],
        "cutoff": [ds[3], ds[4], ds[4]], "y": [1.0, 3.0, 5.0],
        "m": [2.0, np.nan, 4.0], "m-lo-80": [0.0, np.nan, 4.5], "m-hi-80": [2.5, np.nan, 4.8]})
    out = score_windows(cv, history, model_columns={"m": "m"}, levels=(80,),
                        periods={"a": 1, "b": 1}).set_index("unique_id")
    assert list(out.index) == ["a", "b"]
    assert out.at["a", "mase"] == pytest.approx(0.5)       # the failed window has no MASE
    assert out.at["a", "mae"] == pytest.approx(1.0)
    assert out.at["a", "coverage-80"] == pytest.approx(0.5)  # and covers nothing
    assert out.at["a", "windows"] == 2
    assert out.at["b", "mase"] == pytest.approx(1.0)       # scale 1 (steps of 1), error 1
    assert out.at["b", "coverage-80"] == 0.0


def test_conformal_factor_takes_the_finite_sample_quantile_shrunk_by_the_windows():
    s = np.arange(1, 10, dtype=float)                 # 9 scores
    w = 3 / (3 + PRIOR_WINDOWS)                       # 3 windows against the prior's weight
    assert _conformal_factor(s, 80, 3) == pytest.approx(8.0 ** w)   # ceil(10 * 0.8) = 8th
    assert _conformal_factor(s, 80, 10**9) == pytest.approx(8.0)    # many windows: no shrinkage


def test_conformal_factor_narrows_intervals_that_were_too_wide():
    k = _conformal_factor(np.array([0.2, 0.3, 0.5]), 80, 1)          # 3rd smallest: 0.5
    assert k == pytest.approx(0.5 ** (1 / (1 + PRIOR_WINDOWS)))
    assert 0.5 < k < 1.0                                             # narrower, shrunk towards 1


def test_conformal_factor_is_one_where_it_cannot_be_computed_and_bounded_elsewhere():
    assert _conformal_factor(np.array([np.inf, 1.0]), 50, 2) == 1.0   # zero-width interval
    assert _conformal_factor(np.array([np.nan]), 80, 1) == 1.0
    assert _conformal_factor(np.array([1.0, 2.0]), 80, 0) == 1.0      # no window
    assert _conformal_factor(np.zeros(20), 80, 10**9) == pytest.approx(MIN_FACTOR)  # exact: floor
    assert _conformal_factor(np.full(20, 1e6), 80, 10**9) == pytest.approx(MAX_FACTOR)


def test_scaled_by_the_unshrunk_factor_the_backtest_covers_the_nominal_level():
    rng = np.random.default_rng(3)
    s = np.abs(rng.normal(0, 1.7, 500))               # intervals 1.7 x too narrow
    k = _conformal_factor(s, 80, 10**9)
    assert np.mean(s <= k) == pytest.approx(0.80, abs=0.005)
    assert k == pytest.approx(1.7 * 1.2816, rel=0.1)   # 1.7 x the 90 % normal quantile
