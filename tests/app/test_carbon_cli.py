"""gridshift measure / ingest-codecarbon / intensity through a fresh Typer app."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from app.commands.carbon import register
from carbon.intensity import embedded_default
from carbon.measured import read_codecarbon_csv, read_jsonl
from tests.carbon.vendor_server import Reply, VendorServer, em_forecast, uk_periods

runner = CliRunner()
SHORT = [sys.executable, "-c", "s = sum(i * i for i in range(2_000_000)); print('done', s > 0)"]


@pytest.fixture(scope="module")
def cli() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


@pytest.fixture(autouse=True)
def _no_live_credentials(monkeypatch, tmp_path):
    for var in ("ELECTRICITYMAPS_API_TOKEN", "WATTTIME_USERNAME", "WATTTIME_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GRIDSHIFT_CARBON_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("GRIDSHIFT_CACHE_DIR", str(tmp_path / "cache"))


def test_measure_runs_the_command_under_codecarbon_and_appends_a_measured_line(cli, tmp_path):
    out = tmp_path / "m.jsonl"
    result = runner.invoke(cli, ["measure", "--region", "aws:us-east-1", "--out", str(out),
                                 "--interval", "0.5", "--", *SHORT])
    assert result.exit_code == 0, result.output
    (m,) = read_jsonl(out)
    raw = json.loads(out.read_text().splitlines()[0])
    assert raw["kind"] == "measured" and raw["basis"] == "location"
    assert m.energy.kwh > 0 and m.emissions.kg_co2e > 0 and m.duration_s > 0
    assert m.country_iso3 == "USA" and m.zone == "US-MIDA-PJM" and m.region == "aws:us-east-1"
    assert m.pue == 1.135 and m.command == tuple(SHORT) and m.exit_code == 0
    # codecarbon's offline US-state factor: eGRID Virginia 539.599 lbs/MWh = 244.8 g/kWh
    assert m.g_per_kwh == pytest.approx(539.599 * 0.45359237, rel=1e-3)
    assert "codecarbon" in m.source and "USA/virginia" in m.source
    assert "measured (kind=measured, location-based): 1 run(s)" in result.output


def test_measure_passes_a_failing_exit_code_through_after_recording(cli, tmp_path):
    out = tmp_path / "m.jsonl"
    result = runner.invoke(cli, ["measure", "--region", "gcp:europe-west9", "--out", str(out),
                                 "--interval", "0.5", "--", sys.executable, "-c",
                                 "import sys; sys.exit(3)"])
    assert result.exit_code == 3
    (m,) = read_jsonl(out)
    assert m.exit_code == 3 and m.country_iso3 == "FRA"
    assert "exited with 3 (measurement recorded)" in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["measure", "--region", "aws:mars-1", "--", "true"], "--region: cloud region aws:mars-1"),
    (["measure", "--region", "aws:us-east-1"], "no command given"),
    (["measure", "--", "true"], "--region is required"),
    (["measure", "--region", "us-east-1", "--", "no-such-command-xyz"], "not found"),
])
def test_measure_bad_input_exits_2_with_one_line(cli, tmp_path, args, message):
    result = runner.invoke(cli, args[:1] + ["--out", str(tmp_path / "m.jsonl")] + args[1:])
    assert result.exit_code == 2, result.output
    assert "gridshift: " in result.output and message in result.output
    assert "Traceback" not in result.output


@pytest.fixture(scope="module")
def emissions_csv(tmp_path_factory) -> Path:
    """A real emissions.csv written by codecarbon's offline tracker."""
    from codecarbon import OfflineEmissionsTracker

    d = tmp_path_factory.mktemp("cc")
    tracker = OfflineEmissionsTracker(country_iso_code="DEU", output_dir=str(d),
                                      measure_power_secs=0.5, log_level="error",
                                      project_name="elsewhere", allow_multiple_runs=True)
    tracker.start()
    sum(i * i for i in range(1_000_000))
    tracker.stop()
    return d / "emissions.csv"


