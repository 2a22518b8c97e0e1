"""forecast(): the contract other packages code against, on small synthetic histories."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting import Forecast, InputDataError, forecast, quantile_column
from forecasting.models import AUTO, ModelName, parse_models
from tests.forecasting.synth import hourly


@pytest.fixture(scope="module")
def fc() -> Forecast:
    return forecast(hourly(2, days=21), horizon=24, levels=(80, 95))


def test_values_follow_the_contract(fc):
    v = fc.values
    assert list(v.columns[:7]) == ["unique_id", "ds", "mean", "lo-80", "hi-80", "lo-95", "hi-95"]
    assert str(v["ds"].dt.tz) == "UTC"
    assert v.groupby("unique_id").size().to_dict() == {"s0": 24, "s1": 24}
    assert v["ds"].min() == pd.Timestamp("2024-03-25T00:00Z")      # the hour after the history
    assert fc.levels == (80, 95)
    assert np.isfinite(v[["mean", "lo-80", "hi-80", "lo-95", "hi-95"]].to_numpy()).all()


def test_intervals_nest_around_the_mean(fc):
    v = fc.values
    assert (v["lo-95"] <= v["lo-80"]).all() and (v["lo-80"] <= v["mean"]).all()
    assert (v["mean"] <= v["hi-80"]).all() and (v["hi-80"] <= v["hi-95"]).all()


def test_every_series_has_a_chosen_model_with_backtest_scores(fc):
    assert set(fc.chosen) == {"s0", "s1"}
    assert set(fc.chosen.values()) <= {m.value for m in AUTO}
    assert list(fc.scores.columns[:3]) == ["unique_id", "model", "mase"]
    assert {"coverage-80", "coverage-95"} <= set(fc.scores.columns)
    assert {"factor-80", "factor-95"} <= set(fc.scores.columns)
    for uid, model in fc.chosen.items():
        rows = fc.scores[fc.scores["unique_id"] == uid].set_index("model")
        # the lowest backtest MASE, or the median when the best did not beat it clearly
        assert model in {rows["mase"].idxmin(), "median"}
        assert rows.at[model, "mase"] <= rows.at["median", "mase"]
    assert set(fc.scores["model"]) == {m.value for m in AUTO}


def test_seasonal_models_beat_seasonal_naive_on_a_smooth_seasonal_series(fc):
    pivot = fc.scores.pivot(index="unique_id", columns="model", values="mase")
    assert (pivot["stl_ets"] < pivot["seasonal_naive"]).all()


def test_forecast_tracks_the_daily_cycle():
    out = forecast(hourly(1, days=21, noise=0.2), horizon=24, models=["mstl_arima"])
    t = np.arange(21 * 24, 22 * 24)
    truth = 50 + 10 * np.sin(2 * np.pi * t / 24) + 3 * np.sin(2 * np.pi * t / 168)
    assert np.abs(out.values["mean"].to_numpy() - truth).mean() < 1.0
    assert out.chosen == {"s0": "mstl_arima"}


def test_a_forecast_pickles_for_other_processes(fc):
    import pickle

    back = pickle.loads(pickle.dumps(fc))
    pd.testing.assert_frame_equal(back.values, fc.values)
    assert back.chosen == fc.chosen and back.levels == fc.levels


def test_quantile_column_names():
    assert quantile_column(80) == "hi-80"
    assert quantile_column(95, upper=False) == "lo-95"


def test_constant_series_get_their_constant_with_zero_width_intervals_and_a_warning():
    df = hourly(1, days=15)
    flat = df.assign(unique_id="flat", y=0.0)
    out = forecast(pd.concat([df, flat]), horizon=6, n_windows=1)
    f = out.values[out.values["unique_id"] == "flat"]
    assert (f[["mean", "lo-80", "hi-80"]] == 0.0).all().all()
    assert out.chosen["flat"] == "constant"
    assert any("'flat'" in r and "constant" in r for r in out.repairs)


def test_non_negative_history_gives_non_negative_forecasts():
    df = hourly(1, days=15, level=2.0, daily=10.0)
    df["y"] = df["y"].clip(lower=0)
    out = forecast(df, horizon=24, n_windows=1)
    assert (out.values[["mean", "lo-80", "hi-80"]] >= 0).all().all()


def test_repairs_flow_into_the_forecast():
    df = hourly(1, days=15).drop(index=range(100, 103))
    out = forecast(df, horizon=12, n_windows=1)
    assert any("3 missing hour(s)" in r for r in out.repairs)


def test_short_history_skips_the_backtest_and_says_so():
    out = forecast(hourly(1, days=3), horizon=48)
    assert out.scores.empty
    assert out.chosen == {"s0": "stl_ets"}
    assert any("too short to backtest" in r for r in out.repairs)


def test_zero_windows_skips_the_backtest():
    out = forecast(hourly(1, days=15), horizon=12, n_windows=0, models="seasonal_naive")
    assert out.scores.empty and out.chosen == {"s0": "seasonal_naive"}


def test_baseline_is_always_scored_but_chosen_only_when_requested():
    out = forecast(hourly(1, days=15), horizon=12, n_windows=1, models=["stl_arima"])
    assert set(out.scores["model"]) == {"stl_arima", "seasonal_naive"}
    assert out.chosen == {"s0": "stl_arima"}


def test_calibration_narrows_intervals_that_overcovered_in_the_backtest():
    # a few spikes early in the history inflate seasonal naive's residual spread, so its
    # own intervals are far too wide for the calm hours after them
    df = hourly(1, days=21, noise=0.5)
    df.loc[[200, 230, 260, 290, 320], "y"] += 40.0
    raw = forecast(df, horizon=24, models=["seasonal_naive"], calibrate=False)
    cal = forecast(df, horizon=24, models=["seasonal_naive"])
    width = lambda f: (f.values["hi-80"] - f.values["lo-80"]).mean()
    row = cal.scores.set_index("model").loc["seasonal_naive"]
    assert row["coverage-80"] > 0.95                 # the model's own intervals overcovered
    assert row["factor-80"] < 0.8
    assert width(cal) < width(raw)
    pd.testing.assert_series_equal(cal.values["mean"], raw.values["mean"])


def test_a_model_picked_for_its_small_backtest_errors_is_only_ever_widened(fc):
    for (uid, model), row in fc.scores.set_index(["unique_id", "model"]).iterrows():
        if not (model == fc.chosen[uid] == "median"):         # the median is kept by default
            assert row["factor-80"] >= 1.0 and row["factor-95"] >= 1.0
    lowest = forecast(hourly(2, days=21), horizon=24, levels=(80,), choice="lowest")
    assert (lowest.scores["factor-80"] >= 1.0).all()


def test_calibrated_intervals_are_the_models_scaled_by_the_reported_factor():
    df = hourly(2, days=21, noise=2.0)
    raw = forecast(df, horizon=24, models=["stl_ets"], calibrate=False).values
    cal = forecast(df, horizon=24, models=["stl_ets"])
    factors = cal.scores[cal.scores["model"] == "stl_ets"].set_index("unique_id")["factor-80"]
    k = cal.values["unique_id"].map(factors).to_numpy()
    v = cal.values
    np.testing.assert_allclose(v["hi-80"] - v["mean"], k * (raw["hi-80"] - raw["mean"]))
    np.testing.assert_allclose(v["mean"] - v["lo-80"], k * (raw["mean"] - raw["lo-80"]))
    assert not np.allclose(k, 1.0)


def test_calibration_widens_intervals_that_undercovered_in_the_backtest():
    df = hourly(1, days=21)
    raw = forecast(df, horizon=24, models=["mstl_arima"], calibrate=False)
    cal = forecast(df, horizon=24, models=["mstl_arima"])
    width = lambda f: (f.values["hi-80"] - f.values["lo-80"]).mean()
    coverage = raw.scores.set_index("model").at["mstl_arima", "coverage-80"]
    assert coverage < 0.75                        # MSTL's own intervals ignore seasonal noise
    assert width(cal) > width(raw)
    pd.testing.assert_series_equal(cal.values["mean"], raw.values["mean"])


def test_series_with_different_lengths_and_ends_are_forecast_from_their_own_end():
    a = hourly(["a"], days=15)
    b = hourly(["b"], days=8, start="2024-03-10T00:00Z")
    out = forecast(pd.concat([a, b]), horizon=4, n_windows=1)
    starts = out.values.groupby("unique_id")["ds"].min()
    assert starts["a"] == pd.Timestamp("2024-03-19T00:00Z")
    assert starts["b"] == pd.Timestamp("2024-03-18T00:00Z")


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"horizon": 0}, "horizon"),
    ({"horizon": 2.5}, "horizon"),
    ({"horizon": 4, "levels": (80, 100)}, "levels"),
    ({"horizon": 4, "levels": "80"}, "levels: '80' is not a whole percentage"),
    ({"horizon": 4, "levels": ["abc"]}, "levels: 'abc' is not a whole percentage"),
    ({"horizon": 4, "levels": np.float64(80.5)}, r"levels: .*80\.5\) is not a whole percentage"),
    ({"horizon": 4, "models": "prophet"}, "unknown model 'prophet'"),
    ({"horizon": 4, "freq": "MS"}, "freq"),
    ({"horizon": 4, "choice": "best"}, "'best' is not a choice rule"),
])
def test_bad_arguments_are_rejected_with_the_fix(kwargs, match):
    with pytest.raises(InputDataError, match=match):
        forecast(hourly(1, days=3), **kwargs)


def test_model_lists_parse_from_names_and_strings():
    assert parse_models("auto") == AUTO
    assert parse_models("stl_arima, theta") == (ModelName.STL_ARIMA, ModelName.THETA)
    assert parse_models(["SARIMA"]) == (ModelName.SARIMA,)
    assert len(parse_models("all")) == len(ModelName)


@pytest.mark.parametrize("model", [m.value for m in ModelName])
def test_every_model_forecasts_with_intervals(model):
    out = forecast(hourly(1, days=15), horizon=6, models=[model], n_windows=0)
    assert out.chosen == {"s0": model}
    assert (out.values["hi-80"] >= out.values["lo-80"]).all()


class _Boom:
    """A statsforecast-shaped model that raises on series above 60, like a diverging fit."""

    alias = "stl_arima"
    uses_exog = False

    def __repr__(self) -> str:
        return self.alias

    def new(self):
        return _Boom()

    def forecast(self, y, h, X=None, X_future=None, level=None, fitted=False):
        if y.mean() > 60:
            raise ValueError("optimiser diverged")
        out = {"mean": np.full(h, y[-1])}
        for lv in level or ():
            out[f"lo-{lv}"], out[f"hi-{lv}"] = np.full(h, y[-1] - 1), np.full(h, y[-1] + 1)
        return out


def test_a_model_failing_on_one_series_costs_only_that_series(monkeypatch):
    from forecasting import api, backtest

    real_build = api.build

    def fake(name, seasons):
        return _Boom() if name is ModelName.STL_ARIMA else real_build(name, seasons)

    monkeypatch.setattr(api, "build", fake)
    monkeypatch.setattr(backtest, "build", fake)
    df = pd.concat([hourly(["ok"], days=15), hourly(["bad"], days=15, level=80.0)])
    out = forecast(df, horizon=12, models=["stl_arima"], n_windows=1)
    assert out.chosen == {"bad": "seasonal_naive", "ok": "stl_arima"}
    bad = out.scores[(out.scores["unique_id"] == "bad") & (out.scores["model"] == "stl_arima")]
    assert bad["mae"].isna().all()
    assert any("'bad': stl_arima failed to fit in a backtest" in r and "optimiser diverged" in r
               for r in out.repairs)
    assert any("series 'bad': stl_arima failed to fit" in r and "seasonal_naive used instead" in r
               for r in out.repairs)
    assert np.isfinite(out.values["mean"]).all()


def test_weekly_naive_repeats_last_week():
    df = hourly(1, days=15)
    out = forecast(df, horizon=48, models=["weekly_naive"], n_windows=0)
    last_week = df["y"].to_numpy()[-168:-120]
    np.testing.assert_allclose(out.values["mean"].to_numpy(), last_week)


def test_median_is_the_pointwise_median_of_its_members_bounds_included():
    df = hourly(1, days=15, noise=3.0)
    members = ["seasonal_naive", "stl_ets", "weekly_naive"]
    parts = [forecast(df, horizon=24, models=[m], n_windows=0).values for m in members]
    out = forecast(df, horizon=24, models=["median"], n_windows=0)
    assert out.chosen == {"s0": "median"}
    for col in ("mean", "lo-80", "hi-80"):
        stack = np.column_stack([p[col].to_numpy() for p in parts])
        np.testing.assert_allclose(out.values[col].to_numpy(), np.median(stack, axis=1))
    # the members differ, so the median is not just one of them everywhere
    assert not all(np.allclose(out.values["mean"], p["mean"]) for p in parts)


def test_median_is_scored_in_the_backtest_without_its_members_being_reported():
    out = forecast(hourly(1, days=15), horizon=12, n_windows=2, models=["median"])
    assert set(out.scores["model"]) == {"median", "seasonal_naive"}
    assert out.scores["windows"].eq(2).all()
    assert out.chosen == {"s0": "median"}


def test_a_failing_member_fails_the_median_for_that_series_only(monkeypatch):
    from forecasting import api, backtest

    real_build = api.build

    def fake(name, seasons):
        if name is ModelName.STL_ETS:
            boom = _Boom()
            boom.alias = "stl_ets"
            return boom
        return real_build(name, seasons)

    monkeypatch.setattr(api, "build", fake)
    monkeypatch.setattr(backtest, "build", fake)
    df = pd.concat([hourly(["ok"], days=15), hourly(["bad"], days=15, level=80.0)])
    out = forecast(df, horizon=12, models=["median"], n_windows=1)
    assert out.chosen == {"bad": "seasonal_naive", "ok": "median"}
    assert any("'bad': median failed to fit in a backtest" in r and "member stl_ets" in r
               for r in out.repairs)
    assert np.isfinite(out.values["mean"]).all()


def test_default_windows_spend_a_fixed_budget_of_fits():
    from forecasting.api import FIT_BUDGET, MAX_WINDOWS, MIN_WINDOWS, default_windows
    assert [default_windows(n) for n in (0, 1, 444, 445, 800, 1000, 5000)] == [8, 8, 8, 7, 4, 3, 3]
    for n in range(1, 1001):          # never more fits than 1,000 series x (3 + 1)
        assert n * (default_windows(n) + 1) <= FIT_BUDGET
        assert MIN_WINDOWS <= default_windows(n) <= MAX_WINDOWS


def test_default_windows_as_many_as_the_history_allows():
    # 15 days of hourly history, 12-step forecasts: the weekly naive needs 169 steps, so
    # (360 - 169) // 12 = 15 windows fit; the default takes 8 for one series
    long = forecast(hourly(1, days=15), horizon=12, models=["median"])
    assert long.scores["windows"].eq(8).all()
    # 9 days (no weekly season: stl_ets needs 2 x 24 + 1 steps), 48-step forecasts:
    # (216 - 49) // 48 = 3 windows fit, fewer than the default
    short = forecast(hourly(1, days=9), horizon=48, models=["median"])
    assert short.scores["windows"].eq(3).all()


@pytest.mark.parametrize(("freq", "seasons"), [("h", (24, 168)), ("15min", (96, 672)),
                                               ("30min", (48, 336)), ("D", (7,)), ("7D", ()),
                                               ("7h", (24,))])
def test_default_seasons_are_a_day_and_a_week_in_steps_of_the_frequency(freq, seasons):
    from forecasting.api import seasons_for
    assert seasons_for(freq) == seasons


def test_daily_history_gets_a_weekly_season_by_default():
    # 120 days with a weekday/weekend rhythm: weekly_naive copies last week (7 steps), not
    # the value 168 days back (the hourly default a daily history used to get)
    ds = pd.date_range("2024-01-01", periods=120, freq="D", tz="UTC")
    y = 100 + 20 * (ds.dayofweek >= 5) + np.random.default_rng(1).normal(0, 1, 120)
    df = pd.DataFrame({"unique_id": "d", "ds": ds, "y": y})
    out = forecast(df, horizon=7, freq="D", models=["weekly_naive"], n_windows=0)
    np.testing.assert_allclose(out.values["mean"].to_numpy(), y[-7:])


def test_errors_name_the_history_source():
    empty = pd.DataFrame({"unique_id": [], "ds": [], "y": []})
    with pytest.raises(InputDataError, match=r"^cluster\.csv: has no rows"):
        forecast(empty, horizon=2, source="cluster.csv")


def test_intervals_of_several_levels_nest_even_when_their_factors_cross():
    # calibrated per level, a 99 % factor well under the 95 % one put hi-99 under hi-95
    from forecasting.api import _to_values
    from forecasting.backtest import Backtest
    ds = pd.date_range("2024-01-01", periods=2, freq="h", tz="UTC")
    raw = pd.DataFrame({"unique_id": "a", "ds": ds, "m": [10.0, 10.0],
                        "m-lo-95": [6.0, 6.0], "m-hi-95": [14.0, 14.0],
                        "m-lo-99": [5.0, 5.0], "m-hi-99": [15.0, 15.0]})
    bt = Backtest(scores=pd.DataFrame(), chosen={"a": "m"}, skipped=(),
                  width_factors={("a", "m", 95): 1.0, ("a", "m", 99): 0.5})
    out = _to_values(raw, "m", bt, (95, 99))
    assert out["hi-99"].tolist() == [14.0, 14.0] and out["lo-99"].tolist() == [6.0, 6.0]
    assert out["hi-95"].tolist() == [14.0, 14.0]


def test_a_numpy_level_is_one_level():
    assert forecast(hourly(1, days=3), horizon=2, levels=np.int64(80), n_windows=0).levels == (80,)
