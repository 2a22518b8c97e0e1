"""Serving workloads: replicas per hour under latency and availability SLOs."""

from __future__ import annotations

import dataclasses

import pytest

from planner.check import violations
from planner.domain import Objective, Purchase, WorkloadKind
from planner.serving import (
    ServingWorkload,
    UserLocation,
    estimated_rtt_ms,
    great_circle_km,
)
from planner.solve import plan
from tests.planner.factory import job, offer, problem, region

LONDON = UserLocation(name="london", latitude=51.51, longitude=-0.13)


def _regions(capacity: int = 8):
    # "dirty" sits in London, "clean" in Sydney: the latency SLO decides between them
    dirty = dataclasses.replace(region("dirty", "Z-DIRTY", {"A100-80GB": capacity}),
                                latitude=51.5, longitude=-0.1)
    clean = dataclasses.replace(region("clean", "Z-CLEAN", {"A100-80GB": capacity}),
                                latitude=-33.9, longitude=151.2)
    near = dataclasses.replace(region("near", "Z-CLEAN", {"A100-80GB": capacity}),
                               latitude=48.9, longitude=2.35)  # Paris
    return dirty, clean, near


def service(**kw) -> ServingWorkload:
    base = {"name": "chat", "team": "t", "home_region": "dirty", "model_memory_gb": 40.0,
            "throughput_rps": {"A100-80GB": 30.0}, "demand_rps": (100.0,)}
    base.update(kw)
    return ServingWorkload(**base)


def _problem(serving, jobs=(), capacity: int = 8, offers=None):
    p = problem(list(jobs), regions=_regions(capacity), horizon_hours=6, offers=offers or (
        offer("dirty", "A100-80GB", 3.0, 1.2) + offer("clean", "A100-80GB", 3.3, 1.4)
        + offer("near", "A100-80GB", 3.1, 1.3)))
    return dataclasses.replace(p, serving=tuple(serving))


