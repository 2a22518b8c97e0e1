"""Which store the dashboard shows, and the cached loaders every page calls.

Store choice (``choose``):

    $GRIDSHIFT_DASHBOARD_DB   set by `gridshift dashboard --db URL`: that store, even empty
    $GRIDSHIFT_DB             that store when it holds plans
    otherwise                 the demo (demo_store.py), planned on first use and cached

Loaders: ``st.cache_resource`` for values shared as they are (the Store, StoredPlan and
PlanningProblem objects, which are immutable and hold read-only mappings that do not
pickle); ``st.cache_data`` for tables and JSON (copied per session).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import streamlit as st
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from app.dashboard import demo_store, env, grid, load, queries, replan
from app.store import Store, StoredPlan, StoreError, resolve_url
from planner.domain import Objective

ENV_DB = env.DB
PLAN_KEY = "plan_id"


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    url: str
    demo: bool
    origin: str  # how it was chosen, for the sidebar
    warning: str = ""


def masked(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _holds_plans(url: str) -> bool:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and (
            not parsed.database or not Path(parsed.database).expanduser().is_file()):
        return False  # do not create an empty database just to look into it
    store = Store(url)
    try:
        return store.latest_plan_id() is not None
    finally:
        store.close()


def choose(environ: Mapping[str, str]) -> Source:
    """The store to show (module docstring); the demo is planned here if needed."""
    explicit = environ.get(ENV_DB)
    if explicit:
        return Source(url=resolve_url(explicit), demo=False, origin="--db")
    warning = ""
    if environ.get("GRIDSHIFT_DB"):
        url = resolve_url(environ["GRIDSHIFT_DB"])
        try:
            if _holds_plans(url):
                return Source(url=url, demo=False, origin="$GRIDSHIFT_DB")
            warning = f"$GRIDSHIFT_DB ({masked(url)}) holds no plans yet"
        except (StoreError, ArgumentError) as exc:
            warning = f"$GRIDSHIFT_DB: {str(exc).splitlines()[0]}"
    return Source(url=demo_store.demo_url(), demo=True, warning=warning,
                  origin="the demo: bundled fleet and workloads (`gridshift demo`)")


def _env_key() -> tuple[str, ...]:
    return tuple(os.environ.get(k, "") for k in (ENV_DB, "GRIDSHIFT_DB", "GRIDSHIFT_CACHE_DIR"))


@st.cache_resource(ttl=3600, show_spinner="Opening the store (the demo is planned on first "
                                          "start, about 10 s)...")
def _source(env_key: tuple[str, ...]) -> Source:
    return choose(os.environ)


def source() -> Source:
    return _source(_env_key())


@st.cache_resource(show_spinner=False)
def store(url: str) -> Store:
    return Store(url)


@st.cache_data(ttl=30, show_spinner=False)
def plan_summaries(url: str) -> list:
    return store(url).list_plans(limit=200)


@st.cache_resource(ttl=60, max_entries=32, show_spinner=False)
def stored_plan(url: str, plan_id: str) -> StoredPlan | None:
    return store(url).load_plan(plan_id)


@st.cache_data(ttl=60, show_spinner=False)
def assignments(url: str, plan_id: str) -> pd.DataFrame:
    return queries.assignments(stored_plan(url, plan_id))


@st.cache_data(ttl=30, show_spinner=False)
def measured(url: str) -> pd.DataFrame:
    return queries.measured(store(url).measurements())


@st.cache_data(ttl=30, show_spinner=False)
def footprint(url: str, plan_id: str | None, since: datetime | None,
              until: datetime | None) -> dict:
    return store(url).footprint(plan_id=plan_id, since=since, until=until)


@st.cache_resource(max_entries=8, show_spinner="Reading the plan's inputs...")
def inputs(url: str, plan_id: str) -> replan.Inputs:
    stored = stored_plan(url, plan_id)
    return replan.inputs_of(stored, queries.workload_specs(store(url), plan_id))


def resolve(url: str, plan_id: str, objective: str, carbon_price_usd_per_t: float,
            slack_h: int) -> dict:
    return _resolve(url, plan_id, objective, carbon_price_usd_per_t, slack_h,
                    replan.time_limit_s())


@st.cache_data(max_entries=64, show_spinner="Re-solving (a few seconds)...")
def _resolve(url: str, plan_id: str, objective: str, carbon_price_usd_per_t: float,
             slack_h: int, time_limit_s: float) -> dict:
    return replan.resolve(plan_id, inputs(url, plan_id).problem, objective=Objective(objective),
                          carbon_price_usd_per_t=carbon_price_usd_per_t, slack_h=slack_h,
                          time_limit_s=time_limit_s)


def front(url: str, plan_id: str, points: int, slack_h: int) -> list[dict]:
    return _front(url, plan_id, points, slack_h, replan.time_limit_s())


@st.cache_data(max_entries=16, show_spinner="Solving the Pareto front (a few seconds per "
                                            "point)...")
def _front(url: str, plan_id: str, points: int, slack_h: int,
           time_limit_s: float) -> list[dict]:
    return replan.front(plan_id, inputs(url, plan_id).problem, points=points, slack_h=slack_h,
                        time_limit_s=time_limit_s)


def behind_plan(url: str, plan_id: str) -> tuple[pd.DataFrame, list[str]]:
    """Hourly intensity per region over the plan's horizon (grid.behind_plan), and notes."""
    return _behind_plan(url, plan_id, os.environ.get(grid.ENV_TRACES, ""))


