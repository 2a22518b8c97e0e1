r"""Serving workloads in the plan: the per-slot model, its hint, and the read-back.

Per serving workload s, option o (planner/serving.py) and slot t with demand D_st > 0:

    r_sot in {0..R_sot}   replicas, R_sot = min(replicas the cluster holds, ceil(D_st / thr_o))
    u_st  in {0..D_st}    unserved demand (milli-requests/s)

with constraints (S1)-(S3) of planner/serving.py, throughput rounded *down* and demand
*up* to milli-requests/s so integer feasibility implies real feasibility, and

    (C)  sum_{s,o: r(o)=r} gpus_o r_sot <= K_rt          for every resource r

Objective: sum c_sot r_sot + sum P_s u_st, with c_sot the score of one replica-hour and
P_s (per milli-rps) above any training workload's unplaced penalty: live traffic comes
first.

Decomposition (planner/joint.py): a replica holds GPUs in its own slot only, so the
serving problem alone splits exactly into one small model per slot
(:func:`solve_slots`); training is then planned on what the replicas leave, and both are
polished together in the model of planner/model.py, which takes this block too.

Team budgets (planner/limits.py) cap training and batch work: live traffic is not shed
to meet a budget. Serving spend is reported per team beside them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from planner import mig_pools
from planner.capacity import Capacity, Ledger, Resource
from planner.domain import HOUR, Assignment, Purchase, Unplaced, WorkloadKind
from planner.objective import SCALE, Weights, from_int
from planner.placement import market_kg
from planner.serving import ServingOption, ServingOptions, great_circle_km, worst_rtt

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
    return max(1, int(math.floor(o.throughput_rps * MILLI + 1e-9)))


def demand_milli(so: ServingOptions, t: int) -> int:
    return int(math.ceil(so.demand_rps[t] * MILLI - 1e-9))


def replica_scores(o: ServingOption, weights: Weights) -> np.ndarray:
    """Integer score of one replica-hour of ``o`` by slot (0 on a MIG profile: the pool's
    layout variables pay for the partitioned GPUs, planner/mig_pools.py)."""
    if o.profile is not None:
        return np.full(len(o.operational_kg), round(o.penalty_per_hour * SCALE), dtype=np.int64)
    kg = o.operational_kg + o.embodied_kg_per_hour
    return np.rint((weights.usd * o.usd_per_hour + weights.kg * kg + o.penalty_per_hour)
                   * SCALE).astype(np.int64)


def penalty_per_milli(so: ServingOptions, weights: Weights, priority: int = 0) -> int:
    """P_s: score units per unserved milli-request/s for an hour: ten times the dearest way
    to serve it, plus ``priority`` / 1000, so that leaving one request/s unserved for an
    hour costs more than leaving any training workload unplaced (``priority`` = the
    largest unplaced penalty M_j of the training side). Live traffic comes first."""
    def full(o):  # what a replica costs, whoever pays for it
        kg = o.operational_kg + o.embodied_kg_per_hour
        return float((weights.usd * o.usd_per_hour + weights.kg * kg).max()) * SCALE
    worst = max((full(o) / thr_milli(o) for o in so.options), default=1.0)
    return int(math.ceil(10 * max(worst, 1e-3))) + 1 + priority // MILLI


def replica_bound(so: ServingOptions, o: ServingOption, t: int) -> int:
    return min(o.max_replicas, math.ceil(demand_milli(so, t) / thr_milli(o)))


# -- the hint: a valid serving plan built one workload and slot at a time --------------------

def greedy(serving_options: tuple[ServingOptions, ...], ledger: Ledger,
           weights: Weights) -> list[ServingPlacement]:
    """Per slot: the on-demand floor (and failover, over the two best regions) on the
    cheapest on-demand options by score per request/s, then the rest on the cheapest of
    all. Takes its GPUs from ``ledger``; demand it cannot fit stays unserved."""
    out: list[ServingPlacement] = []
    order = sorted(range(len(serving_options)),
                   key=lambda s: -float(serving_options[s].demand_rps.max(initial=0.0)))
    for s in order:
        so = serving_options[s]
        if not so.options:
            continue
        scores = [replica_scores(o, weights) for o in so.options]
        w = so.workload
        for t in range(len(so.demand_rps)):
            need = demand_milli(so, t)
            if need <= 0:
                continue
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
            out.extend(ServingPlacement(option=so.options[i], slot=t, replicas=n)
                       for i, n in placed.items())
    return out


def served_milli(serving_options: tuple[ServingOptions, ...],
                 placements: list[ServingPlacement]) -> dict[tuple[int, int], int]:
    out: dict[tuple[int, int], int] = defaultdict(int)
    for p in placements:
        out[(p.workload, p.slot)] += p.replicas * thr_milli(p.option)
    return out


def shortfall_milli(so: ServingOptions, s: int, placements: list[ServingPlacement]) -> list[int]:
    """Unserved milli-rps by slot: the largest gap of (S1), (S2) and (S3)."""
    w = so.workload
    by_slot: dict[int, list[ServingPlacement]] = defaultdict(list)
    for p in placements:
        if p.workload == s:
            by_slot[p.slot].append(p)
    regions = {o.region.name for o in so.options}
    out = []
    for t in range(len(so.demand_rps)):
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
    total = sum(from_int(int(replica_scores(p.option, weights)[p.slot])) * p.replicas
                for p in placements)
    for s, so in enumerate(serving_options):
        if so.options:
            penalty = penalty_per_milli(so, weights, priority)
            short = shortfall_milli(so, s, placements)
            if slots is not None:
                short = [short[t] for t in slots if t < len(short)]
            total += from_int(penalty * sum(short))
    return total


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
        short = {s: shortfall_milli(so, s, placements) for s, so in enumerate(serving_options)}
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

            def served(keep: Callable[[ServingOption], bool]):
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


@dataclass(frozen=True, slots=True, kw_only=True)
class SlotsResult:
    placements: tuple[ServingPlacement, ...]
    layouts: dict  # MIG layouts chosen (planner/mig_pools.py); {} without pools
    objective: float  # score units, unserved demand at its penalty
    bound: float  # a lower bound on that objective given the capacity
    optimal_slots: int
    slots: int
    wall_s: float


def solve_slots(serving_options: tuple[ServingOptions, ...], capacity: Capacity,
                weights: Weights, *, priority: int, time_limit_s: float, workers: int,
                hint: list[ServingPlacement], pools: tuple = ()) -> SlotsResult:
    """The serving part alone, one small CP-SAT model per hourly slot.

    Exact as a decomposition: a replica holds GPUs in its own slot only, so with training
    left out the slots share nothing. Each slot model gets an equal share of the time
    limit and starts from the hint's replicas of that slot.

    MIG layouts hold for the whole window and couple the slots. The per-slot models then
    choose layouts per slot without drain cost, a relaxation whose bounds still add up
    to a valid bound; the slot-wise largest layout counts make a valid window plan, and
    one model over all slots improves it with half the time."""
    import time

    t0 = time.perf_counter()
    horizon = max((len(so.demand_rps) for so in serving_options), default=0)
    by_slot: dict[int, list[ServingPlacement]] = defaultdict(list)
    for p in hint:
        by_slot[p.slot].append(p)
    placements: list[ServingPlacement] = []
    per_slot_layouts: list[dict] = []
    bound = 0.0
    optimal = 0
    budget = time_limit_s / 2 if pools else time_limit_s
    for t in range(horizon):
        left = budget - (time.perf_counter() - t0)
        found, replicas, layouts, slot_bound, proven = _solve_group(
            serving_options, capacity, weights, priority, range(t, t + 1), pools,
            by_slot.get(t, []), {}, max(0.05, left / (horizon - t)), workers, drain=False)
        placements.extend(replicas)
        per_slot_layouts.append(layouts)
        bound += slot_bound
        optimal += proven
    window = range(horizon)
    layouts = _largest(per_slot_layouts)
    objective = (objective_of(serving_options, placements, weights, priority)
                 + mig_pools.value(pools, layouts, weights, window))
    if pools and horizon:
        left = time_limit_s - (time.perf_counter() - t0)
        found, replicas, joint_layouts, _, proven = _solve_group(
            serving_options, capacity, weights, priority, window, pools, placements, layouts,
            max(0.5, left), workers, drain=True)
        value = (objective_of(serving_options, replicas, weights, priority)
                 + mig_pools.value(pools, joint_layouts, weights, window))
        if found and value < objective - 1e-9:
            placements, layouts, objective = replicas, joint_layouts, value
    return SlotsResult(placements=tuple(placements), layouts=layouts, objective=objective,
                       bound=bound, optimal_slots=optimal, slots=horizon,
                       wall_s=time.perf_counter() - t0)


def _largest(per_slot: list[dict]) -> dict:
    """Slot-wise largest GPU count of every layout of every pool: supplies every slot."""
    out: dict = defaultdict(dict)
    for layouts in per_slot:
        for resource, by_key in layouts.items():
            for key, gpus in by_key.items():
                out[resource][key] = max(out[resource].get(key, 0), gpus)
    return dict(out)


def _solve_group(serving_options, capacity: Capacity, weights: Weights, priority: int,
                 group: range, pools: tuple, hint: list[ServingPlacement], hint_layouts: dict,
                 seconds: float, workers: int, *, drain: bool):
    """(found, replicas, layouts, bound, proven optimal) of the serving model over ``group``;
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
        return True, [], {}, 0.0, True
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
                from_int(solver.best_objective_bound), code == cp_model.OPTIMAL)
    return False, list(hint), dict(hint_layouts), 0.0, False


