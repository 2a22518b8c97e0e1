"""A stored plan -> the tables the pages draw (no Streamlit here).

Emission columns, never added across:

    location_kg   location-based operational kgCO2e (hourly grid average where and when it runs)
    embodied_kg   manufacturing share per GPU-hour
    emissions_kg  location_kg + embodied_kg (the plan's total, as the Software Carbon
                  Intensity spec adds them)
    market_kg     market-based operational kgCO2e (GHG Protocol Scope 2), beside the others
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import select

from app.store import Store, StoredPlan
from app.store import schema as t
from app.store.footprint import MeasuredRow
from planner.domain import Assignment

ASSIGNMENT_COLUMNS = ["workload", "kind", "team", "region", "cluster", "accelerator", "partition",
                      "purchase", "instance_type", "start", "end", "hours", "gpus", "replicas",
                      "gpu_hours", "cost_usd", "energy_kwh", "location_kg", "embodied_kg",
                      "emissions_kg", "market_kg", "reason", "origin"]
SUMS = ["cost_usd", "energy_kwh", "location_kg", "embodied_kg", "emissions_kg", "market_kg",
        "gpu_hours"]


def _row(a: Assignment, origin: str) -> dict[str, Any]:
    return {"workload": a.workload, "kind": str(a.kind), "team": a.team, "region": a.region,
            "cluster": a.cluster, "accelerator": a.accelerator, "partition": a.partition,
            "purchase": str(a.purchase), "instance_type": a.instance_type,
            "start": pd.Timestamp(a.start), "end": pd.Timestamp(a.end), "hours": a.hours,
            "gpus": a.gpus, "replicas": a.replicas, "gpu_hours": a.gpus * a.hours,
            "cost_usd": a.cost_usd, "energy_kwh": a.energy_kwh, "location_kg": a.operational_kg,
            "embodied_kg": a.embodied_kg, "emissions_kg": a.emissions_kg,
            "market_kg": a.market_kg, "reason": a.reason, "origin": origin}


def assignments(stored: StoredPlan) -> pd.DataFrame:
    """One row per assignment: the solver's (origin 'plan') and arrivals ('admission')."""
    rows = ([_row(a, "plan") for a in stored.plan.assignments]
            + [_row(a, "admission") for a in stored.admissions])
    frame = pd.DataFrame(rows, columns=ASSIGNMENT_COLUMNS)
    for col in ("start", "end"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    return frame


def totals(frame: pd.DataFrame, since: datetime | None = None,
           until: datetime | None = None) -> dict[str, float]:
    """Sums of the assignments that start in [since, until) (all of them without bounds)."""
    chosen = frame
    if since is not None:
        chosen = chosen[chosen["start"] >= pd.Timestamp(since)]
    if until is not None:
        chosen = chosen[chosen["start"] < pd.Timestamp(until)]
    out = {col: float(chosen[col].sum()) for col in SUMS}
    out["assignments"] = float(len(chosen))
    return out


def baselines(stored: StoredPlan) -> pd.DataFrame:
    """The plan and its baselines on the same inputs (from the stored Plan JSON)."""
    doc = stored.plan_json
    rows = [{"strategy": "gridshift", **_totals(doc.get("totals", {})),
             "deadline_misses": 0, "unplaced": len(doc.get("unplaced", [])),
             "overbooked_gpu_h": 0}]
    for name, b in (doc.get("baselines") or {}).items():
        rows.append({"strategy": name, **_totals(b), "deadline_misses": b.get("deadline_misses"),
                     "unplaced": b.get("unplaced"), "overbooked_gpu_h": b.get("overbooked_gpu_h")})
    return pd.DataFrame(rows)


def _totals(d: dict[str, Any]) -> dict[str, float]:
    def num(key: str) -> float:
        value = d.get(key)
        return float("nan") if value is None else float(value)

    return {"cost_usd": num("cost_usd"), "energy_kwh": num("energy_kwh"),
            "emissions_kg": num("emissions_kg"), "market_kg": num("market_based_kg")}


def saving_vs_run_now(stored: StoredPlan) -> dict[str, float] | None:
    """Plan minus run-now (negative = saved); None when not comparable or not stored."""
    table = baselines(stored).set_index("strategy")
    if "run_now" not in table.index or stored.plan.unplaced:
        return None  # totals that leave work out are not comparable with run-now's
    ours, now = table.loc["gridshift"], table.loc["run_now"]
    return {k: float(ours[k] - now[k]) for k in ("cost_usd", "energy_kwh", "emissions_kg")} | {
        f"run_now_{k}": float(now[k]) for k in ("cost_usd", "energy_kwh", "emissions_kg")}


def provenance(stored: StoredPlan) -> pd.DataFrame:
    """What data the plan used: key, kind, source text and fetch time."""
    rows = []
    for p in stored.provenance:
        fetched = p.get("fetched_at")
        rows.append({"key": p["key"], "kind": p["kind"], "source": p["value"],
                     "fetched_at": datetime.fromisoformat(fetched) if fetched else None})
    return pd.DataFrame(rows, columns=["key", "kind", "source", "fetched_at"])


def measured(rows: list[MeasuredRow]) -> pd.DataFrame:
    frame = pd.DataFrame([{"team": m.team or "unknown", "workload": m.workload or "-",
                           "region": m.region, "started_at": pd.Timestamp(m.started_at),
                           "ended_at": pd.Timestamp(m.ended_at), "energy_kwh": m.energy_kwh,
                           "kg_co2e": m.kg_co2e, "source": m.source, "run_id": m.run_id}
                          for m in rows],
                         columns=["team", "workload", "region", "started_at", "ended_at",
                                  "energy_kwh", "kg_co2e", "source", "run_id"])
    for col in ("started_at", "ended_at"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    return frame


def by(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Sums of the footprint columns by ``keys`` (team, workload, region, ...)."""
    if frame.empty:
        return pd.DataFrame(columns=keys + SUMS)
    return frame.groupby(keys, as_index=False)[SUMS].sum().sort_values(keys)


def workload_specs(store: Store, plan_id: str) -> dict[str, dict[str, Any]]:
    """The workloads a plan was planned from, as stored (name -> spec)."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(t.workloads.c.name, t.workloads.c.spec_json)
                            .where(t.workloads.c.plan_id == plan_id)).all()
    return {r.name: json.loads(r.spec_json) for r in rows}


def window(stored: StoredPlan | None, measured_rows: pd.DataFrame) -> tuple[datetime, datetime]:
    """The period the pages offer: the plan's horizon and every measurement."""
    starts, ends = [], []
    if stored is not None:
        starts.append(stored.plan.horizon_start)
        ends.append(max([stored.plan.horizon_end] + [a.end for a in stored.all_assignments]))
    if not measured_rows.empty:
        starts.append(measured_rows["started_at"].min().to_pydatetime())
        ends.append(measured_rows["ended_at"].max().to_pydatetime())
    if not starts:
        now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        return now, now
    return min(starts), max(ends)
