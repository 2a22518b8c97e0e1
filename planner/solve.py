"""Plan a problem: options -> greedy -> CP-SAT -> read -> baselines -> explain -> check.

``plan`` is pure: it takes values and returns a new Plan. The clock is read
only for ``created_at`` when the caller does not give one.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from planner import baselines as base
from planner.capacity import Ledger, capacity_table
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
from planner.explain import explain, next_best
from planner.greedy import carbon_key, cost_key, greedy_placements
from planner.limits import Limit, LimitLedger, within
from planner.lp import Relaxation
from planner.model import objective_of, penalty_of, solve_model, unit_scores
from planner.objective import SCALE, from_int, weights
from planner.options import WorkloadOptions, build_options
from planner.placement import Placement
from planner.problem import DEFAULT_CARBON_PRICE_USD_PER_T, PlanningProblem
from planner.stability import Announced, changes, with_previous

# Above this many (workload, option, start) literals the model is first shrunk by LP
# column generation and reduced-cost fixing (planner/lp.py), keeping at most
# LP_MAX_COLUMNS literals. 0: always. Measured on the demo (36 jobs, 14k literals,
# 2 workers on a loaded 2-core machine): straight CP-SAT found no bound in 10 s
# (gap 100 %); through the LP it kept 5.3k literals and proved 0.007 % in 10 s.
LP_RESTRICT_ABOVE = 0
LP_MAX_COLUMNS = 250_000


# Score units (USD for cost/balanced, kg for carbon) a unit pays to leave the decision the
# last plan announced: enough that hourly re-plans do not churn on small gains.
DEFAULT_MOVE_PENALTY = 10.0


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
    previous: tuple[Announced, ...] | None = None,
    move_penalty: float = DEFAULT_MOVE_PENALTY,
) -> Plan:
    """Plan ``problem``; with ``previous`` (the last plan's decisions) re-plan stably:
    started work stays fixed, announced decisions move only for more than ``move_penalty``
    score units, and the plan lists what changed (planner/stability.py)."""
    if previous is not None:
        problem, started = with_previous(problem, previous, move_penalty=move_penalty)
        fresh = plan(problem, objective=objective, carbon_price_usd_per_t=carbon_price_usd_per_t,
                     time_limit_s=time_limit_s, workers=workers, created_at=created_at)
        return dataclasses.replace(fresh, changes=changes(previous, fresh, started))
    w = weights(objective, carbon_price_usd_per_t)
    workload_options = build_options(problem)
    capacity = capacity_table(problem.fleet, problem.reserved_gpus)
    runs = {
        "run_now": base.run_now(problem),
        "cost_greedy": base.independent_greedy(problem, workload_options, key=cost_key),
        "carbon_greedy": base.independent_greedy(problem, workload_options, key=carbon_key),
    }
    # Hint the solver with the best valid plan at hand: the objective-aware greedy or a
    # capacity-aware baseline. CP-SAT starts from a complete feasible hint, so the plan is
    # never worse on the objective than any of them.
    limits = problem.limits
    candidates = [greedy_placements(workload_options, capacity, w, limits),
                  list(runs["cost_greedy"].placements), list(runs["carbon_greedy"].placements)]
    candidates = [c for c in candidates if within(limits, c, problem.workloads)]
    hint = min(candidates, key=lambda ps: objective_of(ps, workload_options, w))
    workers = workers or default_workers()
    hint_value = objective_of(hint, workload_options, w)
    n_literals = sum(len(o.starts) for wo in workload_options for o in wo.options)
    if n_literals > LP_RESTRICT_ABOVE:
        result, bound, hint, hint_value = _solve_restricted(
            workload_options, capacity, problem.horizon_hours + problem.lookahead_hours, w, hint,
            hint_value, time_limit_s=time_limit_s, workers=workers, limits=limits)
    else:
        result = solve_model(workload_options, capacity, problem.horizon_hours, w,
                             time_limit_s=time_limit_s, workers=workers, hint=hint, limits=limits)
        bound = result.bound
    placements = list(result.placements)
    objective_value = result.objective
    if result.status is SolverStatus.MODEL_INVALID:
        raise RuntimeError("CP-SAT rejected the model as invalid: a planner bug, please report")
    found = result.status in (SolverStatus.OPTIMAL, SolverStatus.FEASIBLE)
    if not found or hint_value < objective_of(placements, workload_options, w):
        # No solution within the time limit (or one worse than the hint, which can
        # happen when the hint used pruned literals): the hint is a valid plan.
        placements, objective_value = hint, hint_value
    gap = (abs(objective_value - bound) / max(abs(objective_value), 1e-9)
           if not math.isnan(bound) else float("nan"))

    first_now: dict[int, Placement] = {}
    for p in sorted(runs["run_now"].placements, key=lambda p: p.start):
        first_now.setdefault(p.workload, p)

    ledger = Ledger(capacity)
    for p in placements:
        ledger.take(p.option.resource, p.start, p.option.slots,
                    p.units * workload_options[p.workload].gpus_per_unit)
    assignments = tuple(
        _assignment(p, problem, explain(p, first_now.get(p.workload), problem) + "; "
                    + next_best(p, workload_options[p.workload], ledger, w,
                                LimitLedger(limits), horizon_start=problem.horizon_start))
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


def _solve_restricted(workload_options, capacity, n_slots: int, w, hint: list[Placement],
                      hint_value: float, *, time_limit_s: float, workers: int,
                      limits: tuple[Limit, ...]):
    """LP column generation, LP rounding for a good plan, reduced-cost fixing against
    it, then CP-SAT on what is left (planner/lp.py)."""
    t0 = time.perf_counter()
    int_scores = [[unit_scores(o, w) for o in wo.options] for wo in workload_options]
    relaxation = Relaxation(workload_options, capacity, n_slots,
                            [[a / SCALE for a in row] for row in int_scores],
                            [from_int(penalty_of(row)) for row in int_scores], seed=hint,
                            limits=limits)
    rounded = relaxation.rounded(capacity, w)  # respects capacity and limits
    rounded_value = objective_of(rounded, workload_options, w)
    if rounded_value < hint_value:
        hint, hint_value = rounded, rounded_value
    restriction = relaxation.restrict(upper_bound=hint_value, seed_size=len(hint),
                                      max_columns=LP_MAX_COLUMNS)
    left = max(0.5, time_limit_s - (time.perf_counter() - t0))
    result = solve_model(workload_options, capacity, n_slots, w, time_limit_s=left,
                         workers=workers, hint=hint, allowed=restriction.columns, limits=limits)
    bound = relaxation.value
    if restriction.exact and not math.isnan(result.bound):
        # every column that could beat the hint survived: the restricted bound is global
        bound = max(bound, result.bound)
    return result, bound, hint, hint_value


def _assignment(p: Placement, problem: PlanningProblem, reason: str) -> Assignment:
    o = p.option
    w = problem.workloads[p.workload]
    start = problem.horizon_start + p.start * HOUR
    return Assignment(
        workload=w.name, kind=w.kind, team=w.team, region=o.region.name, cluster=o.cluster,
        accelerator=o.accelerator, partition="whole", purchase=o.purchase,
        instance_type=o.offer.instance_type, interruption_bucket=o.interruption_bucket,
        bucket_basis=o.offer.bucket_basis if o.interruption_bucket else None,
        start=start, end=start + timedelta(hours=o.runtime_h),
        gpus=p.units * (w.gpus if w.gang else 1), replicas=p.units,
        cost_usd=p.cost_usd, energy_kwh=p.energy_kwh, operational_kg=p.operational_kg,
        embodied_kg=p.embodied_kg, market_kg=p.market_kg, reason=reason,
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
        # a limit decided it when what is left of it is less than the unit's cheapest option
        binding = [lim for lim in problem.limits if lim.applies(wo.workload) and wo.options
                   and lim.cap - _used(lim, placements, problem)
                   < min(float(lim.unit_values(o).min()) for o in wo.options)]
        if not wo.options:
            reason = wo.why_none
        elif binding:
            reason = "budget: " + "; ".join(
                f"{lim.label} of {lim.cap:,.1f} is used up "
                f"({_used(lim, placements, problem):,.1f} planned)" for lim in binding)
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


def _used(limit: Limit, placements: list[Placement], problem: PlanningProblem) -> float:
    return sum(limit.value(cost_usd=p.cost_usd, emissions_kg=p.emissions_kg)
               for p in placements if limit.applies(problem.workloads[p.workload]))


def _to_assignments(placements: list[Placement], problem: PlanningProblem) -> tuple[Assignment, ...]:
    return tuple(_assignment(p, problem, "") for p in placements)


def _baselines(problem: PlanningProblem,
               runs: dict[str, base.BaselineRun]) -> dict[str, BaselineTotals]:
    out = {}
    for name, run in runs.items():
        assignments = _to_assignments(list(run.placements), problem)
        out[name] = BaselineTotals(totals=Totals.of(assignments),
                                   deadline_misses=run.deadline_misses,
                                   overbooked_gpu_h=run.overbooked_gpu_h,
                                   unplaced=run.unplaced, assignments=assignments)
    return out


def _provenance(problem: PlanningProblem) -> dict[str, str]:
    out = {"catalog": problem.catalog.version}
    for zone, series in sorted(problem.intensity.items()):
        out[f"carbon:{zone}"] = series.describe()
    return out
