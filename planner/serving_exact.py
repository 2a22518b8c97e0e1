r"""Serving, one workload and slot at a time, solved exactly with capacity left out.

Left alone, the serving block of planner/serving_model.py falls apart into one tiny
integer program per (workload, slot): a few dozen options, a handful of replicas, and
the constraints (S1) demand, (S2) on-demand floor and (S3) failover per region. Capacity
and MIG pools are what couple them. CP-SAT does not see that: on the 1,000-workload
benchmark (200 services, one slot, capacity dropped) one model over all services stood
at 577.3 with a bound of 223.4 after 5 s, while the 200 models solved one by one proved
567.6 in 0.55 s. Whole replicas are the difficulty: most services need one to three, so
the LP (:func:`planner.serving_model.lp_bound`) is far below any plan.

:func:`solve` runs a depth-first branch and bound per (workload, slot) over replica
counts, options in order of score per request/s, pruned by the LP bound of what is still
missing and by dominance (an option no better than another of the same kind in every
respect is dropped). It gives:

* ``bound``: with every MIG replica at its profile's share of a GPU-hour (which its pool's
  whole GPUs never undercut), the sum of the per-(workload, slot) optima is a lower bound
  of the serving problem with capacity and pools. Where a search runs out of its node
  budget the LP bound of that (workload, slot) stands in, so the sum stays valid.
* ``placements``: the same search on whole-GPU options only, a plan that needs no MIG
  layout; :func:`fit` lays it onto the capacity, searching again on what is left
  (:func:`search_left`) and falling back to the
  greedy where a resource is full.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from planner.capacity import Ledger
from planner.domain import Purchase
from planner.objective import SCALE, Weights
from planner.serving import ServingOptions
from planner.serving_model import (
    ServingPlacement,
    constrained_first,
    demand_milli,
    greedy_slot,
    penalty_per_milli,
    replica_scores,
    thr_milli,
)

# Nodes one (workload, slot) search may visit before its LP bound stands in.
MAX_NODES = 200_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Exact:
    placements: tuple[ServingPlacement, ...]  # whole GPUs only, capacity not applied
    # the optimum behind the bound: MIG replicas at their share, capacity not applied
    share_placements: tuple[ServingPlacement, ...]
    # score units by slot: lower bounds of the serving problem (capacity, pools) per slot
    bound_by_slot: np.ndarray
    bound_by_workload: np.ndarray  # score units: the same bound split by workload
    proven: int  # (workload, slot) searches that finished
    searches: int

    @property
    def bound(self) -> float:
        return float(self.bound_by_slot.sum())


def share_scores(o, weights: Weights) -> np.ndarray:
    """Integer score of one replica-hour by slot, a MIG replica at its profile's share of
    a GPU-hour (what its pool's whole GPUs never undercut)."""
    kg = o.operational_kg + o.embodied_kg_per_hour
    return np.rint((weights.usd * o.usd_per_hour + weights.kg * kg + o.penalty_per_hour)
                   * SCALE).astype(np.int64)


@dataclass(frozen=True, slots=True, kw_only=True)
class Arrays:
    """One serving workload's options and demand as the compiled search takes them."""

    workload: int
    thr: np.ndarray  # milli-rps per replica
    on_demand: np.ndarray
    region: np.ndarray  # index into the workload's sorted region names
    n_regions: int
    max_replicas: np.ndarray
    demand: np.ndarray  # milli-rps by slot
    floor: np.ndarray
    need: np.ndarray
    penalty: int

    @staticmethod
    def of(s: int, so: ServingOptions, weights: Weights, priority: int) -> Arrays:
        w = so.workload
        names = sorted({o.region.name for o in so.options})
        demand = np.asarray([demand_milli(so, t) for t in range(len(so.demand_rps))],
                            dtype=np.int64)
        return Arrays(
            workload=s,
            thr=np.asarray([thr_milli(o) for o in so.options], dtype=np.int64),
            on_demand=np.asarray([o.purchase is Purchase.ON_DEMAND for o in so.options]),
            region=np.asarray([names.index(o.region.name) for o in so.options], dtype=np.int64),
            n_regions=len(names),
            max_replicas=np.asarray([o.max_replicas for o in so.options], dtype=np.int64),
            demand=demand,
            floor=np.asarray([math.ceil(w.on_demand_floor * d) for d in demand], dtype=np.int64),
            need=np.asarray([math.ceil(w.failover_fraction * d) for d in demand],
                            dtype=np.int64),
            penalty=penalty_per_milli(so, weights, priority))


def lower_values(a: Arrays, cost: np.ndarray, max_nodes: int = MAX_NODES
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(value by slot, replica counts slots x options, finished by slot) of the searches
    with ``cost`` (options x slots, score units x SCALE); an unfinished search's value is
    its LP bound, so every value is a lower bound of its (workload, slot) at that cost."""
    from planner.serving_search import search_slots

    values, counts, done = search_slots(cost, a.thr, a.on_demand, a.region, a.max_replicas,
                                        np.ones(len(a.thr), dtype=np.bool_), a.demand, a.floor,
                                        a.need, a.n_regions, a.penalty, max_nodes)
    for t in np.nonzero((a.demand > 0) & ~done)[0]:
        values[t] = _lp(cost[:, t], a.thr, a.on_demand, int(a.demand[t]), int(a.floor[t]),
                        a.penalty)
    return values, counts, done


def solve(serving_options: tuple[ServingOptions, ...], weights: Weights, *,
          priority: int = 0, max_nodes: int = MAX_NODES) -> Exact:
    from planner.serving_search import search_slots

    placements: list[ServingPlacement] = []
    shared: list[ServingPlacement] = []
    horizon = max((len(so.demand_rps) for so in serving_options), default=0)
    bound_int = np.zeros(horizon)
    by_workload = np.zeros(len(serving_options))
    proven = searches = 0
    for s, so in enumerate(serving_options):
        if not so.options:
            continue
        a = Arrays.of(s, so, weights, priority)
        options = so.options
        values, share_counts, done = lower_values(
            a, np.vstack([share_scores(o, weights) for o in options]), max_nodes)
        active = a.demand > 0
        searches += int(active.sum())
        proven += int((done & active).sum())
        bound_int[:len(values)] += values
        by_workload[s] = float(values.sum()) / SCALE
        shared.extend(ServingPlacement(option=options[i], slot=int(t),
                                       replicas=int(share_counts[t, i]))
                      for t, i in zip(*np.nonzero(share_counts), strict=True))
        plain = np.vstack([replica_scores(o, weights) for o in options])
        whole = np.asarray([o.profile is None for o in options])
        _, counts, _ = search_slots(plain, a.thr, a.on_demand, a.region, a.max_replicas, whole,
                                    a.demand, a.floor, a.need, a.n_regions, a.penalty,
                                    max_nodes)
        for t, i in zip(*np.nonzero(counts), strict=True):
            placements.append(ServingPlacement(option=options[i], slot=int(t),
                                               replicas=int(counts[t, i])))
    return Exact(placements=tuple(placements), share_placements=tuple(shared),
                 bound_by_slot=bound_int / SCALE, bound_by_workload=by_workload,
                 proven=proven,
                 searches=searches)


def fit(serving_options: tuple[ServingOptions, ...], wanted: tuple[ServingPlacement, ...],
        ledger: Ledger, weights: Weights, *, priority: int = 0,
        max_nodes: int = MAX_NODES) -> list[ServingPlacement]:
    """``wanted`` laid onto ``ledger``, the most constrained workloads first. The slots of
    a workload whose replicas do not all fit are searched again on what is left
    (:func:`search_left`)."""
    by_key: dict[tuple[int, int], list[ServingPlacement]] = {}
    for p in wanted:
        by_key.setdefault((p.workload, p.slot), []).append(p)
    out: list[ServingPlacement] = []
    for s in constrained_first(serving_options):
        so = serving_options[s]
        if not so.options:
            continue
        by_slot = [by_key.get((s, t), []) for t in range(len(so.demand_rps))]
        misfit = [t for t, mine in enumerate(by_slot) if not fits(mine, ledger, t)]
        if misfit:  # a slot's ledger is its own: the other slots' replicas change nothing
            scores = [replica_scores(o, weights) for o in so.options]
            for t in misfit:
                by_slot[t] = []
            for p in search_left(so, Arrays.of(s, so, weights, priority), np.vstack(scores),
                                 ledger, scores, slots=misfit, max_nodes=max_nodes):
                by_slot[p.slot].append(p)
        for mine in by_slot:
            for p in mine:
                ledger.take(p.option.resources, p.slot, 1,
                            p.replicas * p.option.gpus_per_replica)
            out.extend(mine)
    return out


def search_left(so: ServingOptions, a: Arrays, cost: np.ndarray, ledger: Ledger, scores, *,
                slots: list[int] | None = None, max_nodes: int = MAX_NODES
                ) -> list[ServingPlacement]:
    """One workload's best replicas in ``slots`` (default: every slot) on what ``ledger``
    has left, searched exactly, on whole-GPU options capped at the GPUs their resources
    have free (MIG options need a pool: planner/mig_round.py). A slot whose options
    sharing a resource overfill it goes to the greedy. ``scores`` are :func:`planner.serving_model.replica_scores` (a MIG replica
    pays no GPU: its pool does), ``cost`` the same stacked (options x slots). The ledger
    is left as it was: the caller takes the replicas' GPUs."""
    from planner.serving_search import search_capped

    horizon = len(so.demand_rps)
    demand = a.demand
    if slots is not None:  # the other slots: no demand, so not searched
        demand = np.zeros_like(a.demand)
        demand[slots] = a.demand[slots]
    caps = np.zeros((horizon, len(so.options)), dtype=np.int64)
    free: dict = {}
    for i, o in enumerate(so.options):
        if o.profile is not None:
            continue
        room = _free(ledger, o.resources, horizon, free) // o.gpus_per_replica
        caps[:, i] = np.clip(np.minimum(room, o.max_replicas), 0, None)
    _, counts, _ = search_capped(cost, a.thr, a.on_demand, a.region, caps, demand, a.floor,
                                 a.need, a.n_regions, a.penalty, max_nodes)
    out: list[ServingPlacement] = []
    for t in np.nonzero(counts.any(axis=1))[0]:
        got = [ServingPlacement(option=so.options[i], slot=int(t), replicas=int(counts[t, i]))
               for i in np.nonzero(counts[t])[0]]
        if len(got) > 1 and not fits(got, ledger, int(t)):  # one option: within its cap
            got = greedy_slot(so, int(t), ledger, scores)
            for p in got:  # the greedy took them: given back
                ledger.take(p.option.resources, int(t), 1,
                            -p.replicas * p.option.gpus_per_replica)
        out.extend(got)
    return out


def _free(ledger: Ledger, resources, horizon: int, cache: dict) -> np.ndarray:
    """GPUs free by slot on all of ``resources``."""
    if resources not in cache:
        room = np.full(horizon, np.iinfo(np.int64).max // 4, dtype=np.int64)
        for r in resources:
            used = ledger.used.get(r, {})
            room = np.minimum(room, ledger.capacity.get(r, 0)
                              - np.asarray([used.get(t, 0) for t in range(horizon)],
                                           dtype=np.int64))
        cache[resources] = room
    return cache[resources]


def fits(mine: list[ServingPlacement], ledger: Ledger, t: int) -> bool:
    """The replicas of one (workload, slot) fit together on what ``ledger`` has left."""
    total: dict = {}
    for p in mine:
        for r in p.option.resources:
            total[r] = total.get(r, 0) + p.replicas * p.option.gpus_per_replica
    return all(ledger.free((r,), t, 1) >= gpus for r, gpus in total.items())


def _lp(cost: np.ndarray, thr: np.ndarray, on_demand: np.ndarray, d: int, floor: int,
        penalty: int) -> float:
    """LP bound of one (workload, slot): the floor at the best on-demand score per
    milli-rps, the rest at the best of all (failover and whole replicas relaxed)."""
    ratio = cost / thr
    best = min(float(ratio.min(initial=np.inf)), penalty)
    best_od = min(float(ratio[on_demand].min(initial=np.inf)), penalty)
    return floor * best_od + (d - floor) * best
