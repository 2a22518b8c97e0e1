r"""A serving plan with MIG layouts from the master LP of planner/mig_master.py.

Price and fix: the layouts are fixed to whole GPUs one at a time on the master LP (a
dive, :func:`dive`), any left fractional at its deadline rounded to the nearest whole GPU
(fewer where the capacity the other workloads left would be exceeded); with the layouts
fixed the slots share nothing, so each slot is one small integer program over the
columns the master generated for its pairs:

    min sum_c cost_c x_c   s.t.  one column per pair; slices of each profile within what
                                 the layouts supply; whole GPUs within what is left;
                                 x binary

solved by HiGHS from a start that takes, pair by pair, the column the LP used most that
still fits, else the pair's best replicas on what is left (searched exactly; no replicas
at worst), within an equal share of the time left; the better of the two stands.

Measured (serving alone, benchmark instances, ``benchmarks/planner_scale.py``): 1,000
workloads, 10 s: the layouts dived in 0.4 s, the slots in 0.5 s, 28,666 against the
bound 28,409 (0.90 %; the layout local search this replaced: 30,245 against 28,171);
10,000 workloads in the 60-s plan: 282,887-283,106 against 281,393 (0.53-0.61 %), the
slots 3.8-5.5 s. Rounding every layout half up instead of diving cost 811 score units
(+2.8 %) at 1,000.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict

import highspy
import numpy as np

from planner import mig_pools
from planner.lp import new_highs
from planner.mig_master import Column, Master, MasterError, MasterTimeout
from planner.objective import SCALE
from planner.serving_exact import MAX_NODES

log = logging.getLogger("gridshift.planner")
INF = highspy.kHighsInf
# A layout whose LP value is within TIE_LOW of a half is tried at both whole numbers.
TIE_LOW = 0.3
# Share of the time left that :func:`dive` may take before the slots' programs.
DIVE_SHARE = 0.4


def layouts_of(master: Master, x: np.ndarray) -> dict[int, dict[int, int]]:
    """GPUs by pool and layout index: the master's, rounded, within the GPUs left."""
    gpus: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for value, col in zip(x, master.layout_columns, strict=False):
        gpus[col.pool][col.layout] += float(value)
    out: dict[int, dict[int, int]] = {}
    for j, by_layout in gpus.items():
        room = int(min(master.pools[j].gpus, master.left[j].min()))
        rounded = {k: int(np.floor(v + 0.5)) for k, v in by_layout.items()}
        # over the room: drop GPUs where the master had the least
        for k in sorted(rounded, key=lambda k: by_layout[k]):
            excess = sum(rounded.values()) - room
            if excess <= 0:
                break
            rounded[k] -= min(rounded[k], excess)
        kept = {k: n for k, n in rounded.items() if n > 0}
        if kept:
            out[j] = kept
    return out


def dive(master: Master, deadline: float) -> int:
    """Fix the master's layouts to whole GPUs one at a time, re-solving the LP after each
    (the rest of the plan moves with it): the layout nearest to a whole number first, to
    that number; one near a half both ways, the lower LP kept. Returns the layouts fixed;
    the master is left solved. Layouts still fractional at ``deadline`` are rounded by
    :func:`layouts_of`; when a solve runs into the master's own ``solve_by`` the dive
    stops there, and the master's values stay those of its last optimal solve."""
    fixed: set[tuple[int, int]] = set()
    while time.perf_counter() < deadline:
        frac = {jk: v for jk, v in master.layout_gpus().items()
                if jk not in fixed and abs(v - round(v)) > 1e-6}
        if not frac:
            break
        jk = min(frac, key=lambda jk: (abs(frac[jk] - round(frac[jk])), jk))
        low = int(np.floor(frac[jk]))
        part = frac[jk] - low
        tries = [low, low + 1] if part <= 0.5 else [low + 1, low]
        both = TIE_LOW <= part <= 1 - TIE_LOW
        best: tuple[float, int] | None = None
        solved = None  # the GPUs the LP was last solved at, if that solve succeeded
        try:
            for gpus in tries if both else tries[:1]:
                master.fix_layout(*jk, gpus)
                try:
                    value, _, _ = master.solve()
                except MasterTimeout:
                    raise
                except MasterError:
                    solved = None
                    continue
                solved = gpus
                if best is None or value < best[0] - 1e-9:
                    best = (value, gpus)
            if best is None or solved != best[1]:
                # neither fits the capacity left (the layout stays free), or the better
                # try was not the last one
                master.fix_layout(*jk, None if best is None else best[1])
                master.solve()
        except MasterTimeout:
            break
        fixed.add(jk)
    return len(fixed)


