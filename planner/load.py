"""Capacity left by the clusters' own load, from a forecast at a chosen quantile.

Each cluster runs work gridshift does not plan (interactive notebooks,
services, other teams). Its GPU use is forecast per series
``"<cluster>/<accelerator>"`` (forecasting/); the planner may use

    available(r, t) = max(0, capacity_r - ceil(hi_L(r, t)))

where hi_L is the upper bound of the central L % prediction interval: at
L = 80 the planner keeps clear of the load 90 % of the time. The GPUs taken by
the forecast load become reservations of planner/capacity.py.
"""

from __future__ import annotations

import math
from datetime import datetime

from forecasting import Forecast, quantile_column
from planner.domain import HOUR, Fleet


def reserved_from_forecast(fc: Forecast, *, level: int, fleet: Fleet, horizon_start: datetime,
                           slots: int) -> dict[tuple[tuple[str, str], int], int]:
    """GPUs per ((cluster, accelerator), slot) that the forecast load takes."""
    if level not in fc.levels:
        raise ValueError(f"forecast has levels {fc.levels}, not {level}; forecast at {level} %")
    capacity = {(c.name, a): g for c in fleet.clusters for a, g in c.capacity_gpus.items()}
    column = quantile_column(level, upper=True)
    reserved: dict[tuple[tuple[str, str], int], int] = {}
    for row in fc.values[["unique_id", "ds", column]].itertuples(index=False):
        cluster, _, accelerator = str(row.unique_id).partition("/")
        if (cluster, accelerator) not in capacity:
            raise ValueError(f"load series {row.unique_id!r} names no cluster/accelerator of the "
                             f"fleet; name series '<cluster>/<accelerator>', e.g. "
                             f"{next(iter(capacity))[0]}/{next(iter(capacity))[1]}")
        t = (row.ds.to_pydatetime() - horizon_start) / HOUR
        if t != int(t) or not 0 <= t < slots:
            continue
        value = row[2]
        gpus = min(capacity[(cluster, accelerator)], max(0, math.ceil(float(value) - 1e-9)))
        if gpus:
            reserved[((cluster, accelerator), int(t))] = gpus
    return reserved
