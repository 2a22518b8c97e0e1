"""Serving with MIG pools by column generation: columns priced as the plan counts them, a
bound below the optimum, and a rounded plan within capacity and the layouts' slices."""

from __future__ import annotations

import time

import numpy as np
import pytest

from planner import (
    mig_master,
    mig_pools,
    mig_prices,
    mig_round,
    serving_exact,
    serving_model,
    serving_solve,
)
from planner.capacity import Capacity, Ledger
from planner.domain import Objective
from planner.objective import weights
from planner.serving_model import ServingPlacement
from tests.planner.test_serving_exact import _generated

W = weights(Objective.BALANCED, 200.0)


def _master(so, pools, capacity):
    users = [s for s, x in enumerate(so) if any(o.profile is not None for o in x.options)]
    exact = serving_exact.solve(so, W)
    start = serving_exact.fit(so, exact.placements, Ledger(capacity), W)
    ledger = Ledger(capacity)
    for p in start:
        if p.workload not in users:
            ledger.take(p.option.resources, p.slot, 1, p.replicas * p.option.gpus_per_replica)
    horizon = len(so[0].demand_rps)
    master = mig_master.Master(so, users, W, 0, pools, ledger, horizon)
    master.add_plan(start)  # as serving_solve does
    master.add_plan(exact.share_placements)
    others = {s: float(exact.bound_by_workload[s]) for s in range(len(so))
              if s not in users and so[s].options}
    return master, exact, others


def test_a_column_costs_what_the_plan_counts():
    so, pools = _generated()
    capacity = Capacity(base={r: 10**6 for x in so for o in x.options for r in o.resources})
    master, _, _ = _master(so, pools, capacity)
    rng = np.random.default_rng(0)
    for s in master.users[:10]:
        horizon = len(so[s].demand_rps)
        rows = rng.integers(0, 3, size=(horizon, len(so[s].options)))
        slots = np.nonzero(master.data(s).arrays.demand > 0)[0]
        master.add(s, slots, rows)
        for t in slots:
            col = master.columns[master.index(s, int(t), rows[t])]
            mine = [ServingPlacement(option=so[s].options[i], slot=int(t), replicas=int(r))
                    for i, r in zip(col.options, col.replicas, strict=True)]
            # the plan's own count: replica scores and the shortfall of (S1)-(S3)
            short = serving_model.shortfall_milli(so[s], mine, slots=[int(t)])[0]
            counted = (sum(int(serving_model.replica_scores(p.option, W)[t]) * p.replicas
                           for p in mine)
                       + serving_model.penalty_per_milli(so[s], W) * short)
            assert col.cost == counted


def test_the_bound_lies_between_the_exact_bound_and_every_plan_found():
    so, pools = _generated(30)
    capacity = Capacity(base={r: 6 for x in so for o in x.options for r in o.resources})
    master, exact, others = _master(so, pools, capacity)
    bound, rounds = mig_prices.generate(master, W, others, time.perf_counter() + 30)
    assert rounds >= 1
    assert bound >= exact.bound - 1e-6
    horizon = range(len(so[0].demand_rps))
    # CP-SAT on one model of the whole serving problem (it does not prove its optimum
    # here: its own bound stays far below), and the rounded plan
    start = serving_exact.fit(so, exact.placements, Ledger(capacity), W)
    found, replicas, layouts, _ = serving_solve._solve_group(
        so, capacity, W, 0, horizon, pools, start, {}, 10.0, 2, drain=True)
    assert found
    chosen, ours = mig_round.plan(master, time.perf_counter() + 10)
    mine = [ServingPlacement(option=so[s].options[i], slot=t, replicas=int(r))
            for pair, col in chosen.items() for s, t in (master.pairs[pair],)
            for i, r in zip(col.options, col.replicas, strict=True)]
    mine += [p for p in start if p.workload not in master.users]
    for plan, lay in ((replicas, layouts), (mine, ours)):
        value = serving_model.objective_of(so, plan, W) + mig_pools.value(pools, lay, W, horizon)
        assert bound <= value + 1e-6