# -- read-back: assignments, unplaced demand, baselines ----------------------------------------

def assignments(placements: list[ServingPlacement], serving_options: tuple[ServingOptions, ...],
                horizon_start, reason: Callable[[ServingPlacement, int], str] | None = None
                ) -> list[Assignment]:
    """One assignment per (workload, option) and run of consecutive slots with the same
    replica count."""
    by_key: dict[tuple[int, int], dict[int, ServingPlacement]] = defaultdict(dict)
    for p in placements:
        by_key[(p.workload, id(p.option))][p.slot] = p
    out = []
    for (s, _), slots in by_key.items():
        w = serving_options[s].workload
        ordered = sorted(slots)
        run: list[ServingPlacement] = []
        for t in ordered + [None]:
            p = slots.get(t) if t is not None else None
            if run and (p is None or p.slot != run[-1].slot + 1 or p.replicas != run[0].replicas):
                out.append(_assignment(w, run, horizon_start,
                                       reason(run[0], len(run)) if reason else ""))
                run = []
            if p is not None:
                run.append(p)
    return sorted(out, key=lambda a: (a.start, a.workload, a.region))


def _assignment(w, run: list[ServingPlacement], horizon_start, reason: str) -> Assignment:
    o = run[0].option
    start = horizon_start + run[0].slot * HOUR
    operational = sum(p.operational_kg for p in run)
    kwh = sum(p.energy_kwh for p in run)
    return Assignment(
        workload=w.name, kind=WorkloadKind.SERVING, team=w.team, region=o.region.name,
        cluster=o.cluster, accelerator=o.accelerator, partition=o.partition,
        purchase=o.purchase, instance_type=o.offer.instance_type,
        interruption_bucket=o.offer.interruption_bucket if o.purchase is Purchase.SPOT else None,
        bucket_basis=o.offer.bucket_basis if o.purchase is Purchase.SPOT else None,
        start=start, end=start + timedelta(hours=len(run)),
        gpus=run[0].replicas * o.gpus_per_replica, replicas=run[0].replicas,
        cost_usd=sum(p.cost_usd for p in run), energy_kwh=kwh, operational_kg=operational,
        embodied_kg=sum(p.embodied_kg for p in run),
        market_kg=market_kg(o.region.market, operational, kwh), reason=reason)


