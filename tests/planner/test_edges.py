"""Edges the review found: horizon end, clusters, instance sizes, time zones, checker gaps."""

from __future__ import annotations

import dataclasses
from datetime import timedelta, timezone

import pytest

from planner.check import violations
from planner.domain import Objective, Purchase
from planner.problem import PlanningProblem
from planner.solve import plan
from tests.planner.factory import T0, H, job, offer, problem, region


def solve(p, objective=Objective.BALANCED):
    return plan(p, objective=objective, time_limit_s=10, workers=1)


def test_a_job_may_run_past_the_horizon_end_when_its_deadline_allows():
    p = problem([job("late", gpus=8, hours=20, release_h=20, deadline_h=44)], horizon_hours=24)
    (a,) = solve(p).assignments
    assert a.start >= T0 + 20 * H and a.start < T0 + 24 * H
    assert a.end > T0 + 24 * H


def test_a_gang_bigger_than_any_one_cluster_is_unplaced_for_capacity():
    regions = (region("dirty", "Z-DIRTY", {"A100-80GB": 8}, clusters=2),)
    p = problem([job("big", gpus=16)], regions=regions, offers=offer("dirty", "A100-80GB", 3.0),
                intensity={"Z-DIRTY": [300.0]})
    (u,) = solve(p).unplaced
    assert u.reason.startswith("capacity: no cluster")


def test_a_gang_rents_whole_instances_and_picks_the_cheapest_shape():
    # 1-GPU boxes at 4.0 USD, 8-GPU boxes at 3.0 USD per GPU (24.0 per box)
    offers = offer("dirty", "A100-80GB", 4.0) + offer("dirty", "A100-80GB", 3.0, gpus_per_instance=8)
    regions = (region("dirty", "Z-DIRTY", {"A100-80GB": 16}),)
    p = problem([job("one", gpus=1, hours=1), job("eight", gpus=8, hours=1)], regions=regions,
                offers=offers, intensity={"Z-DIRTY": [300.0]})
    by = {a.workload: a for a in solve(p, Objective.COST).assignments}
    assert by["one"].instance_type == "a100-80gb-x1" and by["one"].cost_usd == pytest.approx(4.0)
    assert by["eight"].instance_type == "a100-80gb-x8" and by["eight"].cost_usd == pytest.approx(24.0)


def test_spot_needs_room_before_the_deadline_not_just_the_expected_runtime():
    offers = offer("dirty", "A100-80GB", 3.0, 0.5, bucket=">20%")
    regions = (region("dirty", "Z-DIRTY", {"A100-80GB": 8}),)
    tight = problem([job("tight", hours=10, deadline_h=10, checkpoint_h=5.0)], regions=regions,
                    offers=offers, intensity={"Z-DIRTY": [300.0]})
    assert solve(tight, Objective.COST).assignments[0].purchase is Purchase.ON_DEMAND
    roomy = problem([job("roomy", hours=10, deadline_h=20, checkpoint_h=5.0)], regions=regions,
                    offers=offers, intensity={"Z-DIRTY": [300.0]})
    a = solve(roomy, Objective.COST).assignments[0]
    assert a.purchase is Purchase.SPOT and a.bucket_basis == "test"
    assert "95 % sure to meet the deadline" in a.reason


def test_horizon_start_must_be_utc_on_the_hour():
    p = problem([job("a")])
    india = timezone(timedelta(hours=5, minutes=30))
    with pytest.raises(ValueError, match="UTC"):
        dataclasses.replace(p, horizon_start=T0.astimezone(india))
    with pytest.raises(ValueError, match="on the hour"):
        dataclasses.replace(p, horizon_start=T0 + timedelta(minutes=30))


def test_run_now_queue_counts_late_jobs_as_misses_not_unplaced():
    regions = (region("dirty", "Z-DIRTY", {"A100-80GB": 1}),)
    jobs = [job(f"j{i:02d}", hours=1.01, deadline_h=60) for i in range(30)]
    p = problem(jobs, regions=regions, offers=offer("dirty", "A100-80GB", 3.0),
                intensity={"Z-DIRTY": [300.0]}, horizon_hours=24)
    run_now = solve(p).baselines["run_now"]
    assert run_now.unplaced == 0
    assert run_now.deadline_misses == 0  # 30 jobs x 2 slots fit the 60 h deadline


def test_an_unplaceable_workload_adds_nothing_to_the_objective():
    alone = solve(problem([job("a")]))
    with_impossible = solve(problem([job("a"), job("huge", gpus=64)]))
    assert with_impossible.solver.objective == pytest.approx(alone.solver.objective)
    assert [u.workload for u in with_impossible.unplaced] == ["huge"]


@pytest.fixture(scope="module")
def spot_plan():
    p = problem([job("s", gpus=2, hours=3, checkpoint_h=0.5), job("o", gpus=2, hours=2)])
    return p, solve(p, Objective.COST)


def _broken(result, name, **changes):
    assignments = tuple(dataclasses.replace(a, **changes) if a.workload == name else a
                        for a in result.assignments)
    return dataclasses.replace(result, assignments=assignments)


def test_checker_catches_spot_without_its_rework(spot_plan):
    p, result = spot_plan
    a = next(a for a in result.assignments if a.workload == "s")
    assert a.purchase is Purchase.SPOT
    short = _broken(result, "s", end=a.start + 3 * H)
    assert any("expected" in v for v in violations(short, p))


def test_checker_catches_inflated_embodied_and_wrong_instance(spot_plan):
    p, result = spot_plan
    a = next(a for a in result.assignments if a.workload == "o")
    assert any("embodied_kg" in v
               for v in violations(_broken(result, "o", embodied_kg=a.embodied_kg * 100), p))
    assert any("not a on-demand offer" in v
               for v in violations(_broken(result, "o", instance_type="nope"), p))


def test_checker_catches_a_placed_workload_reported_unplaced_and_a_bad_baseline(spot_plan):
    p, result = spot_plan
    from planner.domain import Totals, Unplaced
    twice = dataclasses.replace(result, unplaced=(Unplaced(workload="o", reason="x"),))
    assert any("also reported unplaced" in v for v in violations(twice, p))
    zeroed = dict(result.baselines)
    zeroed["run_now"] = dataclasses.replace(zeroed["run_now"], totals=Totals(
        cost_usd=0, energy_kwh=0, operational_kg=0, embodied_kg=0))
    assert any("baseline run_now" in v
               for v in violations(dataclasses.replace(result, baselines=zeroed), p))


def test_checker_catches_residency_and_spot_without_checkpoints(spot_plan):
    p, result = spot_plan
    other = "clean" if next(a for a in result.assignments if a.workload == "o").region == "dirty" \
        else "dirty"
    eu = dataclasses.replace(p, workloads=tuple(
        dataclasses.replace(w, allowed_regions=(other,), home_region=other) if w.name == "o" else w
        for w in p.workloads))
    assert any("region not allowed" in v for v in violations(result, eu))
    assert any("spot for a job without checkpoints" in v
               for v in violations(_broken(result, "o", purchase=Purchase.SPOT), p))


def test_problem_rejects_intensity_that_does_not_cover_the_lookahead():
    p = problem([job("a", hours=10)])
    short = {z: dataclasses.replace(s, g_per_kwh=s.g_per_kwh[:24]) for z, s in p.intensity.items()}
    with pytest.raises(ValueError, match="the plan needs"):
        PlanningProblem(fleet=p.fleet, workloads=p.workloads, horizon_start=p.horizon_start,
                        horizon_hours=24, intensity=short, catalog=p.catalog)
