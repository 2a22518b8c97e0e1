"""Place one new workload against what an existing plan leaves free.

Used when a workload arrives between scheduled re-plans (the admission
webhook): it must be fast and must not move anything already planned. The
workload is placed whole (one Pod or Job is one placement, even for a
non-gang workload) at its best-scoring option and start among those that
still fit the capacity the plan leaves; if none fits it is Unplaced with the
reason. The next scheduled re-plan may improve on it.
"""

from __future__ import annotations

import dataclasses
import math

from planner.baselines import run_now as run_now_baseline
from planner.capacity import Ledger, capacity_table
from planner.domain import HOUR, Assignment, Objective, Plan, TrainingWorkload, Unplaced
from planner.explain import explain
from planner.objective import weights
from planner.options import build_options
from planner.placement import Placement
from planner.problem import PlanningProblem


def remaining_capacity(problem: PlanningProblem, plan: Plan) -> Ledger:
    """A ledger holding the GPUs the plan's assignments take in the problem's horizon."""
    ledger = Ledger(capacity_table(problem.fleet, problem.reserved_gpus))
    for a in plan.assignments:
        first = math.floor((a.start - problem.horizon_start) / HOUR)
        last = math.ceil((a.end - problem.horizon_start) / HOUR)
        first, last = max(first, 0), min(last, problem.horizon_hours + problem.lookahead_hours)
        if last > first:
            ledger.take((a.cluster, a.accelerator), first, last - first, a.gpus)
    return ledger


def place_one(problem: PlanningProblem, plan: Plan, workload: TrainingWorkload, *,
              objective: Objective, carbon_price_usd_per_t: float) -> Assignment | Unplaced:
    whole = dataclasses.replace(workload, gang=True)
    try:
        single = dataclasses.replace(problem, workloads=(whole,))
    except ValueError as exc:  # e.g. intensity does not cover this workload's window
        return Unplaced(workload=workload.name, reason=f"inputs: {exc}")
    (wo,) = build_options(single)
    if not wo.options:
        return Unplaced(workload=workload.name, reason=wo.why_none)
    w = weights(objective, carbon_price_usd_per_t)
    ledger = remaining_capacity(problem, plan)
    best: tuple[float, Placement] | None = None
    for o in wo.options:
        for s in o.starts:
            p = Placement(option=o, start=s, units=1)
            score = p.score(w)
            if (best is None or score < best[0]) and ledger.fits(o.resources, s, o.slots, whole.gpus):
                best = (score, p)
    if best is None:
        return Unplaced(workload=workload.name,
                        reason="capacity: the current plan leaves no room for it in its window")
    p = best[1]
    o = p.option
    start = problem.horizon_start + p.start * HOUR
    return Assignment(
        workload=workload.name, kind=workload.kind, team=workload.team, region=o.region.name,
        cluster=o.cluster, accelerator=o.accelerator, partition="whole", purchase=o.purchase,
        instance_type=o.offer.instance_type, interruption_bucket=o.interruption_bucket,
        bucket_basis=o.offer.bucket_basis if o.interruption_bucket else None,
        start=start, end=start + o.runtime_h * HOUR, gpus=whole.gpus, replicas=1,
        cost_usd=p.cost_usd, energy_kwh=p.energy_kwh, operational_kg=p.operational_kg,
        embodied_kg=p.embodied_kg, market_kg=p.market_kg, reason=_reason(p, single))


def _reason(p: Placement, single: PlanningProblem) -> str:
    run_now = run_now_baseline(single).placements
    reference = min(run_now, key=lambda q: q.start) if run_now else None
    return "placed on arrival against the current plan; " + explain(p, reference, single)
