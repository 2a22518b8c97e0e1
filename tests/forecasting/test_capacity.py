"""Capacity left for the planner and demand to serve, read off a forecast."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from forecasting import Forecast, InputDataError
from forecasting.capacity import available_capacity, demand_at


def _fc(hi: list[float], uid: str = "eu-1/A100") -> Forecast:
    ds = pd.date_range("2024-01-01", periods=len(hi), freq="h", tz="UTC")
    values = pd.DataFrame({"unique_id": uid, "ds": ds, "mean": [h / 2 for h in hi],
                           "lo-80": [-1.0] * len(hi), "hi-80": hi, "model": "x"})
    return Forecast(values=values, levels=(80,), chosen={uid: "x"}, scores=pd.DataFrame(),
                    repairs=())


def test_available_is_capacity_minus_upper_bound_never_below_zero():
    out = available_capacity({"eu-1/A100": 10.0}, _fc([3.0, 9.5, 12.0]), level=80)
    assert list(out.columns) == ["unique_id", "ds", "available"]
    assert out["available"].tolist() == [7.0, 0.5, 0.0]


def test_demand_is_the_upper_quantile_never_below_zero():
    out = demand_at(_fc([3.0, -2.0]), level=80)
    assert out["demand"].tolist() == [3.0, 0.0]


def test_a_level_that_was_not_forecast_is_refused():
    with pytest.raises(InputDataError, match="levels \\[80\\]"):
        demand_at(_fc([1.0]), level=95)


def test_every_forecast_series_needs_a_capacity():
    with pytest.raises(InputDataError, match="no capacity for forecast series \\['eu-1/A100'\\]"):
        available_capacity({"us-2/H100": 8.0}, _fc([1.0]), level=80)


def test_negative_capacity_is_refused():
    with pytest.raises(InputDataError, match="series 'eu-1/A100'"):
        available_capacity({"eu-1/A100": -1.0}, _fc([1.0]), level=80)


@given(cap=st.floats(0, 1e4), hi=st.lists(st.floats(-1e4, 1e4), min_size=1, max_size=20))
def test_available_is_never_negative_and_never_above_capacity_minus_load(cap, hi):
    out = available_capacity({"eu-1/A100": cap}, _fc(hi), level=80)["available"]
    assert (out >= 0).all()
    assert (out <= cap).all()
    assert (out == (cap - pd.Series(hi).clip(lower=0)).clip(lower=0)).all()


def test_a_load_forecast_below_zero_frees_no_more_than_the_capacity():
    # a history with negative glitches can forecast a negative load: it counts as none
    out = available_capacity({"eu-1/A100": 10.0}, _fc([-5.2, 4.0]), level=80)
    assert out["available"].tolist() == [10.0, 6.0]


@pytest.mark.parametrize("cap", ["64", None, True])
def test_a_capacity_that_is_not_a_number_is_refused(cap):
    with pytest.raises(InputDataError, match="capacity: series 'eu-1/A100': .* is not a finite"):
        available_capacity({"eu-1/A100": cap}, _fc([1.0]), level=80)


@pytest.mark.parametrize("level", [80.5, "80", True])
def test_a_level_that_is_not_a_whole_percentage_is_refused(level):
    with pytest.raises(InputDataError, match="level: .* is not a whole percentage"):
        demand_at(_fc([1.0]), level=level)
