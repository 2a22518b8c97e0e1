"""Serving entries of a workloads file: parsing, one-line errors, demand from history."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from app.cli import app
from app.errors import InputError
from app.inputs import load_fleet
from app.problem_io import EXAMPLES, load_problem
from app.serving_io import serving_from_data
from forecasting.sources.traces import alibaba_lora_requests
from planner.check import violations
from planner.domain import Objective, WorkloadKind
from planner.solve import plan

FLEET = load_fleet(EXAMPLES / "fleet.yaml")
T0 = datetime(2026, 11, 23, tzinfo=UTC)


def _service(**overrides) -> dict:
    s = {"name": "chat", "team": "a", "home_region": "gcp-europe-west2", "model_memory_gb": 40,
         "throughput_rps": {"H100": 24, "L4": 3}, "demand_rps": 50,
         "users": [{"name": "london", "lat": 51.5, "lon": -0.13}], "latency_slo_ms": 30}
    s.update(overrides)
    return s


def _parse(**overrides):
    return serving_from_data({"serving": [_service(**overrides)]}, "w.yaml", FLEET, start=T0,
                             horizon_hours=48)


def test_a_serving_only_file_parses():
    (w,) = _parse()
    assert w.name == "chat" and w.demand_rps == (50,) and w.latency_slo_ms == 30
    assert w.users[0].name == "london" and w.on_demand_floor == 1.0


@pytest.mark.parametrize(("overrides", "field", "words"), [
    ({"throughput_rps": {"H200X": 5}}, "throughput_rps", "unknown accelerator 'H200X'"),
    ({"home_region": "aws-mars-1"}, "home_region", "unknown region 'aws-mars-1'"),
    ({"users": []}, "users", "needs the users' locations"),
    ({"demand_rps": None}, None, "exactly one of demand_rps"),
    ({"demand_rps": [10, -1]}, "demand_rps", "must be >= 0"),
    ({"on_demand_floor": 1.5}, "on_demand_floor", "less than or equal to 1"),
])
def test_bad_serving_input_is_one_line_naming_workload_and_field(overrides, field, words):
    with pytest.raises(InputError) as err:
        _parse(**overrides)
    line = str(err.value)
    assert "\n" not in line and "'chat'" in line and words in line
    if field:
        assert f"field '{field}'" in line


def test_bad_serving_input_through_the_cli_exits_2(tmp_path):
    path = tmp_path / "w.yaml"
    path.write_text(yaml.safe_dump({"serving": [_service(throughput_rps={"H200X": 5})]}))
    result = CliRunner().invoke(app, ["plan", str(path), "--fleet", str(EXAMPLES / "fleet.yaml"),
                                      "--out", str(tmp_path / "p.json"), "--time-limit", "2"])
    assert result.exit_code == 2 and "H200X" in result.output


def test_demand_history_is_forecast_and_sized_for_its_upper_band(tmp_path, shared_data: Path):
    # the Alibaba GenAI LoRA serving trace: requests per hour, here as requests/s of a
    # service 500 times its size (the shape is what matters; the upper band must fit the
    # demo fleet's London, Paris and Frankfurt GPUs)
    trace = shared_data / "cluster_traces" / "alibaba_genai_2026" / "lora_request_trace.csv"
    hourly = alibaba_lora_requests(trace)
    hourly = hourly.assign(y=hourly["y"] * 500 / 3600)[["ds", "y"]]
    history = tmp_path / "chat-rps.csv"
    hourly.to_csv(history, index=False)
    start = (hourly["ds"].max() + pd.Timedelta(hours=1)).to_pydatetime()
    workloads = tmp_path / "w.yaml"
    workloads.write_text(yaml.safe_dump({"serving": [_service(
        demand_rps=None, demand_history="chat-rps.csv", demand_level=90,
        latency_slo_ms=None, users=[], throughput_rps={"H100": 24, "L4": 3})]}))
    problem = load_problem(workloads, EXAMPLES / "fleet.yaml", horizon_hours=24, start=start)
    (w,) = problem.serving
    assert len(w.demand_rps) == 24 and all(v >= 0 for v in w.demand_rps)
    last_week = hourly["y"].tail(168)
    assert max(w.demand_rps) >= last_week.mean()  # the upper band, not the mean
    result = plan(problem, objective=Objective.BALANCED, time_limit_s=5, workers=2)
    assert violations(result, problem) == []
    assert {a.kind for a in result.assignments} == {WorkloadKind.SERVING}
    assert not result.unplaced


@pytest.mark.parametrize(("cluster", "words"), [
    ({"spot_capacity": {"H100": 99}}, "spot_capacity H100 = 99 is outside 0..16"),
    ({"mig": {"H100": {"7g.80gb+1g.10gb": 1}}}, "does not fit one H100"),
    ({"mig": {"H100": {"9g.90gb": 1}}}, "does not exist on H100"),
    ({"mig": {"H100": {"3g.40gb+4g.40gb": 17}}}, "17 H100 GPUs in MIG layouts, capacity 16"),
])
def test_bad_spot_cap_or_mig_layout_in_the_fleet_is_one_line(tmp_path, cluster, words):
    from app.inputs import fleet_from_data
    doc = {"regions": [{"name": "r", "provider": "gcp", "cloud_region": "europe-west2",
                        "location": {"lat": 51.5, "lon": -0.1},
                        "clusters": [{"name": "c", "capacity": {"H100": 16}} | cluster]}]}
    with pytest.raises(InputError) as err:
        fleet_from_data(doc, "fleet.yaml")
    assert "\n" not in str(err.value) and words in str(err.value)


def test_spot_cap_and_current_mig_layout_are_read():
    from app.inputs import fleet_from_data
    doc = {"regions": [{"name": "r", "provider": "gcp", "cloud_region": "europe-west2",
                        "location": {"lat": 51.5, "lon": -0.1},
                        "clusters": [{"name": "c", "capacity": {"H100": 16},
                                      "spot_capacity": {"H100": 4},
                                      "mig": {"H100": {"4g.40gb+3g.40gb": 2}}}]}]}
    (cluster,) = fleet_from_data(doc, "fleet.yaml").clusters
    assert cluster.spot_capacity_gpus == {"H100": 4}
    assert cluster.mig_layouts == {"H100": {("3g.40gb", "4g.40gb"): 2}}
