"""The serving part of a plan alone: exact searches, then CP-SAT per slot or MIG layouts.

planner/joint.py plans serving first, on the full capacity, with :func:`solve_slots`;
the model block, scores and greedy it uses are planner/serving_model.py's.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass

from planner import mig_master, mig_pools, mig_prices, mig_round, serving_exact
from planner.capacity import Capacity, Ledger, Resource
from planner.objective import Weights, from_int
from planner.serving import ServingOptions
from planner.serving_model import (
    ServingPlacement,
    add_to_model,
    objective_by_slot,
    objective_of,
)

log = logging.getLogger("gridshift.planner")
# Least time a per-slot model is given; with less left, the hint stands for the slot.
MIN_SLOT_S = 0.05
# With MIG pools, shares of the serving time limit: column generation
# (planner/mig_master.py) until MASTER_SHARE of it, the slots' programs
# (planner/mig_round.py) until LAYOUT_SHARE, and the CP-SAT window model gets the rest
# when it has at most WINDOW_MAX_REPLICA_VARS replica variables (else the slots' programs
# get all of it). Measured at 10,000 workloads (2,000 services, 48 slots): a window model
# of 1.5 M replica variables took longer to build than its whole budget.
MASTER_SHARE = 0.6
LAYOUT_SHARE = 0.8
WINDOW_MAX_REPLICA_VARS = 20_000


@dataclass(frozen=True, slots=True, kw_only=True)
class SlotsResult:
    placements: tuple[ServingPlacement, ...]
    layouts: dict  # MIG layouts chosen (planner/mig_pools.py); {} without pools
    objective: float  # score units, unserved demand at its penalty
    bound: float  # a lower bound on that objective given the capacity
    wall_s: float


def solve_slots(serving_options: tuple[ServingOptions, ...], capacity: Capacity,
                weights: Weights, *, priority: int, time_limit_s: float, workers: int,
                pools: tuple = ()) -> SlotsResult:
    """The serving part alone.

    1. Every (workload, slot) searched exactly with capacity left out
       (planner/serving_exact.py): with MIG replicas at their profile's share, a lower
       bound; on whole GPUs, a plan, laid onto the capacity workload by workload (a
       (workload, slot) that does not fit is searched again on what is left): the start.
    2. Without MIG pools the slots share nothing (a replica holds GPUs in its own slot
       only): each slot the bound does not already prove gets a small CP-SAT model with
       an equal share of the time left, starting from the start.
    3. With MIG pools, whose layouts hold for the whole window: the workloads that can use
       a profile go through column generation (planner/mig_master.py, prices by
       planner/mig_prices.py: the bound, a Lagrangian of the slices and the capacity) and
       price and fix (planner/mig_round.py: layouts dived to whole GPUs on the master,
       then one small integer program per slot); one CP-SAT model over all slots
       polishes the result when it is small enough (``WINDOW_MAX_REPLICA_VARS``).

    Measured on the 1,000-workload benchmark (200 services, 48 slots, 33 MIG pools,
    10 s): the greedy alone scored 40,350 against a closed-form LP bound of 13,869; the
    layout local search that came before 30,245 against 28,171 (7.2 %); now
    28,646-28,684 against 28,409-28,423 (0.78-0.91 %), in 5.5-7.4 s."""
    t0 = time.perf_counter()
    horizon = max((len(so.demand_rps) for so in serving_options), default=0)
    exact = serving_exact.solve(serving_options, weights, priority=priority)
    fitted = serving_exact.fit(serving_options, exact.placements, Ledger(capacity), weights,
                               priority=priority)
    start_by_slot = objective_by_slot(serving_options, fitted, weights, priority)
    by_slot: dict[int, list[ServingPlacement]] = defaultdict(list)
    for p in fitted:
        by_slot[p.slot].append(p)
    log.debug("serving: exact searches %d/%d finished, bound %.1f, start %.1f, %.1f s",
              exact.proven, exact.searches, exact.bound, float(start_by_slot.sum()),
              time.perf_counter() - t0)
    if pools:
        return _with_pools(serving_options, capacity, weights, priority, pools, exact, fitted,
                           float(start_by_slot.sum()), t0, time_limit_s, workers)
    placements: list[ServingPlacement] = []
    bound = 0.0
    # slots whose start the bound already proves optimal need no model
    open_slots = [t for t in range(horizon)
                  if start_by_slot[t] - exact.bound_by_slot[t] > 1e-6 * max(1.0, start_by_slot[t])]
    for t in range(horizon):
        left = time_limit_s - (time.perf_counter() - t0)
        if t not in open_slots or left < MIN_SLOT_S:
            # proven, or out of time: the start's replicas stand (the exact bound holds)
            placements.extend(by_slot.get(t, []))
            bound += exact.bound_by_slot[t]
            continue
        remaining = len([u for u in open_slots if u >= t])
        found, replicas, _, slot_bound = _solve_group(
            serving_options, capacity, weights, priority, range(t, t + 1), (),
            by_slot.get(t, []), {}, max(MIN_SLOT_S, left / remaining), workers,
            drain=False)
        slot_value = objective_by_slot(serving_options, replicas, weights, priority, only=t)[t]
        placements.extend(replicas if found and slot_value < start_by_slot[t] - 1e-9
                          else by_slot.get(t, []))
        bound += max(slot_bound, exact.bound_by_slot[t])
    objective = objective_of(serving_options, placements, weights, priority)
    layouts: dict = {}
    return SlotsResult(placements=tuple(placements), layouts=layouts, objective=objective,
                       bound=bound,
                       wall_s=time.perf_counter() - t0)


def _with_pools(serving_options, capacity: Capacity, weights: Weights, priority: int,
                pools: tuple, exact, start: list[ServingPlacement], start_value: float,
                t0: float, time_limit_s: float, workers: int) -> SlotsResult:
    """With MIG pools: the workloads that can use a profile by column generation
    (planner/mig_master.py) and price and fix (planner/mig_round.py) on what the others'
    whole-GPU replicas leave, then the CP-SAT window model from there while time is left
    and the model is small enough. The start stands where that is not better."""
    window = range(max(len(so.demand_rps) for so in serving_options))
    size = sum(len(so.options) * int((so.demand_rps > 0).sum()) for so in serving_options)
    polish = size <= WINDOW_MAX_REPLICA_VARS
    try:
        placements, layouts, bound = _by_master(
            serving_options, capacity, weights, priority, pools, exact, start,
            master_by=t0 + MASTER_SHARE * time_limit_s,
            round_by=t0 + (LAYOUT_SHARE if polish else 1.0) * time_limit_s, workers=workers)
    except mig_master.MasterError as e:  # the start stands
        log.warning("serving: the MIG master LP failed (%s); whole-GPU replicas only", e)
        placements, layouts, bound = list(start), {}, exact.bound
    objective = (objective_of(serving_options, placements, weights, priority)
                 + mig_pools.value(pools, layouts, weights, window))
    if start_value <= objective:
        placements, layouts, objective = list(start), {}, start_value
    log.debug("serving: MIG layouts %s, value %.1f, %.1f s",
              {f"{c}/{a}": sum(k.values()) for (c, a), k in layouts.items()}, objective,
              time.perf_counter() - t0)
    left = time_limit_s - (time.perf_counter() - t0)
    if left >= 2 * MIN_SLOT_S and polish:
        found, replicas, joint_layouts, _ = _solve_group(
            serving_options, capacity, weights, priority, window, pools, placements, layouts,
            left, workers, drain=True)
        value = (objective_of(serving_options, replicas, weights, priority)
                 + mig_pools.value(pools, joint_layouts, weights, window))
        if found and value < objective - 1e-9:
            placements, layouts, objective = replicas, joint_layouts, value
    return SlotsResult(placements=tuple(placements), layouts=layouts, objective=objective,
                       bound=bound, wall_s=time.perf_counter() - t0)


def _by_master(serving_options, capacity: Capacity, weights: Weights, priority: int,
               pools: tuple, exact, start: list[ServingPlacement], *, master_by: float,
               round_by: float, workers: int) -> tuple[list[ServingPlacement], dict, float]:
    """(placements, layouts, bound): the workloads that can use a MIG profile by the
    master (columns until ``master_by``, rounded until ``round_by``), on what the others'
    replicas in ``start`` leave; the others' start kept."""
    horizon = max(len(so.demand_rps) for so in serving_options)
    users = [s for s, so in enumerate(serving_options)
             if any(o.profile is not None for o in so.options)]
    mine = set(users)
    ledger = Ledger(capacity)
    for p in start:
        if p.workload not in mine:
            ledger.take(p.option.resources, p.slot, 1, p.replicas * p.option.gpus_per_replica)
    master = mig_master.Master(serving_options, users, weights, priority, pools, ledger,
                               horizon, threads=workers, solve_by=round_by)
    master.add_plan(start)  # fits the capacity: the master is feasible
    master.add_plan(exact.share_placements)
    others = {s: float(exact.bound_by_workload[s]) for s in range(len(serving_options))
              if s not in mine and serving_options[s].options}
    bound, rounds = mig_prices.generate(master, weights, others, deadline=master_by)
    bound = max(exact.bound, bound)
    log.debug("serving: master %d columns, %d rounds, bound %.1f",
              len(master.columns), rounds, bound)
    chosen, layouts = mig_round.plan(master, deadline=round_by)
    placements = [p for p in start if p.workload not in mine] + [
        ServingPlacement(option=serving_options[s].options[i], slot=t, replicas=int(r))
        for pair, col in chosen.items()
        for s, t in (master.pairs[pair],)
        for i, r in zip(col.options, col.replicas, strict=True)]
    return placements, layouts, bound


