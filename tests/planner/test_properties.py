"""Invariants on random small instances: every plan passes the independent
checker, totals add up, and every workload is placed or named as unplaced."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.check import violations
from planner.domain import Objective, Totals
from planner.objective import weights
from planner.solve import plan
from tests.planner.factory import job, offer, problem, region

ACCELERATORS = {"A100-80GB": 1.0, "H100": 2.0}


@st.composite
def instances(draw):
    n_regions = draw(st.integers(1, 3))
    zones = [f"Z{i}" for i in range(n_regions)]
    regions, offers, intensity = [], [], {}
    for i, zone in enumerate(zones):
        cap = {a: draw(st.sampled_from([0, 4, 8, 16])) for a in ACCELERATORS}
        regions.append(region(f"r{i}", zone, cap))
        for a in ACCELERATORS:
            price = draw(st.floats(1.0, 6.0))
            spot = draw(st.one_of(st.none(), st.floats(0.3, 0.9)))
            offers += offer(f"r{i}", a, price, None if spot is None else price * spot)
        intensity[zone] = draw(st.lists(st.floats(10.0, 900.0), min_size=24, max_size=24))
    jobs = []
    for k in range(draw(st.integers(1, 8))):
        release = draw(st.integers(-3, 10))  # released before the horizon: starts at 0
        hours = draw(st.floats(0.5, 6.0))
        slack = draw(st.integers(0, 12))
        deadline = release + int(hours) + 1 + slack  # may lie past the 24 h horizon
        if release + hours > deadline:
            continue
        accels = draw(st.sampled_from([{"A100-80GB": 1.0}, {"H100": 2.0}, ACCELERATORS]))
        jobs.append(job(
            f"j{k}", gpus=draw(st.sampled_from([1, 2, 4, 8])), hours=hours, release_h=release,
            deadline_h=deadline, home=f"r{draw(st.integers(0, n_regions - 1))}",
            accelerators=accels, gang=draw(st.booleans()),
            checkpoint_h=draw(st.one_of(st.none(), st.sampled_from([0.25, 0.5, 1.0]))),
        ))
    objective = draw(st.sampled_from(list(Objective)))
    return problem(jobs, regions=regions, offers=offers, intensity=intensity), objective


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_every_plan_passes_the_checker_and_adds_up(instance):
    p, objective = instance
    result = plan(p, objective=objective, time_limit_s=5, workers=1)
    assert violations(result, p) == []
    totals = Totals.of(result.assignments)
    assert result.totals.cost_usd == pytest.approx(totals.cost_usd)
    assert result.totals.energy_kwh == pytest.approx(totals.energy_kwh)
    assert result.totals.emissions_kg == pytest.approx(totals.emissions_kg)
    placed = {a.workload for a in result.assignments} | {u.workload for u in result.unplaced}
    assert placed == {w.name for w in p.workloads}
    for a in result.assignments:
        w = next(w for w in p.workloads if w.name == a.workload)
        assert w.earliest_start <= a.start and a.end <= w.deadline


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_plan_is_no_worse_than_the_capacity_aware_greedy_baselines(instance):
    p, objective = instance
    result = plan(p, objective=objective, time_limit_s=5, workers=1)
    w = weights(objective, result.carbon_price_usd_per_t)

    def score(totals):
        return w.score(cost_usd=totals.cost_usd, emissions_kg=totals.emissions_kg)

    for name in ("cost_greedy", "carbon_greedy"):
        baseline = result.baselines[name]
        assert baseline.deadline_misses == 0
        if baseline.unplaced == 0:  # a complete valid plan: the optimiser must match or beat it
            assert result.unplaced == ()
            assert score(result.totals) <= score(baseline.totals) * (1 + 1e-6) + 1e-3, name
