"""carbon.measured: Measurement round trips, codecarbon CSV reading, kind 'measured'."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from carbon.measured import (
    MeasuredDataError,
    Measurement,
    append_jsonl,
    read_codecarbon_csv,
    read_jsonl,
)
from carbon.tracker import codecarbon_region
from carbon.units import Basis, Emissions, Energy
from carbon.zones import zone_for

# columns and one row as codecarbon 3.3.2 writes them (header copied from a real run here)
HEADER = ("timestamp,project_name,run_id,experiment_id,duration,emissions,emissions_rate,"
          "cpu_power,gpu_power,ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed,"
          "water_consumed,country_name,country_iso_code,region,cloud_provider,cloud_region,os,"
          "python_version,codecarbon_version,cpu_count,cpu_model,gpu_count,gpu_model,longitude,"
          "latitude,ram_total_size,tracking_mode,cpu_utilization_percent,"
          "gpu_utilization_percent,ram_utilization_percent,ram_used_gb,on_cloud,pue,wue")
ROW = ("2026-11-23T20:39:59,train,00191fe1,5b0f,3600.0,1.25,0.0003,50,300,20,0.05,0.3,0.02,"
       "0.37,0,Germany,DEU,,aws,eu-central-1,Linux,3.11.7,3.3.2,8,Xeon,1,A100,,,64,machine,"
       "90,80,10,30,Y,1.1,0")


def _m(**kw) -> Measurement:
    base = {"run_id": "r1", "started_at": datetime(2026, 1, 1, tzinfo=UTC), "duration_s": 60.0,
            "energy": Energy(0.5), "emissions": Emissions(kg_co2e=0.1), "source": "test"}
    return Measurement(**(base | kw))


def test_json_lines_round_trip_and_say_measured(tmp_path):
    f = tmp_path / "m.jsonl"
    append_jsonl(f, _m())
    append_jsonl(f, _m(run_id="r2", command=("python", "x.py"), exit_code=1))
    a, b = read_jsonl(f)
    assert a == _m() and b.command == ("python", "x.py") and b.exit_code == 1
    first = json.loads(f.read_text().splitlines()[0])
    assert first["kind"] == "measured" and first["started_at"] == "2026-01-01T00:00:00Z"
    assert first["g_per_kwh"] == pytest.approx(200.0)


def test_bad_json_line_names_the_line(tmp_path):
    f = tmp_path / "m.jsonl"
    append_jsonl(f, _m())
    with f.open("a") as fh:
        fh.write(json.dumps({"kind": "planned"}) + "\n")
    with pytest.raises(MeasuredDataError, match="line 2: kind = 'planned', expected 'measured'"):
        read_jsonl(f)


def test_measurement_validation():
    with pytest.raises(ValueError, match="location-based"):
        _m(emissions=Emissions(kg_co2e=1, basis=Basis.MARKET))
    with pytest.raises(ValueError, match="timezone-aware"):
        _m(started_at=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="duration_s"):
        _m(duration_s=-1)


def test_codecarbon_csv_row(tmp_path):
    f = tmp_path / "emissions.csv"
    f.write_text(HEADER + "\n" + ROW + "\n")
    (m,) = read_codecarbon_csv(f, tz="Europe/Berlin")
    assert m.started_at == datetime(2026, 11, 23, 18, 39, 59, tzinfo=UTC)  # 20:39:59 CET - 1 h
    assert m.energy == Energy(0.37) and m.emissions.kg_co2e == 1.25
    assert (m.cpu_kwh, m.gpu_kwh, m.ram_kwh, m.pue) == (0.05, 0.3, 0.02, 1.1)
    assert m.region == "aws/eu-central-1" and m.country_iso3 == "DEU" and m.kind == "measured"
    assert "codecarbon 3.3.2 emissions.csv (machine tracking, DEU)" == m.source
    assert m.notes == ("codecarbon timestamp has no zone; read as Europe/Berlin",)


def test_codecarbon_region_for_offline_tracking():
    assert codecarbon_region(zone_for("aws", "us-east-1")) == "virginia"
    assert codecarbon_region(zone_for("gcp", "us-east1")) == "south carolina"
    assert codecarbon_region(zone_for("gcp", "northamerica-northeast2")) == "ontario"
    assert codecarbon_region(zone_for("aws", "eu-north-1")) == "SE3"
    assert codecarbon_region(zone_for("azure", "norwaywest")) == "NO2"
    assert codecarbon_region(zone_for("aws", "eu-west-3")) is None
