"""Capacity and demand: planned GPUs against capacity, forecast background load, serving.

    planned(c, a, h)   GPUs the plan holds on cluster c, accelerator a in hour h (a
                       workload holds every hour it touches, as the planner counts slots)
    capacity(c, a)     the fleet's GPUs (needs the plan's fleet)
    load(c, a, h)      forecast GPUs in use by unplanned work, from usage history
                       (``--load-history``: unique_id '<cluster>/<accelerator>', ds, y),
                       mean and central interval; free = capacity - hi (forecasting.capacity)
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from datetime import datetime, timedelta

import pandas as pd

from app.dashboard import env
from forecasting import available_capacity, forecast
from forecasting.sources.files import read_history
from planner.domain import Fleet

ENV_LOAD_HISTORY = env.LOAD_HISTORY
HOUR = timedelta(hours=1)
LEVEL = 80


def history_path(environ: Mapping[str, str] = os.environ) -> str | None:
    return environ.get(ENV_LOAD_HISTORY) or None


def planned_gpus(assignments: pd.DataFrame, *, start: datetime, hours: int,
                 kind: str | None = None) -> pd.DataFrame:
    """series ('<cluster>/<accelerator>'), ds, gpus held by the plan in each hour."""
    rows: dict[tuple[str, int], float] = {}
    frame = assignments if kind is None else assignments[assignments["kind"] == kind]
    t0 = pd.Timestamp(start)
    for a in frame.itertuples(index=False):
        first = max(0, math.floor((a.start - t0) / pd.Timedelta(hours=1)))
        last = min(hours, math.ceil((a.end - t0) / pd.Timedelta(hours=1) - 1e-9))
        for h in range(first, last):
            key = (f"{a.cluster}/{a.accelerator}", h)
            rows[key] = rows.get(key, 0.0) + a.gpus  # all replicas' GPUs (serving too)
    out = pd.DataFrame([{"series": k[0], "ds": t0 + k[1] * pd.Timedelta(hours=1), "gpus": v}
                        for k, v in sorted(rows.items())], columns=["series", "ds", "gpus"])
    return out


def capacity(fleet: Fleet) -> dict[str, int]:
    """'<cluster>/<accelerator>' -> GPUs the planner may use."""
    return {f"{c.name}/{a}": g for c in fleet.clusters for a, g in c.capacity_gpus.items() if g}


def load_forecast(path: str, *, start: datetime, hours: int, fleet: Fleet | None,
                  level: int = LEVEL) -> pd.DataFrame:
    """series, ds, mean, lo, hi (and free = capacity - hi with a fleet) over the horizon."""
    frame = read_history(path)
    last = pd.Timestamp(frame["ds"].max())
    last = last.tz_localize("UTC") if last.tzinfo is None else last.tz_convert("UTC")
    gap = math.ceil((pd.Timestamp(start) - last) / pd.Timedelta(hours=1))
    if gap < 1:
        raise ValueError(f"{path}: history runs to {last:%Y-%m-%dT%H:%MZ}, past the plan start "
                         f"{start:%Y-%m-%dT%H:%MZ}; give history that ends before the plan")
    fc = forecast(frame, horizon=gap - 1 + hours, levels=(level,))
    values = fc.values
    out = pd.DataFrame({"series": values["unique_id"], "ds": values["ds"],
                        "mean": values["mean"], "lo": values[f"lo-{level}"],
                        "hi": values[f"hi-{level}"], "model": values["unique_id"].map(fc.chosen)})
    out["free"] = float("nan")
    if fleet is not None:
        caps = capacity(fleet)
        known = out["series"].isin(list(caps))
        ours = dataclasses.replace(fc, values=values[known.to_numpy()])
        free = available_capacity({u: caps[u] for u in out.loc[known, "series"].unique()},
                                  ours, level=level)
        out.loc[known, "free"] = free["available"].to_numpy()
    end = pd.Timestamp(start) + hours * pd.Timedelta(hours=1)
    return out[(out["ds"] >= pd.Timestamp(start)) & (out["ds"] < end)].reset_index(drop=True)


def serving_demand(problem, *, start: datetime, hours: int) -> pd.DataFrame:
    """workload, ds, demand_rps of the plan's serving workloads (the inputs' demand)."""
    rows = [{"workload": w.name, "ds": pd.Timestamp(start) + h * pd.Timedelta(hours=1),
             "demand_rps": w.demand_at(h)}
            for w in getattr(problem, "serving", ()) for h in range(hours)]
    return pd.DataFrame(rows, columns=["workload", "ds", "demand_rps"])


def serving(assignments: pd.DataFrame, *, start: datetime, hours: int) -> pd.DataFrame:
    """workload, region, ds, replicas for assignments of kind 'serving' (empty if none)."""
    frame = assignments[assignments["kind"] == "serving"]
    rows = []
    t0 = pd.Timestamp(start)
    for a in frame.itertuples(index=False):
        for h in range(hours):
            slot = t0 + h * pd.Timedelta(hours=1)
            if a.start < slot + pd.Timedelta(hours=1) and a.end > slot:
                rows.append({"workload": a.workload, "region": a.region, "ds": slot,
                             "replicas": a.replicas})
    out = pd.DataFrame(rows, columns=["workload", "region", "ds", "replicas"])
    # a service can hold spot and on-demand replicas in one region at once: one line each
    return out.groupby(["workload", "region", "ds"], as_index=False)["replicas"].sum()