def unplaced(serving_options: tuple[ServingOptions, ...], placements: list[ServingPlacement],
             horizon_start) -> list[Unplaced]:
    out = []
    for s, so in enumerate(serving_options):
        if not so.options:
            if float(so.demand_rps.max(initial=0.0)) > 0:
                out.append(Unplaced(workload=so.workload.name, reason=so.why_none))
            continue
        short = shortfall_milli(so, s, placements)
        hours = [t for t, v in enumerate(short) if v > 0]
        if not hours:
            continue
        peak = max(hours, key=lambda t: short[t])
        w = so.workload
        regions = sorted({o.region.name for o in so.options})
        where = (f"{sum(short) / MILLI:,.1f} rps·h unmet in {len(hours)} h (worst "
                 f"{short[peak] / MILLI:,.1f} rps at {horizon_start + peak * HOUR:%m-%dT%H:%MZ})")
        if w.failover_fraction > 0 and len(regions) < 2:
            reason = (f"availability: a failover share needs a second region within its SLOs, "
                      f"only {regions[0]} qualifies; {where}; lower failover_fraction or relax "
                      "latency_slo_ms / allowed_regions")
        else:
            resources = sorted({f"{o.cluster}/{o.accelerator}" for o in so.options})
            reason = (f"capacity: {where}; {', '.join(resources[:6])} are full there")
        out.append(Unplaced(workload=w.name, reason=reason))
    return out


