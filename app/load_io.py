"""Capacity the clusters' own load leaves, forecast from usage history (I/O side).

``--load-history FILE`` is a CSV/Parquet in the forecasting frame contract
(``unique_id, ds, y``) with one series per ``<cluster>/<accelerator>``: GPUs
in use by work gridshift does not plan. It is forecast to the end of the
plan's look-ahead and the upper bound at ``--load-level`` is reserved
(planner/load.py). What forecasting repaired or noticed in the history (gaps filled,
extreme values, stale series) is logged as a warning naming the file.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime
from pathlib import Path

import pandas as pd

from app.errors import InputError
from forecasting import ForecastError, forecast
from forecasting.sources.files import read_history
from planner.domain import Fleet
from planner.load import reserved_from_forecast

log = logging.getLogger("gridshift.inputs")


def reserved_from_history(path: Path, *, level: int, fleet: Fleet, start: datetime,
                          slots: int) -> dict[tuple[tuple[str, str], int], int]:
    try:
        frame = read_history(path)
        last = pd.Timestamp(frame["ds"].max())
        last = last.tz_localize("UTC") if last.tzinfo is None else last.tz_convert("UTC")
        gap = math.ceil((pd.Timestamp(start) - last) / pd.Timedelta(hours=1))
        if gap < 1:
            raise InputError(str(path), f"history runs to {last:%Y-%m-%dT%H:%MZ}, past the plan "
                             f"start {start:%Y-%m-%dT%H:%MZ}", field="ds",
                             fix="give history that ends before the plan starts")
        fc = forecast(frame, horizon=gap - 1 + slots, levels=(level,), source=str(path))
        for line in fc.repairs:
            log.warning("%s: %s", path, line)
        return reserved_from_forecast(fc, level=level, fleet=fleet, horizon_start=start,
                                      slots=slots)
    except ForecastError as exc:
        raise InputError(str(path), str(exc).splitlines()[0]) from None
    except ValueError as exc:
        raise InputError(str(path), str(exc).splitlines()[0]) from None
