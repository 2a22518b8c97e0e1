"""The candidate models, by name, built from statsforecast for a series' usable seasons.

Every model gives a mean forecast and central prediction intervals at the requested levels.
``m`` is the shortest usable season, ``S`` the set of usable seasons (see ``frame.prepare``).

    seasonal_naive  yhat_{T+k} = y_{T+k-m*ceil(k/m)}; intervals from the in-sample residuals of
                    that rule. The baseline every MASE is measured against. (No season: naive,
                    yhat = y_T.)
    weekly_naive    the same rule at the longest usable season M (a week for hourly data):
                    next Tuesday 9:00 is last Tuesday 9:00. Strong on demand with a weekly
                    rhythm (weekday/weekend). (Only one season: as seasonal_naive.)
    stl_ets         STL at m: the seasonal part carried forward as seasonal naive, the rest by
                    simple exponential smoothing, ETS(A,N,N) with alpha by maximum likelihood
                    (level + today's daily shape). Cheap: about 8 ms per series and fit on
                    4 weeks of hourly data, against 50-80 ms for the ARIMA and AutoETS
                    variants, and as accurate as them on the shared cluster traces.
    stl_arima       STL at m only (Cleveland et al. 1990): the seasonal part is carried forward
                    as seasonal naive, the rest (trend + remainder) by ARIMA(2,0,1) with a mean,
                    fitted by maximum likelihood. Intervals: the ARIMA ones.
    mstl_arima      the same with MSTL (Bandara, Hyndman & Bergmeir 2021): iterated STL removes
                    one seasonal component per season in S (daily and weekly for hourly data).
    mstl_ets        MSTL, the rest by AutoETS without season (Hyndman et al. 2002 state-space
                    ETS, model chosen by AICc, damped trend allowed).
    mstl_autoarima  MSTL, the rest by a small stepwise AutoARIMA (p <= 2, q <= 1, d <= 1;
                    Hyndman & Khandakar 2008). Several times slower than mstl_arima.
    sarima          ARIMA(2,0,0)(0,1,1)_m by maximum likelihood: seasonal differencing plus
                    short-term autoregression. Strong on step-like cluster load, slower.
    median          the pointwise median of seasonal_naive, stl_ets and weekly_naive, bounds
                    included (a combination: see ``forecasting.ensemble``).
    theta           Dynamic Optimized Theta (Fiorucci et al. 2016) on the series deseasonalised
                    by classical multiplicative decomposition at m.

STL smoothing uses R's default interpolation jumps (``ceil(window / 10)``) for trend and
low-pass: statsmodels defaults to 1 (every point), which is several times slower on hourly
data with a weekly season and, measured on the shared carbon traces, no more accurate.
Intervals of every model are recalibrated from the backtest (see ``calibrate``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from statsforecast.models import (
    ARIMA,
    MSTL,
    AutoARIMA,
    AutoETS,
    DynamicOptimizedTheta,
    Naive,
    SeasonalNaive,
)

from forecasting.errors import InputDataError


class ModelName(StrEnum):
    SEASONAL_NAIVE = "seasonal_naive"
    WEEKLY_NAIVE = "weekly_naive"
    STL_ETS = "stl_ets"
    STL_ARIMA = "stl_arima"
    MSTL_ARIMA = "mstl_arima"
    MSTL_ETS = "mstl_ets"
    MSTL_AUTOARIMA = "mstl_autoarima"
    SARIMA = "sarima"
    THETA = "theta"
    MEDIAN = "median"


BASELINE = ModelName.SEASONAL_NAIVE
# The automatic candidates: cheap enough to backtest 1,000 series in about half a minute on
# 2 cores (benchmarks/forecast_speed.py); on the shared cluster traces (GPU load, LoRA
# requests) more accurate than the ARIMA-on-STL models, on grid carbon intensity less
# (benchmarks/forecast_accuracy.py; see THOROUGH).
AUTO: tuple[ModelName, ...] = (ModelName.SEASONAL_NAIVE, ModelName.STL_ETS, ModelName.WEEKLY_NAIVE,
                               ModelName.MEDIAN)
# Combinations (forecasting.ensemble): made from their members' forecasts, not fitted.
MEMBERS: dict[ModelName, tuple[ModelName, ...]] = {
    ModelName.MEDIAN: (ModelName.SEASONAL_NAIVE, ModelName.STL_ETS, ModelName.WEEKLY_NAIVE),
}
# "thorough": auto plus the ARIMA-on-STL/MSTL models, 5-10 times slower per series. For a
# handful of long, smooth series where time does not matter (grid carbon intensity: on the
# shared Electricity Maps traces stl_arima alone scores 0.84 x seasonal naive MASE, stl_ets
# 0.96).
THOROUGH: tuple[ModelName, ...] = (*AUTO, ModelName.STL_ARIMA, ModelName.MSTL_ARIMA)
CONSTANT = "constant"   # name recorded in ``Forecast.chosen`` for constant series


def parse_models(models: str | Sequence[str]) -> tuple[ModelName, ...]:
    """``"auto"``, ``"thorough"``, ``"all"``, one name, a comma-separated string, or a
    sequence of names."""
    if isinstance(models, str):
        key = models.strip().lower()
        if key == "auto":
            return AUTO
        if key == "thorough":
            return THOROUGH
        if key == "all":
            return tuple(ModelName)
        models = [part for part in key.split(",") if part.strip()]
    names: list[ModelName] = []
    for raw in models:
        try:
            name = ModelName(str(raw).strip().lower())
        except ValueError:
            raise InputDataError("models", f"unknown model {raw!r}",
                                 fix="use 'auto', 'thorough', 'all' or some of "
                                     f"{[m.value for m in ModelName]}"
                                 ) from None
        if name not in names:
            names.append(name)
    if not names:
        raise InputDataError("models", "no model given", fix="use 'auto' or a model name")
    return tuple(names)


def _stl_kwargs(seasons: Sequence[int]) -> dict[str, int]:
    """R's stl() jumps, ceil(window / 10), for the trend and low-pass windows of the
    shortest season.

    MSTL passes one set of STL options to every season; the shortest season's windows are the
    narrowest, so its jumps are the coarsest that are safe for all of them.
    """
    m = min(seasons)
    s_window = 11                                          # MSTL's seasonal window for it
    trend = math.ceil(1.5 * m / (1 - 1.5 / s_window))
    trend += 1 - trend % 2
    low_pass = m + 1 - m % 2
    return {"trend_jump": math.ceil(trend / 10), "low_pass_jump": math.ceil(low_pass / 10)}


_DECOMPOSED = (ModelName.STL_ETS, ModelName.STL_ARIMA, ModelName.MSTL_ARIMA, ModelName.MSTL_ETS,
               ModelName.MSTL_AUTOARIMA)


def _rest(name: ModelName) -> Any:
    """The model of trend + remainder after (M)STL."""
    if name is ModelName.STL_ETS:
        return AutoETS(model="ANN")
    if name is ModelName.MSTL_ETS:
        return AutoETS(model="ZZN")
    if name is ModelName.MSTL_AUTOARIMA:
        return AutoARIMA(seasonal=False, approximation=True, max_p=2, max_q=1, max_d=1,
                         nmodels=10)
    return ARIMA(order=(2, 0, 1), include_mean=True)


def build(name: ModelName, seasons: Sequence[int]) -> Any:
    """The statsforecast model for ``name`` on a series with usable ``seasons`` (alias = name)."""
    seasons = tuple(sorted(s for s in seasons if s > 1))
    m = seasons[0] if seasons else 1
    alias = name.value
    if name is ModelName.SEASONAL_NAIVE:
        return SeasonalNaive(season_length=m, alias=alias) if seasons else Naive(alias=alias)
    if name is ModelName.WEEKLY_NAIVE:
        return (SeasonalNaive(season_length=seasons[-1], alias=alias) if seasons
                else Naive(alias=alias))
    if name in _DECOMPOSED:
        rest = _rest(name)
        used = seasons[:1] if name in (ModelName.STL_ARIMA, ModelName.STL_ETS) else seasons
        if not used:
            rest.alias = alias
            return rest
        return MSTL(season_length=list(used), trend_forecaster=rest,
                    stl_kwargs=_stl_kwargs(used), alias=alias)
    if name is ModelName.SARIMA:
        if not seasons:
            return ARIMA(order=(2, 1, 0), alias=alias)
        return ARIMA(order=(2, 0, 0), seasonal_order=(0, 1, 1), season_length=m, alias=alias)
    if name is ModelName.THETA:
        return DynamicOptimizedTheta(season_length=m, alias=alias)
    raise AssertionError(f"{name} is not fitted by statsforecast")


def min_train(name: ModelName, seasons: Sequence[int]) -> int:
    """Fewest observations ``name`` can be fitted on with these seasons."""
    if name in MEMBERS:
        return max(min_train(part, seasons) for part in MEMBERS[name])
    seasons = sorted(s for s in seasons if s > 1)
    if name is ModelName.SEASONAL_NAIVE:
        return max(2, seasons[0] + 1 if seasons else 2)
    if name is ModelName.WEEKLY_NAIVE:
        return max(2, seasons[-1] + 1 if seasons else 2)
    single = (ModelName.STL_ETS, ModelName.STL_ARIMA, ModelName.SARIMA, ModelName.THETA)
    used = seasons[:1] if name in single else seasons
    return max(2 * max(used, default=1) + 1, 10)
