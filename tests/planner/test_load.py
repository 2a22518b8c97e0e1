"""Forecast background load turns into capacity the planner may not use."""

from __future__ import annotations

import pandas as pd
import pytest

from forecasting import Forecast
from planner.domain import Objective
from planner.load import reserved_from_forecast
from planner.solve import plan
from tests.planner.factory import T0, job, problem


def _forecast(series: str, hi: list[float]) -> Forecast:
    ds = pd.date_range(T0, periods=len(hi), freq="h", tz="UTC")
    values = pd.DataFrame({"unique_id": series, "ds": ds, "mean": hi, "lo-80": hi, "hi-80": hi,
                           "model": "test"})
    return Forecast(values=values, levels=(80,), chosen={series: "test"}, scores=pd.DataFrame(),
                    repairs=())


def test_forecast_load_reserves_gpus_and_the_plan_keeps_clear():
    p = problem([job("a", gpus=8, hours=2, deadline_h=24)])
    # the clean cluster is fully loaded for the first 12 hours
    fc = _forecast("clean-c/A100-80GB", [8.0] * 12 + [0.0] * 30)
    reserved = reserved_from_forecast(fc, level=80, fleet=p.fleet, horizon_start=T0, slots=42)
    assert reserved[(("clean-c", "A100-80GB"), 0)] == 8 and (("clean-c", "A100-80GB"), 12) \
        not in reserved
    import dataclasses
    loaded = dataclasses.replace(p, reserved_gpus=reserved)
    (a,) = plan(loaded, objective=Objective.CARBON, time_limit_s=5, workers=1).assignments
    assert a.region == "clean" and a.start >= T0 + pd.Timedelta(hours=12)


def test_unknown_series_is_named():
    p = problem([job("a")])
    with pytest.raises(ValueError, match="names no cluster"):
        reserved_from_forecast(_forecast("nowhere/H100", [1.0]), level=80, fleet=p.fleet,
                               horizon_start=T0, slots=10)
