r"""The CP-SAT model: time-indexed placement of training workloads.

Sets
    J            workloads
    O_j          options of j: (cluster, accelerator, purchase)   (planner/options.py)
    S_jo         start slots allowed for option o of j            (release, deadline, horizon)
    R            resources (cluster, accelerator); r(o) the one option o uses
    T            hourly slots 0..H-1

Data
    u_j          units of j: 1 for a gang, gpus_j for independent one-GPU tasks
    g_j          GPUs per unit: gpus_j for a gang, 1 otherwise
    d_jo         slots held by one unit of j on o (spot: expected runtime, rounded up)
    c_jos        integer score of one unit of j on o starting at s
                 (planner/objective.py: w_usd * USD + w_kg * kgCO2e, scaled)
    M_j          penalty per unplaced unit: above any score of j
    K_rt         GPUs of resource r in slot t

Variables
    x_jos in {0..u_j}   units of j on option o starting in slot s (boolean for a gang)
    y_j   in {0..u_j}   units of j left unplaced (so the model is never infeasible;
                        any y_j > 0 is reported with its reason)
    for a gang j and option o: an optional interval I_jo of fixed size d_jo,
    start sigma_jo = sum_s s * x_jos and presence pi_jo = sum_s x_jos

Constraints
    (1) sum_{o,s} x_jos + y_j = u_j                                   for all j
    (2) sum_{j,o,s : r(o)=r, s <= t < s + d_jo} g_j x_jos <= K_rt     for all r, t
        (written only where the demand that could land on (r, t) exceeds K_rt)
    (4) sum_{j in team, o, s} v_jos x_jos <= cap_l                     for each limit l
        (team USD / kgCO2e budgets, emission caps of Pareto points; planner/limits.py)
    (3) optional (use_cumulative=True): add_cumulative(r) over the I_jo of gang
        options on r, demand g_j, capacity K_r. Redundant with (2), which gives the
        LP its tight bound. Off by default: measured on the demo (36 jobs, 2
        workers) it made the plan slightly worse at equal time (objective 1827.4 vs
        1824.6 at 5 s, 1825.6 vs 1824.5 at 10 s; bound 1823.7 either way).

    (5) optional: serving replicas r_sot and unserved demand u_st with their constraints
        (S1)-(S3) and GPUs in the rows of (2) (planner/serving_model.py); used to polish
        the serving-first decomposition of planner/solve.py jointly.

Objective
    minimise sum c_jos x_jos + sum M_j y_j  (+ the serving terms)

Pruning (exact): two options of the same workload on the same resource
differ only in purchase. Where option a holds no more slots than option b,
uses no capacity pool b does not (a cluster's separate spot cap is a pool of
its own), and scores no more at start s, x_jbs is dropped: any plan using b at
s is no better than the same plan using a at s, and a needs no more capacity.

Solver settings (measured on the demo, 36 jobs / 16k literals, 2 cores): the
presolve spent over 5 s probing and returned a weak bound, while without it
the root LP proves a gap under 0.1 % in about 5 s; hence presolve is off by
default (``presolve=True`` turns it back on for experiments).

Why time-indexed: start-time element tables over optional intervals give
CP-SAT almost no LP bound (DESIGN.md, measured); one literal per start keeps
cost and emissions by start linear, so the bound is tight and the gap honest.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from planner import serving_model
from planner.capacity import Capacity, Resource
from planner.domain import SolverStatus
from planner.limits import Limit
from planner.objective import SCALE, Weights, from_int, to_int
from planner.options import WorkloadOptions
from planner.placement import Placement
from planner.serving import ServingOptions
from planner.serving_model import ServingPlacement

_STATUS = {
    cp_model.OPTIMAL: SolverStatus.OPTIMAL,
    cp_model.FEASIBLE: SolverStatus.FEASIBLE,
    cp_model.INFEASIBLE: SolverStatus.INFEASIBLE,
    cp_model.UNKNOWN: SolverStatus.UNKNOWN,
    cp_model.MODEL_INVALID: SolverStatus.MODEL_INVALID,
}


def unit_scores(o, weights: Weights) -> np.ndarray:
    """Integer score of one unit of option ``o`` for each of its starts."""
    usd = weights.usd * o.cost_usd
    kg = o.operational_kg + o.embodied_kg
    penalty = 0.0 if o.penalty is None else o.penalty
    return np.rint((usd + weights.kg * kg + penalty) * SCALE).astype(np.int64)


def penalty_of(scores: list[np.ndarray]) -> int:
    """M_j: ten times the workload's worst unit score, plus 1,000 score units."""
    worst = max((int(a.max()) for a in scores if len(a)), default=0)
    return 10 * max(worst, 1) + to_int(1000.0)


