"""Plan a problem: options -> greedy -> CP-SAT -> read -> baselines -> explain -> check.

``plan`` is pure: it takes values and returns a new Plan. The clock is read
only for ``created_at`` when the caller does not give one.
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from planner import baselines as base
from planner.capacity import capacity_table
from planner.check import assert_valid
from planner.domain import (
    HOUR,
    Assignment,
    BaselineTotals,
    Objective,
    Plan,
    SolverReport,
    SolverStatus,
    Totals,
    Unplaced,
)
from planner.explain import explain
from planner.greedy import carbon_key, cost_key, greedy_placements
from planner.model import objective_of, solve_model
from planner.objective import weights
from planner.options import WorkloadOptions, build_options
from planner.placement import Placement
from planner.problem import DEFAULT_CARBON_PRICE_USD_PER_T, PlanningProblem


def default_workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))


def plan(
    problem: PlanningProblem,
    *,
    objective: Objective = Objective.BALANCED,
    carbon_price_usd_per_t: float = DEFAULT_CARBON_PRICE_USD_PER_T,
    time_limit_s: float = 10.0,
    workers: int | None = None,
    created_at: datetime | None = None,
) -> Plan:
    w = weights(objective, carbon_price_usd_per_t)
    workload_options = build_options(problem)
    capacity = capacity_table(problem.fleet)
    runs = {
        "run_now": base.run_now(problem),
        "cost_greedy": base.independent_greedy(problem, workload_options, key=cost_key),
        "carbon_greedy": base.independent_greedy(problem, workload_options, key=carbon_key),
    }
    # Hint the solver with the best valid plan at hand: the objective-aware greedy or a
    # capacity-aware baseline. CP-SAT starts from a complete feasible hint, so the plan is
    # never worse on the objective than any of them.
    candidates = [greedy_placements(workload_options, capacity, w),
                  list(runs["cost_greedy"].placements), list(runs["carbon_greedy"].placements)]
    hint = min(candidates, key=lambda ps: objective_of(ps, workload_options, w))
    workers = workers or default_workers()
    result = solve_model(workload_options, capacity, problem.horizon_hours, w,
                         time_limit_s=time_limit_s, workers=workers, hint=hint)
    placements = list(result.placements)
    objective_value, bound = result.objective, result.bound
    found = result.status in (SolverStatus.OPTIMAL, SolverStatus.FEASIBLE)
    hint_value = objective_of(hint, workload_options, w)
    if not found or hint_value < objective_of(placements, workload_options, w):
        # No solution within the time limit (or one worse than the hint, which can
        # happen when the hint used pruned literals): the hint is a valid plan.
        placements, objective_value = hint, hint_value
    gap = (abs(objective_value - bound) / max(abs(objective_value), 1e-9)
           if not math.isnan(bound) else float("nan"))

    first_now: dict[int, Placement] = {}
    for p in sorted(runs["run_now"].placements, key=lambda p: p.start):
        first_now.setdefault(p.workload, p)

    assignments = tuple(
        _assignment(p, problem, explain(p, first_now.get(p.workload), problem))
        for p in sorted(placements, key=lambda p: (p.start, problem.workloads[p.workload].name))
    )
    plan_ = Plan(
        created_at=created_at or datetime.now(UTC),
        horizon_start=problem.horizon_start,
        horizon_hours=problem.horizon_hours,
        objective=objective,
        carbon_price_usd_per_t=carbon_price_usd_per_t,
        assignments=assignments,
        unplaced=_unplaced(workload_options, placements, problem),
        totals=Totals.of(assignments),
        baselines=_baselines(problem, runs),
        solver=SolverReport(
            status=result.status, objective=objective_value, bound=bound, gap=gap,
            wall_s=result.wall_s, num_variables=result.num_variables,
            num_constraints=result.num_constraints, workers=workers,
            time_limit_s=time_limit_s),
        provenance=_provenance(problem),
    )
    assert_valid(plan_, problem)
    return plan_


def _assignment(p: Placement, problem: PlanningProblem, reason: str) -> Assignment:
    o = p.option
    w = problem.workloads[p.workload]
    start = problem.horizon_start + p.start * HOUR
    return Assignment(
        workload=w.name, kind=w.kind, team=w.team, region=o.region.name, cluster=o.cluster,
        accelerator=o.accelerator, partition="whole", purchase=o.purchase,
        start=start, end=start + timedelta(hours=o.runtime_h),
        gpus=p.units * (w.gpus if w.gang else 1), replicas=p.units,
        cost_usd=p.cost_usd, energy_kwh=p.energy_kwh, operational_kg=p.operational_kg,
        embodied_kg=p.embodied_kg, reason=reason,
    )


def _unplaced(workload_options: tuple[WorkloadOptions, ...], placements: list[Placement],
              problem: PlanningProblem) -> tuple[Unplaced, ...]:
    placed: dict[int, int] = defaultdict(int)
    for p in placements:
        placed[p.workload] += p.units
    out = []
    for j, wo in enumerate(workload_options):
        missing = wo.units - placed[j]
        if missing <= 0:
            continue
        if not wo.options:
            reason = wo.why_none
        else:
            resources = sorted({f"{o.cluster}/{o.accelerator}" for o in wo.options})
            rivals = sorted({problem.workloads[p.workload].name for p in placements
                             if p.option.resource in {o.resource for o in wo.options}})
            reason = (f"capacity: {', '.join(resources)} are full in its window "
                      f"{wo.workload.earliest_start:%m-%dT%H:%MZ}..{wo.workload.deadline:%m-%dT%H:%MZ}"
                      + (f" (taken by {', '.join(rivals[:5])}{' ...' if len(rivals) > 5 else ''})"
                         if rivals else ""))
        if wo.units > 1:
            reason = f"{missing} of {wo.units} GPU tasks unplaced; {reason}"
        out.append(Unplaced(workload=wo.workload.name, reason=reason))
    return tuple(out)


def _to_assignments(placements: list[Placement], problem: PlanningProblem) -> tuple[Assignment, ...]:
    return tuple(_assignment(p, problem, "") for p in placements)


def _baselines(problem: PlanningProblem,
               runs: dict[str, base.BaselineRun]) -> dict[str, BaselineTotals]:
    out = {}
    for name, run in runs.items():
        assignments = _to_assignments(list(run.placements), problem)
        out[name] = BaselineTotals(totals=Totals.of(assignments),
                                   deadline_misses=run.deadline_misses,
                                   capacity_violations=run.capacity_violations,
                                   unplaced=run.unplaced, assignments=assignments)
    return out


def _provenance(problem: PlanningProblem) -> dict[str, str]:
    out = {"catalog": problem.catalog.version}
    for zone, series in sorted(problem.intensity.items()):
        fetched = f", fetched {series.fetched_at:%Y-%m-%dT%H:%MZ}" if series.fetched_at else ""
        out[f"carbon:{zone}"] = f"{series.source} [{series.kind}{fetched}]"
    return out
