"""MIG layouts for a serving plan by local search, one pool at a time.

The exact per-(workload, slot) search (planner/serving_exact.py) prices a MIG replica at
its profile's share of a GPU-hour; a real pool pays its partitioned GPUs for the whole
window (planner/mig_pools.py). Where the share-priced optimum wants slices of a pool,
this module tries to partition GPUs of it: for each layout holding a wanted profile and
a few pool sizes (the slices wanted at the highest, upper-quartile, median and
lower-quartile slot), it re-plans the workloads that can use the pool, the most
constrained first, each (workload, slot) searched exactly on what is left (whole GPUs on
the ledger, slices of the pool at no further cost), and keeps the change when the plan's
score with the pool's window cost (drain included) goes down.

Greedy and local: one layout per pool, pools in order of the slices wanted, a deadline
checked between trials. The CP-SAT window model of planner/serving_solve.py may improve
the result when the problem is small enough to give it.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict

import numpy as np

from planner import mig_pools
from planner.capacity import Capacity, Ledger
from planner.objective import Weights, from_int
from planner.serving import ServingOptions
from planner.serving_exact import Arrays, search_left
from planner.serving_model import (
    ServingPlacement,
    by_workload,
    constrained_first,
    replica_scores,
    shortfall_milli,
)

QUANTILES = (1.0, 0.75, 0.5, 0.25)


def improve(serving_options: tuple[ServingOptions, ...], capacity: Capacity, weights: Weights,
            *, priority: int, pools: tuple, placements: list[ServingPlacement],
            wanted: tuple[ServingPlacement, ...], deadline: float
            ) -> tuple[list[ServingPlacement], dict]:
    """(placements, layouts) no worse than (``placements``, no layouts); ``wanted``: the
    share-priced optimum, whose MIG replicas say which pools and sizes to try."""
    if not pools:
        return placements, {}
    horizon = max(len(so.demand_rps) for so in serving_options)
    scores = [[replica_scores(o, weights) for o in so.options] for so in serving_options]
    # a pool's trials re-plan the workloads whose share-priced optimum uses it (at 10,000
    # workloads, every workload that could use it made a pass over all pools take ~20 s)
    users: dict[tuple[str, str], list[int]] = defaultdict(list)
    slices_wanted: dict[tuple[tuple[str, str], str], np.ndarray] = {}
    for p in wanted:
        if p.option.profile is not None:
            key = (p.option.resource, p.option.profile.name)
            slices_wanted.setdefault(key, np.zeros(horizon, dtype=np.int64))[p.slot] += p.replicas
            if p.workload not in users[p.option.resource]:
                users[p.option.resource].append(p.workload)
    cache = _Cache(serving_options, scores, weights, priority)
    ledger = Ledger(capacity)
    for p in placements:
        ledger.take(p.option.resources, p.slot, 1, p.replicas * p.option.gpus_per_replica)
    mine = by_workload(placements)
    value = {s: _value(serving_options[s], mine.get(s, []), scores[s], cache.penalty(s))
             for s in range(len(serving_options))}
    layouts: dict = {}
    free_slices: dict = {}  # (pool, profile) -> slices of accepted layouts not in use, by slot
    order = sorted(pools, key=lambda pool: -sum(
        int(v.sum()) for (r, _), v in slices_wanted.items() if r == pool.resource))
    for pool in order:
        if time.perf_counter() >= deadline:
            break
        best = None
        for layout in _useful(pool, slices_wanted):
            counts = layout.counts()
            need = [slices_wanted[(pool.resource, q)] / n for q, n in counts.items()
                    if (pool.resource, q) in slices_wanted]
            if not need:
                continue
            per_slot = np.max(np.vstack(need), axis=0)
            sizes = sorted({math.ceil(float(np.quantile(per_slot, q))) for q in QUANTILES} - {0})
            for gpus in sizes:
                if time.perf_counter() >= deadline:
                    break
                trial = _trial(serving_options, users[pool.resource], mine, ledger, cache,
                               pool, layout, gpus, horizon, free_slices)
                if trial is None:
                    continue
                replanned, values, left = trial
                delta = (sum(values.values()) - sum(value[s] for s in values)
                         + mig_pools.value((pool,), {pool.resource: {
                             mig_pools.key_of(layout): gpus}}, weights, range(horizon)))
                if delta < -1e-9 and (best is None or delta < best[0]):
                    best = (delta, layout, gpus, replanned, values, left)
        if best is not None:
            _, layout, gpus, replanned, values, free_slices = best
            for s in replanned:
                for p in mine.get(s, []):
                    ledger.take(p.option.resources, p.slot, 1,
                                -p.replicas * p.option.gpus_per_replica)
                for p in replanned[s]:
                    ledger.take(p.option.resources, p.slot, 1,
                                p.replicas * p.option.gpus_per_replica)
                mine[s] = replanned[s]
                value[s] = values[s]
            ledger.take(pool.resource, 0, horizon, gpus)
            layouts[pool.resource] = {mig_pools.key_of(layout): gpus}
    return [p for s in sorted(mine) for p in mine[s]], layouts


def _useful(pool, slices_wanted: dict) -> list:
    """The pool's layouts not beaten by another on every profile wanted there."""
    wanted = [q for (r, q) in slices_wanted if r == pool.resource]
    vectors = [(layout, tuple(layout.counts().get(q, 0) for q in wanted))
               for layout in pool.layouts]
    vectors = [(layout, v) for layout, v in vectors if any(v)]
    return [layout for layout, v in vectors
            if not any(all(x >= y for x, y in zip(w, v, strict=True)) and w != v
                       for _, w in vectors)
            and next(lay for lay, w in vectors if w == v) is layout]


