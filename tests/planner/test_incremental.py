"""Placing one arriving workload against an existing plan."""

from __future__ import annotations

import dataclasses

from planner.check import violations
from planner.domain import Assignment, Objective, Totals, Unplaced
from planner.incremental import place_one, remaining_capacity
from planner.solve import plan
from tests.planner.factory import job, problem


def test_arrival_takes_what_the_plan_leaves_and_never_overbooks():
    base = problem([job("a", gpus=8, hours=4, deadline_h=4)])
    existing = plan(base, objective=Objective.CARBON, time_limit_s=5, workers=1)
    assert existing.assignments[0].region == "clean"
    arrival = job("late", gpus=8, hours=4, deadline_h=4)
    placed = place_one(base, existing, arrival, objective=Objective.CARBON,
                       carbon_price_usd_per_t=190)
    assert isinstance(placed, Assignment)
    assert placed.region == "dirty"  # the clean region is full during its window
    assert "placed on arrival" in placed.reason
    # plan + arrival still passes the checker on the problem that includes both
    both = problem([job("a", gpus=8, hours=4, deadline_h=4), arrival])
    assignments = existing.assignments + (placed,)
    merged = dataclasses.replace(existing, assignments=assignments, totals=Totals.of(assignments))
    assert violations(merged, both) == []


def test_arrival_with_no_room_is_unplaced_with_the_reason():
    base = problem([job("a", gpus=8, hours=4, deadline_h=4), job("b", gpus=8, hours=4, deadline_h=4)])
    existing = plan(base, time_limit_s=5, workers=1)
    ledger = remaining_capacity(base, existing)
    assert ledger.free(("clean-c", "A100-80GB"), 0, 4) == 0
    result = place_one(base, existing, job("c", gpus=8, hours=4, deadline_h=4),
                       objective=Objective.BALANCED, carbon_price_usd_per_t=190)
    assert isinstance(result, Unplaced) and result.reason.startswith("capacity:")