def test_the_rounded_plan_keeps_to_capacity_and_slices():
    so, pools = _generated()
    capacity = Capacity(base={r: 4 for x in so for o in x.options for r in o.resources})
    result = serving_solve.solve_slots(so, capacity, W, priority=0, time_limit_s=10,
                                       workers=1, pools=pools)
    assert result.layouts, "no MIG layout chosen: the test checks nothing"
    horizon = len(so[0].demand_rps)
    used: dict = {}
    for key, gpus in mig_pools.reserved(result.layouts, range(horizon)).items():
        used[key] = used.get(key, 0) + gpus
    slices: dict = {}
    for p in result.placements:
        for r in p.option.resources if p.option.profile is None else ():
            used[(r, p.slot)] = used.get((r, p.slot), 0) + p.replicas * p.option.gpus_per_replica
        if p.option.profile is not None:
            key = (p.option.resource, p.option.profile.name, p.slot)
            slices[key] = slices.get(key, 0) + p.replicas
    assert all(g <= capacity.at(r, t) for (r, t), g in used.items())
    for (resource, profile, _), n in slices.items():
        pool = next(x for x in pools if x.resource == resource)
        supply = sum(gpus * next(lay for lay in pool.layouts
                                 if mig_pools.key_of(lay) == key).counts().get(profile, 0)
                     for key, gpus in result.layouts.get(resource, {}).items())
        assert n <= supply
    assert result.objective >= result.bound - 1e-6
    value = (serving_model.objective_of(so, list(result.placements), W)
             + mig_pools.value(pools, result.layouts, W, range(horizon)))
    assert abs(value - result.objective) < 1e-6


def test_rounded_layouts_stay_within_the_gpus_left():
    so, pools = _generated()
    capacity = Capacity(base={r: 3 for x in so for o in x.options for r in o.resources})
    master, _, others = _master(so, pools, capacity)
    mig_prices.generate(master, W, others, time.perf_counter() + 10)
    x = master.values()
    layouts = mig_round.layouts_of(master, x[:len(master.layout_columns)])
    for j, by_layout in layouts.items():
        assert sum(by_layout.values()) <= min(master.pools[j].gpus, master.left[j].min())


def test_a_pool_with_no_gpus_left_keeps_the_master_feasible():
    # every pool's cluster full, 1 GPU elsewhere: the start leaves pairs unserved, and
    # their unserved columns keep the master feasible (it was infeasible without them)
    so, pools = _generated()
    pooled = {pool.resource for pool in pools}
    capacity = Capacity(base={r: 0 if r in pooled else 1
                              for x in so for o in x.options for r in o.resources})
    master, exact, others = _master(so, pools, capacity)
    bound, rounds = mig_prices.generate(master, W, others, time.perf_counter() + 10)
    assert rounds >= 1 and bound >= exact.bound - 1e-6
    chosen, layouts = mig_round.plan(master, time.perf_counter() + 10)
    assert layouts == {}  # no GPU to partition
    assert len(chosen) == len(master.pairs)


def test_the_bound_at_any_prices_lies_below_a_plan():
    so, pools = _generated()
    capacity = Capacity(base={r: 3 for x in so for o in x.options for r in o.resources})
    result = serving_solve.solve_slots(so, capacity, W, priority=0, time_limit_s=5,
                                       workers=1, pools=pools)
    master, _, others = _master(so, pools, capacity)
    rng = np.random.default_rng(1)
    for _ in range(8):
        slices = rng.exponential(0.5, size=(len(master.keys), master.horizon))
        gpus = rng.exponential(0.5, size=(len(master.resources), master.horizon))
        gpus[rng.random(gpus.shape) < 0.7] = 0.0
        _, value, _ = master.price(slices, gpus)
        assert master.bound(value, slices, gpus, others) <= result.objective + 1e-6


