"""Re-planning keeps announced decisions unless moving is worth the penalty."""

from __future__ import annotations

import dataclasses

from planner.check import violations
from planner.domain import Objective
from planner.solve import plan
from planner.stability import Announced, ChangeKind, changes, with_previous
from tests.planner.factory import T0, H, job, problem


def solve(p):
    return plan(p, objective=Objective.CARBON, time_limit_s=5, workers=1)


def test_replanning_the_same_inputs_changes_nothing():
    p = problem([job(f"j{i}", gpus=4, hours=3) for i in range(4)])
    first = solve(p)
    previous = tuple(Announced.of(a) for a in first.assignments)
    again_problem, started = with_previous(p, previous, move_penalty=50.0)
    again = solve(again_problem)
    assert {(a.workload, a.region, a.start) for a in again.assignments} == \
        {(a.workload, a.region, a.start) for a in first.assignments}
    assert {c.kind for c in changes(previous, again, started)} == {ChangeKind.UNCHANGED}


def test_a_small_gain_does_not_move_an_announced_job_but_a_big_one_does():
    p = problem([job("a", gpus=4, hours=3)])
    dirty = Announced(workload="a", region="dirty", cluster="dirty-c", accelerator="A100-80GB",
                      purchase="on-demand", start=T0 + 2 * H, end=T0 + 5 * H, gpus=4)
    sticky, _ = with_previous(p, (dirty,), move_penalty=1e6)
    assert solve(sticky).assignments[0].region == "dirty"
    loose, started = with_previous(p, (dirty,), move_penalty=0.1)
    moved = solve(loose)
    assert moved.assignments[0].region == "clean"
    (change,) = changes((dirty,), moved, started)
    assert change.kind is ChangeKind.MOVED and "dirty" in change.detail


def test_started_work_is_fixed_and_keeps_its_gpus():
    p = problem([job("running", gpus=8, hours=6), job("new", gpus=8, hours=2, deadline_h=4)],
                horizon_hours=24)
    later = dataclasses.replace(p, horizon_start=T0 + 2 * H, horizon_hours=20)
    running = Announced(workload="running", region="clean", cluster="clean-c",
                        accelerator="A100-80GB", purchase="on-demand", start=T0, end=T0 + 6 * H,
                        gpus=8)
    replan, started = with_previous(later, (running,), move_penalty=10.0)
    assert [w.name for w in replan.workloads] == ["new"]
    result = solve(replan)
    # the clean cluster is busy with 'running' until T0+6h, so 'new' (due T0+4h) goes dirty
    assert result.assignments[0].region == "dirty"
    assert violations(result, replan) == []
    assert next(c.kind for c in changes((running,), result, started)) is ChangeKind.STARTED
