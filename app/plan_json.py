"""Plan <-> the Plan JSON contract of DESIGN.md (times ISO 8601 UTC)."""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from planner.domain import Assignment, BaselineTotals, MigLayout, Plan, Purchase, Totals
from planner.stability import Announced

SCHEMA_VERSION = 1


def _time(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def _num(x: float, digits: int = 4) -> float | None:
    return None if math.isnan(x) or math.isinf(x) else round(x, digits)


def totals_dict(t: Totals) -> dict[str, Any]:
    return {
        "cost_usd": _num(t.cost_usd, 2),
        "energy_kwh": _num(t.energy_kwh, 3),
        "emissions_kg": _num(t.emissions_kg, 3),
        "operational_kg": _num(t.operational_kg, 3),
        "embodied_kg": _num(t.embodied_kg, 3),
        "market_based_kg": _num(t.market_kg, 3),
    }


def assignment_dict(a: Assignment) -> dict[str, Any]:
    return {
        "workload": a.workload,
        "kind": str(a.kind),
        "team": a.team,
        "region": a.region,
        "cluster": a.cluster,
        "accelerator": a.accelerator,
        "partition": a.partition,
        "purchase": str(a.purchase),
        "instance_type": a.instance_type,
        "interruption_bucket": a.interruption_bucket,
        "bucket_basis": a.bucket_basis,
        "start": _time(a.start),
        "end": _time(a.end),
        "gpus": a.gpus,
        "replicas": a.replicas,
        "cost_usd": _num(a.cost_usd, 2),
        "energy_kwh": _num(a.energy_kwh, 3),
        "emissions_kg": _num(a.emissions_kg, 3),
        "operational_kg": _num(a.operational_kg, 3),
        "embodied_kg": _num(a.embodied_kg, 3),
        "market_based_kg": _num(a.market_kg, 3),
        "reason": a.reason,
    }


def baseline_dict(b: BaselineTotals) -> dict[str, Any]:
    return totals_dict(b.totals) | {
        "deadline_misses": b.deadline_misses,
        "overbooked_gpu_h": b.overbooked_gpu_h,
        "unplaced": b.unplaced,
    }


def plan_dict(plan: Plan) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "created_at": _time(plan.created_at),
        "horizon": {"start": _time(plan.horizon_start), "end": _time(plan.horizon_end),
                    "hours": plan.horizon_hours},
        "objective": str(plan.objective),
        "carbon_price_usd_per_t": plan.carbon_price_usd_per_t,
        "emissions_method": "emissions_kg = location-based operational (hourly grid intensity) "
                            "+ embodied per GPU-hour, as in the Software Carbon Intensity spec; "
                            "market_based_kg = market-based operational (contracted clean "
                            "energy, residual mix) reported beside it, never added to it",
        "assignments": [assignment_dict(a) for a in plan.assignments],
        "unplaced": [{"workload": u.workload, "reason": u.reason} for u in plan.unplaced],
        "totals": totals_dict(plan.totals),
        "baselines": {name: baseline_dict(b) for name, b in plan.baselines.items()},
        "solver": {
            "status": str(plan.solver.status),
            "objective": _num(plan.solver.objective, 3),
            "bound": _num(plan.solver.bound, 3),
            "gap": _num(plan.solver.gap, 6),
            "wall_s": _num(plan.solver.wall_s, 3),
            "variables": plan.solver.num_variables,
            "constraints": plan.solver.num_constraints,
            "workers": plan.solver.workers,
            "time_limit_s": plan.solver.time_limit_s,
        },
        "provenance": dict(plan.provenance),
        "changes": [{"workload": c.workload, "kind": str(c.kind), "detail": c.detail}
                    for c in plan.changes],
        "mig_layouts": [{"region": m.region, "cluster": m.cluster,
                         "accelerator": m.accelerator, "profiles": list(m.profiles),
                         "gpus": m.gpus, "start": _time(m.start), "end": _time(m.end),
                         "repartitioned_gpus": m.repartitioned_gpus}
                        for m in plan.mig_layouts],
    }


def announced_from_dict(data: dict[str, Any], source: str) -> tuple[Announced, ...]:
    """The decisions a previous Plan JSON announced (for stable re-planning)."""
    try:
        return tuple(Announced(
            workload=a["workload"], region=a["region"], cluster=a["cluster"],
            accelerator=a["accelerator"], purchase=Purchase(a["purchase"]),
            start=datetime.fromisoformat(a["start"]),
            end=datetime.fromisoformat(a["end"]), gpus=int(a["gpus"]))
            for a in data["assignments"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{source}: not a gridshift plan JSON ({type(exc).__name__}: {exc}); "
                         "fix: pass a file written by 'gridshift plan --out'") from None


def mig_layouts_from_dict(data: dict[str, Any], source: str) -> tuple[MigLayout, ...]:
    """The MIG layouts a previous Plan JSON announced (absent before schema 'mig_layouts')."""
    try:
        return tuple(MigLayout(
            region=m["region"], cluster=m["cluster"], accelerator=m["accelerator"],
            profiles=tuple(m["profiles"]), gpus=int(m["gpus"]),
            start=datetime.fromisoformat(m["start"]), end=datetime.fromisoformat(m["end"]),
            repartitioned_gpus=int(m.get("repartitioned_gpus", 0)))
            for m in data.get("mig_layouts") or [])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{source}: mig_layouts: {exc}") from None


def pareto_dicts(front) -> list[dict[str, Any]]:
    return [{"emissions_cap_kg": _num(pt.emissions_cap_kg, 3) if pt.emissions_cap_kg is not None
             else None,
             "cost_usd": _num(pt.cost_usd, 2), "emissions_kg": _num(pt.emissions_kg, 3),
             "unplaced": len(pt.plan.unplaced), "status": str(pt.plan.solver.status),
             "gap": _num(pt.plan.solver.gap, 6)} for pt in front]


def dumps(plan: Plan, *, pareto=None) -> str:
    data = plan_dict(plan)
    if pareto is not None:
        data["pareto"] = pareto_dicts(pareto)
    return json.dumps(data, indent=2, allow_nan=False) + "\n"
