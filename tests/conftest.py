"""Shared test fixtures and the CI rule: a skipped test is a failed test in CI.

``.ci/run`` sets GRIDSHIFT_REQUIRE_COMPONENTS=1, so a test that skips because
a real component (shared data, PostgreSQL, Prometheus, Chromium) is missing
fails there instead: CI always exercises the real thing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
STRICT = os.environ.get("GRIDSHIFT_REQUIRE_COMPONENTS") == "1"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if STRICT and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every component must be present: {reason}"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA} (it sits beside the repo in CI)")
    return SHARED_DATA