def plan(master: Master, deadline: float) -> tuple[dict[int, Column], dict]:
    """(column chosen for each pair, layouts as planner/mig_pools.py keys them): the
    layouts by :func:`dive` (until DIVE_SHARE of the time left) and rounding, then each
    slot's program."""
    t0 = time.perf_counter()
    fixed = dive(master, t0 + DIVE_SHARE * (deadline - t0))
    t1 = time.perf_counter()
    x = master.values()
    n_layout = len(master.layout_columns)
    chosen_layouts = layouts_of(master, x[:n_layout])
    horizon = master.horizon
    supply = np.zeros((len(master.keys), horizon))
    room = master.left.copy()
    layouts: dict = {}
    for j, by_layout in chosen_layouts.items():
        pool = master.pools[j]
        for k, gpus in by_layout.items():
            lay = pool.layouts[k]
            for q, count in lay.counts().items():
                if (pool.resource, q) in master.keys:
                    supply[master.keys[(pool.resource, q)]] += count * gpus
            layouts.setdefault(pool.resource, {})[mig_pools.key_of(lay)] = gpus
            room[j] -= gpus
    by_slot: dict[int, list[int]] = defaultdict(list)
    for c, col in enumerate(master.columns):
        by_slot[master.pairs[col.pair][1]].append(c)
    # the LP's value of each column; columns added since its last solve (the slots'
    # searches) have none
    weight = np.zeros(len(master.columns))
    weight[:len(x) - n_layout] = x[n_layout:]
    chosen: dict[int, Column] = {}
    slots = sorted(by_slot)
    for n, t in enumerate(slots):
        seconds = (deadline - time.perf_counter()) / (len(slots) - n)
        chosen.update(_slot(master, by_slot[t], weight, supply[:, t], room[:, t], seconds))
    unserved = sum(1 for col in chosen.values() if len(col.options) == 0)
    log.debug("serving: layouts dived %d in %.1f s, slots %.1f s, %d pairs without replicas",
              fixed, t1 - t0, time.perf_counter() - t1, unserved)
    return chosen, layouts


def _fits(col: Column, slices: np.ndarray, gpus: np.ndarray) -> bool:
    return (all(slices[k] >= v for k, v in col.slices.items())
            and all(gpus[r] >= v for r, v in col.gpus.items()))


def _slot(master: Master, candidates: list[int], weight: np.ndarray, supply: np.ndarray,
          room: np.ndarray, seconds: float) -> dict[int, Column]:
    """The columns of one slot's pairs: the start, or HiGHS's plan when it is better."""
    columns = master.columns
    by_pair: dict[int, list[int]] = defaultdict(list)
    for c in candidates:
        by_pair[columns[c].pair].append(c)
    # the start: pairs the LP was surest of first, each its most used column that fits,
    # else its best replicas on what is left (searched exactly: planner/serving_exact.py)
    slices, gpus = supply.copy(), room.copy()
    start: dict[int, int] = {}
    for pair in sorted(by_pair, key=lambda p: -max(weight[c] for c in by_pair[p])):
        used = [c for c in sorted(by_pair[pair], key=lambda c: -weight[c]) if weight[c] > 1e-9]
        pick = next((c for c in used if _fits(columns[c], slices, gpus)), None)
        if pick is None:
            pick = _search_left(master, pair, slices, gpus)
            if pick not in by_pair[pair]:
                by_pair[pair].append(pick)
        col = columns[pick]
        for k, v in col.slices.items():
            slices[k] -= v
        for r, v in col.gpus.items():
            gpus[r] -= v
        start[pair] = pick
    picked = start
    if seconds > 0.01 and any(c >= len(weight) or weight[c] < 1 - 1e-6
                              for c in start.values()):  # (c: a column added by a search)
        picked = _solve(master, by_pair, start, supply, room, seconds) or start
    return {pair: columns[c] for pair, c in picked.items()}


