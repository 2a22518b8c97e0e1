"""A cluster may cap its spot GPUs separately from its capacity."""

from __future__ import annotations

import dataclasses

from planner.check import violations
from planner.domain import Cluster, Objective, Purchase
from planner.solve import plan
from tests.planner.factory import job, offer, problem, region


def _problem(jobs, spot_cap: int | None):
    r = region("dirty", "Z-DIRTY", {"A100-80GB": 8})
    caps = {} if spot_cap is None else {"A100-80GB": spot_cap}
    r = dataclasses.replace(r, clusters=(Cluster(name=r.clusters[0].name, region="dirty",
                                                 capacity_gpus={"A100-80GB": 8},
                                                 spot_capacity_gpus=caps),))
    return problem(jobs, regions=(r,), horizon_hours=12,
                   offers=offer("dirty", "A100-80GB", 3.0, 0.9), intensity={"Z-DIRTY": [300.0]})


def _spot_gpus_by_hour(result) -> dict[int, int]:
    by_hour: dict[int, int] = {}
    for a in result.assignments:
        if a.purchase is Purchase.SPOT:
            first = int((a.start - result.horizon_start).total_seconds() // 3600)
            last = int(-(-(a.end - result.horizon_start).total_seconds() // 3600))
            for t in range(first, last):
                by_hour[t] = by_hour.get(t, 0) + a.gpus
    return by_hour


JOBS = [job(f"j{i}", gpus=2, hours=2, deadline_h=5, checkpoint_h=0.5) for i in range(4)]


def test_without_a_cap_every_checkpointing_job_goes_to_spot_at_once():
    p = _problem(JOBS, None)
    result = plan(p, objective=Objective.COST, time_limit_s=5, workers=2)
    assert violations(result, p) == []
    assert all(a.purchase is Purchase.SPOT for a in result.assignments)
    assert max(_spot_gpus_by_hour(result).values()) == 8


def test_a_spot_cap_bounds_spot_gpus_in_every_hour():
    p = _problem(JOBS, 4)
    result = plan(p, objective=Objective.COST, time_limit_s=5, workers=2)
    assert violations(result, p) == []
    assert not result.unplaced
    assert max(_spot_gpus_by_hour(result).values()) <= 4
    assert any(a.purchase is Purchase.SPOT for a in result.assignments)


def test_a_zero_spot_cap_means_on_demand_only():
    p = _problem(JOBS, 0)
    result = plan(p, objective=Objective.COST, time_limit_s=5, workers=2)
    assert violations(result, p) == []
    assert all(a.purchase is Purchase.ON_DEMAND for a in result.assignments)
