"""``gridshift replay`` end to end on a tiny slice of a real trace."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

FLEET = """regions:
  - name: gcp-europe-west2
    provider: gcp
    cloud_region: europe-west2
    grid_zone: GB
    location: {lat: 51.51, lon: -0.13}
    clusters:
      - name: euw2-gpu
        capacity: {H100: 64}
"""
JOBS = """name,submit_time,gpus,accelerator,duration_h,slack_h,checkpointable,home_region,team
a,2023-03-01T09:00Z,8,H100,4,20,false,gcp-europe-west2,ml
b,2023-03-01T10:30Z,1,H100,2.5,30,true,gcp-europe-west2,ml
c,2023-03-02T09:00Z,4,H100,10,12,true,gcp-europe-west2,ml
late,2023-03-09T09:00Z,4,H100,10,12,true,gcp-europe-west2,ml
"""


def _app() -> typer.Typer:
    from app.cli import app  # the real command line, replay registered as a subcommand
    return app


def _files(tmp_path):
    (tmp_path / "fleet.yaml").write_text(FLEET)
    (tmp_path / "jobs.csv").write_text(JOBS)
    return tmp_path / "fleet.yaml", tmp_path / "jobs.csv"


def test_replay_writes_a_report_with_every_strategy(tmp_path, shared_data):
    fleet, jobs = _files(tmp_path)
    trace = shared_data / "carbon_intensity" / "electricitymaps_hourly" / "GB_2023_hourly.csv"
    out = tmp_path / "report.json"
    result = CliRunner().invoke(_app(), [
        "replay", "--fleet", str(fleet), "--jobs", str(jobs), "--carbon", f"GB={trace}",
        "--from", "2023-03-01T00:00Z", "--to", "2023-03-04T00:00Z", "--forecast",
        "persistence", "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["jobs"] == 3 and report["jobs_outside_window"] == 1
    assert set(report["strategies"]) == {"run_now", "carbon_greedy", "gridshift",
                                         "gridshift-oracle"}
    for totals in report["strategies"].values():
        assert totals["deadline_misses"] == 0 and totals["jobs"] == 3
        assert totals["energy_kwh"] > 0 and totals["operational_kg"] > 0
    oracle = report["comparison"]["gridshift-oracle"]
    assert oracle["saved_pct"] >= 0 and oracle["pct_of_oracle_saving"] == 100.0
    assert "GB_2023_hourly.csv" in report["carbon"]["GB"]["source"]
    assert "gridshift-oracle" in result.output  # the table


def test_a_fleet_zone_without_a_trace_is_one_line_and_exit_2(tmp_path, shared_data):
    fleet, jobs = _files(tmp_path)
    trace = shared_data / "carbon_intensity" / "electricitymaps_hourly" / "GB_2023_hourly.csv"
    result = CliRunner().invoke(_app(), [
        "replay", "--fleet", str(fleet), "--jobs", str(jobs), "--carbon", f"DE={trace}",
        "--from", "2023-03-01T00:00Z", "--to", "2023-03-04T00:00Z"])
    assert result.exit_code == 2
    assert "no trace for grid zone 'GB'" in result.output
    assert "fix: add --carbon GB=PATH" in result.output
