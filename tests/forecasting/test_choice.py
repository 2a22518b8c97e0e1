"""The per-series model choice: lowest backtest MASE, but the combination unless clearly beaten."""

from __future__ import annotations

import pandas as pd

from forecasting.backtest import Choice, _choose
from forecasting.metrics import summarise_windows
from forecasting.models import AUTO, ModelName

CUTOFFS = pd.date_range("2024-03-01", periods=4, freq="2D", tz="UTC")


def windows(mase: dict[str, list[float]], uid: str = "a") -> pd.DataFrame:
    """A per-window score table (as ``metrics.window_scores``) for one series."""
    rows = [{"unique_id": uid, "cutoff": CUTOFFS[i], "model": model, "mase": v, "mae": v}
            for model, values in mase.items() for i, v in enumerate(values)]
    return pd.DataFrame(rows)


def choose(per_window: pd.DataFrame, names=AUTO, failed=frozenset(), choice=Choice.ROBUST
           ) -> dict[str, str]:
    return picks(per_window, names, failed, choice)[0]


def picks(per_window: pd.DataFrame, names=AUTO, failed=frozenset(), choice=Choice.ROBUST
          ) -> tuple[dict[str, str], set[str]]:
    return _choose(summarise_windows(per_window, ()), per_window, names, set(failed), choice)


def test_a_model_that_beats_the_median_in_every_window_is_chosen():
    pw = windows({"median": [0.8, 0.9, 0.85], "stl_ets": [0.5, 0.62, 0.55],
                  "seasonal_naive": [1.0, 1.0, 1.0], "weekly_naive": [1.2, 0.7, 1.1]})
    assert choose(pw) == {"a": "stl_ets"}


def test_a_lower_mean_from_one_lucky_window_keeps_the_median():
    # stl_ets has the lowest mean MASE (0.633 < 0.7) but wins by less than its spread
    pw = windows({"median": [0.7, 0.7, 0.7], "stl_ets": [0.2, 1.2, 0.5],
                  "seasonal_naive": [1.0, 1.0, 1.0], "weekly_naive": [1.2, 0.9, 1.1]})
    assert choose(pw) == {"a": "median"}


def test_one_window_gives_no_evidence_against_the_median():
    pw = windows({"median": [0.8], "stl_ets": [0.5], "seasonal_naive": [1.0],
                  "weekly_naive": [1.2]})
    assert choose(pw) == {"a": "median"}


def test_without_a_combination_the_lowest_mean_mase_wins():
    pw = windows({"stl_arima": [0.7, 0.7, 0.7], "stl_ets": [0.2, 1.2, 0.5],
                  "seasonal_naive": [1.0, 1.0, 1.0]})
    names = (ModelName.STL_ARIMA, ModelName.STL_ETS)
    assert choose(pw, names) == {"a": "stl_ets"}


def test_a_model_that_failed_in_a_window_is_not_chosen():
    pw = windows({"median": [0.8, 0.9, 0.85], "stl_ets": [0.5, 0.6, 0.55],
                  "seasonal_naive": [1.0, 1.0, 1.0], "weekly_naive": [1.2, 0.7, 1.1]})
    assert choose(pw, failed={("a", "stl_ets")}) == {"a": "median"}


def test_each_series_is_decided_on_its_own_windows():
    pw = pd.concat([
        windows({"median": [0.8, 0.9, 0.85], "stl_ets": [0.5, 0.62, 0.55],
                 "seasonal_naive": [1.0, 1.0, 1.0], "weekly_naive": [1.2, 0.7, 1.1]}, "a"),
        windows({"median": [0.7, 0.7, 0.7], "stl_ets": [0.2, 1.2, 0.5],
                 "seasonal_naive": [1.0, 1.0, 1.0], "weekly_naive": [1.2, 0.9, 1.1]}, "b")])
    assert choose(pw) == {"a": "stl_ets", "b": "median"}


def test_the_plain_minimum_on_request():
    pw = windows({"median": [0.7, 0.7, 0.7], "stl_ets": [0.2, 1.2, 0.5],
                  "seasonal_naive": [1.0, 1.0, 1.0], "weekly_naive": [1.2, 0.9, 1.1]})
    assert choose(pw, choice=Choice.LOWEST) == {"a": "stl_ets"}


def test_only_a_model_not_picked_for_small_errors_may_have_its_intervals_narrowed():
    lucky = {"median": [0.7, 0.7, 0.7], "stl_ets": [0.2, 1.2, 0.5],
             "seasonal_naive": [1.0, 1.0, 1.0], "weekly_naive": [1.2, 0.9, 1.1]}
    clear = {"median": [0.8, 0.9, 0.85], "stl_ets": [0.5, 0.62, 0.55],
             "seasonal_naive": [1.0, 1.0, 1.0], "weekly_naive": [1.2, 0.7, 1.1]}
    pw = pd.concat([windows(lucky, "kept"), windows(clear, "beaten")])
    assert picks(pw) == ({"beaten": "stl_ets", "kept": "median"}, {"kept"})
    assert picks(pw, choice=Choice.LOWEST)[1] == set()          # every pick was a selection
    single = windows({"stl_ets": [0.5, 0.6], "seasonal_naive": [1.0, 1.0]})
    assert picks(single, names=(ModelName.STL_ETS,)) == ({"a": "stl_ets"}, {"a"})