def test_ingest_codecarbon_reads_real_output_and_records_it(cli, emissions_csv, tmp_path):
    out = tmp_path / "m.jsonl"
    result = runner.invoke(cli, ["ingest-codecarbon", str(emissions_csv), "--region",
                                 "aws:eu-central-1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    (m,) = read_jsonl(out)
    (direct,) = read_codecarbon_csv(emissions_csv)
    assert m.energy == direct.energy and m.emissions == direct.emissions
    assert m.country_iso3 == "DEU" and m.zone == "DE" and m.project == "elsewhere"
    assert "read as UTC" in " ".join(m.notes)
    assert "appended 1 run(s)" in result.output and "kind=measured" in result.output


def test_ingest_codecarbon_bad_files(cli, tmp_path):
    bad = tmp_path / "emissions.csv"
    bad.write_text("timestamp,run_id\n2026-01-01T00:00:00,x\n")
    result = runner.invoke(cli, ["ingest-codecarbon", str(bad)])
    assert result.exit_code == 2 and "missing column(s) duration, emissions" in result.output
    header = "timestamp,run_id,duration,emissions,energy_consumed\n"
    bad.write_text(header + "2026-01-01T00:00:00,x,12,-1,0.5\n")
    result = runner.invoke(cli, ["ingest-codecarbon", str(bad)])
    assert result.exit_code == 2 and "line 2: field 'emissions' = '-1'" in result.output
    result = runner.invoke(cli, ["ingest-codecarbon", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2 and "no such file" in result.output
    bad.write_text(header + "2026-01-01T00:00:00,x,12,0.1,0.5\n")
    result = runner.invoke(cli, ["ingest-codecarbon", str(bad), "--tz", "Mars/Olympus"])
    assert result.exit_code == 2 and "not an IANA time zone" in result.output


def test_intensity_offline_is_the_embedded_default(cli):
    start = "2026-07-01T00:00Z"
    result = runner.invoke(cli, ["intensity", "--zone", "GB", "--hours", "3", "--start", start,
                                 "--offline"])
    assert result.exit_code == 0, result.output
    want = embedded_default("GB", start=datetime(2026, 7, 1, tzinfo=UTC), hours=3)
    assert f"{want.g_per_kwh[0]:.1f}" in result.output
    assert "embedded default, not live data" in result.output


def test_intensity_of_a_region_from_a_trace_file(cli, shared_data):
    f = shared_data / "carbon_intensity/electricitymaps_hourly/GB_2023_hourly.csv"
    result = runner.invoke(cli, ["intensity", "--region", "gcp:europe-west2", "--hours", "2",
                                 "--start", "2023-01-01T00:00Z", "--trace", str(f), "--offline"])
    assert result.exit_code == 0, result.output
    assert "62.5" in result.output and "65.1" in result.output  # first two rows of the file
    assert "GB_2023_hourly.csv" in result.output and "[actual" in result.output


def test_intensity_live_chain_falls_back_and_never_prints_the_token(cli, monkeypatch):
    token = "cli-SECRET-token-42"
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    with VendorServer() as vendor:
        vendor.add("/v3/carbon-intensity/forecast", Reply(500))
        vendor.add(f"/intensity/{now:%Y-%m-%dT%H:%MZ}/fw48h",
                   Reply(json={"data": uk_periods(now, [77] * 8)}))
        monkeypatch.setenv("ELECTRICITYMAPS_API_TOKEN", token)
        monkeypatch.setenv("GRIDSHIFT_ELECTRICITYMAPS_URL", vendor.url + "/v3")
        monkeypatch.setenv("GRIDSHIFT_UKGRID_URL", vendor.url)
        result = runner.invoke(cli, ["intensity", "--zone", "GB", "--hours", "3"])
        assert result.exit_code == 0, result.output
        assert "77.0" in result.output and "NGESO" in result.output
        assert "electricitymaps: GET /v3/carbon-intensity/forecast: HTTP 500" in result.output
        assert token not in result.output
        assert vendor.seen[0].headers["auth-token"] == token
        vendor.add("/v3/carbon-intensity/forecast",
                   Reply(json=em_forecast("DE", now, [300, 301, 302])))
        result = runner.invoke(cli, ["intensity", "--zone", "DE", "--hours", "3"])
        assert result.exit_code == 0 and "Electricity Maps v3 forecast" in result.output


def test_intensity_bad_input(cli):
    r = runner.invoke(cli, ["intensity", "--zone", "XX", "--offline"])
    assert r.exit_code == 2 and "no carbon intensity for zone 'XX'" in r.output
    r = runner.invoke(cli, ["intensity", "--zone", "GB", "--region", "aws:eu-west-2"])
    assert r.exit_code == 2 and "exactly one of --region or --zone" in r.output
    r = runner.invoke(cli, ["intensity", "--zone", "GB", "--start", "2026-01-01T00:00"])
    assert r.exit_code == 2 and "no UTC offset" in r.output
