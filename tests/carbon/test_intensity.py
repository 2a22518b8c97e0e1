"""carbon.intensity: IntensitySeries and the embedded default profiles."""

from __future__ import annotations

import csv
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbon.intensity import (
    IntensityKind,
    IntensitySeries,
    OutsideSeriesError,
    UnknownZoneError,
    default_zones,
    embedded_default,
)

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
BUNDLED = ("intensity_profiles.csv", "power_curve.csv", "gpu_power.csv")
ZONES = {"US-CAL-CISO", "US-TEX-ERCO", "DE", "GB", "SG", "JP-TK", "IN-WE",
         "FR", "US-MIDA-PJM", "BR-CS", "AU-NSW"}
H = timedelta(hours=1)


@pytest.fixture(scope="module")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared/data not found at {SHARED_DATA} (it sits beside the repo in CI)")
    return SHARED_DATA


def _profile_rows() -> list[dict[str, str]]:
    path = resources.files("carbon") / "data" / "intensity_profiles.csv"
    with path.open("r", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


TABLE = {(r["zone"], int(r["month"]), int(r["hour_utc"])): float(r["g_per_kwh"])
         for r in _profile_rows()}


@pytest.fixture(scope="module")
def table() -> dict[tuple[str, int, int], float]:
    return TABLE


def test_zones_and_288_rows_each():
    rows = _profile_rows()
    assert default_zones() == ZONES
    for zone in ZONES:
        cells = {(int(r["month"]), int(r["hour_utc"])) for r in rows if r["zone"] == zone}
        assert len([r for r in rows if r["zone"] == zone]) == 288
        assert cells == {(m, h) for m in range(1, 13) for h in range(24)}
    assert len(rows) == 11 * 288


def test_sources_are_honest():
    by_zone = {r["zone"]: r for r in _profile_rows()}
    for zone in ("US-CAL-CISO", "US-TEX-ERCO", "DE", "GB", "SG", "JP-TK", "IN-WE"):
        assert "Electricity Maps 2023" in by_zone[zone]["source"]
        assert "direct" in by_zone[zone]["source"]
        assert by_zone[zone]["period"] == "2023-01-01T00:00Z/2023-12-31T23:00Z"
    for zone in ("FR", "US-MIDA-PJM", "BR-CS", "AU-NSW"):
        assert "CASPER" in by_zone[zone]["source"]
        assert "not stated" in by_zone[zone]["source"]
        assert by_zone[zone]["period"] == "2021-10-08T10:00Z/2022-10-01T08:00Z"


# SOURCES.md section 1a: mean direct CI 2023.
@pytest.mark.parametrize(("zone", "annual"), [("GB", 129), ("DE", 308), ("IN-WE", 691),
                                              ("JP-TK", 450), ("SG", 369), ("US-CAL-CISO", 194),
                                              ("US-TEX-ERCO", 317)])
def test_profile_mean_matches_the_published_annual_mean(table, zone, annual):
    cells = [table[(zone, m, h)] for m in range(1, 13) for h in range(24)]
    # the day-weighted profile mean is the annual mean (up to rounding); the plain one is close
    days = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    weighted = sum(table[(zone, m, h)] * days[m - 1] for m in range(1, 13) for h in range(24))
    assert weighted / (365 * 24) == pytest.approx(annual, abs=0.6)
    assert sum(cells) / 288 == pytest.approx(annual, abs=1.0)


def test_gb_profile_mean_within_1g_of_the_source_file(shared_data, table):
    path = shared_data / "carbon_intensity/electricitymaps_hourly/GB_2023_hourly.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        values = [float(r["Carbon Intensity gCO₂eq/kWh (direct)"]) for r in csv.DictReader(fh)]
    assert len(values) == 8760
    file_mean = sum(values) / len(values)
    profile_mean = sum(table[("GB", m, h)] for m in range(1, 13) for h in range(24)) / 288
    assert abs(profile_mean - file_mean) < 1.0


def test_gb_january_midnight_cell_is_the_mean_of_its_31_hours(shared_data, table):
    path = shared_data / "carbon_intensity/electricitymaps_hourly/GB_2023_hourly.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        jan0 = [float(r["Carbon Intensity gCO₂eq/kWh (direct)"]) for r in csv.DictReader(fh)
                if r["Datetime (UTC)"].startswith("2023-01-")
                and r["Datetime (UTC)"][11:13] == "00"]
    assert len(jan0) == 31
    assert table[("GB", 1, 0)] == pytest.approx(sum(jan0) / 31, abs=0.05)


def test_embedded_default_crosses_a_month_boundary(table):
    s = embedded_default("GB", start=datetime(2026, 11, 30, 20, tzinfo=UTC), hours=10)
    assert s.kind is IntensityKind.DEFAULT
    assert s.start == datetime(2026, 11, 30, 20, tzinfo=UTC)
    assert s.end == datetime(2026, 12, 1, 6, tzinfo=UTC)
    expected = ([table[("GB", 11, h)] for h in range(20, 24)]
                + [table[("GB", 12, h)] for h in range(6)])
    assert list(s.g_per_kwh) == expected
    assert s.at(datetime(2026, 12, 1, 0, 30, tzinfo=UTC)) == table[("GB", 12, 0)]
    assert s.at(datetime(2026, 11, 30, 23, 59, tzinfo=UTC)) == table[("GB", 11, 23)]
    assert "embedded-default" in s.source and "Electricity Maps 2023" in s.source
    assert "mean by month x UTC hour" in s.source


