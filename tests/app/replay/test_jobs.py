"""Job tables and workloads YAML -> workloads, and the one-line errors on bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from app.errors import InputError
from app.replay.jobs import load_jobs

from .conftest import T0, fleet_of

HEADER = "name,submit_time,gpus,accelerator,duration_h,slack_h,checkpointable,home_region,team\n"


def _write(tmp_path, text, name="jobs.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_csv_row_becomes_a_workload_with_slack_and_checkpoints(tmp_path):
    path = _write(tmp_path, HEADER + "a,2023-03-01T09:30Z,4,H100,6,10,true,gb,ml\n")
    (w,) = load_jobs(path, fleet_of({"H100": 8}), start=T0)
    assert w.earliest_start == datetime(2023, 3, 1, 9, 30, tzinfo=UTC)
    assert w.deadline == w.earliest_start + timedelta(hours=16)
    assert (w.gpus, w.duration_h, w.checkpoint_interval_h, w.team) == (4, 6.0, 1.0, "ml")


def test_parquet_with_deadlines_and_unix_times_reads_the_same(tmp_path):
    submit = datetime(2023, 3, 1, 9, tzinfo=UTC)
    frame = pd.DataFrame({"submit_time": [submit.timestamp()], "gpus": [1],
                          "accelerators": ["H100:2|A100-80GB:1"], "duration": ["3h"],
                          "deadline": ["2023-03-02T00:00Z"], "home_region": ["gb"]})
    path = tmp_path / "jobs.parquet"
    frame.to_parquet(path)
    (w,) = load_jobs(path, fleet_of({"H100": 8}), start=T0)
    assert w.earliest_start == submit and w.accelerators == {"H100": 2.0, "A100-80GB": 1.0}
    assert w.checkpoint_interval_h is None and w.name == "job-1"


@pytest.mark.parametrize(("row", "words"), [
    ("a,2023-03-01T09:30,4,H100,6,10,true,gb,ml", ["line 2", "submit_time", "no time zone"]),
    ("a,2023-03-01T09:30Z,4,H100,6,10,true,mars,ml", ["home_region", "unknown region 'mars'"]),
    ("a,2023-03-01T09:30Z,4,X9,6,10,true,gb,ml", ["accelerator", "unknown accelerator"]),
    ("a,2023-03-01T09:30Z,0,H100,6,10,true,gb,ml", ["gpus", "whole number >= 1"]),
    ("a,2023-03-01T09:30Z,1,H100,6,-1,true,gb,ml", ["slack_h", ">= 0"]),
])
def test_a_bad_cell_names_the_line_the_field_and_the_fix(tmp_path, row, words):
    path = _write(tmp_path, HEADER + row + "\n")
    with pytest.raises(InputError) as exc:
        load_jobs(path, fleet_of({"H100": 8}), start=T0)
    for word in words + ["fix:"]:
        assert word in str(exc.value)


def test_a_missing_column_says_which(tmp_path):
    path = _write(tmp_path, "name,submit_time,gpus\na,2023-03-01T09:30Z,1\n")
    with pytest.raises(InputError, match="'accelerator' or 'accelerators' is missing"):
        load_jobs(path, fleet_of({"H100": 8}), start=T0)


def test_a_workloads_yaml_counts_relative_times_from_the_replay_start(tmp_path):
    path = _write(tmp_path, "workloads:\n  - {name: y, gpus: 1, accelerators: {H100: 1.0}, "
                            "duration: 2h, earliest_start: +3h, deadline: +12h, "
                            "home_region: gb}\n", "w.yaml")
    (w,) = load_jobs(path, fleet_of({"H100": 8}), start=T0)
    assert w.earliest_start == T0 + timedelta(hours=3)
