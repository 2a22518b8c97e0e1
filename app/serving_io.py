"""Serving entries of a workloads file, and their demand from request history (I/O side).

``serving_from_data`` turns the validated ``serving:`` entries (app/inputs.py) into
planner values, with one-line errors naming the workload and field.

A serving entry may give ``demand_history: FILE`` (CSV/Parquet in the forecasting frame
contract ``unique_id, ds, y``, or just ``ds, y``; ``y`` in requests/s, one row per hour;
a relative path counts from the workloads file) instead of ``demand_rps``. The history
is forecast to the end of the plan's horizon (forecasting/, with backtested intervals)
and the upper bound of the central ``demand_level`` % interval becomes the demand of
each slot: replicas are sized for the high side of the forecast, not its mean. With
several series in the file, the one named like the workload is used.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from app.errors import InputError
from app.input_schema import WorkloadsIn, validated
from app.inputs import read_yaml
from forecasting import ForecastError, forecast
from forecasting.api import quantile_column
from forecasting.errors import SourceError
from forecasting.sources.files import read_history
from planner.domain import Fleet
from planner.serving import GPU_MEMORY_GB, ServingWorkload, UserLocation, split_key
from pricing import mig

log = logging.getLogger("gridshift.inputs")


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
        fc = forecast(frame, horizon=gap - 1 + horizon_hours, levels=(level,), source=str(path))
    except (ForecastError, SourceError, ValueError) as exc:
        raise InputError(where, str(exc).splitlines()[0], field="demand_history") from None
    for line in fc.repairs:
        log.warning("%s: %s", where, line)
    upper = fc.values.sort_values("ds")[quantile_column(level)].to_numpy()[gap - 1:]
    return tuple(max(0.0, float(v)) for v in upper)


def load_serving(path: Path, fleet: Fleet, *, start: datetime,
                 horizon_hours: int) -> tuple[ServingWorkload, ...]:
    return serving_from_data(read_yaml(path), str(path), fleet, start=start,
                             horizon_hours=horizon_hours, base_dir=path.parent)


def serving_from_data(data: Any, source: str, fleet: Fleet, *, start: datetime,
                      horizon_hours: int, base_dir: Path | None = None
                      ) -> tuple[ServingWorkload, ...]:
    """The ``serving:`` entries of a workloads document (demand counts from the plan start;
    ``demand_history`` files are forecast, :func:`demand_from_history`)."""
    parsed = validated(WorkloadsIn, data, source, "workloads")
    regions = set(fleet.region_names)
    names = {w.name for w in parsed.workloads}
    out = []
    for w in parsed.serving:
        def fail(field: str, problem: str, fix: str = "", _name: str = w.name) -> InputError:
            return InputError(source, problem, fix=fix, workload=_name, field=field)

        if w.name in names:
            raise fail("name", "name appears twice", "give each workload a unique name")
        names.add(w.name)
        for key in w.throughput_rps:
            accelerator, profile_name = split_key(key)
            if accelerator not in GPU_MEMORY_GB:
                raise fail("throughput_rps", f"unknown accelerator {accelerator!r}",
                           f"use one of {', '.join(sorted(GPU_MEMORY_GB))}")
            if profile_name is not None:
                try:
                    p = mig.profile(accelerator, profile_name)
                except ValueError as exc:
                    raise fail("throughput_rps", str(exc),
                               "write accelerator:profile, e.g. A100-80GB:3g.40gb") from None
                if p.memory_gb < w.model_memory_gb:
                    raise fail("throughput_rps", f"{key} holds {p.memory_gb} GB, the model "
                               f"needs {w.model_memory_gb:g} GB",
                               "use a larger profile or whole GPUs")
        for field, region in [("home_region", w.home_region)] + [
                ("allowed_regions", r) for r in w.allowed_regions]:
            if region not in regions:
                raise fail(field, f"unknown region {region!r}",
                           f"use a region name of the fleet: {', '.join(sorted(regions))}")
        if w.latency_slo_ms is not None and not w.users:
            raise fail("users", "a latency SLO needs the users' locations",
                       "list users: [{name: .., lat: .., lon: ..}] or drop latency_slo_ms")
        if w.demand_history is not None:
            history = Path(w.demand_history)
            if not history.is_absolute() and base_dir is not None:
                history = base_dir / history
            demand = demand_from_history(history, workload=w.name, level=w.demand_level,
                                         start=start, horizon_hours=horizon_hours,
                                         source=source)
        elif isinstance(w.demand_rps, list):
            demand = tuple(w.demand_rps)
        else:
            demand = (w.demand_rps,)
        out.append(ServingWorkload(
            name=w.name, team=w.team, home_region=w.home_region,
            model_memory_gb=w.model_memory_gb, throughput_rps=dict(w.throughput_rps),
            demand_rps=demand, latency_slo_ms=w.latency_slo_ms,
            users=tuple(UserLocation(name=u.name, latitude=u.lat, longitude=u.lon)
                        for u in w.users),
            allowed_regions=tuple(w.allowed_regions), on_demand_floor=w.on_demand_floor,
            failover_fraction=w.failover_fraction, utilisation=w.utilisation))
    return tuple(out)
