"""The per-(workload, slot) branch and bound of planner/serving_exact.py, compiled.

Numba-compiled (cached on disk after the first run): a depth-first search over replica
counts, options in order of score per milli-request/s, pruned by LP bounds of what is
still missing (all of it, the on-demand floor, each region's failover need) and by
dominance. One call handles every slot of one serving workload. The functions release
the GIL, so that pricing (planner/mig_master.py) can search workloads on several threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _undominated(cost, thr, od, reg, free, by_region):
    n = cost.shape[0]
    keep = np.ones(n, dtype=np.bool_)
    for i in range(n):
        for j in range(n):
            if j == i or not free[j] or (by_region and reg[j] != reg[i]) or (od[i] and not od[j]):
                continue
            if cost[j] <= cost[i] and thr[j] >= thr[i]:
                strictly = (cost[j] < cost[i] or thr[j] > thr[i] or (od[j] and not od[i]))
                if strictly or j < i:
                    keep[i] = False
                    break
    return keep


@njit(cache=True, nogil=True)
def search(cost, thr, od, reg, ub, d, floor, need, n_regions, penalty, max_nodes):
    """Least sum(cost * r) + penalty * u with (S1)-(S3); returns (value, r, finished)."""
    n = cost.shape[0]
    free = ub * thr >= d
    keep = _undominated(cost, thr, od, reg, free, need > 0)
    idx = np.nonzero(keep)[0]
    ratio = cost[idx] / thr[idx]
    order = idx[np.argsort(ratio, kind="mergesort")]
    m = order.shape[0]
    c_ = cost[order]
    t_ = thr[order]
    o_ = od[order]
    g_ = reg[order]
    u_ = ub[order]
    pen = float(penalty)
    rho = np.full(m + 1, pen)
    rho_od = np.full(m + 1, pen)
    rho_out = np.full((m + 1, n_regions), pen)
    for k in range(m - 1, -1, -1):
        r = c_[k] / t_[k]
        rho[k] = min(rho[k + 1], r)
        rho_od[k] = min(rho_od[k + 1], r) if o_[k] else rho_od[k + 1]
        for g in range(n_regions):
            rho_out[k, g] = rho_out[k + 1, g] if g == g_[k] else min(rho_out[k + 1, g], r)
    best_value = np.inf
    best = np.zeros(m, dtype=np.int64)
    cur = np.zeros(m, dtype=np.int64)
    by_region = np.zeros(n_regions, dtype=np.int64)
    total = 0
    od_total = 0
    spent = 0
    nodes = 0
    finished = True
    k = 0
    entering = True
    while True:
        if entering:
            nodes += 1
            if nodes > max_nodes:
                finished = False
                break
            g_total = d - total
            g_floor = floor - od_total
            u = max(0, g_total, g_floor)
            top_region = 0
            if need > 0:
                for g in range(n_regions):
                    top_region = max(top_region, by_region[g])
                u = max(u, need - total + top_region)
            value = spent + pen * u
            if value < best_value:
                best_value = value
                for j in range(m):
                    best[j] = cur[j] if j < k else 0
            prune = u == 0 or k >= m
            if not prune:
                lower = max(u * rho[k], g_floor * rho_od[k])
                if need > 0:
                    for g in range(n_regions):
                        lower = max(lower, (need - total + by_region[g]) * rho_out[k, g])
                prune = spent + lower >= best_value
            if prune:
                entering = False
                k -= 1
                if k < 0:
                    break
                continue
            # replicas of option k that can still help: up to the largest gap they reduce
            useful = g_total
            if o_[k]:
                useful = max(useful, g_floor)
            if need > 0:
                other = 0
                for g in range(n_regions):
                    if g != g_[k]:
                        other = max(other, by_region[g])
                useful = max(useful, need - total + other)
            top = min(u_[k], -(-max(0, useful) // t_[k]))
            cur[k] = top
        else:
            # back from option k's child: take its replicas out, try one fewer
            amount = cur[k] * t_[k]
            total -= amount
            by_region[g_[k]] -= amount
            if o_[k]:
                od_total -= amount
            spent -= cur[k] * c_[k]
            if cur[k] == 0:
                k -= 1
                if k < 0:
                    break
                continue
            cur[k] -= 1
        amount = cur[k] * t_[k]
        total += amount
        by_region[g_[k]] += amount
        if o_[k]:
            od_total += amount
        spent += cur[k] * c_[k]
        k += 1
        entering = True
    counts = np.zeros(n, dtype=np.int64)
    for j in range(m):
        counts[order[j]] = best[j]
    return best_value, counts, finished


@njit(cache=True, nogil=True)
def search_slots(cost, thr, od, reg, max_replicas, allowed, demand, floor, need, n_regions,
                 penalty, max_nodes):
    """:func:`search` for every slot t of one workload (``cost`` is options x slots);
    returns (value by slot, counts slots x options, finished by slot)."""
    n, horizon = cost.shape
    caps = np.zeros((horizon, n), dtype=np.int64)
    for t in range(horizon):
        for i in range(n):
            if allowed[i]:
                caps[t, i] = max_replicas[i]
    return search_capped(cost, thr, od, reg, caps, demand, floor, need, n_regions, penalty,
                         max_nodes)


@njit(cache=True, nogil=True)
def search_capped(cost, thr, od, reg, caps, demand, floor, need, n_regions, penalty,
                  max_nodes):
    """:func:`search_slots` with replica limits by slot and option (``caps``, slots x
    options; 0 leaves an option out of that slot)."""
    n, horizon = cost.shape
    values = np.zeros(horizon)
    counts = np.zeros((horizon, n), dtype=np.int64)
    finished = np.ones(horizon, dtype=np.bool_)
    for t in range(horizon):
        d = demand[t]
        if d <= 0:
            continue
        ub = np.zeros(n, dtype=np.int64)
        for i in range(n):
            ub[i] = min(caps[t, i], -(-d // thr[i]))
        idx = np.nonzero(ub > 0)[0]
        value, c, done = search(cost[idx, t].copy(), thr[idx], od[idx], reg[idx], ub[idx], d,
                                floor[t], need[t], n_regions, penalty, max_nodes)
        values[t] = value
        finished[t] = done
        for j in range(idx.shape[0]):
            counts[t, idx[j]] = c[j]
    return values, counts, finished


def warm() -> None:
    """Compile (or load from the on-disk cache) every function above with tiny inputs: the
    first compile takes ~15 s on the 2-core machine, which a plan's time limit should not
    pay (the container image runs this at build time)."""
    cost = np.ones((2, 2), dtype=np.int64)
    thr = np.asarray([1000, 2000], dtype=np.int64)
    flags = np.asarray([True, False])
    zeros = np.zeros(2, dtype=np.int64)
    demand = np.asarray([1500, 2500], dtype=np.int64)
    search_slots(cost, thr, flags, zeros, np.asarray([5, 5], dtype=np.int64), flags | True,
                 demand, zeros, zeros, 1, 10, 1000)
    search_capped(cost, thr, flags, zeros, np.full((2, 2), 5, dtype=np.int64), demand, zeros,
                  zeros, 1, 10, 1000)