def test_a_dive_leaves_whole_layouts_and_a_layout_can_be_freed_again():
    so, pools = _generated()
    capacity = Capacity(base={r: 8 for x in so for o in x.options for r in o.resources})
    master, _, others = _master(so, pools, capacity)
    mig_prices.generate(master, W, others, time.perf_counter() + 10)
    free_value, _, _ = master.solve()
    mig_round.dive(master, time.perf_counter() + 30)
    gpus = master.layout_gpus()
    assert all(abs(v - round(v)) < 1e-6 for v in gpus.values())
    dived, _, _ = master.solve()
    assert dived >= free_value - 1e-6  # fixing layouts only restricts the LP
    for j, k in gpus:
        master.fix_layout(j, k, None)
    freed, _, _ = master.solve()
    assert abs(freed - free_value) < 1e-6 * max(1.0, abs(free_value))


def test_columns_added_after_the_last_solve_do_not_break_the_rounding():
    so, pools = _generated()
    capacity = Capacity(base={r: 8 for x in so for o in x.options for r in o.resources})
    master, _, others = _master(so, pools, capacity)
    mig_prices.generate(master, W, others, time.perf_counter() + 5)
    s, t = master.pairs[0]
    rows = np.ones((t + 1, len(so[s].options)), dtype=np.int64)
    assert master.add(s, np.asarray([t]), rows) == 1  # not in the LP yet
    chosen, _ = mig_round.plan(master, time.perf_counter())  # no time: no dive, no solve
    assert len(chosen) == len(master.pairs)


def test_no_master_solve_runs_past_its_deadline():
    so, pools = _generated()
    capacity = Capacity(base={r: 4 for x in so for o in x.options for r in o.resources})
    master, _, _ = _master(so, pools, capacity)
    rng = np.random.default_rng(2)

    def new_columns() -> None:  # a changed LP: HiGHS has to iterate again
        added, _, _ = master.price(rng.exponential(1.0, (len(master.keys), master.horizon)),
                                   None)
        assert added > 0

    for _ in range(3):     # HiGHS's own clock sums every run of the instance
        new_columns()
        master.solve()
    new_columns()
    master.solve_by = time.perf_counter() - 1.0
    with pytest.raises(mig_master.MasterError, match="[Tt]ime limit"):
        master.solve()
    master.solve_by = time.perf_counter() + 60.0
    value, _, _ = master.solve()
    assert np.isfinite(value)


def test_a_master_out_of_time_leaves_the_whole_gpu_start(caplog):
    # a limit spent before the master's first solve: the plan is the start, within capacity
    so, pools = _generated()
    capacity = Capacity(base={r: 4 for x in so for o in x.options for r in o.resources})
    result = serving_solve.solve_slots(so, capacity, W, priority=0, time_limit_s=1e-3,
                                       workers=1, pools=pools)
    assert result.layouts == {}
    assert all(p.option.profile is None for p in result.placements)
    exact = serving_exact.solve(so, W)
    start = serving_exact.fit(so, exact.placements, Ledger(capacity), W)
    assert result.objective == pytest.approx(serving_model.objective_of(so, start, W))
    assert result.objective >= result.bound - 1e-6
    assert "master LP failed (Time limit reached)" in caplog.text


def test_out_of_time_in_the_rounds_or_the_dive_keeps_the_last_lp_solution():
    so, pools = _generated()
    capacity = Capacity(base={r: 4 for x in so for o in x.options for r in o.resources})
    master, _, others = _master(so, pools, capacity)
    master.solve()
    # every solve that has to iterate from here runs out of time: the first round's
    # columns are priced and bounded, then the rounds end on the solve after them
    master.solve_by = time.perf_counter() - 1.0
    kept = master.values().copy()
    bound, rounds = mig_prices.generate(master, W, others, time.perf_counter() + 10)
    assert rounds == 1 and np.isfinite(bound)
    np.testing.assert_array_equal(master.values(), kept)
    assert len(master.columns) > len(kept) - len(master.layout_columns)  # columns were added
    # the dive stops at once; the rounding works from the kept solution
    chosen, layouts = mig_round.plan(master, time.perf_counter() + 10)
    assert len(chosen) == len(master.pairs)
    for j, by_key in layouts.items():
        pool = next(p for p in master.pools if p.resource == j)
        assert sum(by_key.values()) <= pool.gpus
