r"""Serving workloads in the plan: the model block, its scores, the greedy, the bounds.

Per serving workload s, option o (planner/serving.py) and slot t with demand D_st > 0:

    r_sot in {0..R_sot}   replicas, R_sot = min(replicas the cluster holds, ceil(D_st / thr_o))
    u_st  in {0..D_st}    unserved demand (milli-requests/s)

with constraints (S1)-(S3) of planner/serving.py, throughput rounded *down* and demand
*up* to milli-requests/s so integer feasibility implies real feasibility, and

    (C)  sum_{s,o: r(o)=r} gpus_o r_sot <= K_rt          for every resource r

Objective: sum c_sot r_sot + sum P_s u_st, with c_sot the score of one replica-hour and
P_s (per milli-rps) above a replica-hour and any training workload's unplaced penalty:
live traffic comes first.

Decomposition (planner/joint.py): serving is planned first and alone
(planner/serving_solve.py: exact per-(workload, slot) searches, then per-slot CP-SAT models
or, with MIG pools, column generation and price and fix: planner/mig_master.py,
planner/mig_round.py); training is then planned on what the replicas leave, and
where the serving block is small both are polished together in the model of
planner/model.py, which takes this block too.

Team budgets (planner/limits.py) cap training and batch work: live traffic is not shed
to meet a budget. Serving spend is reported per team beside them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from planner import mig_pools
from planner.capacity import Capacity, Ledger, Resource
from planner.domain import Purchase
from planner.objective import SCALE, Weights, from_int
from planner.serving import ServingOption, ServingOptions

MILLI = 1000  # requests/s -> milli-requests/s, the solver's unit of throughput


@dataclass(frozen=True, slots=True, kw_only=True)
class ServingPlacement:
    """``replicas`` replicas of one serving option in one hourly slot."""

    option: ServingOption
    slot: int
    replicas: int

    @property
    def workload(self) -> int:
        return self.option.workload

    @property
    def cost_usd(self) -> float:
        return self.option.usd_per_hour * self.replicas

    @property
    def energy_kwh(self) -> float:
        return self.option.kwh_per_hour * self.replicas

    @property
    def operational_kg(self) -> float:
        return float(self.option.operational_kg[self.slot]) * self.replicas

    @property
    def embodied_kg(self) -> float:
        return self.option.embodied_kg_per_hour * self.replicas

    def score(self, weights: Weights) -> float:
        return weights.score(cost_usd=self.cost_usd,
                             emissions_kg=self.operational_kg + self.embodied_kg)


def thr_milli(o: ServingOption) -> int:
    return max(1, math.floor(o.throughput_rps * MILLI + 1e-9))


def demand_milli(so: ServingOptions, t: int) -> int:
    return math.ceil(so.demand_rps[t] * MILLI - 1e-9)


def replica_scores(o: ServingOption, weights: Weights) -> np.ndarray:
    """Integer score of one replica-hour of ``o`` by slot (0 on a MIG profile: the pool's
    layout variables pay for the partitioned GPUs, planner/mig_pools.py)."""
    if o.profile is not None:
        return np.full(len(o.operational_kg), round(o.penalty_per_hour * SCALE), dtype=np.int64)
    kg = o.operational_kg + o.embodied_kg_per_hour
    return np.rint((weights.usd * o.usd_per_hour + weights.kg * kg + o.penalty_per_hour)
                   * SCALE).astype(np.int64)


def penalty_per_milli(so: ServingOptions, weights: Weights, priority: int = 0) -> int:
    """P_s: score units per unserved milli-request/s for an hour: ten times the dearest
    replica-hour, so that no remainder of demand is ever cheaper to drop than to serve
    with one more replica (with P_s per request/s instead, dropping 0.1 rps was cheaper
    than a 30 rps replica), plus ``priority`` / 1000, so that leaving one request/s
    unserved for an hour costs more than leaving any training workload unplaced
    (``priority`` = the largest unplaced penalty M_j of the training side). Live traffic
    comes first; it goes unserved only where no capacity is left."""
    worst = max((float(_full_scores(o, weights).max()) * SCALE for o in so.options),
                default=1.0)
    return math.ceil(10 * max(worst, 1e-3)) + 1 + priority // MILLI


def replica_bound(so: ServingOptions, o: ServingOption, t: int) -> int:
    return min(o.max_replicas, math.ceil(demand_milli(so, t) / thr_milli(o)))


# -- the hint: a valid serving plan built one workload and slot at a time --------------------

def greedy(serving_options: tuple[ServingOptions, ...], ledger: Ledger,
           weights: Weights) -> list[ServingPlacement]:
    """Per slot: the on-demand floor (and failover, over the two best regions) on the
    cheapest on-demand options by score per request/s, then the rest on the cheapest of
    all, the most constrained services first. Takes its GPUs from ``ledger``; demand it
    cannot fit stays unserved."""
    out: list[ServingPlacement] = []
    for s in constrained_first(serving_options):
        so = serving_options[s]
        if not so.options:
            continue
        scores = [replica_scores(o, weights) for o in so.options]
        for t in range(len(so.demand_rps)):
            out.extend(greedy_slot(so, t, ledger, scores))
    return out


def constrained_first(serving_options: tuple[ServingOptions, ...]) -> list[int]:
    """Workload indices, the most constrained first (fewest GPU pools to choose from), then
    the biggest: a flexible service should not take the only pool another one can use."""
    return sorted(range(len(serving_options)),
                  key=lambda s: (len({o.resource for o in serving_options[s].options}),
                                 -float(serving_options[s].demand_rps.max(initial=0.0))))


def greedy_slot(so: ServingOptions, t: int, ledger: Ledger,
                scores: list[np.ndarray]) -> list[ServingPlacement]:
    """:func:`greedy` for one workload and slot (``scores``: :func:`replica_scores` of its
    options)."""
    w = so.workload
    need = demand_milli(so, t)
    if need <= 0:
        return []
    ranked = sorted((i for i, o in enumerate(so.options) if o.profile is None),
                    key=lambda i: (scores[i][t] / thr_milli(so.options[i]), i))
    on_demand = [i for i in ranked if so.options[i].purchase is Purchase.ON_DEMAND]
    placed: dict[int, int] = defaultdict(int)

    def fill(candidates: list[int], want: int) -> int:
        for i in candidates:
            if want <= 0:
                break
            o = so.options[i]
            room = ledger.free(o.resources, t, 1) // o.gpus_per_replica
            n = min(room, math.ceil(want / thr_milli(o)))
            if n > 0:
                ledger.take(o.resources, t, 1, n * o.gpus_per_replica)
                placed[i] += n
                want -= n * thr_milli(o)
        return want

    regions = list(dict.fromkeys(so.options[i].region.name for i in on_demand))
    if w.failover_fraction > 0 and len(regions) >= 2:
        failover = math.ceil(need * w.failover_fraction)
        second = [i for i in on_demand if so.options[i].region.name == regions[1]]
        first = [i for i in on_demand if so.options[i].region.name == regions[0]]
        served_b = failover - fill(second, failover)
        fill(first, max(failover, need - served_b))
    else:
        left = fill(on_demand, math.ceil(need * w.on_demand_floor))
        served = sum(n * thr_milli(so.options[i]) for i, n in placed.items())
        if left <= 0 and served < need:
            fill(ranked, need - served)
    return [ServingPlacement(option=so.options[i], slot=t, replicas=n)
            for i, n in placed.items()]


def by_workload(placements: list[ServingPlacement]) -> dict[int, list[ServingPlacement]]:
    out: dict[int, list[ServingPlacement]] = defaultdict(list)
    for p in placements:
        out[p.workload].append(p)
    return out


def shortfall_milli(so: ServingOptions, mine: list[ServingPlacement],
                    slots: range | None = None) -> list[int]:
    """Unserved milli-rps by slot (of ``slots``, default all): the largest gap of (S1),
    (S2) and (S3); ``mine`` are the workload's own placements (:func:`by_workload`)."""
    w = so.workload
    by_slot: dict[int, list[ServingPlacement]] = defaultdict(list)
    for p in mine:
        by_slot[p.slot].append(p)
    regions = {o.region.name for o in so.options}
    out = []
    for t in range(len(so.demand_rps)) if slots is None else slots:
        d = demand_milli(so, t)
        mine = by_slot.get(t, [])
        total = sum(p.replicas * thr_milli(p.option) for p in mine)
        od = sum(p.replicas * thr_milli(p.option) for p in mine
                 if p.option.purchase is Purchase.ON_DEMAND)
        gaps = [d - total, math.ceil(w.on_demand_floor * d) - od]
        if w.failover_fraction > 0:
            need = math.ceil(w.failover_fraction * d)
            gaps.extend(need - (total - sum(p.replicas * thr_milli(p.option) for p in mine
                                            if p.option.region.name == g)) for g in regions)
        out.append(max(0, *gaps))
    return out


