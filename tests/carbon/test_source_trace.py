"""Trace files read as they are: the real shared/data formats, Parquet, custom columns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from carbon.intensity import IntensityKind
from carbon.repair import RepairPolicy
from carbon.sources import BadResponse, IntensityQuery, NotCovered, TraceFile, TraceSource
from carbon.sources.trace import PRESETS, TraceFormat, detect_format, read_trace

H = timedelta(hours=1)
CI = "carbon_intensity"


def test_electricitymaps_file_with_two_years(shared_data):
    d = shared_data / CI / "electricitymaps_hourly"
    a, f = read_trace(TraceFile(zone="GB", paths=(d / "GB_2022_hourly.csv",
                                                  d / "GB_2023_hourly.csv")))
    assert f is None and len(a.g_per_kwh) == 2 * 8760 and not a.notes
    assert a.start == datetime(2022, 1, 1, tzinfo=UTC)
    assert a.at(datetime(2023, 1, 1, 0, tzinfo=UTC)) == 62.55  # first 2023 row of the file
    assert abs(a.window(datetime(2023, 1, 1, tzinfo=UTC), 8760).mean_g_per_kwh() - 129) < 1


def test_zone_id_column_is_checked(shared_data):
    f = shared_data / CI / "electricitymaps_hourly" / "DE-LU_2023_hourly.csv"
    with pytest.raises(ValueError, match="'Zone Id' is \\['DE'\\], not 'DE-LU'"):
        read_trace(TraceFile(zone="DE-LU", paths=(f,)))


def test_dacf_file_gives_actuals_and_the_published_day_ahead_forecast(shared_data):
    f = shared_data / CI / "dacf_dayahead_forecasts_2021" / "DE_dayahead_ci_forecast_vs_actual.csv"
    src = TraceSource([TraceFile(zone="DE", paths=(f,))])
    q = IntensityQuery(zone="DE", start=datetime(2021, 7, 1, tzinfo=UTC), hours=2)
    assert src.actual(q).g_per_kwh == (334.8, 286.93)
    fc = src.forecast(q)
    assert fc.g_per_kwh == (289.74, 280.96) and fc.kind is IntensityKind.FORECAST
    assert "DACF day-ahead forecast" in fc.source


def test_naive_dacf_timestamps_are_read_as_utc(shared_data):
    f = shared_data / CI / "dacf_hourly_actuals_2020_2021" / "CISO_hourly_ci_and_generation.csv"
    a, _ = read_trace(TraceFile(zone="US-CAL-CISO", paths=(f,)))
    assert a.start == datetime(2020, 1, 1, tzinfo=UTC) and len(a.g_per_kwh) == 17544
    assert a.g_per_kwh[:2] == (242.9, 291.9)


def test_lets_wait_awhile_sub_hourly_is_averaged_with_a_note(shared_data):
    f = shared_data / CI / "lets_wait_awhile_2020" / "ger_ci.csv"
    with pytest.warns(UserWarning, match="sub-hourly"):
        a, _ = read_trace(TraceFile(zone="DE", paths=(f,)))
    raw = pd.read_csv(f, nrows=4)["Carbon Intensity"]
    assert a.g_per_kwh[0] == pytest.approx(raw.mean())


def test_casper_unsorted_unix_seconds_with_a_region_column(shared_data):
    f = shared_data / CI / "casper_aws_regions_hourly_ci.csv"
    with pytest.warns(UserWarning, match="out of time order; sorted"):
        a, _ = read_trace(TraceFile(zone="FR", paths=(f,), value_column="eu-west-3"))
    assert a.start == datetime(2021, 10, 8, 10, tzinfo=UTC) and len(a.g_per_kwh) == 8591
    assert a.at(datetime.fromtimestamp(1659492000, UTC)) == 112.0


def test_presets_are_detected_from_the_header():
    assert detect_format(["UTC time", "carbon_intensity", "carbon_from_src_forecasts"]) is \
        PRESETS["dacf"]
    assert detect_format(["Time", "Carbon Intensity"]) is PRESETS["lets-wait-awhile"]
    with pytest.raises(ValueError, match="matches no known format"):
        detect_format(["when", "what"])


def test_parquet_with_a_column_mapping(tmp_path):
    t = pd.date_range("2026-01-01", periods=48, freq="h", tz="UTC")
    pd.DataFrame({"ts": t, "gco2": range(48)}).to_parquet(tmp_path / "z.parquet")
    src = TraceSource([TraceFile(zone="Z", paths=(tmp_path / "z.parquet",),
                                 format=TraceFormat(time_column="ts", value_column="gco2"))])
    s = src.actual(IntensityQuery(zone="Z", start=t[10].to_pydatetime(), hours=3))
    assert s.g_per_kwh == (10, 11, 12)
    with pytest.raises(NotCovered, match="no forecast column"):
        src.forecast(IntensityQuery(zone="Z", start=t[10].to_pydatetime(), hours=3))
    with pytest.raises(NotCovered, match="covers 2026-01-01T00:00Z to 2026-01-03T00:00Z"):
        src.actual(IntensityQuery(zone="Z", start=t[47].to_pydatetime(), hours=3))
    with pytest.raises(NotCovered, match="no trace file for zone 'Y'"):
        src.actual(IntensityQuery(zone="Y", start=t[0].to_pydatetime(), hours=1))


def _local_csv(tmp_path, rows):
    f = tmp_path / "local.csv"
    f.write_text("t,v\n" + "\n".join(f"{a},{b}" for a, b in rows) + "\n")
    return f


def test_local_time_with_an_ambiguous_dst_hour_is_refused_then_inferred(tmp_path):
    # 2025-10-26: London clocks go back at 02:00 BST, so 01:00-01:59 happens twice
    rows = [("2025-10-26 00:00", 1), ("2025-10-26 01:00", 2), ("2025-10-26 01:00", 3),
            ("2025-10-26 02:00", 4)]
    fmt = TraceFormat(time_column="t", value_column="v", naive_tz="Europe/London")
    src = TraceSource([TraceFile(zone="GB", paths=(_local_csv(tmp_path, rows),), format=fmt)])
    q = IntensityQuery(zone="GB", start=datetime(2025, 10, 25, 23, tzinfo=UTC), hours=4)
    with pytest.raises(BadResponse, match="not unique or does not exist around a DST change"):
        src.actual(q)
    ok = TraceSource([TraceFile(zone="GB", paths=(_local_csv(tmp_path, rows),), format=fmt,
                                repair=RepairPolicy(ambiguous="infer"))])
    with pytest.warns(UserWarning, match="Europe/London local time"):
        assert ok.actual(q).g_per_kwh == (1, 2, 3, 4)


def test_naive_timestamps_without_a_declared_zone_are_refused(tmp_path):
    f = _local_csv(tmp_path, [("2026-01-01 00:00", 1)])
    src = TraceSource([TraceFile(zone="Z", paths=(f,), format=TraceFormat(time_column="t",
                                                                          value_column="v"))])
    with pytest.raises(BadResponse, match="no time zone.*naive_tz='UTC'"):
        src.actual(IntensityQuery(zone="Z", start=datetime(2026, 1, 1, tzinfo=UTC), hours=1))


def test_missing_file_and_missing_column(tmp_path):
    src = TraceSource([TraceFile(zone="Z", paths=(tmp_path / "nope.csv",))])
    with pytest.raises(BadResponse, match="no such file"):
        src.actual(IntensityQuery(zone="Z", start=datetime(2026, 1, 1, tzinfo=UTC), hours=1))
    f = _local_csv(tmp_path, [("2026-01-01T00:00Z", 1)])
    src = TraceSource([TraceFile(zone="Z", paths=(f,), format=TraceFormat(time_column="t",
                                                                          value_column="ci"))])
    with pytest.raises(BadResponse, match=r"column\(s\) \['ci'\] not in the file"):
        src.actual(IntensityQuery(zone="Z", start=datetime(2026, 1, 1, tzinfo=UTC), hours=1))
