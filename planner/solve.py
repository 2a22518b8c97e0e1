"""Plan a problem: options -> baselines -> hints -> solve (planner/joint.py) -> read ->
explain -> check.

``plan`` is pure: it takes values and returns a new Plan. The clock is read
only for ``created_at`` when the caller does not give one.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import numpy as np

from planner import baselines as base
from planner import joint, mig_pools, serving_baseline, serving_model, serving_report
from planner.capacity import Ledger, capacity_table
from planner.check import assert_valid
from planner.domain import (
    HOUR,
    Assignment,
    BaselineTotals,
    Objective,
    Plan,
    SolverReport,
    Totals,
    Unplaced,
)
from planner.explain import explain, next_best
from planner.greedy import carbon_key, cost_key, greedy_placements
from planner.limits import Limit, LimitLedger, within
from planner.model import objective_of
from planner.objective import weights
from planner.options import WorkloadOptions, build_options, intensity_arrays
from planner.placement import Placement
from planner.problem import DEFAULT_CARBON_PRICE_USD_PER_T, PlanningProblem
from planner.serving import build_serving_options
from planner.stability import Announced, changes, with_previous

# Score units (USD for cost/balanced, kg for carbon) a unit pays to leave the decision the
# last plan announced: enough that hourly re-plans do not churn on small gains.
DEFAULT_MOVE_PENALTY = 10.0

log = logging.getLogger("gridshift.planner")

# ``time_limit_s`` bounds the whole plan() call: the solver gets what options, baselines
# and (estimated) explanations and the check leave, at least MIN_SOLVE_S. The estimate:
# measured at 10,000 workloads (2,000 serving), explanations, unplaced reasons, baseline
# totals and the checker took 5.5-7.2 s (0.55-0.72 ms per workload), and the solve ended
# up to 1.2 s after its deadline (its last neighbourhood, totals); 0.7 ms covered both
# until two runs of the MIG column generation ended at 60.2 and 61.5 s. At 1,000 the
# phases took 0.8 s and the solve ended 0.2 s late (30.2 s against 30): a fixed tail too.
AFTER_S_PER_WORKLOAD = 0.0008
SOLVE_TAIL_S = 0.5
MIN_SOLVE_S = 1.0


class _Laps:
    """Wall seconds of each phase of a plan, logged at DEBUG (benchmarks/planner_scale.py
    prints them with --phases)."""

    def __init__(self) -> None:
        self.t = time.perf_counter()

    def __call__(self, phase: str) -> None:
        now = time.perf_counter()
        log.debug("plan phase %s: %.2f s", phase, now - self.t)
        self.t = now


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
    score units, and the plan lists what changed (planner/stability.py).

    ``time_limit_s`` is for the whole call: the solver gets what building the options,
    the baselines and (an estimate of) the explanations and the check leave, and at least
    MIN_SOLVE_S; its best plan so far comes back when that runs out."""
    if previous is not None:
        problem, started = with_previous(problem, previous, move_penalty=move_penalty)
        fresh = plan(problem, objective=objective, carbon_price_usd_per_t=carbon_price_usd_per_t,
                     time_limit_s=time_limit_s, workers=workers, created_at=created_at)
        return dataclasses.replace(fresh, changes=changes(previous, fresh, started))
    started = time.perf_counter()
    lap = _Laps()
    w = weights(objective, carbon_price_usd_per_t)
    workload_options = build_options(problem)
    lap("training options")
    serving_options, pools = (), ()
    if problem.serving:
        intensity = intensity_arrays(problem)
        serving_options = build_serving_options(
            problem.serving, problem.fleet, problem.catalog, problem.horizon_hours, intensity,
            announced=problem.announced, move_penalty=problem.move_penalty)
        pools = mig_pools.pools(serving_options, problem.catalog, intensity,
                                problem.horizon_hours)
    lap("serving options and MIG pools")
    capacity = capacity_table(problem.fleet, problem.reserved_gpus)
    runs, serving_runs = _baseline_runs(problem, workload_options, serving_options, capacity)
    lap("baseline runs")
    workers = workers or default_workers()
    t0 = time.perf_counter()
    limits = problem.limits

    def hint(cap, limits_now) -> list[Placement]:
        # the best valid plan at hand: the objective-aware greedy or a capacity-aware
        # baseline; CP-SAT starts from it, so the plan is never worse than any of them
        started = time.perf_counter()
        out = _training_hint(workload_options, cap, w, limits_now, runs, problem)
        log.debug("plan phase training hint (inside solve): %.2f s",
                  time.perf_counter() - started)
        return out

    after_s = (SOLVE_TAIL_S
               + AFTER_S_PER_WORKLOAD * (len(workload_options) + len(serving_options)))
    solve_s = max(MIN_SOLVE_S, time_limit_s - (t0 - started) - after_s)
    solution = joint.solve(workload_options, serving_options, capacity,
                           problem.horizon_hours + problem.lookahead_hours, w, hint=hint,
                           limits=limits, time_limit_s=solve_s, workers=workers,
                           pools=pools)
    placements, replicas = solution.placements, solution.replicas
    objective_value, bound = solution.objective, solution.bound
    gap = (abs(objective_value - bound) / max(abs(objective_value), 1e-9)
           if not math.isnan(bound) else float("nan"))
    wall_s = time.perf_counter() - t0
    lap("solve (joint.solve, hints included)")

    first_now: dict[int, Placement] = {}
    for p in sorted(runs["run_now"].placements, key=lambda p: p.start):
        first_now.setdefault(p.workload, p)

    horizon = range(problem.horizon_hours)
    ledger = Ledger(serving_model.with_serving(capacity, replicas))
    for (resource, t), gpus in mig_pools.reserved(solution.layouts, horizon).items():
        ledger.take(resource, t, 1, gpus)
    for p in placements:
        ledger.take(p.option.resources, p.start, p.option.slots,
                    p.units * workload_options[p.workload].gpus_per_unit)
    assignments = tuple(
        _assignment(p, problem, explain(p, first_now.get(p.workload), problem) + "; "
                    + next_best(p, workload_options[p.workload], ledger, w,
                                LimitLedger(limits), horizon_start=problem.horizon_start))
        for p in sorted(placements, key=lambda p: (p.start, problem.workloads[p.workload].name))
    )
    lap("training assignments and explanations")
    serving_assignments = serving_report.assignments(
        replicas, serving_options, problem.horizon_start,
        lambda p, hours: serving_report.explain(p, hours, serving_options[p.workload],
                                               problem.fleet, w))
    assignments += tuple(serving_assignments) + tuple(mig_pools.headroom(
        pools, solution.layouts, serving_assignments, problem.horizon_start,
        problem.horizon_hours))
    lap("serving assignments, explanations and MIG headroom")
    unplaced = _unplaced(workload_options, placements, problem) + tuple(
        serving_report.unplaced(serving_options, replicas, problem.horizon_start))
    lap("unplaced reasons")
    baselines = _baselines(problem, runs, serving_runs, serving_options)
    lap("baseline totals")
    plan_ = Plan(
        created_at=created_at or datetime.now(UTC),
        horizon_start=problem.horizon_start,
        horizon_hours=problem.horizon_hours,
        objective=objective,
        carbon_price_usd_per_t=carbon_price_usd_per_t,
        assignments=assignments,
        unplaced=unplaced,
        totals=Totals.of(assignments),
        baselines=baselines,
        solver=SolverReport(
            status=solution.status, objective=objective_value, bound=bound, gap=gap,
            wall_s=wall_s, num_variables=solution.num_variables,
            num_constraints=solution.num_constraints, workers=workers,
            time_limit_s=time_limit_s),
        provenance=_provenance(problem),
        mig_layouts=mig_pools.decisions(pools, solution.layouts, problem.horizon_start,
                                        problem.horizon_hours),
    )
    assert_valid(plan_, problem)
    lap("independent check")
    return plan_


