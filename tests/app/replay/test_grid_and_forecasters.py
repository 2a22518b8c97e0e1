"""Carbon traces on the replay timeline and what each forecaster shows the planner."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from app.errors import InputError
from app.replay.forecasters import Forecaster, ForecastKind, persistence
from app.replay.grid import load_grid

from .conftest import grid_of

CI = "carbon_intensity"


def test_persistence_repeats_the_last_known_day():
    actual = np.arange(100.0)
    assert persistence(actual, 48, 30).tolist() == list(range(24, 48)) + list(range(24, 30))


def test_oracle_shows_the_actual_and_persistence_same_hour_yesterday():
    grid = grid_of({-24 + 5: 7.0, 5: 99.0})
    assert Forecaster(grid, ForecastKind.ORACLE).view("GB", 0, 8)[5] == 99.0
    assert Forecaster(grid, ForecastKind.PERSISTENCE).view("GB", 0, 8)[5] == 7.0


def test_provider_file_shows_the_published_values_and_fills_gaps_by_persistence():
    grid = grid_of({-24 + 1: 5.0}, published={0: 42.0})
    f = Forecaster(grid, ForecastKind.PROVIDER_FILE)
    view = f.view("GB", 0, 2)
    assert view.tolist() == [42.0, 5.0]
    assert sum(f.notes.values()) == 1


def test_the_model_forecast_is_issued_daily_from_history_only():
    rng = np.random.default_rng(0)
    grid = grid_of({h: 100 + 50 * np.sin(h / 24 * 2 * np.pi) + rng.normal(0, 1)
                    for h in range(-48, 48)})
    f = Forecaster(grid, ForecastKind.MODEL, history_days=2, horizon_h=48)
    f.history_days = 2
    # under 7 days of history: the model is not asked, persistence is shown, and said so
    assert f.view("GB", 3, 4).tolist() == persistence(grid.zone("GB").actual, 48 + 3, 4).tolist()
    assert any("history" in k for k in f.notes)


def test_the_model_never_sees_the_hours_it_forecasts():
    def daily(h):
        return 100 + 50 * np.sin(h / 24 * 2 * np.pi)
    shape = {h: daily(h) for h in range(-240, 48)}
    future_changed = {**shape, **{h: 1000.0 for h in range(48)}}
    a = Forecaster(grid_of(shape, history=240), ForecastKind.MODEL, history_days=8,
                   horizon_h=48)
    b = Forecaster(grid_of(future_changed, history=240), ForecastKind.MODEL, history_days=8,
                   horizon_h=48)
    va, vb = a.view("GB", 5, 24), b.view("GB", 5, 24)  # issued at 00:00, 5 h earlier
    assert va.tolist() == vb.tolist()
    assert np.abs(va - [daily(h) for h in range(5, 29)]).mean() < 25  # it learnt the day
    assert not a.notes


def test_lets_wait_awhile_15_minute_data_becomes_hourly_means(shared_data):
    path = shared_data / CI / "lets_wait_awhile_2020" / "ger_ci.csv"
    origin = datetime(2020, 1, 1, tzinfo=UTC)
    grid = load_grid({"DE": [path]}, origin=origin, n_slots=24, history_h=24, tail_h=24)
    import pandas as pd
    raw = pd.read_csv(path, parse_dates=["Time"]).set_index("Time")["Carbon Intensity"]
    first_hour = raw["2020-01-01 00:00":"2020-01-01 00:45"].mean()
    assert grid.zone("DE").actual_at(0, 1)[0] == pytest.approx(first_hour)


def test_a_dacf_file_brings_its_published_day_ahead_forecast(shared_data):
    path = shared_data / CI / "dacf_dayahead_forecasts_2021" / "CISO_dayahead_ci_forecast_vs_actual.csv"
    grid = load_grid({"US-CAL-CISO": [path]}, origin=datetime(2021, 8, 1, tzinfo=UTC),
                     n_slots=48, history_h=24, tail_h=24)
    z = grid.zone("US-CAL-CISO")
    assert z.published is not None and not np.isnan(z.published[z.offset:z.offset + 48]).any()
    view = Forecaster(grid, ForecastKind.PROVIDER_FILE).view("US-CAL-CISO", 0, 24)
    assert view.tolist() == z.published[z.offset:z.offset + 24].tolist()


def test_a_window_outside_the_trace_is_refused_with_the_fix(shared_data):
    path = shared_data / CI / "electricitymaps_hourly" / "GB_2023_hourly.csv"
    with pytest.raises(InputError, match="narrow the window"):
        load_grid({"GB": [path]}, origin=datetime(2022, 12, 31, tzinfo=UTC), n_slots=48)