def test_embedded_default_crosses_the_year_and_floors_to_the_hour(table):
    s = embedded_default("FR", start=datetime(2026, 12, 31, 22, 45, 12, tzinfo=UTC), hours=4)
    assert s.start == datetime(2026, 12, 31, 22, tzinfo=UTC)
    assert list(s.g_per_kwh) == [table[("FR", 12, 22)], table[("FR", 12, 23)],
                                 table[("FR", 1, 0)], table[("FR", 1, 1)]]


def test_non_utc_start_is_converted_to_utc(table):
    ist = timezone(timedelta(hours=5, minutes=30))
    s = embedded_default("IN-WE", start=datetime(2026, 6, 1, 5, 30, tzinfo=ist), hours=2)
    assert s.start == datetime(2026, 6, 1, 0, tzinfo=UTC)
    assert s.start.tzinfo is UTC
    assert s.g_per_kwh == (table[("IN-WE", 6, 0)], table[("IN-WE", 6, 1)])


@settings(deadline=None)  # the CI machine is shared: no wall-clock limits
@given(st.sampled_from(sorted(ZONES)),
       st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                    timezones=st.just(UTC)),
       st.integers(1, 24 * 40))
def test_every_hour_takes_its_month_and_utc_hour_row(zone, start, hours):
    s = embedded_default(zone, start=start, hours=hours)
    assert len(s.g_per_kwh) == hours
    for i in range(0, hours, 7):
        t = s.start + i * H
        assert s.g_per_kwh[i] == TABLE[(zone, t.month, t.hour)]
        assert s.at(t + timedelta(minutes=59)) == s.g_per_kwh[i]


def test_naive_start_is_rejected():
    with pytest.raises(ValueError, match="start .* naive"):
        embedded_default("GB", start=datetime(2026, 1, 1), hours=3)
    with pytest.raises(ValueError, match="naive"):
        IntensitySeries(zone="GB", start=datetime(2026, 1, 1), g_per_kwh=(1.0,), source="t",
                        kind=IntensityKind.ACTUAL)


@pytest.mark.parametrize("hours", [0, -3, 2.5, True])
def test_hours_must_be_a_positive_whole_number(hours):
    with pytest.raises(ValueError, match="hours"):
        embedded_default("GB", start=datetime(2026, 1, 1, tzinfo=UTC), hours=hours)


def test_unknown_zone_error_lists_known_zones():
    with pytest.raises(UnknownZoneError) as err:
        embedded_default("XX", start=datetime(2026, 1, 1, tzinfo=UTC), hours=1)
    msg = str(err.value)
    assert msg.startswith("grid zone 'XX' has no embedded default intensity")
    assert "give a trace file or another zone" in msg
    for zone in ZONES:
        assert zone in msg
    assert isinstance(err.value, ValueError)
    with pytest.raises(UnknownZoneError, match="did you mean 'GB'"):
        embedded_default("gb", start=datetime(2026, 1, 1, tzinfo=UTC), hours=1)


def test_series_at_end_and_mean():
    t0 = datetime(2026, 3, 1, 0, tzinfo=UTC)
    s = IntensitySeries(zone="Z", start=t0, g_per_kwh=(100, 200, 300), source="test",
                        kind="forecast", fetched_at=datetime(2026, 2, 28, 23, 5, tzinfo=UTC))
    assert s.g_per_kwh == (100.0, 200.0, 300.0)
    assert s.kind is IntensityKind.FORECAST
    assert s.end == t0 + 3 * H
    assert s.mean_g_per_kwh() == pytest.approx(200.0)
    assert s.at(t0) == 100.0
    assert s.at(t0 + timedelta(hours=1, minutes=59, seconds=59)) == 200.0
    assert s.at(t0 + timedelta(hours=2, minutes=30)) == 300.0
    with pytest.raises(OutsideSeriesError) as err:
        s.at(t0 + 3 * H)
    assert isinstance(err.value, KeyError)
    assert "outside the intensity series of zone 'Z'" in str(err.value)
    assert "2026-03-01T00:00Z to 2026-03-01T03:00Z" in str(err.value)
    with pytest.raises(KeyError):
        s.at(t0 - timedelta(seconds=1))
    with pytest.raises(ValueError, match="naive"):
        s.at(datetime(2026, 3, 1, 1))


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"start": datetime(2026, 3, 1, 0, 30, tzinfo=UTC)}, "not on the hour"),
    ({"g_per_kwh": ()}, "empty"),
    ({"g_per_kwh": (1.0, -5.0)}, r"g_per_kwh\[1\]"),
    ({"kind": "guess"}, "kind"),
])
def test_series_validation(kwargs, match):
    args = {"zone": "Z", "start": datetime(2026, 3, 1, tzinfo=UTC), "g_per_kwh": (1.0,),
            "source": "test", "kind": IntensityKind.ACTUAL} | kwargs
    with pytest.raises(ValueError, match=match):
        IntensitySeries(**args)


def test_series_is_frozen():
    s = embedded_default("SG", start=datetime(2026, 1, 1, tzinfo=UTC), hours=2)
    with pytest.raises(AttributeError):
        s.zone = "GB"  # type: ignore[misc]


def test_script_regenerates_the_bundled_csvs(shared_data, tmp_path):
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "derive_carbon_defaults.py"),
         "--data-dir", str(shared_data), "--out-dir", str(tmp_path)],
        capture_output=True, text=True, check=False, timeout=300)
    assert result.returncode == 0, result.stderr
    for name in BUNDLED:
        bundled = (resources.files("carbon") / "data" / name).read_bytes()
        assert (tmp_path / name).read_bytes() == bundled, f"{name} differs from the bundled copy"
