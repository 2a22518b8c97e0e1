"""What the planner reads off a forecast: capacity left over, and demand to serve.

Available capacity of series ``i`` (a cluster x accelerator) at hour ``t`` for level ``L``:

    available_{i,t} = max(0, capacity_i - max(0, hi-L_{i,t}))

(a load forecast below zero, possible for a series with negative values in its history,
counts as no load: nothing is ever more available than the cluster has).

``hi-L`` is the upper end of the central L % interval, i.e. the (50 + L/2) % quantile of the
forecast background load: with L = 80 the planner keeps the capacity that the unplanned load
leaves free in 9 hours out of 10. Serving demand is that same upper quantile of the request
forecast (never below zero), so replicas are sized for the busy side of the forecast.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from forecasting.api import Forecast, quantile_column
from forecasting.errors import InputDataError


def _upper(fc: Forecast, level: int) -> pd.Series:
    if isinstance(level, bool) or not isinstance(level, int | float) or not float(
            level).is_integer():
        raise InputDataError("level", f"{level!r} is not a whole percentage",
                             fix=f"use one of the forecast's levels {list(fc.levels)}")
    if int(level) not in fc.levels:
        raise InputDataError("level", f"{level} was not forecast; the forecast has levels "
                             f"{list(fc.levels)}", fix=f"forecast with levels including {level}")
    return fc.values[quantile_column(int(level))]


def available_capacity(capacity: Mapping[str, float], fc: Forecast, *, level: int) -> pd.DataFrame:
    """unique_id, ds, available = max(0, capacity[unique_id] - max(0, hi-level)) for every
    forecast row.

    Every forecast series needs a capacity; capacities without a forecast are ignored.
    """
    upper = _upper(fc, level)
    for uid, cap in capacity.items():
        if (isinstance(cap, bool) or not isinstance(cap, int | float | np.number)
                or not np.isfinite(cap) or cap < 0):
            raise InputDataError("capacity", f"{cap!r} is not a finite number >= 0", series=uid,
                                 fix="give the GPUs the cluster has for that accelerator")
    ids = fc.values["unique_id"]
    missing = sorted(set(ids) - set(capacity))
    if missing:
        raise InputDataError("capacity", f"no capacity for forecast series {missing[:5]}",
                             fix="add them to the capacity mapping (same ids as the history)")
    cap = ids.map(lambda u: float(capacity[u]))
    return pd.DataFrame({"unique_id": ids, "ds": fc.values["ds"],
                         "available": (cap - upper.clip(lower=0.0)).clip(lower=0.0)}
                        ).reset_index(drop=True)


def demand_at(fc: Forecast, *, level: int) -> pd.DataFrame:
    """unique_id, ds, demand = the hi-level forecast (upper quantile), at least 0."""
    return pd.DataFrame({"unique_id": fc.values["unique_id"], "ds": fc.values["ds"],
                         "demand": _upper(fc, level).clip(lower=0.0)}).reset_index(drop=True)
