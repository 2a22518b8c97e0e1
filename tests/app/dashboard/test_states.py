"""The stores people actually point the dashboard at: empty, one plan made elsewhere,
measured readings only, $GRIDSHIFT_DB without plans. Each shows a helpful state."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.dashboard import env, queries, replan
from app.store import Store
from app.store.footprint import MeasuredRow
from tests.app.conftest import fresh_database
from tests.app.dashboard.conftest import PAGES, no_exception, run_page, workloads_of
from tests.app.test_store import T0, synthetic_plan


@pytest.fixture
def empty_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    Store(url).close()
    return url


@pytest.fixture
def one_plan(tmp_path):
    """A plan posted from elsewhere: live intensity for FR, no input paths, no fleet here."""
    url = f"sqlite:///{tmp_path / 'one.db'}"
    store = Store(url)
    plan = synthetic_plan(12)
    store.save_plan(plan, provenance={"input:source": "POST /v1/plans"})
    store.close()
    return url, plan


@pytest.fixture
def measured_only(tmp_path):
    url = f"sqlite:///{tmp_path / 'measured.db'}"
    store = Store(url)
    rows = [MeasuredRow(region="aws:us-east-1", started_at=T0 + i * timedelta(hours=2),
                        ended_at=T0 + (2 * i + 1) * timedelta(hours=1), energy_kwh=1.5 + i,
                        kg_co2e=0.4 + 0.1 * i, source="codecarbon 3.0 (offline)",
                        workload=f"ft-{i}", team=("nlp", "vision")[i % 2]) for i in range(4)]
    store.add_measurements(rows)
    store.close()
    return url, rows


@pytest.mark.parametrize("page", list(PAGES))
def test_an_empty_store_says_how_to_get_a_plan_on_every_page(page, empty_url, dashboard_env):
    dashboard_env(**{env.DB: empty_url})
    at = run_page(page)
    no_exception(at)
    assert any("holds no plans yet" in i.value for i in at.info)
    assert any("gridshift plan" in i.value for i in at.info)


@pytest.mark.parametrize("page", list(PAGES))
def test_a_store_with_one_foreign_plan_renders_every_page(page, one_plan, dashboard_env):
    url, _ = one_plan
    dashboard_env(**{env.DB: url})
    at = run_page(page)
    no_exception(at)
    assert at.title[0].value == PAGES[page]


def test_a_plan_without_its_inputs_says_it_cannot_be_re_solved(one_plan, dashboard_env):
    url, _ = one_plan
    dashboard_env(**{env.DB: url})
    at = run_page("tradeoffs")
    (warning,) = at.warning
    assert "cannot be re-solved" in warning.value and "POST /v1/plans" in warning.value
    assert not at.slider  # nothing to move when nothing can be re-solved


def test_one_plan_totals_and_its_live_carbon_source_are_shown_as_recorded(one_plan,
                                                                          dashboard_env):
    url, plan = one_plan
    dashboard_env(**{env.DB: url})
    at = run_page("overview")
    values = {m.label: m.value for m in at.metric}
    assert values["Cost"] == f"${plan.totals.cost_usd:,.0f}"
    assert any("could not be placed" in w.value for w in at.warning)  # its one unplaced job
    at = run_page("carbon")
    captions = " ".join(c.value for c in at.caption)
    assert "FR: the plan used 'electricitymaps live" in captions


def test_measured_readings_alone_are_shown_apart_with_no_plan(measured_only, dashboard_env):
    url, rows = measured_only
    dashboard_env(**{env.DB: url})
    at = run_page("overview")
    no_exception(at)
    values = {m.label: m.value for m in at.metric}
    assert values["Measured energy"] == f"{sum(r.energy_kwh for r in rows):,.1f} kWh"
    assert values["Measured CO2e"] == f"{sum(r.kg_co2e for r in rows):,.1f} kg"
    assert "Cost" not in values  # no plan: nothing planned is invented
    assert any("No plan is stored yet" in i.value for i in at.info)
    at = run_page("teams")
    no_exception(at)
    table = at.dataframe[0].value
    assert set(table["team"]) == {"nlp", "vision"}
    assert table["kg_co2e"].sum() == pytest.approx(sum(r.kg_co2e for r in rows))


def test_gridshift_db_without_plans_falls_back_to_the_demo_and_says_so(empty_url, demo_url,
                                                                       dashboard_env):
    dashboard_env(GRIDSHIFT_DB=empty_url)
    at = run_page("overview")
    no_exception(at)
    captions = [c.value for c in at.sidebar.caption]
    assert "Store: demo" in captions[0]
    assert any("holds no plans yet" in c for c in captions)


@pytest.mark.real_component
def test_a_postgresql_store_shows_like_sqlite(pg_port, demo_url, dashboard_env):
    url = fresh_database(pg_port, "dash")
    demo = Store(demo_url)
    stored = demo.load_plan()
    demo.close()
    pg = Store(url)
    plan_id = pg.save_plan(stored.plan, provenance=dict(stored.plan.provenance),
                           workloads=workloads_of(stored)).plan_id
    inputs = replan.inputs_of(pg.load_plan(plan_id), queries.workload_specs(pg, plan_id))
    assert inputs.problem is not None, inputs.reason  # its stored workloads read back from PG
    pg.close()
    dashboard_env(**{env.DB: url})
    at = run_page("overview")
    no_exception(at)
    assert "postgresql" in at.sidebar.caption[0].value
    values = {m.label: m.value for m in at.metric}
    assert values["Cost"] == f"${stored.plan.totals.cost_usd:,.0f}"
    at = run_page("teams")
    no_exception(at)
    assert at.dataframe[0].value["cost_usd"].sum() == pytest.approx(stored.plan.totals.cost_usd)
