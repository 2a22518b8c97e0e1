"""MIG layout planning: partition GPUs for serving replicas on MIG profiles."""

from __future__ import annotations

import dataclasses

import pytest

from planner.check import violations
from planner.domain import Cluster, Objective, WorkloadKind
from planner.serving import ServingWorkload
from planner.solve import plan
from pricing.mig import fits
from tests.planner.factory import offer, problem, region

SEVEN_SMALL = ("1g.10gb",) * 7


def small_model(**kw) -> ServingWorkload:
    # an 8 GB model: a 1g.10gb instance serves 5 rps, a whole A100 25 rps; seven
    # instances on one GPU serve 35 rps, so MIG needs fewer GPUs for the same demand
    base = {"name": "embed", "team": "t", "home_region": "dirty", "model_memory_gb": 8.0,
            "throughput_rps": {"A100-80GB": 25.0, "A100-80GB:1g.10gb": 5.0},
            "demand_rps": (60.0,)}
    base.update(kw)
    return ServingWorkload(**base)


def _problem(serving, current=None, capacity: int = 8):
    r = region("dirty", "Z-DIRTY", {"A100-80GB": capacity})
    if current:
        r = dataclasses.replace(r, clusters=(Cluster(
            name=r.clusters[0].name, region="dirty", capacity_gpus={"A100-80GB": capacity},
            mig_layouts={"A100-80GB": current}),))
    p = problem([], regions=(r,), horizon_hours=6, offers=offer("dirty", "A100-80GB", 3.0),
                intensity={"Z-DIRTY": [300.0]})
    return dataclasses.replace(p, serving=tuple(serving))


def test_small_replicas_are_packed_into_mig_layouts():
    p = _problem([small_model()])
    result = plan(p, objective=Objective.COST, time_limit_s=10, workers=2)
    assert violations(result, p) == []
    assert result.mig_layouts, "MIG is cheaper per request here"
    for lay in result.mig_layouts:
        assert fits(lay.accelerator, lay.profiles) is not None
    # 60 rps on whole GPUs needs 3 (75 rps); with seven 1g.10gb per GPU (35 rps), 2 GPUs
    mig_gpus = sum(lay.gpus for lay in result.mig_layouts)
    whole = max(sum(a.gpus for a in result.assignments if a.partition == "whole"
                    and a.kind is WorkloadKind.SERVING and a.start.hour == t) for t in range(6))
    assert mig_gpus + whole == 2
    mig = [a for a in result.assignments if a.partition == "1g.10gb"]
    assert mig and all(a.gpus == 0 and a.replicas <= 7 * mig_gpus for a in mig)


def test_replicas_and_headroom_pay_exactly_the_partitioned_gpus():
    p = _problem([small_model()])
    result = plan(p, objective=Objective.COST, time_limit_s=10, workers=2)
    assert violations(result, p) == []
    headroom = [a for a in result.assignments if a.kind is WorkloadKind.MIG_HEADROOM]
    mig_gpus = sum(lay.gpus for lay in result.mig_layouts)
    assert len(headroom) == 1 and headroom[0].gpus == mig_gpus
    on_mig = sum(a.cost_usd for a in result.assignments
                 if a.partition != "whole" or a.kind is WorkloadKind.MIG_HEADROOM)
    # partitioned GPUs x 6 h x 3.0 USD, plus 0.5 h of drain for each newly partitioned GPU
    assert on_mig == pytest.approx(mig_gpus * 6 * 3.0 + mig_gpus * 0.5 * 3.0)
    paid = sum(a.cost_usd for a in result.assignments)
    assert result.totals.cost_usd == pytest.approx(paid)


def test_a_current_layout_is_kept_rather_than_drained():
    p = _problem([small_model()], current={SEVEN_SMALL: 2})
    result = plan(p, objective=Objective.COST, time_limit_s=10, workers=2)
    assert violations(result, p) == []
    # two GPUs already run seven 1g.10gb each: 70 rps with no drain, cheaper than any change
    kept = [lay for lay in result.mig_layouts if lay.profiles == SEVEN_SMALL]
    assert kept and kept[0].gpus == 2 and kept[0].repartitioned_gpus == 0
    assert result.totals.cost_usd == pytest.approx(2 * 6 * 3.0)


def test_mig_gpus_are_taken_from_the_capacity_whole_gpu_work_sees():
    # 3 GPUs: whole-GPU replicas would need 3, MIG needs 2 and leaves one
    p = _problem([small_model()], capacity=3)
    result = plan(p, objective=Objective.COST, time_limit_s=10, workers=2)
    assert violations(result, p) == []
    assert not result.unplaced


def test_a_profile_too_small_for_the_model_is_not_offered():
    p = _problem([small_model(model_memory_gb=12.0)])
    result = plan(p, objective=Objective.COST, time_limit_s=5, workers=2)
    assert violations(result, p) == []
    assert not result.mig_layouts
    assert {a.partition for a in result.assignments} == {"whole"}