def _search_left(master: Master, pair: int, slices: np.ndarray, gpus: np.ndarray) -> int:
    """The pair's best replicas within the slices and GPUs left, as a column of the
    master (its index). Each option is capped at what is left of its resources; where
    options sharing a resource overfill it together, the search runs again with each
    option capped at an equal share of it, which always fits (no replicas at worst)."""
    from planner.serving_search import search_capped

    s, t = master.pairs[pair]
    d = master.data(s)
    a = d.arrays
    sharing_keys = np.bincount([k for _, k in d.mig], minlength=len(slices))
    sharing_gpus = np.bincount([r for _, rs, _ in d.whole for r in rs], minlength=len(gpus))
    demand = np.zeros_like(a.demand)
    demand[t] = a.demand[t]
    for shared in (False, True):
        caps = np.zeros((len(a.demand), len(a.thr)), dtype=np.int64)
        for i, k in d.mig:
            room = int(slices[k]) // (int(sharing_keys[k]) if shared else 1)
            caps[t, i] = max(0, min(int(a.max_replicas[i]), room))
        for i, rs, g in d.whole:
            room = min((int(gpus[r]) // (g * (int(sharing_gpus[r]) if shared else 1))
                        for r in rs), default=int(a.max_replicas[i]))
            caps[t, i] = max(0, min(int(a.max_replicas[i]), room))
        _, counts, _ = search_capped(d.scores, a.thr, a.on_demand, a.region, caps, demand,
                                     a.floor, a.need, a.n_regions, a.penalty, MAX_NODES)
        master.add(s, np.asarray([t]), counts)
        c = master.index(s, t, counts[t])
        if _fits(master.columns[c], slices, gpus):
            return c
    raise AssertionError("equal shares of what is left overfilled it")  # cannot happen


def _solve(master: Master, by_pair: dict[int, list[int]], start: dict[int, int],
           supply: np.ndarray, room: np.ndarray, seconds: float) -> dict[int, int] | None:
    """HiGHS on the slot's program from ``start``; None when it found nothing better."""
    columns = master.columns
    pairs = sorted(by_pair)
    keys = sorted({k for cs in by_pair.values() for c in cs for k in columns[c].slices})
    resources = sorted({r for cs in by_pair.values() for c in cs for r in columns[c].gpus})
    key_row = {k: len(pairs) + i for i, k in enumerate(keys)}
    res_row = {r: len(pairs) + len(keys) + i for i, r in enumerate(resources)}
    h = new_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", max(0.01, seconds))
    h.setOptionValue("mip_rel_gap", 1e-4)
    empty_i, empty_f = np.zeros(0, dtype=np.int32), np.zeros(0)
    h.addRows(len(pairs), np.ones(len(pairs)), np.ones(len(pairs)), 0, empty_i, empty_i,
              empty_f)
    upper = np.concatenate([supply[keys], room[resources]]) if keys or resources else []
    h.addRows(len(keys) + len(resources), np.full(len(keys) + len(resources), -INF),
              np.asarray(upper, dtype=float), 0, empty_i, empty_i, empty_f)
    order: list[int] = []
    for i, pair in enumerate(pairs):
        for c in by_pair[pair]:
            col = columns[c]
            rows = [i] + [key_row[k] for k in col.slices] + [res_row[r] for r in col.gpus]
            vals = [1.0, *col.slices.values(), *col.gpus.values()]
            h.addCol(col.cost / SCALE, 0, 1, len(rows), np.asarray(rows, dtype=np.int32),
                     np.asarray(vals))
            order.append(c)
    n = len(order)
    h.changeColsIntegrality(n, np.arange(n, dtype=np.int32),
                            np.full(n, highspy.HighsVarType.kInteger, dtype=np.uint8))
    sol = highspy.HighsSolution()
    sol.col_value = [1.0 if start.get(columns[c].pair) == c else 0.0 for c in order]
    h.setSolution(sol)
    h.run()
    if h.getInfo().primal_solution_status != highspy.SolutionStatus.kSolutionStatusFeasible:
        return None
    value = np.asarray(h.getSolution().col_value)
    out = {columns[c].pair: c for c, v in zip(order, value, strict=True) if v > 0.5}
    if len(out) != len(pairs):
        return None
    cost = sum(columns[c].cost for c in out.values())
    return out if cost < sum(columns[c].cost for c in start.values()) else None
