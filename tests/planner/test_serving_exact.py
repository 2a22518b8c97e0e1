"""The per-(workload, slot) exact serving search against CP-SAT, and what it gives the plan."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from ortools.sat.python import cp_model

from planner import serving_exact, serving_model, serving_solve
from planner.capacity import Capacity, Ledger
from planner.domain import Objective
from planner.objective import weights
from planner.serving_search import search


def _cp_sat(cost, thr, od, reg, ub, d, floor, need, n_regions, penalty) -> int:
    """The same small integer program, written out for CP-SAT."""
    model = cp_model.CpModel()
    r = [model.new_int_var(0, int(u), f"r{i}") for i, u in enumerate(ub)]
    u = model.new_int_var(0, d, "u")
    total = sum(int(t) * v for t, v in zip(thr, r, strict=True))
    model.add(total + u >= d)
    model.add(sum(int(t) * v for t, v, o in zip(thr, r, od, strict=True) if o) + u >= floor)
    if need > 0:
        for g in range(n_regions):
            model.add(sum(int(t) * v for t, v, x in zip(thr, r, reg, strict=True) if x != g)
                      + u >= need)
    model.minimize(sum(int(c) * v for c, v in zip(cost, r, strict=True)) + penalty * u)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.solve(model) == cp_model.OPTIMAL
    return round(solver.objective_value)


item = st.tuples(st.integers(1, 400), st.sampled_from([18_000, 35_000, 60_000, 70_000, 120_000]),
                 st.booleans(), st.integers(0, 2), st.integers(0, 6))


@settings(max_examples=150, deadline=None)
@given(items=st.lists(item, min_size=0, max_size=7), d=st.integers(1, 300_000),
       floor_share=st.sampled_from([0.0, 0.5, 1.0]), need_share=st.sampled_from([0.0, 0.5]),
       penalty=st.integers(1, 5))
def test_search_finds_the_cp_sat_optimum(items, d, floor_share, need_share, penalty):
    cost, thr, od, reg, ub = (np.asarray(col) for col in zip(*items, strict=True)) if items \
        else (np.zeros(0, dtype=np.int64),) * 5
    cost, thr, reg, ub = (a.astype(np.int64) for a in (cost, thr, reg, ub))
    od = od.astype(np.bool_)
    floor, need = math.ceil(floor_share * d), math.ceil(need_share * d)
    value, counts, finished = search(cost, thr, od, reg, ub, d, floor, need, 3, penalty, 10**6)
    assert finished
    assert round(value) == _cp_sat(cost, thr, od, reg, ub, d, floor, need, 3, penalty)
    # the counts it returns are a plan of that value, within the limits
    assert (counts <= ub).all() and (counts >= 0).all()
    assert _value(counts, cost, thr, od, reg, d, floor, need, penalty) == round(value)


def _value(counts, cost, thr, od, reg, d, floor, need, penalty) -> int:
    served = int((counts * thr).sum())
    gaps = [d - served, floor - int((counts * thr)[od].sum())]
    if need > 0:
        gaps += [need - served + int((counts * thr)[reg == g].sum()) for g in range(3)]
    return int((counts * cost).sum()) + penalty * max(0, *gaps)


def test_search_gives_up_at_its_node_budget_with_a_valid_plan():
    thr = np.asarray([18_000, 18_000, 35_000, 70_000] * 3, dtype=np.int64)
    cost = np.asarray([413, 766, 1464, 3415, 467, 893, 1470, 3429, 598, 859, 1838, 4288],
                      dtype=np.int64)
    od = np.asarray([False, True, True, True] * 3)
    reg = np.repeat(np.arange(3), 4).astype(np.int64)
    ub = np.full(12, 9, dtype=np.int64)
    value, counts, finished = search(cost, thr, od, reg, ub, 150_000, 75_000, 75_000, 3, 2, 5)
    assert not finished
    # the best plan met before the budget ran out, and its value
    assert value == _value(counts, cost, thr, od, reg, 150_000, 75_000, 75_000, 2)
    full, _, done = search(cost, thr, od, reg, ub, 150_000, 75_000, 75_000, 3, 2, 10**6)
    assert done and full <= value


def _generated(n: int = 60):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from generated import generated_problem

    from planner import mig_pools
    from planner.options import intensity_arrays
    from planner.serving import build_serving_options

    p = generated_problem(n, seed=3, serving_share=0.5, horizon_hours=12)
    intensity = intensity_arrays(p)
    so = build_serving_options(p.serving, p.fleet, p.catalog, p.horizon_hours, intensity)
    return so, mig_pools.pools(so, p.catalog, intensity, p.horizon_hours)


def test_exact_bound_lies_between_the_lp_and_the_best_plan_found():
    so, pools = _generated()
    w = weights(Objective.BALANCED, 200.0)
    exact = serving_exact.solve(so, w)
    assert exact.proven == exact.searches > 0
    assert exact.bound >= serving_model.lp_bound(so, w) - 1e-6
    roomy = Capacity(base={r: 10**6 for so_ in so for o in so_.options for r in o.resources})
    for plan in (exact.placements,
                 serving_model.greedy(so, Ledger(roomy), w)):
        assert serving_model.objective_of(so, list(plan), w) >= exact.bound - 1e-6
    result = serving_solve.solve_slots(so, roomy, w, priority=0, time_limit_s=5, workers=1,
                                       pools=pools)
    assert result.objective >= result.bound - 1e-6
    assert result.bound >= exact.bound - 1e-6


def test_fit_keeps_to_capacity_and_serves_what_fits():
    so, _ = _generated()
    w = weights(Objective.BALANCED, 200.0)
    exact = serving_exact.solve(so, w)
    wanted_gpus: dict = {}
    for p in exact.placements:
        for r in p.option.resources:
            wanted_gpus[(r, p.slot)] = wanted_gpus.get((r, p.slot), 0) + p.replicas * p.option.gpus_per_replica
    # half of what the uncapacitated plan wants, per resource
    base = {r: max(1, max(g for (r2, _), g in wanted_gpus.items() if r2 == r) // 2)
            for r, _ in wanted_gpus}
    capacity = Capacity(base=base)
    fitted = serving_exact.fit(so, exact.placements, Ledger(capacity), w)
    used: dict = {}
    for p in fitted:
        assert p.option.profile is None
        for r in p.option.resources:
            used[(r, p.slot)] = used.get((r, p.slot), 0) + p.replicas * p.option.gpus_per_replica
    assert all(g <= capacity.at(r, t) for (r, t), g in used.items())
    greedy = serving_model.greedy(so, Ledger(capacity), w)
    assert serving_model.objective_of(so, fitted, w) <= serving_model.objective_of(so, greedy, w)
