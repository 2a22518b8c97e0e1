"""Accounting of a replay with the *actual* intensity, and the report (JSON + rich table).

Per run segment (app/replay/simulate.py), vectorised over all segments of a zone with
cumulative sums of the actual hourly intensity g::

    energy_kwh     = kw * wall_h
    operational_kg = kw / 1000 * ( sum_{k < floor(wall)} g(start + k)
                                   + frac(wall) * g(start + floor(wall)) )
    cost_usd       = usd_per_h * wall_h;   embodied_kg = embodied_kg_per_h * wall_h

``planned_operational_kg`` sums what the deciding forecast expected for the same runs
(strategies that decide by a forecast), so forecast error shows as planned vs actual.
Savings compare location-based operational kgCO2e (what shifting changes)::

    saved_pct        = 100 (run_now - strategy) / run_now
    pct_of_oracle    = 100 (run_now - strategy) / (run_now - gridshift-oracle)
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from app.replay.grid import Grid
from app.replay.simulate import Outcome, Strategy
from pricing.catalog import Purchase

EPS_H = 1e-6


def account(outcome: Outcome, grid: Grid) -> dict[str, Any]:
    segs = outcome.segments
    n = len(segs)
    op = np.zeros(n)
    wall = np.array([s.wall_h for s in segs], dtype=float)
    kw = np.array([s.kw for s in segs], dtype=float)
    start = np.array([s.start_slot for s in segs], dtype=np.int64)
    zones = np.array([s.zone for s in segs], dtype=object)
    for zone in set(zones.tolist()):
        z = grid.zone(zone)
        mask = zones == zone
        idx = z.offset + start[mask]
        full = np.floor(wall[mask] + EPS_H).astype(np.int64)
        frac = np.clip(wall[mask] - full, 0.0, None)
        if (idx + full).max(initial=0) >= len(z.actual):
            raise ValueError(f"zone {zone!r}: a run ends after the intensity data "
                             "(raise the replay tail)")
        csum = np.concatenate(([0.0], np.cumsum(z.actual)))
        g_h = csum[idx + full] - csum[idx] + frac * z.actual[np.minimum(idx + full,
                                                                          len(z.actual) - 1)]
        op[mask] = kw[mask] * g_h / 1000.0
    energy = kw * wall
    usd = np.array([s.usd_per_h for s in segs]) * wall
    emb = np.array([s.embodied_kg_per_h for s in segs]) * wall
    planned = np.array([s.planned_op_kg for s in segs], dtype=float)
    spot_h = sum(s.wall_h for s in segs if s.purchase is Purchase.SPOT)
    first_start = {}
    for s in segs:
        first_start.setdefault(s.job, s.start_slot)
    delays = [first_start[j] - outcome.submit_h[j] for j in first_start]
    ran = ~np.isnan(outcome.finish_h)
    misses = int(np.sum(outcome.finish_h[ran] > outcome.deadline_h[ran] + EPS_H))
    has_plan = ~np.isnan(planned)
    return {
        "jobs": len(outcome.finish_h),
        "jobs_not_run": int((~ran).sum()),
        "segments": n,
        "interruptions": int(sum(s.interrupted for s in segs)),
        "energy_kwh": float(energy.sum()),
        "operational_kg": float(op.sum()),
        "embodied_kg": float(emb.sum()),
        "emissions_kg": float(op.sum() + emb.sum()),
        "cost_usd": float(usd.sum()),
        "planned_operational_kg": float(planned[has_plan].sum()) if has_plan.any() else None,
        "actual_operational_kg_of_planned_runs": (float(op[has_plan].sum())
                                                  if has_plan.any() else None),
        "deadline_misses": misses + int((~ran).sum()),
        "fallbacks_to_run_now": outcome.fallbacks,
        "spot_share_of_hours": float(spot_h / wall.sum()) if n else 0.0,
        "mean_delay_h": float(np.mean(delays)) if delays else 0.0,
        "mean_g_per_kwh": float(op.sum() * 1000 / energy.sum()) if energy.sum() else None,
        "forecast": outcome.forecast,
        "replans": outcome.replans,
        "planner_s": round(outcome.planner_s, 3),
        "wall_s": round(outcome.wall_s, 3),
    }


def compare(totals: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, float | None]]:
    """% saved vs run_now and % of the oracle's saving, per strategy (operational kg)."""
    base = totals.get(Strategy.RUN_NOW.value)
    oracle = totals.get(Strategy.GRIDSHIFT_ORACLE.value)
    out = {}
    if base is None:
        return out
    b = base["operational_kg"]
    for name, t in totals.items():
        if name == Strategy.RUN_NOW.value:
            continue
        saved = b - t["operational_kg"]
        row: dict[str, float | None] = {"saved_pct": 100 * saved / b if b else None}
        best = None if oracle is None else b - oracle["operational_kg"]
        row["pct_of_oracle_saving"] = (100 * saved / best if best and abs(best) > 1e-12
                                       else None)
        out[name] = row
    return out


def build_report(*, grid: Grid, totals: Mapping[str, Mapping[str, Any]],
                 meta: Mapping[str, Any], forecaster_notes: Mapping[str, int] | None = None
                 ) -> dict[str, Any]:
    return {
        **meta,
        "carbon": {name: {"source": z.source, "notes": list(z.notes)}
                   for name, z in grid.zones.items()},
        "forecast_fallbacks_h": dict(forecaster_notes or {}),
        "strategies": {k: dict(v) for k, v in totals.items()},
        "comparison": compare(totals),
        "accounting": "emissions accounted with the actual hourly intensity of the hours "
                      "each run really used; savings on location-based operational kgCO2e",
    }


def dumps(report: Mapping[str, Any]) -> str:
    def clean(v):
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [clean(x) for x in v]
        return v
    return json.dumps(clean(report), indent=2, sort_keys=False)


def print_report(report: Mapping[str, Any], console: Console | None = None,
                 order: Sequence[str] | None = None) -> None:
    console = console or Console(width=max(Console().width, 120))
    table = Table(title=f"replay {report.get('from')} .. {report.get('to')}: "
                        f"{report.get('jobs')} jobs, forecast {report.get('forecast')}")
    table.add_column("strategy", no_wrap=True)
    for col in ("kWh", "kg op", "g/kWh", "USD", "miss", "intr", "saved%", "%oracle", "s"):
        table.add_column(col, justify="right")
    comp = report.get("comparison", {})
    names = order or list(report["strategies"])
    for name in names:
        t = report["strategies"][name]
        c = comp.get(name, {})

        def pct(v):
            return "-" if v is None else f"{v:.2f}"
        table.add_row(name, f"{t['energy_kwh']:,.0f}", f"{t['operational_kg']:,.1f}",
                      "-" if t["mean_g_per_kwh"] is None else f"{t['mean_g_per_kwh']:.1f}",
                      f"{t['cost_usd']:,.0f}", str(t["deadline_misses"]),
                      str(t["interruptions"]), pct(c.get("saved_pct")),
                      pct(c.get("pct_of_oracle_saving")), f"{t['wall_s']:.1f}")
    console.print(table)
