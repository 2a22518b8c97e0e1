"""The gridshift CLI end to end: the demo, the Plan JSON contract, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from app.cli import app
from app.problem_io import EXAMPLES
from planner.domain import Objective
from planner.objective import weights

START = "2026-11-23T00:00Z"
runner = CliRunner()


@pytest.fixture(scope="module")
def demo_plan(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("demo") / "plan.json"
    result = runner.invoke(app, ["demo", "--out", str(out), "--start", START, "--time-limit", "20",
                                 "--workers", "2"])
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text())


def test_demo_plan_follows_the_json_contract(demo_plan):
    assert set(demo_plan) >= {"assignments", "totals", "baselines", "solver", "provenance"}
    a = demo_plan["assignments"][0]
    assert set(a) >= {"workload", "kind", "region", "accelerator", "partition", "purchase", "start",
                      "end", "replicas", "cost_usd", "energy_kwh", "emissions_kg", "reason"}
    assert a["start"].endswith("Z") and a["end"].endswith("Z")
    assert set(demo_plan["baselines"]) == {"run_now", "cost_greedy", "carbon_greedy"}
    assert set(demo_plan["solver"]) >= {"status", "objective", "bound", "gap", "wall_s"}
    assert demo_plan["solver"]["status"] in {"OPTIMAL", "FEASIBLE"}
    assert all(a["reason"] for a in demo_plan["assignments"])
    assert any(k.startswith("carbon:") for k in demo_plan["provenance"])


def test_demo_places_every_job_and_beats_run_now_on_cost_and_emissions(demo_plan):
    assert demo_plan["unplaced"] == []
    run_now = demo_plan["baselines"]["run_now"]
    assert demo_plan["totals"]["cost_usd"] < run_now["cost_usd"]
    assert demo_plan["totals"]["emissions_kg"] < run_now["emissions_kg"]


def test_demo_moves_work_in_space_time_and_purchase(demo_plan):
    doc = yaml.safe_load((EXAMPLES / "workloads.yaml").read_text())
    homes = {w["name"]: w["home_region"] for w in doc["workloads"] + doc["serving"]}
    moved = [a for a in demo_plan["assignments"]
             if a["kind"] != "mig-headroom" and a["region"] != homes[a["workload"]]]
    assert moved, "the demo should move some work away from its home region"
    assert any(a["purchase"] == "spot" for a in demo_plan["assignments"])
    assert any("waited" in a["reason"] for a in demo_plan["assignments"])


def test_demo_serves_every_service_every_hour_within_its_slos(demo_plan):
    doc = yaml.safe_load((EXAMPLES / "workloads.yaml").read_text())
    serving = [a for a in demo_plan["assignments"] if a["kind"] == "serving"]
    assert {a["workload"] for a in serving} == {s["name"] for s in doc["serving"]}
    start = datetime.fromisoformat(demo_plan["horizon"]["start"])
    for s in doc["serving"]:
        demand = s["demand_rps"] if isinstance(s["demand_rps"], list) else [s["demand_rps"]]
        served = [0.0] * 48
        regions: list[set] = [set() for _ in range(48)]
        for a in serving:
            if a["workload"] != s["name"]:
                continue
            first = int((datetime.fromisoformat(a["start"]) - start)
                        .total_seconds() // 3600)
            last = int((datetime.fromisoformat(a["end"]) - start)
                       .total_seconds() // 3600)
            for t in range(first, last):
                served[t] += a["replicas"] * s["throughput_rps"][a["accelerator"]]
                regions[t].add(a["region"])
        for t in range(48):
            assert served[t] >= demand[min(t, len(demand) - 1)] - 1e-3, (s["name"], t)
            if s.get("failover_fraction", 0) > 0:
                assert len(regions[t]) >= 2, (s["name"], t)


def test_demo_packs_the_small_model_into_mig_instances(demo_plan):
    from pricing.mig import fits
    assert demo_plan["mig_layouts"], "the moderation model is cheaper on 1g.10gb instances"
    for lay in demo_plan["mig_layouts"]:
        assert fits(lay["accelerator"], lay["profiles"]) is not None
    assert any(a["partition"] != "whole" for a in demo_plan["assignments"]
               if a["workload"] == "moderation-classifier")


def test_demo_capacity_is_tight(demo_plan):
    # not everything can go to the cleanest region: the carbon-greedy choice overbooks it
    assert demo_plan["baselines"]["carbon_greedy"]["overbooked_gpu_h"] > 0


def test_balanced_plan_is_no_worse_than_either_greedy_baseline(demo_plan):
    w = weights(Objective.BALANCED, demo_plan["carbon_price_usd_per_t"])

    def score(t):
        return w.score(cost_usd=t["cost_usd"], emissions_kg=t["emissions_kg"])

    mine = score(demo_plan["totals"])
    for name in ("cost_greedy", "carbon_greedy"):
        assert mine <= score(demo_plan["baselines"][name]) * (1 + 1e-6), name


def _write(tmp_path: Path, name: str, data) -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return path


def _one_job(**overrides) -> dict:
    w = {"name": "llama-ft", "team": "nlp", "gpus": 8, "accelerators": {"H100": 2.0},
         "duration": "10h", "earliest_start": "now", "deadline": "+30h",
         "home_region": "aws-us-east-1"}
    w.update(overrides)
    return {"workloads": [w]}


def _plan(tmp_path: Path, workloads, fleet: Path | None = None):
    wl = _write(tmp_path, "w.yaml", workloads)
    return runner.invoke(app, ["plan", str(wl), "--fleet", str(fleet or EXAMPLES / "fleet.yaml"),
                               "--start", START, "--out", str(tmp_path / "p.json"),
                               "--time-limit", "5"])


@pytest.mark.parametrize(("overrides", "field", "words"), [
    ({"accelerators": {"H200X": 1.0}}, "accelerators", "unknown accelerator 'H200X'"),
    ({"home_region": "aws-mars-1"}, "home_region", "unknown region 'aws-mars-1'"),
    ({"allowed_regions": ["nowhere"]}, "allowed_regions", "unknown region 'nowhere'"),
    ({"deadline": "+4h"}, "deadline", "before the earliest finish"),
    ({"gpus": 0}, "gpus", "greater than or equal to 1"),
    ({"gpus": -3}, "gpus", "greater than or equal to 1"),
    ({"duration": "ten hours"}, "duration", "expected a duration"),
    ({"earliest_start": "2026-11-23T10:00"}, "earliest_start", "no time zone"),
    ({"deadline": "tomorrow"}, "deadline", "expected an ISO 8601 time"),
    ({"gpu": 8}, "gpu", "Extra inputs"),
])
def test_bad_workload_input_exits_2_with_one_line_naming_file_workload_field(
        tmp_path, overrides, field, words):
    result = _plan(tmp_path, _one_job(**overrides))
    assert result.exit_code == 2, result.output
    line = result.output.strip()
    assert "\n" not in line and "Traceback" not in line
    assert "w.yaml" in line and "'llama-ft'" in line and f"field '{field}'" in line
    assert words in line


def test_missing_required_field_is_named(tmp_path):
    workloads = _one_job()
    del workloads["workloads"][0]["deadline"]
    result = _plan(tmp_path, workloads)
    assert result.exit_code == 2
    assert "field 'deadline'" in result.output and "add the field" in result.output


def test_yaml_syntax_error_names_the_line(tmp_path):
    result = _plan(tmp_path, "workloads:\n  - name: a\n    gpus: [8\n")
    assert result.exit_code == 2
    assert "YAML syntax error" in result.output and "line" in result.output


def test_missing_file_is_a_clean_error(tmp_path):
    result = runner.invoke(app, ["plan", str(tmp_path / "nope.yaml"), "--fleet",
                                 str(EXAMPLES / "fleet.yaml")])
    assert result.exit_code == 2
    assert "file not found" in result.output


def test_fleet_with_unknown_grid_zone_is_rejected(tmp_path):
    fleet = yaml.safe_load((EXAMPLES / "fleet.yaml").read_text())
    fleet["regions"][0]["grid_zone"] = "XX-NOWHERE"
    result = _plan(tmp_path, _one_job(), fleet=_write(tmp_path, "f.yaml", fleet))
    assert result.exit_code == 2
    assert "f.yaml" in result.output and "grid zone 'XX-NOWHERE'" in result.output


def test_bad_horizon_is_rejected(tmp_path):
    wl = _write(tmp_path, "w.yaml", _one_job())
    result = runner.invoke(app, ["plan", str(wl), "--fleet", str(EXAMPLES / "fleet.yaml"),
                                 "--horizon", "2 weeks"])
    assert result.exit_code == 2 and "--horizon" in result.output


def test_capacity_infeasible_exits_3_and_names_what_cannot_be_placed(tmp_path):
    jobs = [dict(_one_job(name=f"big-{i}", gpus=32, duration="20h", deadline="+10h",
                          accelerators={"H100": 2.0}, allowed_regions=["aws-us-east-1"])
                 ["workloads"][0]) for i in range(3)]
    result = _plan(tmp_path, {"workloads": jobs})
    assert result.exit_code == 3, result.output
    assert "could not be placed" in result.output
    assert "capacity:" in result.output
    plan = json.loads((tmp_path / "p.json").read_text())
    assert len(plan["assignments"]) == 1 and len(plan["unplaced"]) == 2


def test_console_script_runs_as_a_real_process(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "app.cli", "plan", "missing.yaml", "--fleet",
                           str(EXAMPLES / "fleet.yaml")], capture_output=True, text=True,
                          check=False, cwd=tmp_path, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("gridshift:")
    assert "Traceback" not in proc.stderr


def test_grid_zone_defaults_from_the_region_table(tmp_path):
    fleet = yaml.safe_load((EXAMPLES / "fleet.yaml").read_text())
    for region in fleet["regions"]:
        region.pop("grid_zone")
    result = _plan(tmp_path, _one_job(), fleet=_write(tmp_path, "f.yaml", fleet))
    assert result.exit_code == 0, result.output
    plan = json.loads((tmp_path / "p.json").read_text())
    assert "carbon:US-MIDA-PJM" in plan["provenance"]


def test_unknown_cloud_region_without_grid_zone_is_named(tmp_path):
    fleet = yaml.safe_load((EXAMPLES / "fleet.yaml").read_text())
    fleet["regions"][0].pop("grid_zone")
    fleet["regions"][0]["cloud_region"] = "mars-north-1"
    result = _plan(tmp_path, _one_job(), fleet=_write(tmp_path, "f.yaml", fleet))
    assert result.exit_code == 2
    assert "no known grid zone for aws mars-north-1" in result.output


def test_a_carbon_trace_replaces_the_default_for_its_zone(tmp_path, shared_data):
    trace = shared_data / "carbon_intensity/electricitymaps_hourly/GB_2023_hourly.csv"
    wl = _write(tmp_path, "w.yaml", _one_job())
    result = runner.invoke(app, ["plan", str(wl), "--fleet", str(EXAMPLES / "fleet.yaml"),
                                 "--start", "2023-06-01T00:00Z", "--out", str(tmp_path / "p.json"),
                                 "--time-limit", "5", "--carbon-trace", f"GB={trace}"])
    assert result.exit_code == 0, result.output
    provenance = json.loads((tmp_path / "p.json").read_text())["provenance"]
    assert provenance["carbon:GB"].startswith("trace GB_2023_hourly.csv")
    assert provenance["carbon:DE"].startswith("embedded-default")


def test_bad_carbon_trace_spec_is_one_line(tmp_path):
    wl = _write(tmp_path, "w.yaml", _one_job())
    result = runner.invoke(app, ["plan", str(wl), "--fleet", str(EXAMPLES / "fleet.yaml"),
                                 "--carbon-trace", "GB"])
    assert result.exit_code == 2 and "is not ZONE=PATH" in result.output


def test_scheduled_replans_with_a_store_are_stored_and_stable(tmp_path):
    db = f"sqlite:///{tmp_path / 'gs.db'}"
    # the training jobs of the demo (serving stability: tests/planner/test_serving.py)
    doc = yaml.safe_load((EXAMPLES / "workloads.yaml").read_text())
    training = _write(tmp_path, "training.yaml", {"workloads": doc["workloads"]})
    args = ["plan", str(training), "--fleet", str(EXAMPLES / "fleet.yaml"),
            "--start", START, "--time-limit", "10", "--workers", "2", "--store", db]
    first = runner.invoke(app, args + ["--out", str(tmp_path / "1.json")])
    assert first.exit_code == 0, first.output
    assert "plan stored as" in first.output
    second = runner.invoke(app, args + ["--out", str(tmp_path / "2.json")])
    assert second.exit_code == 0, second.output
    kinds = {c["kind"] for c in json.loads((tmp_path / "2.json").read_text())["changes"]}
    assert kinds == {"unchanged"}


def test_an_unusable_store_exits_4_with_one_line(tmp_path):
    wl = _write(tmp_path, "w.yaml", _one_job())
    result = runner.invoke(app, ["plan", str(wl), "--fleet", str(EXAMPLES / "fleet.yaml"),
                                 "--out", str(tmp_path / "p.json"), "--store",
                                 "postgresql+psycopg://nobody@127.0.0.1:1/none"])
    assert result.exit_code == 4, result.output
    assert result.output.strip().count("\n") == 0


def test_load_history_is_forecast_and_kept_clear_of(tmp_path):
    import pandas as pd
    ds = pd.date_range("2026-11-09T00:00Z", "2026-11-22T23:00Z", freq="h")
    # London's H100s are busy with other work around the clock
    history = pd.DataFrame({"unique_id": "euw2-gpu/H100", "ds": ds, "y": 16.0})
    path = tmp_path / "load.csv"
    history.to_csv(path, index=False)
    wl = _write(tmp_path, "w.yaml", {"workloads": [
        dict(_one_job(name=f"ft-{i}", allowed_regions=["aws-us-east-1", "gcp-europe-west2"],
                      home_region="aws-us-east-1", checkpoint_interval="30m")["workloads"][0])
        for i in range(3)]})
    args = ["plan", str(wl), "--fleet", str(EXAMPLES / "fleet.yaml"), "--start", START,
            "--time-limit", "5", "--objective", "carbon"]
    free = runner.invoke(app, args + ["--out", str(tmp_path / "free.json")])
    loaded = runner.invoke(app, args + ["--out", str(tmp_path / "loaded.json"),
                                        "--load-history", str(path)])
    assert free.exit_code == 0 and loaded.exit_code == 0, loaded.output
    regions = lambda f: {a["region"] for a in json.loads((tmp_path / f).read_text())["assignments"]}
    assert "gcp-europe-west2" in regions("free.json")
    assert "gcp-europe-west2" not in regions("loaded.json")


def test_market_based_figure_is_reported_beside_location_based_never_added(tmp_path):
    fleet = yaml.safe_load((EXAMPLES / "fleet.yaml").read_text())
    for region in fleet["regions"]:
        region["market"] = {"clean_share": 0.5, "residual_mix_g_per_kwh": 400, "source": "test"}
    result = _plan(tmp_path, _one_job(), fleet=_write(tmp_path, "f.yaml", fleet))
    assert result.exit_code == 0, result.output
    plan = json.loads((tmp_path / "p.json").read_text())
    (a,) = plan["assignments"]
    assert a["market_based_kg"] == pytest.approx(0.5 * 400 * a["energy_kwh"] / 1000, rel=1e-3)
    t = plan["totals"]
    assert t["emissions_kg"] == pytest.approx(t["operational_kg"] + t["embodied_kg"], abs=2e-3)
    bad = yaml.safe_load((EXAMPLES / "fleet.yaml").read_text())
    bad["regions"][0]["market"] = {"clean_share": 1.5}
    result = _plan(tmp_path, _one_job(), fleet=_write(tmp_path, "g.yaml", bad))
    assert result.exit_code == 2 and "clean_share" in result.output


def test_a_replan_keeps_the_mig_layouts_it_announced(tmp_path):
    db = f"sqlite:///{tmp_path / 'gs.db'}"
    doc = yaml.safe_load((EXAMPLES / "workloads.yaml").read_text())
    mig = [s for s in doc["serving"] if any(":" in k for k in s["throughput_rps"])]
    services = _write(tmp_path, "services.yaml", {"serving": mig})
    args = ["plan", str(services), "--fleet", str(EXAMPLES / "fleet.yaml"), "--start", START,
            "--time-limit", "5", "--workers", "2", "--store", db]
    first = runner.invoke(app, args + ["--out", str(tmp_path / "1.json")])
    assert first.exit_code == 0, first.output
    layouts = json.loads((tmp_path / "1.json").read_text())["mig_layouts"]
    assert layouts and all(m["repartitioned_gpus"] == m["gpus"] for m in layouts)
    second = runner.invoke(app, args + ["--out", str(tmp_path / "2.json")])
    assert second.exit_code == 0, second.output
    again = json.loads((tmp_path / "2.json").read_text())["mig_layouts"]
    # the stored plan's layouts are what the GPUs run now: nothing to drain, same layouts
    assert [(m["cluster"], m["profiles"], m["gpus"]) for m in again] == \
        [(m["cluster"], m["profiles"], m["gpus"]) for m in layouts]
    assert all(m["repartitioned_gpus"] == 0 for m in again)