@st.cache_data(ttl=600, show_spinner="Reading grid intensity...")
def _behind_plan(url: str, plan_id: str, traces_env: str) -> tuple[pd.DataFrame, list[str]]:
    plan = stored_plan(url, plan_id).plan
    return grid.behind_plan(inputs(url, plan_id).fleet, plan.provenance,
                            start=plan.horizon_start, hours=plan.horizon_hours,
                            traces=grid.traces_from_env())


@st.cache_resource(show_spinner="Reading the trace...")
def actuals(zone: str, paths: tuple[str, ...]) -> grid.Actuals:
    return grid.actuals(grid.TraceFile(zone=zone, paths=tuple(Path(p) for p in paths)))


@st.cache_data(max_entries=32, show_spinner="Forecasting from the trace's history...")
def forecast_vs_actual(zone: str, paths: tuple[str, ...], origin: datetime,
                       hours: int) -> tuple[pd.DataFrame, dict]:
    return grid.forecast_vs_actual(actuals(zone, paths), origin, hours=hours)


@st.cache_data(max_entries=8, show_spinner="Forecasting cluster load from history...")
def load_forecast(path: str, mtime: float, url: str, plan_id: str) -> pd.DataFrame:
    plan = stored_plan(url, plan_id).plan
    return load.load_forecast(path, start=plan.horizon_start, hours=plan.horizon_hours,
                              fleet=inputs(url, plan_id).fleet)


# ---- what the pages share ---------------------------------------------------------------

@dataclass(frozen=True, slots=True, kw_only=True)
class View:
    source: Source
    plan_id: str | None
    stored: StoredPlan | None

    @property
    def url(self) -> str:
        return self.source.url


def current() -> View:
    """The store and the plan chosen in the sidebar (the latest plan by default)."""
    src = source()
    plan_id = st.session_state.get(PLAN_KEY)
    ids = [s.id for s in plan_summaries(src.url)]
    if plan_id not in ids:
        plan_id = ids[0] if ids else None
    stored = stored_plan(src.url, plan_id) if plan_id else None
    return View(source=src, plan_id=plan_id, stored=stored)


def no_plan(view: View) -> None:
    """The helpful state of a store without plans."""
    st.info(f"**{masked(view.url)} holds no plans yet.** Make one and it shows here:\n\n"
            "- `gridshift plan workloads.yaml --fleet fleet.yaml --store URL` (or a scheduled "
            "re-plan with the same command)\n"
            "- `POST /v1/plans` on `gridshift serve`\n\n"
            "Or start `gridshift dashboard` without `--db` to look at the demo.")


def now() -> datetime:
    return datetime.now(UTC)
