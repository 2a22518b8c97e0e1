"""The prices column generation tries, round by round, for the MIG master LP of
planner/mig_master.py: the share prices made tight, then smoothed duals of the master,
until no column prices out or time is up; the best Lagrangian bound met on the way."""

from __future__ import annotations

import time

import numpy as np

from planner.mig_master import Master, MasterTimeout
from planner.objective import SCALE, Weights
from planner.serving_exact import share_scores

# Weight of the best prices so far in each round's prices (see :func:`generate`).
SMOOTHING = 0.7
# Every CHECK_EVERY-th round prices at the master's own duals: the convergence test.
CHECK_EVERY = 3


def share_prices(master: Master, weights: Weights) -> np.ndarray:
    """Each slice at its profile's share of a GPU-hour (the least over the options that
    use it), score units by key x slot: the prices behind ``serving_exact``'s bound."""
    price = np.full((len(master.keys), master.horizon), np.inf)
    for s in master.users:
        options = master.serving_options[s].options
        d = master.data(s)
        for i, k in d.mig:
            row = share_scores(options[i], weights)[:master.horizon] - d.scores[i]
            price[k] = np.minimum(price[k], row / SCALE)
    return np.maximum(0.0, np.where(np.isfinite(price), price, 0.0))  # lambda >= 0


def tight(master: Master, price: np.ndarray) -> np.ndarray:
    """``price`` scaled per pool so that its dearest layout earns exactly the window
    score of a GPU: share prices spread a GPU's score over every hour, while slices are
    wanted where demand is (+4.9 % of the bound on the 1,000-workload benchmark)."""
    out = price.copy()
    for j, pool in enumerate(master.pools):
        rows = {q: master.keys[(pool.resource, q)] for lay in pool.layouts for q in lay.names
                if (pool.resource, q) in master.keys}
        worst = max((sum(n * float(price[rows[q]].sum()) for q, n in lay.counts().items()
                         if q in rows) for lay in pool.layouts), default=0.0)
        if worst > 0:
            for k in set(rows.values()):
                out[k] = price[k] * (master.window[j] / SCALE / worst)
    return out


def generate(master: Master, weights: Weights, others: dict[int, float], deadline: float
             ) -> tuple[float, int]:
    """Columns until the master stops improving or ``deadline``; the master is left
    solved. ``others``: the other workloads' exact values (score units). The caller adds
    the columns of the share prices (``serving_exact``'s share optimum, whose bound it
    has); the first round, which always runs, even past ``deadline`` (without it the bound
    is only the share prices': a slow 10,000-workload run reached its deadline before it
    and reported 267k instead of 281k), prices slices at them made tight (:func:`tight`).
    Returns (the best Lagrangian bound of serving, score units; pricing rounds).

    Prices are smoothed (Wentges 1997): each round prices at ``SMOOTHING`` x the prices of
    the best bound so far + the rest x the master's duals. The master's own duals swing
    far in the first rounds (measured at 10,000 workloads: their bounds were 134k, 210k,
    262k, 274k against 280k at the tight share prices, first above it after ~7 rounds).
    The first round prices slices at the tight share prices and GPUs at the master's
    duals (at 10,000 workloads: 281.4k, where the tight share prices alone give 280.1k). Every
    ``CHECK_EVERY``-th round, and after a round that added nothing, prices at the
    master's own duals: the master has converged when no pair's best column has a
    negative reduced cost there (a flat LP value is stalling, not convergence). A round
    after the first starts only if the last one's duration still fits before ``deadline``.
    No LP solve runs past the master's ``solve_by``: a first solve that would raises
    ``MasterTimeout``; a later one ends the rounds (the new columns get no LP values)."""
    best, best_at = -np.inf, (tight(master, share_prices(master, weights)), None)
    rounds, smooth, round_s = 0, SMOOTHING, 0.0
    _, slices, gpus = master.solve()
    while rounds == 0 or time.perf_counter() + round_s < deadline:
        began = time.perf_counter()
        if rounds == 0:  # the best slice prices, the master's GPU prices
            at_slices, at_gpus = best_at[0], gpus
        else:  # (the first round's bound, above -inf, set both prices of best_at)
            at_slices = smooth * best_at[0] + (1 - smooth) * slices
            at_gpus = smooth * best_at[1] + (1 - smooth) * gpus
        added, priced, negative = master.price(at_slices, at_gpus)
        bound = master.bound(priced, at_slices, at_gpus, others)
        if bound > best:
            best, best_at = bound, (at_slices, at_gpus)
        rounds += 1
        # no new column prices out at the master's own duals: converged
        converged = smooth == 0 and (negative == 0 or added == 0)
        if added:  # (the master is left solved over every column it has)
            try:
                _, slices, gpus = master.solve()
            except MasterTimeout:  # the best bound so far, the master's last solution
                break
        if converged:
            break
        # every CHECK_EVERY-th round, and after one that added nothing, at the master's
        # own duals: the convergence test (a smoothed round can misprice)
        smooth = 0.0 if added == 0 or rounds % CHECK_EVERY == 0 else SMOOTHING
        round_s = time.perf_counter() - began
    return best, rounds
