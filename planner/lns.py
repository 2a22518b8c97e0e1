"""LP-guided large neighbourhood search for the training plan at fleet scale.

Why: at 1,000 training jobs the LP-restricted CP-SAT model (planner/lp.py) still has
~134k literals; with 2 workers CP-SAT's own neighbourhood search ran a handful of times
in 15 s and left the LP rounding's plan (2.3 % above the LP bound) almost unchanged
(92,024 -> 92,020 score units). Small models, by contrast, CP-SAT solves to optimality in
a fraction of a second. So the search is run here, with CP-SAT as the exact sub-solver:

1. regret: each workload's cost in the plan minus its share of the LP optimum
   (sum of c x over its LP columns, plus M y); the LP says where the plan loses;
2. a neighbourhood: a workload drawn with probability ~ regret, the workloads that hold
   the GPU-slots its least-reduced-cost columns need (and, under a budget, workloads under
   the same budget), then more seeds among those, up to ``size`` workloads;
3. the rest of the plan is fixed (its GPUs reserved, its share of each budget spent);
   the neighbourhood is solved by planner/model.py on its kept columns (reduced-cost
   fixing, planner/lp.py), hinted with its current placements, so the answer is never
   worse; it replaces them when it is better;
4. the size adapts: up while sub-models solve to optimality fast, down when they time out;
   each workload brings SUB_COLUMNS columns, twice as many after STALL_WIDEN
   neighbourhoods in a row without a gain.

Every accepted step keeps the plan valid (capacity and limits are the sub-model's
constraints), so the search can stop at any time with a valid plan.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import time
from collections import defaultdict
from collections.abc import Mapping

import numpy as np

from planner.capacity import Capacity, Resource
from planner.domain import SolverStatus
from planner.limits import Limit
from planner.model import penalty_of, solve_model, unit_scores
from planner.objective import SCALE, Weights, from_int
from planner.options import WorkloadOptions
from planner.placement import Placement

log = logging.getLogger("gridshift.planner")

Column = tuple[int, int, int]  # (workload index, option index, start slot)
Cell = tuple[Resource, int]

FIRST_SIZE = 40  # workloads per neighbourhood at first
MIN_SIZE, MAX_SIZE = 8, 600
# CP-SAT time per neighbourhood, and kept columns per workload in it (least reduced cost
# first). Measured at 1,000 jobs, 15 s, 2 workers (score units above the LP bound):
# 1.0 s and all columns 0.29 %; 1.0 s and 15 columns 0.26 %; 0.5 s 0.20 %; 0.3 s 0.12 %;
# 0.15 s 0.15 % (runs differ by about +-0.05 %). Short solves win: most neighbourhoods
# improve within the first tenths of a second, the rest of the time goes to proving it.
SUB_LIMIT_S = 0.3
SUB_COLUMNS = 15
# After this many neighbourhoods in a row without a gain, each workload brings twice as
# many columns. Measured on 40 jobs in two regions (tests/planner/test_lns.py, 8 s):
# 15 columns for good stopped at 623.8 against an optimum of 611.3; 40 columns 611.9.
STALL_WIDEN = 10
MIN_SUB_S = 0.2  # below this much time left, stop
WANTED_COLUMNS = 3  # a seed's columns whose GPU-slots the neighbourhood frees


def improve(workload_options: tuple[WorkloadOptions, ...], capacity: Capacity,
            n_slots: int, w: Weights, plan: list[Placement], columns: Mapping[Column, float],
            lp_cost: np.ndarray, *, limits: tuple[Limit, ...], time_limit_s: float,
            workers: int, seed: int = 0) -> list[Placement]:
    """A plan no worse than ``plan`` (valid on ``capacity`` and ``limits``), improved by
    neighbourhoods re-solved exactly on ``columns`` for ``time_limit_s`` seconds.

    ``lp_cost[j]`` is workload j's share of the LP optimum (score units)."""
    clock = time.perf_counter
    t0 = clock()
    search = _Search(workload_options, capacity, w, plan, columns, lp_cost, limits)
    rng = random.Random(seed)
    size = FIRST_SIZE
    iterations = improved = stall = 0
    while True:
        left = time_limit_s - (clock() - t0)
        if left < MIN_SUB_S:
            break
        chosen = search.neighbourhood(rng, size)
        if not chosen:
            break
        iterations += 1
        sub_s = min(SUB_LIMIT_S, left)
        t_sub = clock()
        status, better = search.resolve(chosen, n_slots, sub_s, workers)
        spent = clock() - t_sub
        improved += better
        stall = 0 if better else stall + 1
        if stall >= STALL_WIDEN:  # the columns, not the workloads, may be what is missing
            search.n_columns *= 2
            stall = 0
        if status is SolverStatus.OPTIMAL and spent < 0.5 * sub_s:
            size = min(MAX_SIZE, int(size * 1.25) + 1)
        elif status is not SolverStatus.OPTIMAL:
            size = max(MIN_SIZE, int(size * 0.7))
    log.debug("training LNS: %d neighbourhoods, %d improved, last size %d, %.1f s",
              iterations, improved, size, clock() - t0)
    return search.placements()