def objective_of(placements: list[Placement], workload_options: tuple[WorkloadOptions, ...],
                 weights: Weights) -> float:
    """The model's objective (score units, penalties included) of a list of placements."""
    placed: dict[int, int] = defaultdict(int)
    total = 0.0
    for p in placements:
        placed[p.workload] += p.units
        total += p.score(weights)
    for j, wo in enumerate(workload_options):
        missing = wo.units - placed[j]
        if missing > 0 and wo.options:
            total += missing * from_int(penalty_of([unit_scores(o, weights) for o in wo.options]))
    return total


def _dominated_starts(wo: WorkloadOptions, scores: list[np.ndarray],
                      limits: list[Limit] = ()) -> set[tuple[int, int]]:
    """(option index, start) pairs beaten by another purchase on the same resource
    (no worse on the score and on every limit that applies to the workload)."""
    by_resource: dict[Resource, list[int]] = defaultdict(list)
    for oi, o in enumerate(wo.options):
        by_resource[o.resource].append(oi)
    dominated: set[tuple[int, int]] = set()
    for indices in by_resource.values():
        if len(indices) < 2:
            continue
        for bi in indices:
            b = wo.options[bi]
            for ai in indices:
                a = wo.options[ai]
                if ai == bi or a.slots > b.slots or not set(a.resources) <= set(b.resources):
                    continue  # a must need no more capacity, in no more pools
                lo, hi = max(a.first_start, b.first_start), min(a.last_start, b.last_start)
                if lo > hi:
                    continue
                sa = scores[ai][lo - a.first_start:hi - a.first_start + 1]
                sb = scores[bi][lo - b.first_start:hi - b.first_start + 1]
                beats = (sa < sb) | ((sa == sb) & (ai < bi))
                for limit in limits:
                    va = limit.unit_coefficients(a)[lo - a.first_start:hi - a.first_start + 1]
                    vb = limit.unit_coefficients(b)[lo - b.first_start:hi - b.first_start + 1]
                    beats &= va <= vb
                for k in np.flatnonzero(beats).tolist():
                    if (ai, lo + k) not in dominated:
                        dominated.add((bi, lo + k))
    return dominated


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelResult:
    status: SolverStatus
    placements: tuple[Placement, ...]  # empty unless a solution was found
    serving: tuple[ServingPlacement, ...]  # serving replicas per slot, likewise
    mig_layouts: dict  # (cluster, accelerator) -> {layout: GPUs} (planner/mig_pools.py)
    objective: float  # in score units (planner/objective.py)
    bound: float
    wall_s: float
    num_variables: int
    num_constraints: int