def _training_hint(workload_options, capacity, w, limits, runs, problem) -> list[Placement]:
    candidates = [greedy_placements(workload_options, capacity, w, limits),
                  list(runs["cost_greedy"].placements), list(runs["carbon_greedy"].placements)]
    candidates = [c for c in candidates if within(limits, c, problem.workloads)
                  and _fits(c, workload_options, capacity)]
    return min(candidates, key=lambda ps: objective_of(ps, workload_options, w))


def _fits(placements: list[Placement], workload_options, capacity) -> bool:
    ledger = Ledger(capacity)
    for p in placements:
        gpus = p.units * workload_options[p.workload].gpus_per_unit
        if not ledger.fits(p.option.resources, p.start, p.option.slots, gpus):
            return False
        ledger.take(p.option.resources, p.start, p.option.slots, gpus)
    return True


def _baseline_runs(problem: PlanningProblem, workload_options, serving_options, capacity):
    """Training baselines on what each baseline's serving leaves free (serving sized first,
    on-demand, one option per hour: planner/serving_baseline.py)."""
    keys = {  # serving: rank value of an option per request/s, by slot
        "run_now": None,
        "cost_greedy": lambda o: np.full(len(o.operational_kg),
                                         o.usd_per_hour / o.throughput_rps),
        "carbon_greedy": lambda o: (o.operational_kg + o.embodied_kg_per_hour)
        / o.throughput_rps,
    }
    runs, serving_runs = {}, {}
    for name, key in keys.items():
        replicas = (serving_baseline.baseline(serving_options, capacity, key)
                    if serving_options else [])
        serving_runs[name] = replicas
        p = problem
        if replicas:
            reserved = serving_model.with_serving(capacity, replicas).reserved
            p = dataclasses.replace(problem, reserved_gpus=reserved)
        runs[name] = (base.run_now(p) if key is None else base.independent_greedy(
            p, workload_options, key=cost_key if name == "cost_greedy" else carbon_key))
    return runs, serving_runs


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


def _baselines(problem: PlanningProblem, runs: dict[str, base.BaselineRun],
               serving_runs: dict, serving_options) -> dict[str, BaselineTotals]:
    out = {}
    for name, run in runs.items():
        replicas = serving_runs.get(name, [])
        assignments = _to_assignments(list(run.placements), problem) + tuple(
            serving_report.assignments(replicas, serving_options, problem.horizon_start))
        short = serving_report.unplaced(serving_options, replicas, problem.horizon_start)
        out[name] = BaselineTotals(totals=Totals.of(assignments),
                                   deadline_misses=run.deadline_misses,
                                   overbooked_gpu_h=run.overbooked_gpu_h,
                                   unplaced=run.unplaced + len(short), assignments=assignments)
    return out


def _provenance(problem: PlanningProblem) -> dict[str, str]:
    out = {"catalog": problem.catalog.version}
    for zone, series in sorted(problem.intensity.items()):
        out[f"carbon:{zone}"] = series.describe()
    return out
