"""The zero-configuration demo: `gridshift demo`'s inputs, planned and kept in a SQLite store.

The demo plan starts at the current hour (the bundled workloads are relative to 'now'), so
the store is rebuilt when its plan is older than ``MAX_AGE``. It lives under
``$GRIDSHIFT_CACHE_DIR/dashboard`` (else ``~/.cache/gridshift/dashboard``); a lock file keeps
two dashboards from planning it twice at once.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.problem_io import EXAMPLES, load_problem
from app.store import Store
from planner.domain import Objective
from planner.problem import DEFAULT_CARBON_PRICE_USD_PER_T
from planner.solve import plan as solve_plan

DEMO_KEY = "input:demo"
DEMO_VALUE = "gridshift demo (bundled examples/, no network)"
WORKLOADS = EXAMPLES / "workloads.yaml"
FLEET = EXAMPLES / "fleet.yaml"
HORIZON = "48h"
TIME_LIMIT_S = 10.0  # as `gridshift demo`
MAX_AGE = timedelta(hours=24)


def cache_dir() -> Path:
    base = os.environ.get("GRIDSHIFT_CACHE_DIR") or "~/.cache/gridshift"
    return Path(base).expanduser() / "dashboard"


def is_demo(provenance) -> bool:
    return provenance.get(DEMO_KEY) == DEMO_VALUE


def build(url: str, *, start: datetime | None = None, time_limit_s: float = TIME_LIMIT_S) -> str:
    """Plan the bundled fleet and workloads as `gridshift demo` does and store the plan."""
    problem = load_problem(WORKLOADS, FLEET, horizon_hours=48, start=start)
    objective, price = Objective.BALANCED, DEFAULT_CARBON_PRICE_USD_PER_T
    result = solve_plan(problem, objective=objective, carbon_price_usd_per_t=price,
                        time_limit_s=time_limit_s)
    digest = hashlib.sha256(WORKLOADS.read_bytes() + FLEET.read_bytes()
                            + f"{HORIZON}|{objective}|{price}".encode()).hexdigest()
    store = Store(url)
    try:
        return store.save_plan(result, workloads=problem.workloads, inputs_digest=digest,
                               provenance={"input:workloads": str(WORKLOADS),
                                           "input:fleet": str(FLEET),
                                           DEMO_KEY: DEMO_VALUE}).plan_id
    finally:
        store.close()


def demo_url(now: datetime | None = None) -> str:
    """The URL of a demo store whose plan is younger than MAX_AGE (planned now if needed)."""
    now = now or datetime.now(UTC)
    root = cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{root / 'demo.db'}"
    with open(root / "demo.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second dashboard waits for the first one's plan
        store = Store(url)
        try:
            latest = store.list_plans(limit=1)
        finally:
            store.close()
        if not latest or now - latest[0].created_at > MAX_AGE:
            build(url)
    return url