def _trial(serving_options, users: list[int], mine: dict, ledger: Ledger, cache: _Cache,
           pool, layout, gpus: int, horizon: int, free_slices: dict):
    """Re-plan ``users`` of ``pool`` with ``gpus`` GPUs of it in ``layout`` (and the slices
    of pools already partitioned): (replicas by workload, their values, slices left), or
    None when the GPUs are not free in every slot. The ledger is left as it was."""
    taken: list[tuple] = []

    def take(resources, t, n) -> None:
        ledger.take(resources, t, 1, n)
        taken.append((resources, t, n))

    try:
        for s in users:
            for p in mine.get(s, []):
                take(p.option.resources, p.slot, -p.replicas * p.option.gpus_per_replica)
        if ledger.free(pool.resource, 0, horizon) < gpus:
            return None
        for t in range(horizon):
            take(pool.resource, t, gpus)
        slices = {key: left.copy() for key, left in free_slices.items()}
        for s in users:
            for p in mine.get(s, []):
                if p.option.profile is not None:
                    key = (p.option.resource, p.option.profile.name)
                    slices.setdefault(key, np.zeros(horizon, dtype=np.int64))[p.slot] += \
                        p.replicas
        for q, n in layout.counts().items():
            slices.setdefault((pool.resource, q), np.zeros(horizon, dtype=np.int64))[:] += \
                n * gpus
        out: dict[int, list[ServingPlacement]] = {}
        for k in constrained_first(tuple(serving_options[s] for s in users)):
            s = users[k]
            so = serving_options[s]
            placed = search_left(so, cache.arrays(s), cache.cost(s), ledger, cache.scores[s],
                                 slices=slices)
            for p in placed:
                if p.option.profile is None:
                    take(p.option.resources, p.slot, p.replicas * p.option.gpus_per_replica)
                else:
                    slices[(p.option.resource, p.option.profile.name)][p.slot] -= p.replicas
            out[s] = placed
        return out, {s: _value(serving_options[s], out[s], cache.scores[s], cache.penalty(s))
                     for s in out}, slices
    finally:
        for resources, t, n in reversed(taken):
            ledger.take(resources, t, 1, -n)


class _Cache:
    """What the searches of one workload need, built once."""

    def __init__(self, serving_options, scores, weights: Weights, priority: int) -> None:
        self.serving_options, self.scores = serving_options, scores
        self.weights, self.priority = weights, priority
        self._arrays: dict[int, Arrays] = {}
        self._cost: dict[int, np.ndarray] = {}

    def arrays(self, s: int) -> Arrays:
        if s not in self._arrays:
            self._arrays[s] = Arrays.of(s, self.serving_options[s], self.weights, self.priority)
        return self._arrays[s]

    def penalty(self, s: int) -> int:
        return self.arrays(s).penalty if self.serving_options[s].options else 0

    def cost(self, s: int) -> np.ndarray:
        if s not in self._cost:
            self._cost[s] = np.vstack([np.asarray(row, dtype=np.int64)
                                       for row in self.scores[s]])
        return self._cost[s]


def _value(so: ServingOptions, mine: list[ServingPlacement], scores, penalty: int) -> float:
    """Score units of one workload's replicas and its unserved demand (as the model counts;
    a MIG replica's GPU is its pool's)."""
    if not so.options:
        return 0.0
    index = {id(o): i for i, o in enumerate(so.options)}
    total = sum(int(scores[index[id(p.option)]][p.slot]) * p.replicas for p in mine)
    total += penalty * sum(shortfall_milli(so, mine))
    return from_int(total)
