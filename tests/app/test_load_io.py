"""app/load_io.py: what forecasting repaired in a load history reaches the planning run."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pandas as pd

from app.inputs import load_fleet
from app.load_io import reserved_from_history
from app.problem_io import EXAMPLES


def test_repairs_to_the_load_history_are_logged_naming_the_file(tmp_path, caplog):
    ds = pd.date_range("2026-11-09T00:00Z", "2026-11-22T23:00Z", freq="h")
    history = pd.DataFrame({"unique_id": "euw2-gpu/H100", "ds": ds,
                            "y": 8.0 + (ds.hour >= 9) * 4.0}).drop(index=[100, 101])
    path = tmp_path / "load.csv"
    history.to_csv(path, index=False)
    with caplog.at_level(logging.WARNING, logger="gridshift.inputs"):
        reserved = reserved_from_history(path, level=80, fleet=load_fleet(EXAMPLES / "fleet.yaml"),
                                         start=datetime(2026, 11, 23, tzinfo=UTC), slots=24)
    assert reserved                                   # the forecast still reserves GPUs
    lines = [r.getMessage() for r in caplog.records if r.name == "gridshift.inputs"]
    assert any(line.startswith(f"{path}: ") and "2 missing hour(s)" in line for line in lines)
