"""Training and serving in one plan: a decomposition with a global bound, then a joint polish.

Training (planner/model.py, shrunk by planner/lp.py) and serving
(planner/serving_model.py) share only GPU capacity. Solving them in one CP-SAT model
from a weak start measured poorly (demo, 10 s, 2 workers: gap 8 % with a plan worse
than the cost-greedy baseline), while each part alone solves well: serving splits
exactly into one tiny search per (workload, slot) (planner/serving_solve.py), training
goes through the LP path. So:

1. serving alone on the full capacity (it comes first)          -> plan S, bound B_S
2. training on what S leaves                                    -> plan T
   (CP-SAT on the LP-restricted model; above LNS_ABOVE_COLUMNS kept literals, the
   neighbourhood search of planner/lns.py, CP-SAT solving each neighbourhood)
3. with time left and a serving block small enough to build, polish both parts in one
   CP-SAT model (planner/model.py with
   serving) from (T, S); below POLISH_ALL_LITERALS training literals it keeps them all,
   so its bound is global and sees the coupling.

With B_T the training LP on the full capacity (planner/lp.py), B_T + B_S is a valid
lower bound of the joint problem: a joint plan restricted to either part is feasible for
that part alone on the full capacity. The gap reported is against the better of it and
the polish's bound. Reduced-cost fixing from the full-capacity LP stays exact on less
capacity (a column absent from every better plan with more room is absent with less).

Measured on the demo (36 jobs, 3 services, 2 workers): 10 s limit gap 2.0 %, 20 s 0.85 %
(plan 3,668.4 score units either way; a 40 s joint solve bounds the optimum at 3,655.8,
so the plan is within 0.35 % and most of the reported gap is the bound).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from planner import lns, mig_pools, serving_model, serving_solve
from planner.capacity import Capacity
from planner.domain import Objective, SolverStatus
from planner.limits import Limit, LimitKind, within
from planner.lp import Relaxation
from planner.model import objective_of, penalty_of, solve_model, unit_scores
from planner.objective import SCALE, Weights, from_int, weights
from planner.options import WorkloadOptions
from planner.placement import Placement
from planner.serving import ServingOptions
from planner.serving_model import ServingPlacement

# Above this many (workload, option, start) literals the training model is first shrunk by
# LP column generation and reduced-cost fixing (planner/lp.py), keeping at most
# LP_MAX_COLUMNS literals. 0: always. Measured on the demo (36 jobs, 14k literals,
# 2 workers on a loaded 2-core machine): straight CP-SAT found no bound in 10 s
# (gap 100 %); through the LP it kept 5.3k literals and proved 0.007 % in 10 s.
LP_RESTRICT_ABOVE = 0
LP_MAX_COLUMNS = 250_000
# Above this many kept literals training is improved by neighbourhoods (planner/lns.py)
# rather than by CP-SAT on the whole restricted model. Measured on the benchmark family
# (benchmarks/generated.py, training only, 2 workers, 10 s unless said; % above the LP
# bound): 250 jobs, 32.6k literals: the whole model proved optimal (0.161 %), the search
# reached the same plan without the proof; 500 jobs, 66k: whole model 0.96 %, search
# 0.19 %; 1,000 jobs, 134k, 15 s: whole model 2.24 %, search 0.12-0.35 %.
LNS_ABOVE_COLUMNS = 50_000

# Shares of the time limit when there is both training and serving (steps 1-2); the
# polish gets what is left when that is at least POLISH_MIN_S seconds.
TRAINING_SHARE = 0.4
SERVING_SHARE = 0.3
# Without the polish (a serving block too large for it) serving takes this share and
# training the rest. Measured at 10,000 workloads, 60 s: the exact searches and their fit
# take 6-7.6 s, the MIG master and its first round ~5 s and the layouts and slots ~5 s;
# at 0.45 serving's plan was the same and training had 2-6 s less (gap 0.89-1.02 % in
# four runs, against 0.90 % in two at 0.4).
SERVING_SHARE_ALONE = 0.4
POLISH_MIN_S = 1.0
# Up to this many training literals the polish keeps them all, so its CP-SAT bound is
# global and tighter than B_T + B_S (it sees the coupling). Measured on the demo (36 jobs,
# 3 services, 14k literals): the joint model's bound after 40 s was 3,655.8 against 3,596.9
# for B_T + B_S, with the decomposition's plan at 3,668.4.
POLISH_ALL_LITERALS = 60_000

Hint = Callable[[Capacity, tuple[Limit, ...]], list[Placement]]
log = logging.getLogger("gridshift.planner")


@dataclass(frozen=True, slots=True, kw_only=True)
class Solution:
    placements: list[Placement]
    replicas: list[ServingPlacement]
    layouts: dict  # MIG layouts: (cluster, accelerator) -> {profiles: GPUs}
    objective: float  # score units (planner/objective.py), penalties included
    bound: float
    status: SolverStatus
    num_variables: int
    num_constraints: int


@dataclass(slots=True)
class _Part:
    placements: list[Placement]
    value: float
    bound: float
    status: SolverStatus
    num_variables: int = 0
    num_constraints: int = 0


def solve(workload_options: tuple[WorkloadOptions, ...],
          serving_options: tuple[ServingOptions, ...], capacity: Capacity, n_slots: int,
          w: Weights, *, hint: Hint, limits: tuple[Limit, ...], time_limit_s: float,
          workers: int, pools: tuple = ()) -> Solution:
    t0 = time.perf_counter()

    def left(share: float = 1.0) -> float:
        remaining = time_limit_s - (time.perf_counter() - t0)
        return max(0.5, min(remaining, share * time_limit_s) if share < 1.0 else remaining)

    int_scores = [[unit_scores(o, w) for o in wo.options] for wo in workload_options]
    priority = max((penalty_of(row) for row in int_scores if row), default=0)
    n_literals = sum(len(o.starts) for wo in workload_options for o in wo.options)
    relaxation = None
    if workload_options and (serving_options or n_literals > LP_RESTRICT_ABOVE):
        relaxation = Relaxation(workload_options, capacity, n_slots,
                                [[a / SCALE for a in row] for row in int_scores],
                                [from_int(penalty_of(row)) for row in int_scores],
                                seed=hint(capacity, limits), limits=limits)

    def train(cap: Capacity, seconds: float, *, global_bound: bool) -> _Part:
        began = time.perf_counter()
        start = hint(cap, limits)  # its time counts against the part's seconds
        return _training(workload_options, relaxation, cap, n_slots, w, start, limits,
                         seconds - (time.perf_counter() - began), workers,
                         global_bound=global_bound)

    # Under a whole-plan cap (a Pareto point's kgCO2e) serving takes its cleanest plan and
    # training the rest of the cap: the cap then holds whenever any plan can meet it, as
    # the front's caps lie above its cleanest plan; the cost of that serving plan is not
    # traded against the cap (a documented simplification).
    serving_w = w
    if any(limit.team is None and limit.kind is LimitKind.KG_CO2E for limit in limits):
        serving_w = weights(Objective.CARBON, 0.0)
    elif any(limit.team is None for limit in limits):
        serving_w = weights(Objective.COST, 0.0)

    def serve(cap: Capacity, seconds: float) -> serving_solve.SlotsResult:
        # no greedy hint: the exact searches' plan, laid onto the capacity, falls back to
        # the greedy where it does not fit (the whole greedy took 3.5 s at 2,000 services
        # and lost to it in every slot of the 1,000- and 10,000-workload benchmarks)
        return serving_solve.solve_slots(serving_options, cap, serving_w, priority=priority,
                                         time_limit_s=seconds, workers=workers, pools=pools)

    horizon = range(max((len(so.demand_rps) for so in serving_options), default=0))

    def value(replicas: list[ServingPlacement], layouts: dict) -> float:
        return (serving_model.objective_of(serving_options, replicas, w, priority)
                + mig_pools.value(pools, layouts, w, horizon))

    def leaves(cap: Capacity, replicas: list[ServingPlacement], layouts: dict) -> Capacity:
        cap = serving_model.with_serving(cap, replicas)
        reserved = dict(cap.reserved)
        for key, gpus in mig_pools.reserved(layouts, horizon).items():
            reserved[key] = reserved.get(key, 0) + gpus
        return Capacity(base=cap.base, reserved=reserved)

    if not serving_options:
        t = train(capacity, left(), global_bound=True)
        return Solution(placements=t.placements, replicas=[], layouts={}, objective=t.value,
                        bound=t.bound, status=t.status, num_variables=t.num_variables,
                        num_constraints=t.num_constraints)
    if not workload_options:
        s = serve(capacity, left())
        replicas = list(s.placements)
        objective = value(replicas, s.layouts)
        bound = (max(s.bound, serving_model.lp_bound(serving_options, w))
                 if serving_w == w else 0.0)
        return Solution(placements=[], replicas=replicas, layouts=s.layouts,
                        objective=objective, bound=bound, status=_status(objective, bound),
                        num_variables=0, num_constraints=0)

    # the joint polish only where its serving block is small enough to build in time
    whole_plan = any(limit.team is None for limit in limits)
    polish = (not whole_plan and sum(len(so.options) * int((so.demand_rps > 0).sum())
                                     for so in serving_options)
              <= serving_solve.WINDOW_MAX_REPLICA_VARS)
    alone = serve(capacity, left(SERVING_SHARE if polish else SERVING_SHARE_ALONE))  # (1)
    replicas, layouts = list(alone.placements), alone.layouts
    log.debug("serving alone: %.1f s, value %.1f, bound %.1f", time.perf_counter() - t0,
              alone.objective, alone.bound)
    # a whole-plan cap (a Pareto point's kgCO2e, planner/pareto.py) holds for training
    # what serving leaves of it; team budgets cap training alone (serving_model.py)
    if whole_plan:
        limits = _less_serving(limits, replicas, layouts, pools, len(horizon))
    t_a = train(leaves(capacity, replicas, layouts),
                left(TRAINING_SHARE) if polish else left(), global_bound=False)  # (2)
    placements, objective = t_a.placements, t_a.value + value(replicas, layouts)
    log.debug("training on what serving leaves: %.1f s, value %.1f",
              time.perf_counter() - t0, t_a.value)
    # (serving's own bound is in other units when it ran under the cap's weights: 0 then)
    serving_bound = max(alone.bound, serving_model.lp_bound(serving_options, w))
    bound = ((relaxation.value if relaxation is not None else math.nan)
             + (serving_bound if serving_w == w else 0.0))
    remaining = time_limit_s - (time.perf_counter() - t0)
    if (remaining >= POLISH_MIN_S and polish
            and objective - bound > 1e-6 * max(1.0, abs(objective))):
        placements, replicas, layouts, objective, joint_bound = _polish(
            workload_options, serving_options, capacity, n_slots, w,
            None if n_literals <= POLISH_ALL_LITERALS else relaxation, placements,
            replicas, layouts, objective, priority, limits, remaining, workers, pools, value)
        if not math.isnan(joint_bound):
            bound = max(bound, joint_bound)
        log.debug("joint polish: %.1f s, value %.1f, bound %.1f", time.perf_counter() - t0,
                  objective, joint_bound)
    return Solution(placements=placements, replicas=replicas, layouts=layouts,
                    objective=objective, bound=bound, status=_status(objective, bound),
                    num_variables=t_a.num_variables, num_constraints=t_a.num_constraints)


def _status(objective: float, bound: float) -> SolverStatus:
    """OPTIMAL only when the bound proves it (NaN bounds prove nothing)."""
    proven = objective - bound <= 1e-6 * max(1.0, abs(objective))
    return SolverStatus.OPTIMAL if proven else SolverStatus.FEASIBLE


def _less_serving(limits: tuple[Limit, ...], replicas: list[ServingPlacement], layouts: dict,
                  pools: tuple, horizon_hours: int) -> tuple[Limit, ...]:
    """Whole-plan caps less what the serving plan already uses of them."""
    usd = sum(p.cost_usd for p in replicas if p.option.profile is None)
    kg = sum(p.operational_kg + p.embodied_kg for p in replicas if p.option.profile is None)
    mig_usd, mig_kg = mig_pools.totals(pools, layouts, horizon_hours)
    used = {LimitKind.USD: usd + mig_usd, LimitKind.KG_CO2E: kg + mig_kg}
    return tuple(replace(limit, cap=max(0.0, limit.cap - used[limit.kind]))
                 if limit.team is None else limit for limit in limits)


def _with_training(capacity: Capacity, placements: list[Placement],
                   workload_options: tuple[WorkloadOptions, ...]) -> Capacity:
    """``capacity`` with the GPUs of these training placements reserved."""
    reserved = dict(capacity.reserved)
    for p in placements:
        gpus = p.units * workload_options[p.workload].gpus_per_unit
        for r in p.option.resources:
            for t in range(p.start, p.start + p.option.slots):
                reserved[(r, t)] = reserved.get((r, t), 0) + gpus
    return Capacity(base=capacity.base, reserved=reserved)


def _training(workload_options, relaxation, capacity: Capacity, n_slots: int, w: Weights,
              hint: list[Placement], limits, time_limit_s: float, workers: int, *,
              global_bound: bool) -> _Part:
    """The training model on ``capacity``: through the LP restriction when there is one."""
    t0 = time.perf_counter()
    hint_value = objective_of(hint, workload_options, w)
    allowed, bound, exact = None, math.nan, False
    if relaxation is not None:
        rounded = relaxation.rounded(capacity, w)  # respects capacity and the LP's limits
        rounded_value = objective_of(rounded, workload_options, w)
        if rounded_value < hint_value and within(
                limits, rounded, [wo.workload for wo in workload_options]):
            hint, hint_value = rounded, rounded_value
        restriction = relaxation.restrict(upper_bound=hint_value, seed_size=len(hint),
                                          max_columns=LP_MAX_COLUMNS)
        allowed, bound, exact = restriction.columns, relaxation.value, restriction.exact
        reduced_costs = restriction.reduced_costs
    search = allowed is not None and len(allowed) > LNS_ABOVE_COLUMNS
    lp_costs = relaxation.workload_costs() if search else None
    # the LP work above counts against the time limit too
    time_limit_s = max(0.5, time_limit_s - (time.perf_counter() - t0))
    if search:
        placements = lns.improve(workload_options, capacity, n_slots, w, hint, reduced_costs,
                                 lp_costs, limits=limits, time_limit_s=time_limit_s,
                                 workers=workers)
        value = objective_of(placements, workload_options, w)
        bound = bound if global_bound else math.nan
        # the LP bound can prove the plan optimal; the sub-models' sizes are not this
        # model's: its kept literals are reported, with no constraint count
        return _Part(placements=placements, value=value, bound=bound,
                     status=_status(value, bound), num_variables=len(allowed),
                     num_constraints=0)
    result = solve_model(workload_options, capacity, n_slots, w, time_limit_s=time_limit_s,
                         workers=workers, hint=hint, allowed=allowed, limits=limits)
    if result.status is SolverStatus.MODEL_INVALID:
        raise RuntimeError("CP-SAT rejected the model as invalid: a planner bug, please report")
    if relaxation is None:
        bound = result.bound
    elif exact and not math.isnan(result.bound):
        # every column that could beat the hint survived: the restricted bound is global
        bound = max(bound, result.bound)
    if not global_bound:
        bound = math.nan
    found = result.status in (SolverStatus.OPTIMAL, SolverStatus.FEASIBLE)
    placements = list(result.placements)
    if not found or hint_value < objective_of(placements, workload_options, w):
        # no solution within the time limit (or one worse than the hint, which can
        # happen when the hint used pruned literals): the hint is a valid plan
        return _Part(placements=hint, value=hint_value, bound=bound,
                     status=SolverStatus.FEASIBLE, num_variables=result.num_variables,
                     num_constraints=result.num_constraints)
    return _Part(placements=placements, value=objective_of(placements, workload_options, w),
                 bound=bound, status=result.status, num_variables=result.num_variables,
                 num_constraints=result.num_constraints)


def _polish(workload_options, serving_options, capacity, n_slots, w, relaxation, placements,
            replicas, layouts, objective, priority, limits, time_limit_s, workers, pools,
            serving_value):
    """Both parts in one CP-SAT model, from the decomposition's plan (kept if not beaten).

    Without ``relaxation`` every training literal is in the model and its bound (the 4th
    value) is global; with one, the training literals are those the training LP keeps
    against the plan's training value, a heuristic restriction, and the bound is NaN."""
    allowed = None
    if relaxation is not None:
        index_of = {id(o): (j, oi) for j, wo in enumerate(workload_options)
                    for oi, o in enumerate(wo.options)}
        columns = {(*index_of[id(p.option)], p.start) for p in placements}
        train_value = objective_of(placements, workload_options, w)
        columns |= relaxation.restrict(upper_bound=train_value, seed_size=len(placements),
                                       max_columns=LP_MAX_COLUMNS).columns
        allowed = frozenset(columns)
    joint = solve_model(workload_options, capacity, n_slots, w, time_limit_s=time_limit_s,
                        workers=workers, hint=placements, allowed=allowed,
                        limits=limits, serving=serving_options, serving_hint=replicas,
                        serving_priority=priority, serving_pools=pools,
                        serving_layouts=layouts)
    bound = joint.bound if allowed is None else math.nan
    if joint.status in (SolverStatus.OPTIMAL, SolverStatus.FEASIBLE):
        value = (objective_of(list(joint.placements), workload_options, w)
                 + serving_value(list(joint.serving), joint.mig_layouts))
        if value < objective - 1e-9:
            return (list(joint.placements), list(joint.serving), joint.mig_layouts, value,
                    bound)
    return placements, replicas, layouts, objective, bound