def _replicas_by_hour(result, name="chat"):
    by_hour: dict[int, list] = {}
    for a in result.assignments:
        if a.workload == name:
            first = int((a.start - result.horizon_start).total_seconds() // 3600)
            for t in range(first, first + int(a.hours)):
                by_hour.setdefault(t, []).append(a)
    return by_hour


def test_great_circle_distance_london_paris():
    assert great_circle_km(51.5074, -0.1278, 48.8566, 2.3522) == pytest.approx(343.5, abs=2)
    # 5 ms base + 2 x 1.5 route factor x 343.5 km / 200 km/ms
    assert estimated_rtt_ms(343.5) == pytest.approx(5 + 3 * 343.5 / 200)


def test_replicas_cover_demand_every_hour_in_the_cleanest_allowed_region():
    p = _problem([service(demand_rps=(100.0, 40.0, 100.0))])
    result = plan(p, objective=Objective.CARBON, time_limit_s=10, workers=2)
    assert violations(result, p) == []
    by_hour = _replicas_by_hour(result)
    assert sorted(by_hour) == list(range(6))
    # ceil(100 / 30) = 4 replicas, ceil(40 / 30) = 2; the last value holds after hour 2
    assert [sum(a.replicas for a in by_hour[t]) for t in range(6)] == [4, 2, 4, 4, 4, 4]
    assert all(a.kind is WorkloadKind.SERVING for a in result.assignments)
    assert {a.region for a in result.assignments} <= {"clean", "near"}  # 50 g/kWh zones


def test_latency_slo_keeps_replicas_near_the_users():
    p = _problem([service(users=(LONDON,), latency_slo_ms=30.0)])
    result = plan(p, objective=Objective.CARBON, time_limit_s=10, workers=2)
    assert violations(result, p) == []
    assert {a.region for a in result.assignments} == {"near"}  # Sydney is ~250 ms away


def test_fleet_latency_table_overrides_the_estimate():
    p = _problem([service(users=(LONDON,), latency_slo_ms=30.0)])
    p = dataclasses.replace(p, fleet=dataclasses.replace(
        p.fleet, latency_ms={("near", "london"): 80.0, ("clean", "london"): 20.0}))
    result = plan(p, objective=Objective.CARBON, time_limit_s=10, workers=2)
    assert violations(result, p) == []
    assert {a.region for a in result.assignments} == {"clean"}


def test_no_region_within_the_slo_is_reported_with_the_nearest():
    far = UserLocation(name="honolulu", latitude=21.3, longitude=-157.9)
    p = _problem([service(users=(far,), latency_slo_ms=20.0)])
    result = plan(p, objective=Objective.COST, time_limit_s=5, workers=2)
    assert violations(result, p) == []
    (unplaced,) = result.unplaced
    assert unplaced.workload == "chat" and unplaced.reason.startswith("latency:")
    assert "honolulu" in unplaced.reason


def test_failover_spreads_over_two_regions_each_hour():
    p = _problem([service(failover_fraction=0.5)])
    result = plan(p, objective=Objective.COST, time_limit_s=10, workers=2)
    assert violations(result, p) == []
    for t, pieces in _replicas_by_hour(result).items():
        by_region: dict[str, float] = {}
        for a in pieces:
            by_region[a.region] = by_region.get(a.region, 0) + a.replicas * 30.0
        assert len(by_region) >= 2, t
        total = sum(by_region.values())
        assert all(total - rps >= 50.0 for rps in by_region.values()), (t, by_region)


def test_on_demand_floor_with_cheaper_spot():
    p = _problem([service(on_demand_floor=0.5)])
    result = plan(p, objective=Objective.COST, time_limit_s=10, workers=2)
    assert violations(result, p) == []
    for t, pieces in _replicas_by_hour(result).items():
        od = sum(a.replicas * 30.0 for a in pieces if a.purchase is Purchase.ON_DEMAND)
        spot = sum(a.replicas * 30.0 for a in pieces if a.purchase is Purchase.SPOT)
        assert od >= 50.0 and od + spot >= 100.0, t
        assert spot > 0, "spot is cheaper above the floor"


def test_short_capacity_is_reported_unplaced_not_overbooked():
    p = _problem([service(demand_rps=(1000.0,))], capacity=2)
    result = plan(p, objective=Objective.COST, time_limit_s=5, workers=2)
    assert violations(result, p) == []
    (unplaced,) = result.unplaced
    assert unplaced.reason.startswith("capacity:")
    assert all(a.gpus <= 2 for a in result.assignments)


def test_training_fits_around_serving_in_shared_capacity():
    # one region only (residency): serving holds 4 of 8 GPUs in every hour
    svc = service(allowed_regions=("dirty",))
    big = job("big", gpus=6, hours=2, deadline_h=6, allowed=("dirty",))
    small = job("small", gpus=4, hours=2, deadline_h=6, allowed=("dirty",))
    p = _problem([svc], jobs=[big, small])
    result = plan(p, objective=Objective.COST, time_limit_s=10, workers=2)
    assert violations(result, p) == []
    assert {u.workload for u in result.unplaced} == {"big"}
    assert any(a.workload == "small" for a in result.assignments)


def test_baselines_include_serving_on_demand_in_the_home_region():
    p = _problem([service()])
    result = plan(p, objective=Objective.COST, time_limit_s=5, workers=2)
    run_now = result.baselines["run_now"]
    assert {a.region for a in run_now.assignments} == {"dirty"}
    assert all(a.purchase is Purchase.ON_DEMAND for a in run_now.assignments)
    # 4 replicas x 6 h x 3.0 USD per GPU-hour
    assert run_now.totals.cost_usd == pytest.approx(72.0)
    assert result.totals.cost_usd <= run_now.totals.cost_usd + 1e-9


def test_a_replan_keeps_serving_where_it_was_announced():
    from planner.stability import Announced, ChangeKind
    # two equally good regions: whichever the first plan picks, the re-plan keeps it
    offers = (offer("clean", "A100-80GB", 3.0, 1.2) + offer("near", "A100-80GB", 3.0, 1.2)
              + offer("dirty", "A100-80GB", 3.0, 1.2))
    p = _problem([service(allowed_regions=("clean", "near", "dirty"), on_demand_floor=1.0)],
                 offers=offers)
    first = plan(p, objective=Objective.COST, time_limit_s=5, workers=2)
    previous = tuple(Announced(workload=a.workload, region=a.region, cluster=a.cluster,
                               accelerator=a.accelerator, purchase=a.purchase, start=a.start,
                               end=a.end, gpus=a.gpus) for a in first.assignments)
    again = plan(p, objective=Objective.COST, time_limit_s=5, workers=2, previous=previous)
    assert violations(again, p) == []
    assert {c.kind for c in again.changes} == {ChangeKind.UNCHANGED}
    assert ({a.region for a in again.assignments} == {a.region for a in first.assignments})


def test_pareto_caps_hold_for_the_whole_plan_with_serving():
    from planner.limits import Limit, LimitKind
    from planner.pareto import pareto_front
    jobs = [job(f"j{i}", gpus=2, hours=3, deadline_h=6, checkpoint_h=1) for i in range(3)]
    p = _problem([service()], jobs=jobs)
    front = pareto_front(p, points=3, time_limit_s=4, workers=1)
    capped = [point for point in front if point.emissions_cap_kg is not None]
    assert capped
    for point in capped:
        limit = Limit(kind=LimitKind.KG_CO2E, cap=point.emissions_cap_kg)
        assert violations(point.plan, dataclasses.replace(p, limits=(limit,))) == []
        assert point.plan.totals.emissions_kg <= point.emissions_cap_kg * (1 + 1e-6)


def test_the_closed_form_serving_bound_is_the_lp_and_below_the_plan():
    from planner import serving_model
    from planner.objective import weights
    from planner.options import intensity_arrays
    from planner.serving import build_serving_options
    p = _problem([service(allowed_regions=("dirty",))])
    w = weights(Objective.COST, 0.0)
    (so,) = build_serving_options(p.serving, p.fleet, p.catalog, p.horizon_hours,
                                  intensity_arrays(p))
    # on-demand only (floor 1): 100 rps x (3.0 USD + 0.001 x kg per replica-hour) / 30 rps, 6 h
    o = so.options[0]
    per_hour = (3.0 + 0.001 * (o.operational_kg + o.embodied_kg_per_hour)) / 30.0 * 100.0
    assert serving_model.lp_bound((so,), w) == pytest.approx(float(per_hour.sum()))
    result = plan(p, objective=Objective.COST, time_limit_s=5, workers=2)
    assert 0 < result.solver.bound <= result.solver.objective + 1e-6
