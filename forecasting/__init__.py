"""Usage history -> forecasts with prediction intervals, and backtests.

The frame contract is the long table ``unique_id, ds, y`` (``ds`` tz-aware UTC on a regular
grid) that statsforecast uses. ``forecast()`` repairs what it can in the history (and says
so), picks a model per series by rolling-origin cross-validation on MASE, calibrates the
intervals on the same backtest and forecasts. ``capacity`` turns forecasts into what the
planner needs; ``sources`` load history from files, job tables and Prometheus. This package
imports no other gridshift package.
"""

from forecasting.api import Forecast, forecast, quantile_column
from forecasting.capacity import available_capacity, demand_at
from forecasting.errors import (
    EmptyResultError,
    EngineUnavailableError,
    ForecastError,
    InputDataError,
    PromQLError,
    SourceError,
)
from forecasting.models import ModelName

__all__ = [
    "EmptyResultError",
    "EngineUnavailableError",
    "Forecast",
    "ForecastError",
    "InputDataError",
    "ModelName",
    "PromQLError",
    "SourceError",
    "available_capacity",
    "demand_at",
    "forecast",
    "quantile_column",
]
