"""End-to-end behaviour of planner.solve.plan on small hand-made problems."""

from __future__ import annotations

import dataclasses
import math

import pytest

from planner.check import PlanCheckError, assert_valid, violations
from planner.domain import Objective, Purchase, SolverStatus, Totals
from planner.solve import plan
from tests.planner.factory import T0, H, job, offer, problem, region


def solve(p, objective=Objective.BALANCED, **kw):
    return plan(p, objective=objective, time_limit_s=kw.pop("time_limit_s", 10), workers=2, **kw)


def test_moves_a_flexible_job_to_the_cleaner_region_under_the_carbon_objective():
    result = solve(problem([job("a", gpus=4)]), Objective.CARBON)
    (a,) = result.assignments
    assert a.region == "clean"
    assert result.solver.status is SolverStatus.OPTIMAL


def test_cost_objective_prefers_the_cheaper_region():
    result = solve(problem([job("a", gpus=4)]), Objective.COST)
    assert result.assignments[0].region == "dirty"


def test_waits_for_the_cleanest_hours_within_the_window():
    # one region whose grid is clean only in hours 5 and 6 of each day
    intensity = {"Z-DIRTY": [500.0] * 5 + [40.0, 40.0] + [500.0] * 17}
    p = problem([job("a", hours=2, home="dirty")], regions=(region("dirty", "Z-DIRTY", {"A100-80GB": 8}),),
                offers=offer("dirty", "A100-80GB", 3.0), intensity=intensity)
    (a,) = solve(p, Objective.CARBON).assignments
    assert a.start == T0 + 5 * H
    assert "waited 5 h" in a.reason


def test_spot_is_used_only_by_jobs_that_checkpoint():
    result = solve(problem([job("ckpt", checkpoint_h=0.5), job("nockpt")]), Objective.COST)
    by_name = {a.workload: a for a in result.assignments}
    assert by_name["ckpt"].purchase is Purchase.SPOT
    assert by_name["nockpt"].purchase is Purchase.ON_DEMAND
    # expected rework makes the spot run longer than the on-demand runtime
    assert by_name["ckpt"].hours > 2.0


def test_deadline_and_release_are_respected():
    result = solve(problem([job("a", hours=3, release_h=4, deadline_h=9)]), Objective.CARBON)
    (a,) = result.assignments
    assert a.start >= T0 + 4 * H
    assert a.end <= T0 + 9 * H


def test_residency_keeps_a_job_in_its_allowed_regions():
    result = solve(problem([job("eu", allowed=("dirty",))]), Objective.CARBON)
    assert result.assignments[0].region == "dirty"


def test_capacity_is_never_exceeded_and_the_overflow_is_named():
    # 3 gangs of 8 GPUs, each must run hours 0-4; the fleet has 16 GPUs at once
    jobs = [job(n, gpus=8, hours=4, deadline_h=4) for n in ("a", "b", "c")]
    result = solve(problem(jobs))
    assert len(result.assignments) == 2
    (u,) = result.unplaced
    assert u.reason.startswith("capacity:")
    placed = {a.workload for a in result.assignments}
    assert all(name in u.reason for name in placed)


def test_non_gang_job_splits_over_regions():
    result = solve(problem([job("sweep", gpus=12, gang=False, hours=2, deadline_h=2)]))
    assert sum(a.gpus for a in result.assignments) == 12
    assert {a.region for a in result.assignments} == {"clean", "dirty"}


def test_faster_accelerator_shortens_the_run():
    regions = (region("dirty", "Z-DIRTY", {"A100-80GB": 8, "H100": 8}),)
    offers = offer("dirty", "A100-80GB", 3.0) + offer("dirty", "H100", 4.0)
    p = problem([job("a", hours=4, accelerators={"A100-80GB": 1.0, "H100": 2.0})],
                regions=regions, offers=offers, intensity={"Z-DIRTY": [400.0]})
    (a,) = solve(p, Objective.COST).assignments
    assert a.accelerator == "H100"  # 2 h x 4 USD < 4 h x 3 USD
    assert a.hours == pytest.approx(2.0)


def test_totals_are_the_sum_of_assignments_and_baselines_are_reported():
    result = solve(problem([job(f"j{i}", gpus=2, hours=3, checkpoint_h=1) for i in range(6)]))
    expected = Totals.of(result.assignments)
    assert result.totals.cost_usd == pytest.approx(expected.cost_usd)
    assert result.totals.emissions_kg == pytest.approx(expected.emissions_kg)
    assert set(result.baselines) == {"run_now", "cost_greedy", "carbon_greedy"}
    run_now = result.baselines["run_now"].totals
    assert result.totals.cost_usd < run_now.cost_usd  # spot for checkpointing jobs
    cleanest = solve(problem([job(f"j{i}", gpus=2, hours=3, checkpoint_h=1) for i in range(6)]),
                     Objective.CARBON)
    assert cleanest.totals.emissions_kg < 0.2 * run_now.emissions_kg  # clean grid is 10x cleaner


def test_tiny_time_limit_still_returns_a_checked_plan():
    jobs = [job(f"j{i}", gpus=1 + i % 4, hours=1 + i % 5, deadline_h=24, checkpoint_h=1)
            for i in range(60)]
    result = solve(problem(jobs), time_limit_s=0.05)
    assert result.solver.status in {SolverStatus.OPTIMAL, SolverStatus.FEASIBLE,
                                    SolverStatus.UNKNOWN}
    assert len(result.assignments) > 0
    assert violations(result, problem(jobs)) == []


def test_gap_is_reported_from_objective_and_bound():
    result = solve(problem([job("a"), job("b", gpus=4)]))
    s = result.solver
    assert s.gap == pytest.approx(abs(s.objective - s.bound) / abs(s.objective))
    assert not math.isnan(s.bound)


def test_checker_catches_a_start_before_release_and_over_capacity():
    p = problem([job("a", gpus=8, release_h=3), job("b", gpus=8, release_h=3)],
                regions=(region("dirty", "Z-DIRTY", {"A100-80GB": 16}),),
                offers=offer("dirty", "A100-80GB", 3.0), intensity={"Z-DIRTY": [100.0]})
    result = solve(p)
    early = dataclasses.replace(result.assignments[0], start=T0, end=T0 + 2 * H)
    broken = dataclasses.replace(result, assignments=(early,) + result.assignments[1:])
    found = violations(broken, p)
    assert any("before its release" in v for v in found)
    doubled = dataclasses.replace(result.assignments[0], gpus=16)
    broken = dataclasses.replace(result, assignments=(doubled,) + result.assignments[1:])
    with pytest.raises(PlanCheckError, match="capacity|GPUs assigned"):
        assert_valid(broken, p)


def test_each_reason_names_the_next_best_option_and_what_ruled_it_out():
    jobs = [job(n, gpus=8, hours=4, deadline_h=4) for n in ("a", "b", "c")]
    result = solve(problem(jobs), Objective.CARBON)
    reasons = {a.workload: a.reason for a in result.assignments}
    dirty = next(a for a in result.assignments if a.region == "dirty")
    # the job left on the dirty grid had the clean one as next best, taken by another job
    assert "next best clean/" in dirty.reason and "ruled out by capacity" in dirty.reason
    clean = next(a for a in result.assignments if a.region == "clean")
    assert "next best dirty/" in reasons[clean.workload]
    assert "costs more on the objective" in reasons[clean.workload]
