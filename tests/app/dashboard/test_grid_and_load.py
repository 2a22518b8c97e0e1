"""Forecast against actual on a real trace; forecast cluster load against capacity."""

from __future__ import annotations

import json
import math
from datetime import timedelta

import pandas as pd
import pytest

from app.dashboard import env, grid, load
from app.store import Store
from tests.app.dashboard.conftest import no_exception, run_page

DACF = "carbon_intensity/dacf_dayahead_forecasts_2021/CISO_dayahead_ci_forecast_vs_actual.csv"


@pytest.fixture
def ciso_trace(shared_data):
    path = shared_data / DACF
    if not path.is_file():
        pytest.skip(f"{path} not found (shared data, SOURCES.md section 1c)")
    return path


def test_a_day_ahead_forecast_is_scored_against_the_actual_trace(ciso_trace):
    actuals = grid.actuals(grid.TraceFile(zone="US-CAL-CISO", paths=(ciso_trace,)))
    origin = actuals.first_origin + timedelta(days=30)
    frame, scores = grid.forecast_vs_actual(actuals, origin, hours=24)
    assert len(frame) == 24 and frame["ds"].iloc[0] == pd.Timestamp(origin)
    assert (frame["lo"] <= frame["mean"] + 1e-9).all()
    assert (frame["mean"] <= frame["hi"] + 1e-9).all()
    truth = actuals.actual.window(origin, 24).g_per_kwh
    assert list(frame["actual"]) == list(truth)
    assert "published" in frame  # the DACF file carries its own day-ahead forecast
    for key in ("mape_forecast", "mape_persistence", "mape_published"):
        assert math.isfinite(scores[key]) and scores[key] >= 0
    assert 0 <= scores["coverage"] <= 100


def test_an_origin_without_enough_history_is_refused_with_the_range(ciso_trace):
    actuals = grid.actuals(grid.TraceFile(zone="US-CAL-CISO", paths=(ciso_trace,)))
    with pytest.raises(ValueError, match="pick one between"):
        grid.forecast_vs_actual(actuals, actuals.actual.start, hours=24)


def test_the_carbon_page_compares_forecast_and_actual_from_a_trace(ciso_trace, demo_url,
                                                                   dashboard_env):
    dashboard_env(**{env.CARBON_TRACES: f"US-CAL-CISO={ciso_trace}"})
    at = run_page("carbon")
    no_exception(at)
    values = {m.label: m.value for m in at.metric}
    assert values["Forecast error (MAPE)"].endswith("%")
    assert values["Published forecast (MAPE)"] != "n/a"
    charts = at.get("plotly_chart")
    assert len(charts) == 2  # the heatmap and forecast against actual


def _history(path, start, *, days: int = 10):
    ds = pd.date_range(start - timedelta(days=days), start - timedelta(hours=1), freq="h")
    busy = [4 + 3 * math.sin(2 * math.pi * t.hour / 24) for t in ds]  # a daily cycle
    pd.DataFrame({"unique_id": "use1-gpu/H100", "ds": ds, "y": busy}).to_csv(path, index=False)


def test_planned_gpus_hold_every_hour_they_touch():
    t0 = pd.Timestamp("2026-11-23T00:00Z")
    frame = pd.DataFrame([{"cluster": "c", "accelerator": "H100", "gpus": 4, "replicas": 1,
                           "start": t0 + pd.Timedelta(minutes=30),
                           "end": t0 + pd.Timedelta(hours=2, minutes=6), "kind": "training"}])
    out = load.planned_gpus(frame, start=t0.to_pydatetime(), hours=48)
    assert list(out["gpus"]) == [4, 4, 4] and set(out["series"]) == {"c/H100"}


def test_capacity_page_draws_the_forecast_load_with_its_interval(demo_url, dashboard_env,
                                                                 tmp_path):
    store = Store(demo_url)
    stored = store.load_plan()
    store.close()
    path = tmp_path / "usage.csv"
    _history(path, stored.plan.horizon_start)
    dashboard_env(**{env.LOAD_HISTORY: str(path)})
    at = run_page("capacity")
    no_exception(at)
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    specs = {s["layout"]["title"]["text"]: s for s in specs if s["layout"].get("title")}
    names = {t.get("name") for t in specs["use1-gpu/H100"]["data"]}
    assert {"forecast load (mean)", "forecast load interval"} <= names
    fc = load.load_forecast(str(path), start=stored.plan.horizon_start,
                            hours=stored.plan.horizon_hours, fleet=None)
    assert len(fc) == stored.plan.horizon_hours and (fc["lo"] <= fc["hi"]).all()
    assert fc["free"].isna().all()  # no fleet given: no capacity to subtract from
