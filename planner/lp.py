r"""LP column generation and reduced-cost fixing: an exact way to shrink the model.

The time-indexed model of planner/model.py has a tight LP relaxation but, at
fleet scale, millions of (workload, option, start) literals. Most of them can
never be in a good plan. This module proves which, with linear programming
(HiGHS), before CP-SAT sees the model.

LP relaxation (score units, as the model's objective)
    min  sum c_jos x_jos + sum M_j y_j
    s.t. sum_{o,s} x_jos + y_j = u_j                      (mu_j, free)     for all j
         sum_{covering (r,t)} g_j x_jos <= K_rt           (pi_rt <= 0)     for all r, t
         0 <= x_jos <= u_j,  0 <= y_j <= u_j

Column generation: start from the columns of a valid plan (the greedy hint),
each workload's cheapest columns and every y_j; solve; price every column
with the duals,

    rc_jos = c_jos - mu_j - g_j * sum_{t=s}^{s+d_jo-1} pi_rt

(one prefix sum of pi per resource makes this a vector operation per option);
add the most negative ones and repeat until none is negative. The LP optimum
z_LP is then a valid lower bound for the whole model.

Reduced-cost fixing: any integer plan x with objective z satisfies
z >= z_LP + sum rc_i x_i (rc_i >= 0 at the LP optimum), so a column with
rc_i > UB - z_LP, UB the objective of any known plan, is 0 in every plan
better than UB. Keeping only columns with rc_i <= UB - z_LP loses nothing;
the known plan's own columns always survive. When even that set is larger
than ``max_columns``, the cheapest-rc columns are kept and the result says
the restriction is no longer exact (the lower bound stays valid).
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from dataclasses import dataclass

import highspy
import numpy as np

from planner.capacity import Capacity, Ledger, Resource
from planner.limits import Limit, LimitLedger
from planner.objective import SCALE
from planner.options import WorkloadOptions
from planner.placement import Placement

Column = tuple[int, int, int]  # (workload index, option index, start slot)


@dataclass(frozen=True, slots=True, kw_only=True)
class Restriction:
    reduced_costs: dict[Column, float]  # the literals the model keeps: their rc at z_LP
    lower_bound: float  # z_LP, score units; valid for the unrestricted model
    exact: bool  # True when no column with rc <= UB - z_LP was dropped

    @property
    def columns(self) -> frozenset[Column]:
        return frozenset(self.reduced_costs)


def new_highs() -> highspy.Highs:
    """A silent HiGHS instance (its first construction prints a banner on fd 1)."""
    global _BANNER_SHOWN
    if _BANNER_SHOWN:
        return highspy.Highs()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    _BANNER_SHOWN = True
    return h


_BANNER_SHOWN = False


class _Lp:
    """The restricted master LP over a growing set of columns."""

    def __init__(self, n_workloads: int, units: np.ndarray, resources: list[Resource],
                 capacity: Capacity, horizon: int, caps: list[float]) -> None:
        self.h = new_highs()
        self.h.setOptionValue("output_flag", False)
        self.horizon = horizon
        self.n_workloads = n_workloads
        self.resource_index = {r: i for i, r in enumerate(resources)}
        n_rows = n_workloads + len(resources) * horizon + len(caps)
        lower = np.concatenate([units.astype(float),
                                np.full(len(resources) * horizon + len(caps), -highspy.kHighsInf)])
        upper = np.concatenate([units.astype(float),
                                np.asarray([float(capacity.at(r, t)) for r in resources
                                            for t in range(horizon)]),
                                np.asarray(caps, dtype=float)])
        self.first_limit_row = n_workloads + len(resources) * horizon
        empty_i = np.array([], dtype=np.int32)
        self.h.addRows(n_rows, lower, upper, 0, empty_i, empty_i, np.array([], dtype=float))
        self.present: set[Column] = set()
        self.order: list[Column | None] = []  # LP column index -> column (None: a y_j)

    def row_of(self, resource: Resource, t: int) -> int:
        return self.n_workloads + self.resource_index[resource] * self.horizon + t

    def add(self, cols: list[tuple[Column | None, float, float, list[int], list[float]]]) -> None:
        if not cols:
            return
        costs, upper, starts, index, value = [], [], [], [], []
        for column, cost, ub, rows, coeffs in cols:
            starts.append(len(index))
            index.extend(rows)
            value.extend(coeffs)
            costs.append(cost)
            upper.append(ub)
            self.order.append(column)
            if column is not None:
                self.present.add(column)
        self.h.addCols(len(cols), np.asarray(costs), np.zeros(len(cols)), np.asarray(upper),
                       len(index), np.asarray(starts, dtype=np.int32),
                       np.asarray(index, dtype=np.int32), np.asarray(value, dtype=float))

    def solve(self) -> tuple[float, np.ndarray]:
        self.h.run()
        status = self.h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"LP relaxation ended {status}")
        return self.h.getInfo().objective_function_value, np.asarray(self.h.getSolution().row_dual)


class Relaxation:
    """The LP optimum of the whole model, found by column generation, and its duals."""

    def __init__(self, workload_options: tuple[WorkloadOptions, ...], capacity: Capacity,
                 horizon: int, scores: list[list[np.ndarray]], penalties: list[float], *,
                 seed: list[Placement], limits: tuple[Limit, ...] = (), per_round: int = 4,
                 seed_per_workload: int = 3) -> None:
        t0 = time.perf_counter()
        self.workload_options, self.scores, self.horizon = workload_options, scores, horizon
        self.penalties = penalties
        self.limits = limits
        self.resources = sorted({r for wo in workload_options for o in wo.options for r in o.resources})
        units = np.asarray([wo.units for wo in workload_options])
        lp = self._lp = _Lp(len(workload_options), units, self.resources, capacity, horizon,
                            [limit.int_cap() / SCALE for limit in limits])
        # an option-less workload can only be unplaced: cost 0 keeps z_LP free of its constant
        initial = [(None, penalties[j] if wo.options else 0.0, float(wo.units), [j], [1.0])
                   for j, wo in enumerate(workload_options)]
        wanted: set[Column] = set()
        index_of = {id(o): (j, oi) for j, wo in enumerate(workload_options)
                    for oi, o in enumerate(wo.options)}
        for p in seed:
            j, oi = index_of[id(p.option)]
            wanted.add((j, oi, p.start))
        for j, wo in enumerate(workload_options):
            best = sorted((float(a.min()), oi, o.first_start + int(a.argmin()))
                          for oi, (o, a) in enumerate(zip(wo.options, scores[j])) if len(a))
            wanted.update((j, oi, s) for _, oi, s in best[:seed_per_workload])
        lp.add(initial + [self._column(c) for c in sorted(wanted)])
        self._flat = _Flat(workload_options, scores, self.resources, limits)
        self.iterations = 0
        while True:
            self.iterations += 1
            self.value, self.duals = lp.solve()
            new = self._entering(per_round)
            if not new:
                break
            lp.add([self._column(c) for c in new])
        self.lp_columns = frozenset(lp.present)
        self.wall_s = time.perf_counter() - t0

    def rounded(self, capacity: Capacity, weights) -> list[Placement]:
        """A valid plan near the LP optimum: LP columns by value, largest first, while they
        fit; then every unit still unplaced to its best-scoring start that fits."""
        values = np.asarray(self._lp.h.getSolution().col_value)
        ledger = Ledger(capacity)
        spent = LimitLedger(self.limits)

        def fits(wo, o, s, want: int) -> int:
            units = min(want, ledger.free(o.resources, s, o.slots) // wo.gpus_per_unit)
            room = spent.room(wo.workload, o, s)
            return units if room is None else min(units, room)

        def take(wo, o, s, units: int) -> None:
            ledger.take(o.resources, s, o.slots, units * wo.gpus_per_unit)
            spent.take(wo.workload, o, s, units)
        left = [wo.units for wo in self.workload_options]
        placements: list[Placement] = []
        # biggest units first (they are the hardest to fit late), then by LP value
        ranked = sorted(((-self.workload_options[c[0]].gpus_per_unit, -v, c)
                         for v, c in zip(values.tolist(), self._lp.order)
                         if c is not None and v > 1e-6), key=lambda item: item[:2] + (item[2],))
        for _, neg_v, (j, oi, s) in ranked:
            wo = self.workload_options[j]
            o = wo.options[oi]
            units = fits(wo, o, s, min(left[j], max(1, round(-neg_v))))
            if units > 0:
                take(wo, o, s, units)
                placements.append(Placement(option=o, start=s, units=units))
                left[j] -= units
        for j, wo in enumerate(self.workload_options):
            if not left[j]:
                continue
            ranked_j = sorted((float(self.scores[j][oi][s - o.first_start]), oi, s)
                              for oi, o in enumerate(wo.options) for s in o.starts)
            for _, oi, s in ranked_j:
                o = wo.options[oi]
                units = fits(wo, o, s, left[j])
                if units > 0:
                    take(wo, o, s, units)
                    placements.append(Placement(option=o, start=s, units=units))
                    left[j] -= units
                if not left[j]:
                    break
        return placements

    def workload_costs(self) -> np.ndarray:
        """Each workload's share of z_LP: sum of c x over its columns plus M_j y_j."""
        values = np.asarray(self._lp.h.getSolution().col_value)
        out = np.zeros(len(self.workload_options))
        for v, c in zip(values.tolist(), self._lp.order):
            if v <= 0.0 or c is None:
                continue
            j, oi, s = c
            o = self.workload_options[j].options[oi]
            out[j] += v * self.scores[j][oi][s - o.first_start]
        # the y_j columns come first, one per workload, in workload order
        y = values[:len(self.workload_options)]
        out += y * np.asarray([p if wo.options else 0.0
                               for p, wo in zip(self.penalties, self.workload_options)])
        return out

    def restrict(self, *, upper_bound: float, seed_size: int, max_columns: int) -> Restriction:
        """Reduced-cost fixing against a known plan of objective ``upper_bound``."""
        # scores are rounded to solver units: allow that rounding on every seed column
        slack = max(upper_bound - self.value, 0.0) + 1e-3 * (seed_size + 1)
        rc, index = self._price(below=slack)
        exact = len(index) <= max_columns
        if not exact:  # the cheapest reduced costs (ties: the flat order, as a stable sort)
            cheapest = np.lexsort((index, rc))[:max_columns]
            rc, index = rc[cheapest], index[cheapest]
        f = self._flat
        columns = list(zip(f.j[index].tolist(), f.oi[index].tolist(), f.s[index].tolist()))
        return Restriction(reduced_costs=dict(zip(columns, rc.tolist())),
                           lower_bound=self.value, exact=exact)

    def _column(self, c: Column):
        j, oi, s = c
        wo = self.workload_options[j]
        o = wo.options[oi]
        rows = [j] + [self._lp.row_of(r, t) for r in o.resources for t in range(s, s + o.slots)]
        coeffs = [1.0] + [float(wo.gpus_per_unit)] * (o.slots * len(o.resources))
        for i, limit in enumerate(self.limits):
            if limit.applies(wo.workload):
                rows.append(self._lp.first_limit_row + i)
                coeffs.append(float(limit.unit_coefficients(o)[s - o.first_start]) / SCALE)
        return (c, float(self.scores[j][oi][s - o.first_start]), float(wo.units), rows, coeffs)

    def _price(self, *, below: float) -> tuple[np.ndarray, np.ndarray]:
        """(reduced costs, indices into the flat columns) of the columns with reduced cost
        <= ``below``: rc = c - mu_j - g_j * sum pi over the window - sum limit duals."""
        f, lp, duals = self._flat, self._lp, self.duals
        first = lp.row_of(self.resources[0], 0) if self.resources else 0
        pi = duals[first:first + len(self.resources) * self.horizon].reshape(
            len(self.resources), self.horizon)
        prefix = np.zeros((len(self.resources) + 1, self.horizon + 1))  # last row: no resource
        np.cumsum(pi, axis=1, out=prefix[:-1, 1:])
        window = np.zeros(len(f.j))
        for r in f.resource:  # one or two resources per column (its GPUs, its spot pool)
            window += prefix[r, f.s + f.slots] - prefix[r, f.s]
        rc = f.cost - duals[f.j] - f.gpus * window
        for i, coefficients in enumerate(f.limit_coefficients):
            rc -= duals[lp.first_limit_row + i] * coefficients
        index = np.flatnonzero(rc <= below)
        return rc[index], index

    def _entering(self, per_round: int) -> list[Column]:
        """Each workload's ``per_round`` most negative reduced-cost columns not yet in."""
        rc, index = self._price(below=-1e-6)
        f, present = self._flat, self._lp.present
        out: list[Column] = []
        taken: dict[int, int] = defaultdict(int)
        for k in np.argsort(rc, kind="stable").tolist():
            i = index[k]
            j = int(f.j[i])
            if taken[j] >= per_round:
                continue
            c = (j, int(f.oi[i]), int(f.s[i]))
            if c not in present:
                out.append(c)
                taken[j] += 1
        return out