def objective_of(serving_options: tuple[ServingOptions, ...], placements: list[ServingPlacement],
                 weights: Weights, priority: int = 0, slots: range | None = None) -> float:
    """Score units of a serving plan, unserved demand at its penalty (as the model counts)."""
    by_slot = objective_by_slot(serving_options, placements, weights, priority)
    if slots is not None:
        return float(sum(by_slot[t] for t in slots if t < len(by_slot)))
    return float(by_slot.sum())


def objective_by_slot(serving_options: tuple[ServingOptions, ...],
                      placements: list[ServingPlacement], weights: Weights,
                      priority: int = 0, only: int | None = None) -> np.ndarray:
    """:func:`objective_of` by slot (with ``only``, that slot alone is filled in)."""
    horizon = max((len(so.demand_rps) for so in serving_options), default=0)
    out = np.zeros(horizon)
    scores: dict[int, np.ndarray] = {}
    for p in placements:
        key = id(p.option)
        if key not in scores:
            scores[key] = replica_scores(p.option, weights)
        out[p.slot] += from_int(int(scores[key][p.slot])) * p.replicas
    grouped = by_workload(placements)
    for s, so in enumerate(serving_options):
        if so.options:
            penalty = penalty_per_milli(so, weights, priority)
            if only is None:
                short = shortfall_milli(so, grouped.get(s, []))
                out[:len(short)] += np.asarray([from_int(penalty * x) for x in short])
            elif only < len(so.demand_rps):
                out[only] += from_int(penalty * shortfall_milli(
                    so, grouped.get(s, []), range(only, only + 1))[0])
    return out