def explain(p: ServingPlacement, hours: int, so: ServingOptions, fleet, weights: Weights) -> str:
    """Why this option: what it serves, its latency, and its price and carbon per request
    against the home region's on-demand option."""
    o, w = p.option, so.workload
    served = p.replicas * o.throughput_rps
    line = (f"{p.replicas} x {o.accelerator} {o.purchase} replicas serve {served:,.0f} rps "
            f"for {hours} h")
    if w.latency_slo_ms is not None:
        rtt, user, basis = worst_rtt(w, o.region, fleet)
        line += f"; {rtt:.0f} ms to {user} ({basis}) within the {w.latency_slo_ms:g} ms SLO"
    home = [h for h in so.options if h.region.name == w.home_region
            and h.purchase is Purchase.ON_DEMAND]
    if home and o.region.name != w.home_region:
        h = min(home, key=lambda h: h.usd_per_hour / h.throughput_rps)
        usd = (o.usd_per_hour / o.throughput_rps - h.usd_per_hour / h.throughput_rps) * served
        kg = ((float(o.operational_kg[p.slot]) + o.embodied_kg_per_hour) / o.throughput_rps
              - (float(h.operational_kg[p.slot]) + h.embodied_kg_per_hour) / h.throughput_rps
              ) * served
        line += f"; vs home {w.home_region} on-demand: {usd:+,.2f} USD/h, {kg:+,.2f} kgCO2e/h"
    if w.failover_fraction > 0:
        line += f"; failover keeps {w.failover_fraction:.0%} of demand if a region is lost"
    return line


def baseline(serving_options: tuple[ServingOptions, ...], ledger: Ledger,
             key: Callable[[ServingOption, int], tuple], *, home_only: bool
             ) -> list[ServingPlacement]:
    """What a service does today (``home_only``: the home region's on-demand offers, and for
    a failover SLO the allowed region nearest home as the second site) or what a
    per-service advisory tool would pick (the on-demand option with the best ``key`` per
    request that still fits, and for failover the best second region): all on-demand,
    sized to the demand and the SLOs, one workload at a time."""
    out = []
    for so in serving_options:
        w = so.workload
        candidates = [o for o in so.options
                      if o.purchase is Purchase.ON_DEMAND and o.profile is None]
        if not candidates:
            continue
        for t in range(len(so.demand_rps)):
            d = demand_milli(so, t)
            if d <= 0:
                continue
            if home_only:
                home = next((o.region for o in candidates if o.region.name == w.home_region),
                            None)
                ranked = sorted(candidates, key=lambda o: (
                    o.region.name != w.home_region,
                    0.0 if home is None else great_circle_km(
                        home.latitude, home.longitude, o.region.latitude, o.region.longitude)))
            else:
                ranked = sorted(candidates, key=lambda o: key(o, t))
            sites = list(dict.fromkeys(o.region.name for o in ranked))
            if home_only and not (sites and sites[0] == w.home_region):
                continue  # the home region cannot serve it: nothing runs today
            plan: list[tuple[list[ServingOption], int]]
            if w.failover_fraction > 0 and len(sites) >= 2:
                need = math.ceil(w.failover_fraction * d)
                plan = [([o for o in ranked if o.region.name == sites[1]], need),
                        ([o for o in ranked if o.region.name == sites[0]], None)]
            else:
                plan = [(ranked, d)]
            served = 0
            for options, want in plan:
                want = max(d - served, need) if want is None else want
                for o in options:
                    n = math.ceil(want / thr_milli(o))
                    if ledger.fits(o.resource, t, 1, n * o.gpus_per_replica):
                        ledger.take(o.resource, t, 1, n * o.gpus_per_replica)
                        out.append(ServingPlacement(option=o, slot=t, replicas=n))
                        served += n * thr_milli(o)
                        break
    return out
