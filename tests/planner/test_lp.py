"""LP column generation and reduced-cost fixing keep the model exact."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from planner import joint as joint_module
from planner import solve as solve_module
from planner.capacity import capacity_table
from planner.check import violations
from planner.domain import Objective, SolverStatus
from planner.greedy import greedy_placements
from planner.lp import Relaxation
from planner.model import objective_of, penalty_of, solve_model, unit_scores
from planner.objective import SCALE, from_int, weights
from planner.options import build_options
from tests.planner.test_properties import instances


def _relaxation(p, w, seed):
    wos = build_options(p)
    ints = [[unit_scores(o, w) for o in wo.options] for wo in wos]
    return wos, Relaxation(wos, capacity_table(p.fleet), p.horizon_hours + p.lookahead_hours,
                           [[a / SCALE for a in row] for row in ints],
                           [from_int(penalty_of(row)) for row in ints], seed=seed(wos))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_reduced_cost_fixing_keeps_the_optimum(instance):
    p, objective = instance
    w = weights(objective, 190.0)
    cap = capacity_table(p.fleet)
    wos, rel = _relaxation(p, w, lambda wos: greedy_placements(wos, cap, w))
    full = solve_model(wos, cap, p.horizon_hours, w, time_limit_s=20, workers=1)
    assert full.status is SolverStatus.OPTIMAL
    # the LP optimum is a lower bound of the integer optimum
    assert rel.value <= full.objective + 1e-3 * (len(p.workloads) + 1)
    hint = greedy_placements(wos, cap, w)
    restriction = rel.restrict(upper_bound=objective_of(hint, wos, w), seed_size=len(hint),
                               max_columns=10**9)
    assert restriction.exact
    small = solve_model(wos, cap, p.horizon_hours, w, time_limit_s=20, workers=1, hint=hint,
                        allowed=restriction.columns)
    assert small.status is SolverStatus.OPTIMAL
    assert small.objective == pytest.approx(full.objective, abs=1e-6)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_lp_rounding_is_a_valid_plan(instance):
    p, objective = instance
    w = weights(objective, 190.0)
    cap = capacity_table(p.fleet)
    wos, rel = _relaxation(p, w, lambda wos: [])
    rounded = rel.rounded(cap, w)
    used: dict = {}
    for q in rounded:
        for t in range(q.start, q.end_slot):
            key = (q.option.resource, t)
            used[key] = used.get(key, 0) + q.units * wos[q.workload].gpus_per_unit
    assert all(gpus <= cap.get(r) for (r, _), gpus in used.items())
    placed: dict = {}
    for q in rounded:
        placed[q.workload] = placed.get(q.workload, 0) + q.units
    assert all(placed.get(j, 0) <= wo.units for j, wo in enumerate(wos))


def test_plan_through_the_lp_path_passes_the_checker(monkeypatch):
    from tests.planner.factory import mixed_jobs, problem
    p = problem(mixed_jobs())
    monkeypatch.setattr(joint_module, "LP_RESTRICT_ABOVE", 0)
    result = solve_module.plan(p, objective=Objective.BALANCED, time_limit_s=10, workers=2)
    assert violations(result, p) == []
    assert result.solver.bound <= result.solver.objective + 1e-6
    monkeypatch.setattr(joint_module, "LP_RESTRICT_ABOVE", 10**12)
    direct = solve_module.plan(p, objective=Objective.BALANCED, time_limit_s=10, workers=2)
    # the LP path is never worse than straight CP-SAT (which may lack a bound under load)
    assert result.solver.objective <= direct.solver.objective * (1 + 1e-3)