def _solve_group(serving_options, capacity: Capacity, weights: Weights, priority: int,
                 group: range, pools: tuple, hint: list[ServingPlacement], hint_layouts: dict,
                 seconds: float, workers: int, *, drain: bool):
    """(found, replicas, layouts, bound) of the serving model over ``group``;
    without a solution the hint's replicas stand (and its layouts)."""
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    terms: dict[tuple[Resource, int], tuple[list, list]] = {}
    obj: list[tuple[object, int]] = []

    def add_capacity(resource, slot, v, gpus, _max) -> None:
        entry = terms.setdefault((resource, slot), ([], []))
        entry[0].append(v)
        entry[1].append(gpus)

    block = add_to_model(model, serving_options, weights, add_capacity, obj, priority,
                         slots=group, pools=pools, drain=drain)
    if not block.unserved:
        return True, [], {}, 0.0
    for (resource, slot), (variables, gpus) in terms.items():
        model.add(cp_model.LinearExpr.weighted_sum(variables, gpus)
                  <= capacity.at(resource, slot))
    model.minimize(cp_model.LinearExpr.weighted_sum([v for v, _ in obj], [c for _, c in obj]))
    hinted = {(p.workload, id(p.option), p.slot): p.replicas for p in hint}
    for p, v in block.replicas:
        model.add_hint(v, hinted.get((p.workload, id(p.option), p.slot), 0))
    if block.pools is not None:
        block.pools.hint(model, hint_layouts)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = int(workers)
    solver.parameters.random_seed = 0
    code = solver.solve(model)
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return (True, block.read(solver), block.layouts(solver),
                from_int(solver.best_objective_bound))
    return False, list(hint), dict(hint_layouts), 0.0
