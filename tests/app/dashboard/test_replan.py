"""Re-solving a stored plan needs its inputs as they were; the CSV says units and method."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest

from app.dashboard import queries, replan, report
from app.problem_io import EXAMPLES, load_problem
from app.store import Store


@pytest.fixture
def demo(demo_url):
    store = Store(demo_url)
    yield store, store.load_plan()
    store.close()


def test_the_demo_is_re_solvable_from_exactly_its_stored_workloads(demo):
    store, stored = demo
    inputs = replan.inputs_of(stored, queries.workload_specs(store, stored.id))
    assert inputs.demo and inputs.problem is not None, inputs.reason
    assert inputs.problem.horizon_start == stored.plan.horizon_start
    assert {w.name for w in inputs.problem.workloads} == set(
        queries.workload_specs(store, stored.id))


def test_a_plan_whose_workloads_file_changed_is_not_re_solved(demo, tmp_path):
    _, stored = demo
    wl, fleet = tmp_path / "w.yaml", tmp_path / "f.yaml"
    shutil.copy(EXAMPLES / "workloads.yaml", wl)
    shutil.copy(EXAMPLES / "fleet.yaml", fleet)
    problem = load_problem(wl, fleet, horizon_hours=48, start=stored.plan.horizon_start)
    other = Store(f"sqlite:///{tmp_path / 'g.db'}")
    plan_id = other.save_plan(stored.plan, workloads=problem.workloads, provenance={
        "input:workloads": str(wl), "input:fleet": str(fleet)}).plan_id
    saved = other.load_plan(plan_id)
    specs = queries.workload_specs(other, plan_id)
    assert replan.inputs_of(saved, specs).problem is not None
    wl.write_text(wl.read_text().replace("duration: 20h", "duration: 21h"))
    changed = replan.inputs_of(saved, specs)
    assert changed.problem is None and changed.fleet is not None
    assert "changed since the plan was stored" in changed.reason
    fleet.unlink()
    assert "not readable" in replan.inputs_of(saved, specs).reason
    other.close()


def test_slack_moves_every_deadline_and_nothing_else(demo):
    _, stored = demo
    problem = replan.inputs_of(stored, {}).problem
    later = replan.with_slack(problem, 8)
    for a, b in zip(problem.workloads, later.workloads, strict=True):
        assert b.deadline - a.deadline == timedelta(hours=8)
        assert (a.name, a.earliest_start, a.duration_h) == (b.name, b.earliest_start, b.duration_h)
    assert replan.with_slack(problem, 0) is problem


def test_changes_name_the_workloads_that_moved():
    a = {"workload": "x", "region": "r1", "accelerator": "H100", "purchase": "spot",
         "start": "2026-11-23T00:00Z"}
    before = {"assignments": [a, {**a, "workload": "y"}], "totals": {"cost_usd": 10,
                                                                      "emissions_kg": 5}}
    after = {"assignments": [{**a, "region": "r2"}, {**a, "workload": "y"}],
             "totals": {"cost_usd": 8, "emissions_kg": 6}, "unplaced": []}
    assert replan.changes(before, after) == {"cost_usd": -2, "emissions_kg": 1, "moved": ["x"],
                                             "newly_unplaced": [], "unplaced": []}


def test_a_point_beaten_on_both_axes_is_flagged_dominated():
    rows = [{"cost_usd": 10, "emissions_kg": 5}, {"cost_usd": 12, "emissions_kg": 6},
            {"cost_usd": 8, "emissions_kg": 9}]
    assert replan.dominated(rows) == [False, True, False]


def test_the_csv_header_states_units_and_methods_and_rows_add_up(demo):
    _, stored = demo
    frame = queries.assignments(stored)
    text = report.footprint_csv(stored, frame, by_workload=False)
    header = [line for line in text.splitlines() if line.startswith("#")]
    body = [line for line in text.splitlines() if not line.startswith("#")]
    joined = " ".join(header)
    for must in ("kilowatt-hours", "kilograms of CO2", "US dollars", "location-based method",
                 "market-based method", "GHG Protocol Scope 2", "never added",
                 "energy model", "PUE", "carbon intensity data", stored.id):
        assert must in joined, must
    assert body[0] == ("team,energy_kwh,location_based_kg_co2e,market_based_kg_co2e,"
                       "embodied_kg_co2e,cost_usd,gpu_hours")
    location = sum(float(row.split(",")[2]) for row in body[1:])
    assert location == pytest.approx(stored.plan.totals.operational_kg, abs=0.001 * len(body))
    by_workload = report.footprint_csv(stored, frame, by_workload=True)
    assert len([x for x in by_workload.splitlines() if not x.startswith("#")]) == 1 + len(
        frame.groupby(["team", "workload"]))