def solve_model(
    workload_options: tuple[WorkloadOptions, ...],
    capacity: Capacity,
    horizon_hours: int,
    weights: Weights,
    *,
    time_limit_s: float,
    workers: int,
    hint: list[Placement] | None = None,
    use_cumulative: bool = False,
    presolve: bool = False,
    allowed: frozenset[tuple[int, int, int]] | None = None,
    limits: tuple[Limit, ...] = (),
    serving: tuple[ServingOptions, ...] = (),
    serving_hint: list[ServingPlacement] | None = None,
    serving_priority: int = 0,
    serving_pools: tuple = (),
    serving_layouts: dict | None = None,
) -> ModelResult:
    t0 = time.perf_counter()
    model = cp_model.CpModel()

    # -- variables -------------------------------------------------------------------
    x: list[tuple[Placement, cp_model.IntVar]] = []  # (unit placement, count variable)
    costs: list[int] = []
    per_workload: list[list[cp_model.IntVar]] = []
    worst_cost: list[int] = []  # penalty per unplaced unit of each workload
    gang_intervals: dict[Resource, list[tuple[cp_model.IntervalVar, int]]] = defaultdict(list)
    allowed_by: dict[tuple[int, int], list[int]] = defaultdict(list)
    for j, oi, s in allowed or ():
        allowed_by[(j, oi)].append(s)
    for j, wo in enumerate(workload_options):
        mine: list[cp_model.IntVar] = []
        scores = [unit_scores(o, weights) for o in wo.options]
        mine_limits = [lim for lim in limits if lim.applies(wo.workload)]
        dominated = _dominated_starts(wo, scores, mine_limits)
        for oi, o in enumerate(wo.options):
            starts_x = []
            kept = o.starts if allowed is None else sorted(allowed_by.get((j, oi), ()))
            for s in kept:
                score = int(scores[oi][s - o.first_start])
                if (oi, s) in dominated:
                    continue
                v = (model.new_bool_var(f"x{o.workload}_{oi}_{s}") if wo.units == 1
                     else model.new_int_var(0, wo.units, f"x{o.workload}_{oi}_{s}"))
                x.append((Placement(option=o, start=s, units=1), v))
                costs.append(score)
                mine.append(v)
                starts_x.append((s, v))
            if use_cumulative and wo.units == 1 and starts_x:
                present = model.new_bool_var(f"p{o.workload}_{oi}")
                model.add(present == cp_model.LinearExpr.sum([v for _, v in starts_x]))
                start = model.new_int_var(0, o.last_start, f"s{o.workload}_{oi}")
                model.add(start == cp_model.LinearExpr.weighted_sum(
                    [v for _, v in starts_x], [s for s, _ in starts_x]))
                interval = model.new_optional_fixed_size_interval_var(
                    start, o.slots, present, f"i{o.workload}_{oi}")
                gang_intervals[o.resource].append((interval, wo.gpus_per_unit))
        per_workload.append(mine)
        worst_cost.append(penalty_of(scores))

    # -- constraints -----------------------------------------------------------------
    # (1) every unit placed once, or counted as unplaced
    unplaced: list[tuple[int, cp_model.IntVar]] = []
    for j, (wo, mine) in enumerate(zip(workload_options, per_workload)):
        if not wo.options:
            continue  # unplaceable whatever the plan: no variable, no constant in the objective
        y = model.new_int_var(0, wo.units, f"y{j}")
        model.add(cp_model.LinearExpr.sum(mine) + y == wo.units)
        unplaced.append((j, y))

    # (2) capacity per resource and slot, where it can bind
    terms: dict[tuple[Resource, int], tuple[list, list]] = {}
    reach: dict[tuple[Resource, int], int] = defaultdict(int)
    for p, v in x:
        o = p.option
        wo = workload_options[o.workload]
        g, ub = wo.gpus_per_unit, wo.units * wo.gpus_per_unit
        for resource in o.resources:
            for t in range(p.start, p.start + o.slots):
                key = (resource, t)
                entry = terms.get(key)
                if entry is None:
                    entry = terms[key] = ([], [])
                entry[0].append(v)
                entry[1].append(g)
                reach[key] += ub
    # (5) serving replicas (planner/serving_model.py) in the same capacity rows, with
    # their demand, on-demand floor and failover constraints
    serving_objective: list[tuple[cp_model.IntVar, int]] = []

    def serving_capacity(resource: Resource, t: int, v, gpus: int, max_gpus: int) -> None:
        entry = terms.get((resource, t))
        if entry is None:
            entry = terms[(resource, t)] = ([], [])
        entry[0].append(v)
        entry[1].append(gpus)
        reach[(resource, t)] += max_gpus

    block = serving_model.add_to_model(model, serving, weights, serving_capacity,
                                       serving_objective, serving_priority,
                                       pools=serving_pools)
    for (resource, t), (variables, gpus) in terms.items():
        if reach[(resource, t)] > capacity.at(resource, t):
            model.add(cp_model.LinearExpr.weighted_sum(variables, gpus)
                      <= capacity.at(resource, t))

    # (4) team budgets and emission caps (planner/limits.py)
    for limit in limits:
        variables, coefficients = [], []
        for p, v in x:
            if limit.applies(workload_options[p.workload].workload):
                variables.append(v)
                coefficients.append(int(limit.unit_coefficients(p.option)[p.start - p.option.first_start]))
        if variables:
            model.add(cp_model.LinearExpr.weighted_sum(variables, coefficients) <= limit.int_cap())

    # (3) redundant cumulative for gangs (capacity is constant over the horizon for now)
    for resource, items in gang_intervals.items():
        if len(items) > 1 and not capacity.reserved:  # constant capacity only
            model.add_cumulative([i for i, _ in items], [g for _, g in items],
                                 capacity.get(resource, 0))

    # -- objective -------------------------------------------------------------------
    penalties = [(y, worst_cost[j]) for j, y in unplaced]
    model.minimize(cp_model.LinearExpr.weighted_sum(
        [v for _, v in x] + [y for y, _ in penalties] + [v for v, _ in serving_objective],
        costs + [m for _, m in penalties] + [c for _, c in serving_objective]))

    # -- hints (a feasible start: the greedy plan, or the previous plan) --------------
    if hint is not None:
        # a plan may place one workload's units at one start in two parts: sum them (a
        # hint that keeps only one is infeasible, and CP-SAT then drops all of it)
        hinted: dict[tuple[int, int, int], int] = defaultdict(int)
        for p in hint:
            hinted[(p.workload, id(p.option), p.start)] += p.units
        for p, v in x:
            model.add_hint(v, hinted.get((p.workload, id(p.option), p.start), 0))
        placed = defaultdict(int)
        for p in hint:
            placed[p.workload] += p.units
        for j, y in unplaced:
            model.add_hint(y, workload_options[j].units - placed[j])
    if serving_hint is not None:
        block.hint(model, serving_hint, serving, serving_layouts)

    # -- solve -----------------------------------------------------------------------
    solver = cp_model.CpSolver()
    # the time limit covers building the model too
    solver.parameters.max_time_in_seconds = max(0.1, float(time_limit_s)
                                                - (time.perf_counter() - t0))
    solver.parameters.num_workers = int(workers)
    solver.parameters.random_seed = 0
    solver.parameters.cp_model_presolve = presolve
    code = solver.solve(model)
    status = _STATUS.get(code, SolverStatus.UNKNOWN)

    # -- read ------------------------------------------------------------------------
    placements: list[Placement] = []
    replicas: list[ServingPlacement] = []
    layouts: dict = {}
    if status in (SolverStatus.OPTIMAL, SolverStatus.FEASIBLE):
        for p, v in x:
            units = solver.value(v)
            if units:
                placements.append(Placement(option=p.option, start=p.start, units=units))
        replicas = block.read(solver)
        layouts = block.layouts(solver)
        objective, bound = solver.objective_value, solver.best_objective_bound
    else:
        objective, bound = float("nan"), float("nan")
    proto = model.proto
    return ModelResult(
        status=status,
        placements=tuple(placements),
        serving=tuple(replicas),
        mig_layouts=layouts,
        objective=from_int(objective),
        bound=from_int(bound),
        wall_s=time.perf_counter() - t0,
        num_variables=len(proto.variables),
        num_constraints=len(proto.constraints),
    )