class _Flat:
    """Every (workload, option, start) column as flat arrays, for vectorised pricing."""

    def __init__(self, workload_options, scores, resources, limits) -> None:
        index = {r: i for i, r in enumerate(resources)}
        none = len(resources)  # the zero row of the prefix sums
        rows = []  # per option: j, oi, first start, starts, gpus per unit, slots, resources
        costs: list[np.ndarray] = []
        coefficients: list[list[np.ndarray]] = [[] for _ in limits]
        for j, wo in enumerate(workload_options):
            for oi, o in enumerate(wo.options):
                n = o.last_start - o.first_start + 1
                if n <= 0:
                    continue
                if len(o.resources) > 2:
                    raise ValueError(f"option of workload {j} uses {len(o.resources)} "
                                     "resources; the LP pricing handles one or two")
                r = o.resources
                rows.append((j, oi, o.first_start, n, wo.gpus_per_unit, o.slots, index[r[0]],
                             index[r[1]] if len(r) > 1 else none))
                costs.append(scores[j][oi][:n])
                for i, limit in enumerate(limits):
                    coefficients[i].append(
                        limit.unit_coefficients(o)[:n] / SCALE if limit.applies(wo.workload)
                        else np.zeros(n))
        per = np.asarray(rows, dtype=np.int64).reshape(-1, 8)
        n = per[:, 3]
        offset = np.repeat(np.cumsum(n) - n, n)  # each column's option's first flat index
        self.j, self.oi = np.repeat(per[:, 0], n), np.repeat(per[:, 1], n)
        self.s = np.repeat(per[:, 2], n) + np.arange(int(n.sum())) - offset
        self.gpus, self.slots = np.repeat(per[:, 4], n), np.repeat(per[:, 5], n)
        self.resource = (np.repeat(per[:, 6], n), np.repeat(per[:, 7], n))
        self.cost = (np.concatenate(costs).astype(float) if costs else np.zeros(0))
        self.limit_coefficients = [np.concatenate(parts) if parts else np.zeros(0)
                                   for parts in coefficients]