def _ordered(items: list[tuple[float, int, int]]) -> list[tuple[int, int]]:
    """A workload's columns in the order neighbourhoods take them: the least reduced cost
    start of every option first (ties in reduced cost must not leave a whole option out:
    a budget may need it), then the others by reduced cost."""
    items = sorted(items)
    best: dict[int, tuple[float, int, int]] = {}
    for item in items:
        best.setdefault(item[1], item)
    first = sorted(best.values())
    rest = [item for item in items if best[item[1]] is not item]
    return [(oi, s) for _, oi, s in first + rest]


class _Search:
    """The current plan, per workload, with the GPU-slots each workload holds."""

    def __init__(self, workload_options, capacity, w, plan, columns, lp_cost, limits):
        self.wo, self.capacity, self.w, self.limits = workload_options, capacity, w, limits
        self.index_of = {id(o): (j, oi) for j, wo in enumerate(workload_options)
                         for oi, o in enumerate(wo.options)}
        self.by_workload: list[list[Placement]] = [[] for _ in workload_options]
        for p in plan:
            self.by_workload[p.workload].append(p)
        ranked: dict[int, list[tuple[float, int, int]]] = defaultdict(list)
        for (j, oi, s), rc in columns.items():
            ranked[j].append((rc, oi, s))
        self.ordered = {j: _ordered(items) for j, items in ranked.items()}
        self.n_columns = SUB_COLUMNS  # grows when neighbourhoods stop improving
        self.scores = [[unit_scores(o, w) for o in wo.options] for wo in workload_options]
        self.penalty = [from_int(penalty_of(row)) if row else 0.0 for row in self.scores]
        self.lp_cost = lp_cost
        self.cost = np.asarray([self._cost(j) for j in range(len(workload_options))])
        self.holders: dict[Cell, set[int]] = defaultdict(set)
        self.used: dict[Cell, int] = defaultdict(int)
        for j, placements in enumerate(self.by_workload):
            for p in placements:
                self._hold(j, p, +1)
        self.tried = np.zeros(len(workload_options))  # times a workload seeded a search
        # workloads under each limit: a budget couples them as capacity does
        self.under = [[j for j, wo in enumerate(workload_options) if limit.applies(wo.workload)]
                      for limit in limits]
        self.limits_of = [[i for i, limit in enumerate(limits) if limit.applies(wo.workload)]
                          for wo in workload_options]
        self.spend = {j: self._spend(j) for j in range(len(workload_options))
                      if self.limits_of[j]}  # solver units of each limit, by workload
        self.spent = np.zeros(len(limits), dtype=np.int64)
        for row in self.spend.values():
            self.spent += row

    def placements(self) -> list[Placement]:
        return [p for placements in self.by_workload for p in placements]

    def _cost(self, j: int) -> float:
        placed = sum(p.units for p in self.by_workload[j])
        return (sum(p.score(self.w) for p in self.by_workload[j])
                + (self.wo[j].units - placed) * self.penalty[j])

    def _hold(self, j: int, p: Placement, sign: int) -> None:
        gpus = p.units * self.wo[j].gpus_per_unit * sign
        for r in p.option.resources:
            for t in range(p.start, p.start + p.option.slots):
                self.used[(r, t)] += gpus
                if sign > 0:
                    self.holders[(r, t)].add(j)
                else:
                    self.holders[(r, t)].discard(j)

    def neighbourhood(self, rng: random.Random, size: int) -> list[int]:
        regret = np.maximum(self.cost - self.lp_cost, 0.0) / (1.0 + self.tried)
        total = float(regret.sum())
        if total <= 1e-9:
            return []
        cumulative = np.cumsum(regret / total)
        chosen: dict[int, None] = {}
        frontier: list[int] = []
        for _ in range(4 * size):
            if len(chosen) >= size:
                break
            # a seed: by regret, among the neighbourhood's holders once there are any
            if frontier and rng.random() < 0.7:
                j = frontier.pop(rng.randrange(len(frontier)))
                if j in chosen:
                    continue
            else:
                j = min(int(np.searchsorted(cumulative, rng.random())), len(regret) - 1)
                if j in chosen:
                    continue
                self.tried[j] += 1
            chosen[j] = None
            holders = sorted(self._holders_of_wanted(j) - chosen.keys())
            rng.shuffle(holders)
            frontier.extend(holders[:size])
            for i in self.limits_of[j]:
                frontier.extend(rng.sample(self.under[i], min(size, len(self.under[i]))))
        return list(chosen)

    def _holders_of_wanted(self, j: int) -> set[int]:
        """Workloads holding GPU-slots of j's kept columns of least reduced cost."""
        wo = self.wo[j]
        out: set[int] = set()
        for oi, s in self.ordered.get(j, ())[:WANTED_COLUMNS]:
            o = wo.options[oi]
            for r in o.resources:
                for t in range(s, s + o.slots):
                    out |= self.holders.get((r, t), set())
        out.discard(j)
        return out

    def resolve(self, chosen: list[int], n_slots: int, seconds: float,
                workers: int) -> tuple[SolverStatus, bool]:
        """Re-solve ``chosen`` with everything else fixed; keep the result if better."""
        sub, back = [], {}
        allowed: set[Column] = set()
        hint: list[Placement] = []
        for k, j in enumerate(chosen):
            wo = self.wo[j]
            options = tuple(dataclasses.replace(o, workload=k) for o in wo.options)
            sub.append(dataclasses.replace(wo, options=options))
            for o_new, o in zip(options, wo.options):
                back[id(o_new)] = o
            allowed.update((k, oi, s) for oi, s in self.ordered.get(j, ())[:self.n_columns])
            for p in self.by_workload[j]:
                _, oi = self.index_of[id(p.option)]
                allowed.add((k, oi, p.start))
                hint.append(Placement(option=options[oi], start=p.start, units=p.units))
        reserved = dict(self.capacity.reserved)
        mine: dict[Cell, int] = defaultdict(int)
        for j in chosen:
            for p in self.by_workload[j]:
                for r in p.option.resources:
                    for t in range(p.start, p.start + p.option.slots):
                        mine[(r, t)] += p.units * self.wo[j].gpus_per_unit
        for cell, gpus in self.used.items():
            if gpus - mine.get(cell, 0):
                reserved[cell] = reserved.get(cell, 0) + gpus - mine.get(cell, 0)
        limits = self._limits_left(chosen)
        result = solve_model(tuple(sub), Capacity(base=self.capacity.base, reserved=reserved),
                             n_slots, self.w, time_limit_s=seconds, workers=workers,
                             hint=hint, allowed=frozenset(allowed), limits=limits)
        if result.status not in (SolverStatus.OPTIMAL, SolverStatus.FEASIBLE):
            return result.status, False
        new: dict[int, list[Placement]] = defaultdict(list)
        for p in result.placements:
            j = chosen[p.workload]
            new[j].append(Placement(option=back[id(p.option)], start=p.start, units=p.units))
        before = float(sum(self.cost[j] for j in chosen))
        old = {j: self.by_workload[j] for j in chosen}
        for j in chosen:
            self.by_workload[j] = new.get(j, [])
        after = sum(self._cost(j) for j in chosen)
        if after >= before - 1e-9:
            for j in chosen:
                self.by_workload[j] = old[j]
            return result.status, False
        for j in chosen:
            for p in old[j]:
                self._hold(j, p, -1)
            for p in self.by_workload[j]:
                self._hold(j, p, +1)
            self.cost[j] = self._cost(j)
            if j in self.spend:
                row = self._spend(j)
                self.spent += row - self.spend[j]
                self.spend[j] = row
        return result.status, True

    def _spend(self, j: int) -> np.ndarray:
        row = np.zeros(len(self.limits), dtype=np.int64)
        for i in self.limits_of[j]:
            coefficients = self.limits[i].unit_coefficients
            row[i] = sum(p.units * int(coefficients(p.option)[p.start - p.option.first_start])
                         for p in self.by_workload[j])
        return row

    def _limits_left(self, chosen: list[int]) -> tuple[Limit, ...]:
        """Each limit, less what the fixed part of the plan spends of it."""
        if not self.limits:
            return ()
        fixed = self.spent.copy()
        for j in chosen:
            if j in self.spend:
                fixed -= self.spend[j]
        return tuple(dataclasses.replace(limit, cap=max(0, limit.int_cap() - int(f)) / SCALE)
                     for limit, f in zip(self.limits, fixed, strict=True))
