"""One demo store for the dashboard tests, and AppTest on the real entry script.

The package plans the demo once (as `gridshift dashboard` does with no --db) into a cache
directory of its own ($GRIDSHIFT_CACHE_DIR, set for these tests only), so every test, and
the browser test's server, read the same plan and share re-solves memoised on disk.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.dashboard import demo_store, env
from app.problem_io import load_problem

ENTRY = Path(__file__).resolve().parents[3] / "app" / "dashboard" / "streamlit_app.py"
PAGES = {"overview": "Overview", "timeline": "Plan timeline", "carbon": "Carbon",
         "capacity": "Capacity and demand", "tradeoffs": "Trade-offs", "teams": "Teams"}
_VARS = ("GRIDSHIFT_CACHE_DIR", env.SOLVE_S, "GRIDSHIFT_DB", env.DB, env.CARBON_TRACES,
         env.LOAD_HISTORY)
SOLVE_S = "2"  # re-solves and Pareto points in tests: what they show, not how good they are


@pytest.fixture(scope="package")
def cache_dir(tmp_path_factory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("gridshift-cache")
    saved = {k: os.environ.get(k) for k in _VARS}
    for k in _VARS:
        os.environ.pop(k, None)
    os.environ["GRIDSHIFT_CACHE_DIR"] = str(root)
    os.environ[env.SOLVE_S] = SOLVE_S
    yield root
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="package")
def demo_url(cache_dir) -> str:
    """The zero-configuration demo store, planned once for these tests (with a shorter time
    limit than `gridshift demo`'s; demo_url() then finds it fresh, as a restarted dashboard
    would)."""
    demo_store.build(f"sqlite:///{demo_store.cache_dir() / 'demo.db'}", time_limit_s=3.0)
    return demo_store.demo_url()


@pytest.fixture
def dashboard_env(monkeypatch, cache_dir):
    """Set the dashboard's environment for one test (restored after it)."""
    for k in _VARS[2:]:
        monkeypatch.delenv(k, raising=False)

    def set_env(**values: str) -> None:
        for k, v in values.items():
            monkeypatch.setenv(k, v)

    return set_env


def run_page(page: str, *, timeout: float = 180):
    """AppTest of the entry script, switched to ``page`` (views/<page>.py) and run."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ENTRY), default_timeout=timeout).run()
    assert not at.exception, [e.value for e in at.exception]
    if page != "overview":
        at.switch_page(f"views/{page}.py").run()
    return at


def no_exception(at) -> None:
    assert not at.exception, "\n".join(e.value for e in at.exception)
    assert not at.error, [e.value for e in at.error]


def values(array) -> list:
    """A plotly array from a figure's JSON: a list, or plotly's typed array {dtype, bdata}."""
    if isinstance(array, dict) and "bdata" in array:
        import base64

        import numpy as np

        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array)


def workloads_of(stored):
    """The workloads a stored plan's input files give at its horizon start."""
    prov = stored.plan.provenance
    return load_problem(Path(prov["input:workloads"]), Path(prov["input:fleet"]),
                        horizon_hours=stored.plan.horizon_hours,
                        start=stored.plan.horizon_start).workloads