def lp_bound(serving_options: tuple[ServingOptions, ...], weights: Weights) -> float:
    """A lower bound on any serving plan's score, in closed form: per workload and slot, the
    on-demand floor at the cheapest on-demand score per request/s and the rest at the
    cheapest of all (the LP of (S1)-(S2) with capacity, failover and whole replicas
    relaxed). A MIG replica is counted at its profile's share of a GPU-hour, which its
    pool's whole GPUs never undercut."""
    total = 0.0
    for so in serving_options:
        if not so.options:
            continue
        w = so.workload
        per_rps = np.vstack([_full_scores(o, weights) / o.throughput_rps for o in so.options])
        on_demand = np.asarray([o.purchase is Purchase.ON_DEMAND for o in so.options])
        cheapest = per_rps.min(axis=0)
        cheapest_od = per_rps[on_demand].min(axis=0) if on_demand.any() else cheapest
        floor = w.on_demand_floor * so.demand_rps
        total += float((floor * cheapest_od + (so.demand_rps - floor) * cheapest).sum())
    return total


def _full_scores(o: ServingOption, weights: Weights) -> np.ndarray:
    """Score units of one replica-hour by slot, whoever pays for it (a MIG pool or itself)."""
    kg = o.operational_kg + o.embodied_kg_per_hour
    return weights.usd * o.usd_per_hour + weights.kg * kg + o.penalty_per_hour


def with_serving(capacity: Capacity, placements: list[ServingPlacement]) -> Capacity:
    """``capacity`` with the GPUs of these serving replicas reserved."""
    reserved = dict(capacity.reserved)
    for p in placements:
        for r in p.option.resources:
            key = (r, p.slot)
            reserved[key] = reserved.get(key, 0) + p.replicas * p.option.gpus_per_replica
    return Capacity(base=capacity.base, reserved=reserved)


