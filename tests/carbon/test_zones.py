"""Cloud region -> grid zone table: coverage, provenance, overrides, regeneration."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import pytest

from carbon.intensity import IntensityKind, default_zones, embedded_default, known_zones
from carbon.zones import RegionZone, UnknownRegionError, find_region, region_zones, zone_for

REPO = Path(__file__).resolve().parents[2]


def _gpu_regions(shared_data: Path) -> set[tuple[str, str]]:
    out = set()
    for provider, name in (("gcp", "gcp_gpu_offers_2026-04-28.csv"),
                           ("azure", "azure_gpu_offers_2026-04-22.csv")):
        with (shared_data / "pricing" / name).open(encoding="utf-8") as fh:
            out |= {(provider, r["Region"]) for r in csv.DictReader(fh) if r["AcceleratorName"]}
    spot = json.loads((shared_data / "pricing/aws_spot_advisor_2025-06-28.json").read_text())
    gpu_family = re.compile(r"^(p\d|g\d|gr\d)")  # AWS accelerated families: p*, g*, gr*
    for region, by_os in spot["spot_advisor"].items():
        if any(gpu_family.match(t) for t in by_os.get("Linux", {})):
            out.add(("aws", region))
    return out


def test_every_gpu_region_of_the_snapshots_has_a_zone(shared_data):
    table = {(r.provider, r.cloud_region) for r in region_zones()}
    missing = _gpu_regions(shared_data) - table
    assert not missing, f"regions with GPUs but no zone: {sorted(missing)}"
    assert {p for p, _ in table} == {"aws", "gcp", "azure"} and len(table) >= 100


def test_rows_are_complete_and_sourced():
    for r in region_zones():
        assert r.zone and r.country_iso2 and len(r.country_iso3) == 3 and r.city
        assert -90 <= r.lat <= 90 and -180 <= r.lon <= 180
        assert r.confidence in ("high", "medium", "low")
        assert r.location_source and r.zone_basis
        assert "approximate city centre" in r.location_source
    uncertain = [r for r in region_zones() if r.uncertain]
    assert uncertain and all(r.confidence in ("medium", "low") for r in uncertain)


@pytest.mark.parametrize(("provider", "region", "zone", "conf"), [
    ("aws", "us-east-1", "US-MIDA-PJM", "high"),
    ("aws", "eu-west-3", "FR", "high"),
    ("gcp", "europe-west2", "GB", "high"),
    ("gcp", "asia-northeast1", "JP-TK", "high"),
    ("azure", "southcentralus", "US-TEX-ERCO", "high"),
    ("azure", "westeurope", "NL", "high"),
    ("gcp", "us-west2", "US-CAL-LDWP", "low"),
    ("aws", "us-west-2", "US-NW-BPAT", "medium"),
])
def test_spot_checks(provider, region, zone, conf):
    rz = zone_for(provider, region)
    assert (rz.zone, rz.confidence) == (zone, conf)


def test_the_demo_fleet_zones_agree_with_the_table():
    import yaml
    fleet = yaml.safe_load((REPO / "examples" / "fleet.yaml").read_text())
    for r in fleet["regions"]:
        assert zone_for(r["provider"], r["cloud_region"]).zone == r["grid_zone"], r["name"]


def test_overrides_by_string_key_tuple_and_whole_row():
    rz = zone_for("GCP", "us-west2", overrides={"gcp:us-west2": "US-CAL-CISO"})
    assert rz.zone == "US-CAL-CISO" and rz.confidence == "override" and not rz.uncertain
    assert "table said US-CAL-LDWP" in rz.zone_basis and rz.city == "Los Angeles"
    rz = zone_for("aws", "us-east-1", overrides={("aws", "us-east-1"): "US-MIDA-PJM"})
    assert rz.confidence == "override"
    onprem = RegionZone(provider="onprem", cloud_region="x", zone="DE", country_iso3="DEU",
                        lat=50.1, lon=8.7)
    got = zone_for("onprem", "fra-dc1", overrides={"onprem:fra-dc1": onprem})
    assert got.zone == "DE" and got.cloud_region == "fra-dc1"
    assert zone_for("onprem", "y", overrides={"onprem:y": "SE-SE3"}).zone == "SE-SE3"
    with pytest.raises(ValueError, match="'provider:region'"):
        zone_for("aws", "us-east-1", overrides={"us-east-1": "DE"})


def test_unknown_region_names_the_fix():
    with pytest.raises(UnknownRegionError, match="cloud region aws:mars-1 has no grid zone.*"
                                                 "us-east-1.*zone overrides"):
        zone_for("aws", "mars-1")
    with pytest.raises(UnknownRegionError, match="did you mean 'aws:us-east-1'"):
        zone_for("gcp", "us-east-1")


def test_find_region_by_id_alone():
    assert find_region("us-east-1").provider == "aws"
    assert find_region("gcp:us-east4").zone == "US-MIDA-PJM"
    with pytest.raises(UnknownRegionError):
        find_region("nowhere-9")


def test_every_mapped_zone_has_an_embedded_default_hourly_or_flat():
    zones = {r.zone for r in region_zones()}
    assert zones <= known_zones()
    assert default_zones() <= known_zones()
    flat = embedded_default("US-NW-BPAT", start=datetime(2026, 1, 1, 5, tzinfo=UTC), hours=3)
    assert flat.kind is IntensityKind.DEFAULT and len(set(flat.g_per_kwh)) == 1
    assert "flat annual mean 2023, no hourly shape" in flat.source
    assert "us-west1" in flat.source


def test_script_regenerates_the_bundled_tables(shared_data, tmp_path):
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "derive_region_zones.py"),
         "--data-dir", str(shared_data), "--out-dir", str(tmp_path)],
        capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    for name in ("region_zones.csv", "zone_annual_means.csv"):
        bundled = (resources.files("carbon") / "data" / name).read_bytes()
        assert (tmp_path / name).read_bytes() == bundled, f"{name} differs from the bundled copy"
