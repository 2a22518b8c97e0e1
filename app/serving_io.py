"""Serving demand from request history (I/O side): the forecast's upper band per hour.

A serving entry may give ``demand_history: FILE`` (CSV/Parquet in the forecasting frame
contract ``unique_id, ds, y``, or just ``ds, y``; ``y`` in requests/s, one row per hour;
a relative path counts from the workloads file) instead of ``demand_rps``. The history
is forecast to the end of the plan's horizon (forecasting/, with backtested intervals)
and the upper bound of the central ``demand_level`` % interval becomes the demand of
each slot: replicas are sized for the high side of the forecast, not its mean. With
several series in the file, the one named like the workload is used.
"""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path

import pandas as pd

from app.errors import InputError
from forecasting import ForecastError, forecast
from forecasting.api import quantile_column
from forecasting.errors import SourceError
from forecasting.sources.files import read_history


def demand_from_history(path: Path, *, workload: str, level: int, start: datetime,
                        horizon_hours: int, source: str) -> tuple[float, ...]:
    """Requests/s per slot of the horizon: the ``hi-level`` bound of the forecast."""
    where = f"{source}: serving workload {workload!r}: demand_history {path}"
    try:
        frame = read_history(path)
        ids = sorted(frame["unique_id"].unique())
        if len(ids) > 1:
            if workload not in ids:
                raise InputError(source, f"demand_history {path} holds series {ids[:5]} but "
                                 f"none named {workload!r}", workload=workload,
                                 field="demand_history",
                                 fix="name the series like the workload or give one series")
            frame = frame[frame["unique_id"] == workload]
        last = pd.Timestamp(frame["ds"].max())
        last = last.tz_localize("UTC") if last.tzinfo is None else last.tz_convert("UTC")
        gap = math.ceil((pd.Timestamp(start) - last) / pd.Timedelta(hours=1))
        if gap < 1:
            raise InputError(source, f"demand_history runs to {last:%Y-%m-%dT%H:%MZ}, past "
                             f"the plan start {start:%Y-%m-%dT%H:%MZ}", workload=workload,
                             field="demand_history",
                             fix="give history that ends before the plan starts")
        fc = forecast(frame, horizon=gap - 1 + horizon_hours, levels=(level,))
    except (ForecastError, SourceError, ValueError) as exc:
        raise InputError(where, str(exc).splitlines()[0], field="demand_history") from None
    upper = fc.values.sort_values("ds")[quantile_column(level)].to_numpy()[gap - 1:]
    return tuple(max(0.0, float(v)) for v in upper)
