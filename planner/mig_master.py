r"""Serving with MIG pools as a column-generation (Dantzig-Wolfe) master LP.

The workloads that can use a MIG profile ("users") are coupled by the pools' layouts,
which hold for the whole window, and by the capacity the other workloads left. Each
(user, slot) pair ``p`` picks one *column* ``c``: a replica count per option, with its
score ``cost_c`` (unserved demand at its penalty). The master LP is

    min  sum_c cost_c x_c + sum_{pool, L} (K + drain) n_L
    s.t. sum_{c of p} x_c = 1                                         every pair p    (pi_p)
         sum_c slices_qt(c) x_c - sum_L count_L(q) n_L <= 0          every profile q, t   (lambda)
         sum_c gpus_rt(c) x_c + sum_{L of r's pool} n_L <= left_rt   every resource r, t  (mu)

with x, n >= 0 (``K`` the window score of one partitioned GPU, planner/mig_pools.py). New
columns come from the exact per-(workload, slot) searches of planner/serving_exact.py
with each slice priced at ``lambda`` and each whole GPU at ``mu``: the pair's best column at
those prices. A pricing round adds every pair's best column not already in the master;
planner/mig_prices.py chooses the prices, round by round.

Bound (:meth:`Master.bound`). For any slice prices ``lambda >= 0`` and GPU prices
``mu >= 0`` on the full capacity ``C_rt`` (the rows of the other workloads' resources
included, those workloads searched again where ``mu`` touches them), the sum of every
workload's search values at those prices, ``- sum mu_rt C_rt``, and each pool's least
layout term (at most its GPUs, each costing ``K + sum_t mu_t - sum_q count_L(q) sum_t
lambda_qt``, plus the drain beyond the layout the pool runs now) is a lower bound of
serving: the Lagrangian relaxation of the slice and capacity rows. Searches that run out
of nodes count their LP bound and prices are floored, so every term errs low. The bound
reported is the best over the prices tried (planner/mig_prices.py); the master's own duals
alone can give a weak one (its capacity rows hold the other workloads fixed).

Measured (``benchmarks/planner_scale.py``, 2 cores): 1,000 workloads (123 users, 15
pools) converge in ~15 rounds of ~0.25 s, bound 28,409 score units (the share-price
Lagrangian step it replaced: 28,171); 10,000 workloads (1,238 users) get 1-3 rounds of
2-4 s within the 60-s plan, bound 281,393 (before: 280,129); run to convergence (~9
rounds, ~25 s) 282,452.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import highspy
import numpy as np

from planner import mig_pools
from planner.capacity import Ledger
from planner.lp import new_highs
from planner.objective import SCALE, Weights
from planner.serving import ServingOptions
from planner.serving_exact import Arrays, lower_values
from planner.serving_model import replica_scores

INF = highspy.kHighsInf
# Reduced cost (score units) below which a column still improves the master.
REDUCED_COST = 1e-6


class MasterError(RuntimeError):
    """The master LP did not solve to optimality (its start columns did not fit, or it
    ran into ``Master.solve_by``)."""


class MasterTimeout(MasterError):
    """A solve ran into ``Master.solve_by``; :meth:`Master.values` still holds the last
    optimal solution, which the rounding can use."""


@dataclass(frozen=True, slots=True)
class Column:
    pair: int
    options: np.ndarray  # option indices of the pair's workload
    replicas: np.ndarray  # replicas of each
    cost: int  # score units x SCALE, unserved demand at its penalty
    slices: dict[int, float]  # key row -> slices of that profile in the pair's slot
    gpus: dict[int, float]  # resource row -> whole GPUs in the pair's slot


@dataclass(frozen=True, slots=True)
class LayoutColumn:
    pool: int
    layout: int  # index into the pool's layouts
    kept: bool  # GPUs already in this layout (no drain); else newly partitioned


@dataclass(frozen=True, slots=True)
class _Service:
    arrays: Arrays
    scores: np.ndarray  # replica_scores, options x slots
    mig: list[tuple[int, int]]  # (option, key row) of its MIG options
    whole: list[tuple[int, list[int], int]]  # (option, resource rows, GPUs per replica)


class Master:
    """The master LP of the users' pairs; columns are added by :meth:`price`."""

    def __init__(self, serving_options: tuple[ServingOptions, ...], users: Sequence[int],
                 weights: Weights, priority: int, pools: tuple, ledger: Ledger, horizon: int,
                 *, threads: int = 1, solve_by: float | None = None) -> None:
        """``ledger``: the GPUs the other workloads' replicas take. The master is feasible
        once every pair has a column that fits it (the caller's start). ``solve_by``
        (``time.perf_counter()`` seconds): no LP solve runs past it (one that would raises
        ``MasterTimeout``)."""
        self.serving_options = serving_options
        self.users = list(users)
        self.horizon = horizon
        self.pools = pools
        self.weights, self.priority = weights, priority
        self.threads = threads
        self.solve_by = solve_by
        self._values = np.zeros(0)   # the column values of the last optimal solve
        self._data: dict[int, _Service] = {}
        pool_of = {pool.resource: j for j, pool in enumerate(pools)}
        self.keys: dict[tuple, int] = {}
        self.resources: dict[tuple, int] = {pool.resource: j for j, pool in enumerate(pools)}
        for s in users:
            for o in serving_options[s].options:
                if o.profile is not None:
                    if o.resource not in pool_of:  # a free slice would break the bound
                        raise ValueError(f"MIG option of workload {s} on {o.resource}: no pool")
                    self.keys.setdefault((o.resource, o.profile.name), len(self.keys))
                else:
                    for r in o.resources:
                        self.resources.setdefault(r, len(self.resources))
        keys, resources = self.keys, self.resources
        self.pairs = [(s, int(t)) for s in users
                      for t in np.nonzero(self.data(s).arrays.demand > 0)[0]]
        self.pair_of = {pt: i for i, pt in enumerate(self.pairs)}
        self.capacity = np.zeros((len(resources), horizon))
        self.left = np.zeros((len(resources), horizon))
        for r, j in resources.items():
            self.left[j] = [max(0, ledger.free(r, t, 1)) for t in range(horizon)]
            self.capacity[j] = [ledger.capacity.at(r, t) for t in range(horizon)]
        self.h = new_highs()
        self.h.setOptionValue("output_flag", False)
        n_pairs = len(self.pairs)
        self.slice_row0 = n_pairs
        self.cap_row0 = n_pairs + len(keys) * horizon
        empty_i, empty_f = np.zeros(0, dtype=np.int32), np.zeros(0)
        self.h.addRows(n_pairs, np.ones(n_pairs), np.ones(n_pairs), 0, empty_i, empty_i,
                       empty_f)
        n = len(keys) * horizon
        self.h.addRows(n, np.full(n, -INF), np.zeros(n), 0, empty_i, empty_i, empty_f)
        n = len(resources) * horizon
        self.h.addRows(n, np.full(n, -INF), self.left.ravel(), 0, empty_i, empty_i, empty_f)
        self.layout_columns: list[LayoutColumn] = []
        self.window = [float(pool.window_score(weights, range(horizon))) for pool in pools]
        self.drain = [pool.drain_score(weights) for pool in pools]
        for j, pool in enumerate(pools):
            for k, lay in enumerate(pool.layouts):
                rows, vals = [], []
                for q, count in lay.counts().items():
                    if (pool.resource, q) in keys:
                        base = self.slice_row0 + keys[(pool.resource, q)] * horizon
                        rows.extend(range(base, base + horizon))
                        vals.extend([-float(count)] * horizon)
                if not rows:
                    continue
                base = self.cap_row0 + j * horizon
                rows.extend(range(base, base + horizon))
                vals.extend([1.0] * horizon)
                current = pool.current.get(mig_pools.key_of(lay), 0)
                for kept, cost, upper in ((True, self.window[j], current),
                                          (False, self.window[j] + self.drain[j], pool.gpus)):
                    if upper <= 0:
                        continue
                    self.h.addCol(cost / SCALE, 0, float(upper), len(rows),
                                  np.asarray(rows, dtype=np.int32), np.asarray(vals))
                    self.layout_columns.append(LayoutColumn(pool=j, layout=k, kept=kept))
        self.columns: list[Column] = []
        self._seen: dict[tuple[int, bytes], int] = {}  # -> index in columns
        self._pending: list[tuple[int, int, dict, dict]] = []
        self.pair_duals: np.ndarray | None = None  # of the last solve

    def data(self, s: int) -> _Service:
        """Workload s's arrays, scores and rows (resources outside the master: none)."""
        if s not in self._data:
            so = self.serving_options[s]
            keys, resources = self.keys, self.resources
            self._data[s] = _Service(
                arrays=Arrays.of(s, so, self.weights, self.priority),
                scores=np.vstack([replica_scores(o, self.weights) for o in so.options]),
                mig=[(i, keys[(o.resource, o.profile.name)]) for i, o in enumerate(so.options)
                     if o.profile is not None and (o.resource, o.profile.name) in keys],
                whole=[(i, [resources[r] for r in o.resources if r in resources],
                        o.gpus_per_replica)
                       for i, o in enumerate(so.options) if o.profile is None])
        return self._data[s]

    # -- columns ---------------------------------------------------------------------------

    def add(self, s: int, slots: np.ndarray, counts: np.ndarray) -> int:
        """Add the columns of ``counts[t]`` (replicas by option) for the pairs (s, t) of
        ``slots`` that the master does not have yet; returns how many were new. The LP
        gets them at the next :meth:`solve`."""
        d = self.data(s)
        a = d.arrays
        rows = counts[slots]
        served = rows * a.thr
        total = served.sum(axis=1)
        gaps = [a.demand[slots] - total, a.floor[slots] - served[:, a.on_demand].sum(axis=1)]
        if a.need[slots].any():
            by_region = served @ (a.region[:, None] == np.arange(a.n_regions)).astype(np.int64)
            out = np.where(a.need[slots] > 0, (by_region.max(axis=1) if a.n_regions else 0)
                           + a.need[slots] - total, 0)
            gaps.append(out)
        short = np.maximum(0, np.max(np.vstack(gaps), axis=0))
        cost = (rows * d.scores[:, slots].T).sum(axis=1) + a.penalty * short
        slice_rows = np.zeros((len(slots), len(self.keys)))
        for i, k in d.mig:
            slice_rows[:, k] += rows[:, i]
        gpu_rows = np.zeros((len(slots), len(self.resources)))
        for i, rs, g in d.whole:
            for r in rs:
                gpu_rows[:, r] += rows[:, i] * g
        new = 0
        for n, t in enumerate(slots):
            pair = self.pair_of[(s, int(t))]
            key = (pair, rows[n].tobytes())
            if key in self._seen:
                continue
            self._seen[key] = len(self.columns)
            options = np.nonzero(rows[n])[0].astype(np.int32)
            ks = np.nonzero(slice_rows[n])[0]
            rs = np.nonzero(gpu_rows[n])[0]
            slices = dict(zip(ks.tolist(), slice_rows[n, ks].tolist(), strict=True))
            gpus = dict(zip(rs.tolist(), gpu_rows[n, rs].tolist(), strict=True))
            self.columns.append(Column(pair=pair, options=options,
                                       replicas=rows[n, options].astype(np.int64),
                                       cost=int(cost[n]), slices=slices, gpus=gpus))
            self._pending.append((pair, int(t), slices, gpus))
            new += 1
        return new

    def add_plan(self, placements) -> None:
        """Columns of a plan's replicas (ServingPlacements) for every user pair, a pair
        the plan leaves without replicas included: a plan that fits keeps the master
        feasible."""
        index = {id(o): i for s in self.users
                 for i, o in enumerate(self.serving_options[s].options)}
        counts = {s: np.zeros((self.horizon, len(self.serving_options[s].options)),
                              dtype=np.int64) for s in self.users}
        for p in placements:
            if p.workload in counts:
                counts[p.workload][p.slot, index[id(p.option)]] += p.replicas
        for s, rows in counts.items():
            self.add(s, np.nonzero(self.data(s).arrays.demand > 0)[0], rows)

    def _flush(self) -> None:
        """The columns added since the last call, into the LP in one call."""
        if not self._pending:
            return
        first = len(self.columns) - len(self._pending)
        starts, index, value = [], [], []
        for pair, t, slices, gpus in self._pending:
            starts.append(len(index))
            index.append(pair)
            value.append(1.0)
            for k, v in slices.items():
                index.append(self.slice_row0 + k * self.horizon + t)
                value.append(v)
            for r, v in gpus.items():
                index.append(self.cap_row0 + r * self.horizon + t)
                value.append(v)
        n = len(self._pending)
        cost = np.asarray([c.cost for c in self.columns[first:]], dtype=float) / SCALE
        self.h.addCols(n, cost, np.zeros(n), np.full(n, INF), len(index),
                       np.asarray(starts, dtype=np.int32), np.asarray(index, dtype=np.int32),
                       np.asarray(value))
        self._pending.clear()

    def index(self, s: int, t: int, counts: np.ndarray) -> int:
        """The index in :attr:`columns` of the column of ``counts`` for pair (s, t)."""
        return self._seen[(self.pair_of[(s, t)], counts.tobytes())]

    def price(self, slice_price: np.ndarray, gpu_price: np.ndarray | None
              ) -> tuple[int, float, int]:
        """Every user's best replicas in every slot at these prices (score units per slice
        by key x slot; per GPU by resource x slot, None: 0), their columns added; returns
        (columns added, sum of the search values in score units, pairs whose best column
        has a negative reduced cost against the last solve's pair duals: 0 at the
        master's own prices means the master is optimal over all columns)."""
        added, total, negative = 0, 0.0, 0
        duals = self.pair_duals
        for s, (values, counts) in zip(self.users, self._map(
                lambda s: self._search(s, slice_price, gpu_price), self.users), strict=True):
            total += float(values.sum()) / SCALE
            slots = np.nonzero(self.data(s).arrays.demand > 0)[0]
            added += self.add(s, slots, counts)
            if duals is not None and len(duals):
                pairs = [self.pair_of[(s, int(t))] for t in slots]
                negative += int((values[slots] / SCALE - duals[pairs] < -REDUCED_COST).sum())
        return added, total, negative

    def _map(self, fn, items: list) -> list:
        """``fn`` over ``items`` on :attr:`threads` threads (the searches release the GIL)."""
        if self.threads <= 1 or len(items) < 2:
            return [fn(x) for x in items]
        with ThreadPoolExecutor(self.threads) as pool:
            return list(pool.map(fn, items, chunksize=1))

    def _search(self, s: int, slice_price: np.ndarray | None, gpu_price: np.ndarray | None
                ) -> tuple[np.ndarray, np.ndarray]:
        d = self.data(s)
        cost = d.scores.copy()
        if slice_price is not None:
            for i, k in d.mig:
                cost[i] += np.floor(slice_price[k] * SCALE).astype(np.int64)
        if gpu_price is not None:
            for i, rs, g in d.whole:
                if rs:
                    cost[i] += np.floor(g * gpu_price[rs].sum(axis=0) * SCALE).astype(np.int64)
        values, counts, _ = lower_values(d.arrays, cost)
        return values, counts

    def bound(self, users_value: float, slice_price: np.ndarray, gpu_price: np.ndarray | None,
              others: dict[int, float]) -> float:
        """The Lagrangian bound of serving at these prices (score units): ``users_value``
        the users' search values at them (:meth:`price`), ``others`` the other workloads'
        exact values without prices (re-searched here where a GPU price touches them)."""
        total = users_value + self.layout_term(slice_price, gpu_price)
        if gpu_price is None or not gpu_price.any():
            return total + sum(others.values())
        total -= float((gpu_price * self.capacity).sum())
        priced = gpu_price.any(axis=1)
        touched = [s for s in others
                   if any(priced[rs].any() for _, rs, _ in self.data(s).whole if rs)]
        searched = set(touched)
        total += sum(value for s, value in others.items() if s not in searched)
        for values, _ in self._map(lambda s: self._search(s, None, gpu_price), touched):
            total += float(values.sum()) / SCALE
        return total

    # -- the LP ----------------------------------------------------------------------------

    def solve(self) -> tuple[float, np.ndarray, np.ndarray]:
        """(master value, slice prices, GPU prices) in score units."""
        self._flush()
        # HiGHS compares its time limit with the run time summed over every run of this
        # instance (HiGHS 1.16), not with the time of this run
        left = INF if self.solve_by is None else max(0.0, self.solve_by - time.perf_counter())
        self.h.setOptionValue("time_limit", self.h.getRunTime() + left)
        self.h.run()
        status = self.h.getModelStatus()
        if status == highspy.HighsModelStatus.kModelEmpty:  # no pair has demand
            self.pair_duals = np.zeros(0)
            self._values = np.zeros(self.h.getNumCol())
            return (0.0, np.zeros((len(self.keys), self.horizon)),
                    np.zeros((len(self.resources), self.horizon)))
        if status == highspy.HighsModelStatus.kTimeLimit:
            raise MasterTimeout(self.h.modelStatusToString(status))
        if status != highspy.HighsModelStatus.kOptimal:
            raise MasterError(self.h.modelStatusToString(status))
        self._values = np.asarray(self.h.getSolution().col_value)
        duals = np.asarray(self.h.getSolution().row_dual)
        horizon = self.horizon
        self.pair_duals = duals[:self.slice_row0]
        slices = np.maximum(0.0, -duals[self.slice_row0:self.cap_row0])
        gpus = np.maximum(0.0, -duals[self.cap_row0:])
        return (float(self.h.getInfo().objective_function_value),
                slices.reshape(len(self.keys), horizon),
                gpus.reshape(len(self.resources), horizon))

    def values(self) -> np.ndarray:
        """Column values of the last optimal solve (layout columns first); columns added
        since have none."""
        return self._values

    def layout_gpus(self) -> dict[tuple[int, int], float]:
        """The master's GPUs by (pool, layout index), kept and newly partitioned."""
        out: dict[tuple[int, int], float] = {}
        x = self.values()
        for value, col in zip(x, self.layout_columns, strict=False):
            out[(col.pool, col.layout)] = out.get((col.pool, col.layout), 0.0) + float(value)
        return out

    def fix_layout(self, pool: int, layout: int, gpus: int | None) -> None:
        """Hold (pool, layout) at ``gpus`` GPUs in the LP (the ones it runs already
        first); None frees it again."""
        current = self.pools[pool].current.get(
            mig_pools.key_of(self.pools[pool].layouts[layout]), 0)
        for c, col in enumerate(self.layout_columns):
            if (col.pool, col.layout) != (pool, layout):
                continue
            if gpus is None:
                lower, upper = 0.0, float(current if col.kept else self.pools[pool].gpus)
            else:
                kept = min(gpus, current)
                lower = upper = float(kept if col.kept else gpus - kept)
            self.h.changeColBounds(c, lower, upper)

    def layout_term(self, slice_price: np.ndarray, gpu_price: np.ndarray | None = None
                    ) -> float:
        """The pools' least layout cost at these prices (score units, <= 0): the
        Lagrangian's term for the n variables."""
        total = 0.0
        for j, pool in enumerate(self.pools):
            held = 0.0 if gpu_price is None else float(gpu_price[j].sum()) * SCALE
            offers: list[tuple[float, int]] = []
            for lay in pool.layouts:
                earns = sum(count * float(slice_price[self.keys[(pool.resource, q)]].sum())
                            for q, count in lay.counts().items()
                            if (pool.resource, q) in self.keys)
                current = pool.current.get(mig_pools.key_of(lay), 0)
                offers.append(((self.window[j] + held) / SCALE - earns, current))
                offers.append(((self.window[j] + held + self.drain[j]) / SCALE - earns,
                               pool.gpus))
            # a pool's GPUs hold every hour: at most what its cluster has in the least one
            room = int(min(pool.gpus, self.capacity[j].min(initial=pool.gpus)))
            for cost, upper in sorted(offers):
                if cost >= 0 or room <= 0:
                    break
                take = min(room, upper)
                total += cost * take
                room -= take
        return total
