"""The store on SQLite and on a real PostgreSQL cluster started for this test session.

PostgreSQL: the session's throw-away cluster and the ``db_url`` fixture (one
database per test, SQLite and PostgreSQL) live in tests/app/conftest.py, so one
server serves every module under tests/app. Without the binaries the
PostgreSQL cases skip (a failure in CI).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from app.store import Store, StoreError, store_plan
from app.store import schema as t
from app.store.footprint import MeasuredRow, from_measurement
from planner.domain import (
    Assignment,
    Objective,
    Plan,
    SolverReport,
    SolverStatus,
    Totals,
    Unplaced,
    WorkloadKind,
)
from pricing.catalog import Purchase
from tests.app.conftest import free_port

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 23, tzinfo=UTC)
H = timedelta(hours=1)


def assignment(i: int, *, team: str = "nlp", region: str = "aws-us-east-1",
               cluster: str = "use1-gpu", start_h: int = 0, partition: str = "whole") -> Assignment:
    return Assignment(
        workload=f"w{i:05d}", kind=WorkloadKind.TRAINING, team=team, region=region,
        cluster=cluster, accelerator="H100", partition=partition,
        purchase=Purchase.SPOT if i % 2 else Purchase.ON_DEMAND, instance_type="p5.48xlarge",
        start=T0 + start_h * H, end=T0 + (start_h + 2) * H, gpus=1 + i % 8, replicas=1,
        cost_usd=10.0 + i, energy_kwh=2.0, operational_kg=0.5, embodied_kg=0.05,
        reason=f"reason {i}", interruption_bucket="5-10%" if i % 2 else None)


def synthetic_plan(n: int, *, created_at: datetime = T0, tag: str = "",
                   assignments: tuple[Assignment, ...] | None = None) -> Plan:
    rows = assignments if assignments is not None else tuple(
        assignment(i, team=("nlp", "vision", "speech")[i % 3], start_h=i % 40) for i in range(n))
    return Plan(
        created_at=created_at, horizon_start=T0, horizon_hours=48, objective=Objective.BALANCED,
        carbon_price_usd_per_t=190.0, assignments=rows,
        unplaced=(Unplaced(workload=f"late{tag}", reason="capacity: full"),),
        totals=Totals.of(rows), baselines={},
        solver=SolverReport(status=SolverStatus.FEASIBLE, objective=1.0, bound=0.9, gap=0.1,
                            wall_s=1.0, num_variables=10, num_constraints=5, workers=1,
                            time_limit_s=10.0),
        provenance={"catalog": f"bundled:abc{tag}",
                    "carbon:FR": "electricitymaps live [actual, fetched 2026-11-22T23:05Z]"})


# ---- behaviour ----------------------------------------------------------------------

def test_a_saved_plan_reads_back_whole_with_its_provenance(db_url):
    store = Store(db_url)
    plan = synthetic_plan(30)
    saved = store.save_plan(plan, provenance={"input:workloads": "w.yaml"})
    assert saved.created
    stored = store.load_plan()
    assert stored.id == saved.plan_id
    assert stored.plan.assignments == plan.assignments  # every field, tz-aware times included
    assert stored.plan.unplaced == plan.unplaced
    assert stored.summary.totals.cost_usd == pytest.approx(plan.totals.cost_usd)
    kinds = {p["key"]: (p["kind"], p["fetched_at"]) for p in stored.provenance}
    assert kinds["catalog"] == ("price", None)
    assert kinds["carbon:FR"] == ("carbon", "2026-11-22T23:05:00Z")
    assert kinds["input:workloads"] == ("input", None)
    assert stored.plan_json["totals"]["cost_usd"] == round(plan.totals.cost_usd, 2)
    store.close()


def test_the_same_plan_is_stored_once_and_a_new_one_becomes_latest(db_url):
    store = Store(db_url)
    first = store.save_plan(synthetic_plan(5), inputs_digest="abc")
    again = store.save_plan(synthetic_plan(5, created_at=T0 + H), inputs_digest="abc")
    assert (again.plan_id, again.created) == (first.plan_id, False)
    other = store.save_plan(synthetic_plan(6), inputs_digest="abc")
    assert other.created and store.latest_plan_id() == other.plan_id
    assert [s.id for s in store.list_plans()] == [other.plan_id, first.plan_id]
    store.close()


def test_an_unknown_plan_id_is_an_error_that_says_how_to_find_one(db_url):
    store = Store(db_url)
    with pytest.raises(StoreError, match="GET /v1/plans"):
        store.load_plan("nope")
    assert store.load_plan() is None
    store.close()


def test_arrivals_are_kept_apart_from_the_solver_plan_and_recorded_once(db_url):
    store = Store(db_url)
    plan_id = store.save_plan(synthetic_plan(3)).plan_id
    arrival = assignment(99, team="research")
    assert store.record_admission(plan_id, arrival, object_ref="Job/ml/x@uid1")
    assert not store.record_admission(plan_id, arrival, object_ref="Job/ml/x@uid1")
    stored = store.load_plan()
    assert stored.admissions == (arrival,)
    assert len(stored.plan.assignments) == 3
    assert store.change_token()[1] > 0
    store.close()


def test_footprint_keeps_planned_and_measured_apart(db_url):
    store = Store(db_url)
    store.save_plan(synthetic_plan(6))
    store.add_measurements([
        MeasuredRow(region="aws-us-east-1", started_at=T0, ended_at=T0 + H, energy_kwh=3.0,
                    kg_co2e=1.2, source="codecarbon 2.8", team="nlp", workload="w00000"),
        MeasuredRow(region="gcp-europe-west2", started_at=T0 + H, ended_at=T0 + 2 * H,
                    energy_kwh=1.0, kg_co2e=0.1, source="codecarbon 2.8"),
    ])
    fp = store.footprint()
    assert fp["planned"]["total"]["kg_co2e"] == pytest.approx(6 * 0.55)
    assert {r["team"] for r in fp["planned"]["by_team"]} == {"nlp", "vision", "speech"}
    assert fp["measured"]["total"] == {"energy_kwh": 4.0, "kg_co2e": 1.3}
    assert {r["team"] for r in fp["measured"]["by_team"]} == {"nlp", "unknown"}
    later = store.footprint(since=T0 + H + timedelta(minutes=1))
    assert later["measured"]["readings"] == 1
    store.close()


def test_codecarbon_measurements_from_carbon_are_stored_as_measured(db_url):
    from carbon.measured import Measurement
    from carbon.units import Emissions, Energy

    m = Measurement(run_id="r1", started_at=T0, duration_s=3600, energy=Energy(4.0),
                    emissions=Emissions(kg_co2e=1.5), source="codecarbon 2.8.0 emissions.csv",
                    project="llama-ft", region="us-east-1")
    store = Store(db_url)
    store.add_measurements([from_measurement(m, team="nlp")])
    (row,) = store.measurements()
    assert (row.region, row.workload, row.team, row.run_id) == ("us-east-1", "llama-ft", "nlp", "r1")
    assert (row.ended_at - row.started_at, row.energy_kwh, row.kg_co2e) == (H, 4.0, 1.5)
    assert row.kind == "measured"
    store.close()


def test_a_measurement_with_a_naive_time_is_refused():
    with pytest.raises(ValueError, match="tz-aware"):
        MeasuredRow(region="r", started_at=datetime(2026, 1, 1), ended_at=T0, energy_kwh=1,
                    kg_co2e=1, source="x")


def test_a_measurement_with_no_utc_time_is_refused_not_a_database_error():
    # found by schemathesis against POST /v1/measurements: 0001-01-01T00:00+00:01 is
    # before year 1 in UTC and overflowed in the database layer (a 500)
    odd = datetime(1, 1, 1, tzinfo=timezone(timedelta(minutes=1)))
    with pytest.raises(ValueError, match="outside 1970..2200 UTC"):
        MeasuredRow(region="r", started_at=odd, ended_at=T0, energy_kwh=0, kg_co2e=0,
                    source="x")


def test_store_plan_is_what_the_cli_calls(db_url):
    plan_id = store_plan(db_url, synthetic_plan(2), {"input:workloads": "w.yaml"})
    assert Store(db_url).latest_plan_id() == plan_id


def test_a_bad_url_says_what_a_good_one_looks_like(tmp_path):
    with pytest.raises(StoreError, match="postgresql\\+psycopg://"):
        Store("nosuchdialect://x/y")


def test_an_unreachable_server_is_a_store_error_not_a_traceback():
    port = free_port()  # nothing listens there
    with pytest.raises(StoreError, match="cannot open or upgrade"):
        Store(f"postgresql+psycopg://postgres@127.0.0.1:{port}/x?connect_timeout=2")


def test_an_older_schema_is_upgraded_in_place_keeping_its_plans(db_url):
    old = Store(db_url, upgrade=False)
    old.upgrade("0001")
    assert old.schema_revision() == "0001"
    with old.engine.begin() as conn:  # a plan as revision 0001 stored it
        conn.execute(text(
            "INSERT INTO gridshift_plans (id, seq, created_at, stored_at, horizon_start, "
            "horizon_hours, objective, carbon_price_usd_per_t, solver_status, cost_usd, "
            "energy_kwh, operational_kg, embodied_kg, content_digest, plan_json) VALUES "
            "('old1', 1, :t, :t, :t, 48, 'cost', 190, 'OPTIMAL', 12, 3, 1, 0.1, 'd', "
            "'{\"solver\": {}}')"), {"t": T0.replace(tzinfo=None)})
        conn.execute(text(
            "INSERT INTO gridshift_assignments (plan_id, workload, kind, team, region, cluster, "
            "accelerator, partition, purchase, start, \"end\", gpus, replicas, cost_usd, "
            "energy_kwh, operational_kg, embodied_kg, reason) VALUES ('old1', 'legacy', "
            "'training', 'nlp', 'aws-us-east-1', 'use1-gpu', 'H100', 'whole', 'spot', :t, :e, "
            "8, 1, 12, 3, 1, 0.1, 'kept')"), {"t": T0.replace(tzinfo=None),
                                              "e": (T0 + H).replace(tzinfo=None)})
    old.close()
    store = Store(db_url)
    assert store.schema_revision() == "0003"
    stored = store.load_plan()
    assert stored.id == "old1" and [a.workload for a in stored.plan.assignments] == ["legacy"]
    assert stored.admissions == ()
    assert store.add_measurements([MeasuredRow(region="r", started_at=T0, ended_at=T0,
                                               energy_kwh=0, kg_co2e=0, source="s")]) == 1
    store.close()


_WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from sqlalchemy import event
    from app.store import Store
    from tests.app.test_store import synthetic_plan

    url, marker = sys.argv[1], Path(sys.argv[2])
    store = Store(url)

    @event.listens_for(store.engine, "after_cursor_execute")
    def hold(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO GRIDSHIFT_ASSIGNMENTS"):
            marker.write_text("inside the transaction")
            time.sleep(120)  # killed here, with the plan row and assignments written

    store.save_plan(synthetic_plan(500, tag="-new"))
""")


def test_a_writer_killed_mid_transaction_leaves_the_previous_plan_intact(db_url, tmp_path):
    store = Store(db_url)
    previous = store.save_plan(synthetic_plan(200)).plan_id
    marker = tmp_path / "inside"
    writer = subprocess.Popen([sys.executable, "-c", _WRITER, db_url, str(marker)], cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert writer.poll() is None, writer.communicate()[1].decode()[-2000:]
            assert time.monotonic() < deadline, "the writer never reached its transaction"
            time.sleep(0.05)
        os.kill(writer.pid, signal.SIGKILL)
    finally:
        writer.kill()
        writer.wait(timeout=30)
    assert writer.returncode == -signal.SIGKILL
    store.close()
    reopened = Store(db_url)
    stored = reopened.load_plan()
    assert stored.id == previous and len(stored.plan.assignments) == 200
    with reopened.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.plans)).scalar() == 1
        assert conn.execute(select(func.count()).select_from(t.assignments)).scalar() == 200
        assert conn.execute(select(func.count()).select_from(t.provenance)
                            .where(t.provenance.c.value == "bundled:abc-new")).scalar() == 0
    reopened.close()