# -- the model block ---------------------------------------------------------------------------

@dataclass(slots=True)
class Block:
    """The serving part of one CP-SAT model (created by :func:`add_to_model`)."""

    replicas: list[tuple[ServingPlacement, object]]  # (unit placement, int var)
    unserved: list[tuple[int, int, object]]  # (workload, slot, int var)
    pools: mig_pools.PoolVars | None = None

    def layouts(self, solver) -> dict:
        return {} if self.pools is None else self.pools.read(solver)

    def hint(self, model, placements: list[ServingPlacement],
             serving_options: tuple[ServingOptions, ...], layouts=None) -> None:
        if self.pools is not None:
            self.pools.hint(model, layouts or {})
        hinted = {(p.workload, id(p.option), p.slot): p.replicas for p in placements}
        for p, v in self.replicas:
            model.add_hint(v, hinted.get((p.workload, id(p.option), p.slot), 0))
        grouped = by_workload(placements)
        short = {s: shortfall_milli(so, grouped.get(s, [])) for s, so in enumerate(serving_options)}
        for s, t, v in self.unserved:
            model.add_hint(v, short[s][t])

    def read(self, solver) -> list[ServingPlacement]:
        out = []
        for p, v in self.replicas:
            n = solver.value(v)
            if n:
                out.append(ServingPlacement(option=p.option, slot=p.slot, replicas=n))
        return out


def add_to_model(model, serving_options: tuple[ServingOptions, ...], weights: Weights,
                 capacity_terms: Callable[[Resource, int, object, int, int], None],
                 objective_terms: list[tuple[object, int]], priority: int = 0,
                 slots: range | None = None, pools: tuple = (), drain: bool = True) -> Block:
    """Variables and constraints (S1)-(S3); capacity terms and objective terms are handed
    back through ``capacity_terms(resource, t, var, gpus, max_gpus)`` and appended to
    ``objective_terms``."""
    from ortools.sat.python import cp_model

    block = Block(replicas=[], unserved=[])
    for s, so in enumerate(serving_options):
        if not so.options:
            continue
        w = so.workload
        scores = [replica_scores(o, weights) for o in so.options]
        penalty = penalty_per_milli(so, weights, priority)
        regions = sorted({o.region.name for o in so.options})
        for t in slots if slots is not None else range(len(so.demand_rps)):
            d = demand_milli(so, t)
            if d <= 0:
                continue
            terms: list[tuple[object, ServingOption]] = []
            for oi, o in enumerate(so.options):
                ub = replica_bound(so, o, t)
                if ub <= 0:
                    continue
                v = model.new_int_var(0, ub, f"r{s}_{oi}_{t}")
                block.replicas.append((ServingPlacement(option=o, slot=t, replicas=1), v))
                objective_terms.append((v, int(scores[oi][t])))
                if o.gpus_per_replica:
                    for r in o.resources:
                        capacity_terms(r, t, v, o.gpus_per_replica, ub * o.gpus_per_replica)
                terms.append((v, o))
            u = model.new_int_var(0, d, f"u{s}_{t}")
            block.unserved.append((s, t, u))
            objective_terms.append((u, penalty))

            def served(keep: Callable[[ServingOption], bool], terms=terms, u=u):
                chosen = [(v, o) for v, o in terms if keep(o)]
                return cp_model.LinearExpr.weighted_sum(
                    [v for v, _ in chosen] + [u], [thr_milli(o) for _, o in chosen] + [1])

            model.add(served(lambda o: True) >= d)
            floor = math.ceil(w.on_demand_floor * d)
            if floor > 0:
                model.add(served(lambda o: o.purchase is Purchase.ON_DEMAND) >= floor)
            need = math.ceil(w.failover_fraction * d)
            if need > 0:
                for g in regions:
                    model.add(served(lambda o, g=g: o.region.name != g) >= need)
    if pools:
        horizon = max(len(so.demand_rps) for so in serving_options)
        block.pools = mig_pools.add_to_model(
            model, pools, block.replicas, weights,
            slots if slots is not None else range(horizon), capacity_terms, objective_terms,
            drain=drain)
    return block
