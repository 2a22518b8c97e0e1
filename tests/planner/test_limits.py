"""Team budgets, emission caps and the Pareto front."""

from __future__ import annotations

import dataclasses

import pytest

from planner.check import violations
from planner.domain import Objective
from planner.limits import Limit, LimitKind
from planner.pareto import pareto_front
from planner.solve import plan
from tests.planner.factory import job, problem


def test_a_team_usd_budget_holds_and_names_what_it_left_out():
    jobs = [dataclasses.replace(job(f"n{i}", gpus=4, hours=4), team="nlp") for i in range(3)]
    p = problem(jobs)
    free = plan(p, objective=Objective.COST, time_limit_s=5, workers=1)
    cap = 0.7 * free.totals.cost_usd
    capped = dataclasses.replace(p, limits=(Limit(kind=LimitKind.USD, cap=cap, team="nlp"),))
    result = plan(capped, objective=Objective.COST, time_limit_s=5, workers=1)
    assert result.totals.cost_usd <= cap
    assert result.unplaced and all(u.reason.startswith("budget:") for u in result.unplaced)
    assert violations(result, capped) == []


def test_an_emissions_cap_moves_work_to_the_cleaner_region():
    p = problem([job("a", gpus=4, hours=4)])
    cheap = plan(p, objective=Objective.COST, time_limit_s=5, workers=1)
    assert cheap.assignments[0].region == "dirty"
    cap = cheap.totals.emissions_kg / 2
    capped = dataclasses.replace(p, limits=(Limit(kind=LimitKind.KG_CO2E, cap=cap),))
    result = plan(capped, objective=Objective.COST, time_limit_s=5, workers=1)
    assert result.assignments[0].region == "clean"
    assert result.totals.emissions_kg <= cap


def test_the_checker_catches_a_broken_budget():
    p = problem([dataclasses.replace(job("a", gpus=4), team="nlp")])
    result = plan(p, objective=Objective.COST, time_limit_s=5, workers=1)
    tight = dataclasses.replace(p, limits=(Limit(kind=LimitKind.USD, cap=1.0, team="nlp"),))
    assert any("budget" in v for v in violations(result, tight))


def test_a_negative_cap_is_refused():
    with pytest.raises(ValueError, match="cap must be"):
        Limit(kind=LimitKind.USD, cap=-1.0, team="x")


def test_pareto_front_runs_from_cleanest_to_cheapest_and_never_crosses():
    jobs = [job(f"j{i}", gpus=2, hours=3, deadline_h=12) for i in range(6)]
    front = pareto_front(problem(jobs), points=4, time_limit_s=5)
    emissions = [pt.emissions_kg for pt in front]
    costs = [pt.cost_usd for pt in front]
    assert emissions == sorted(emissions)
    assert costs == sorted(costs, reverse=True)
    for pt in front[1:-1]:
        assert pt.emissions_kg <= pt.emissions_cap_kg + 1e-6
