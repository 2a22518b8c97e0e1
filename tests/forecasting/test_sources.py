"""Loaders: files, job tables and request logs into ``unique_id, ds, y``; the shared traces."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting import InputDataError, SourceError, forecast
from forecasting.sources.files import read_history
from forecasting.sources.traces import (
    alibaba_gpus_in_use,
    alibaba_lora_requests,
    electricitymaps_hourly,
)
from forecasting.sources.usage import events_per_step, gpus_in_use
from tests.forecasting.synth import hourly

T0 = pd.Timestamp("2024-01-01T00:00Z")


def test_csv_and_parquet_read_to_the_same_frame(tmp_path):
    df = hourly(2, days=2)
    df.to_csv(tmp_path / "h.csv", index=False)
    df.to_parquet(tmp_path / "h.parquet")
    a = read_history(tmp_path / "h.csv", id_col="unique_id")
    b = read_history(tmp_path / "h.parquet")
    assert list(a.columns) == ["unique_id", "ds", "y"]
    np.testing.assert_allclose(a["y"], b["y"], rtol=1e-12)
    assert a["unique_id"].tolist() == b["unique_id"].tolist()


def test_other_column_names_are_mapped_and_a_file_without_ids_is_one_series(tmp_path):
    pd.DataFrame({"time": ["2024-01-01T00:00Z"], "gpus": [3]}).to_csv(tmp_path / "eu-1.csv",
                                                                      index=False)
    out = read_history(tmp_path / "eu-1.csv", time_col="time", value_col="gpus")
    assert out.to_dict("records") == [{"unique_id": "eu-1", "ds": "2024-01-01T00:00Z", "y": 3}]


@pytest.mark.parametrize(("name", "kwargs", "match"), [
    ("h.csv", {"value_col": "load"}, "no column 'load'.*--value-col"),
    ("h.csv", {"id_col": "cluster"}, "no column 'cluster'.*--id-col"),
    ("missing.csv", {}, "no such file"),
    ("h.xlsx", {}, "unknown file type"),
])
def test_file_problems_name_the_file_the_column_and_the_fix(tmp_path, name, kwargs, match):
    hourly(1, days=1).to_csv(tmp_path / "h.csv", index=False)
    (tmp_path / "h.xlsx").write_text("x")
    with pytest.raises(SourceError, match=match):
        read_history(tmp_path / name, **kwargs)


def _write(path, text, *, bom=False):
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    return path


def test_a_file_with_several_series_and_no_id_column_is_refused(tmp_path):
    df = hourly(["eu", "us"], days=1).rename(columns={"unique_id": "cluster"})
    df.to_csv(tmp_path / "fleet.csv", index=False)
    with pytest.raises(SourceError, match=r"fleet.csv: looks like several series.*24 of 48 rows "
                       r"repeat.*\['cluster'\]; fix: .*--id-col \(e.g. --id-col cluster\)"):
        read_history(tmp_path / "fleet.csv")
    assert read_history(tmp_path / "fleet.csv", id_col="cluster")["unique_id"].nunique() == 2


@pytest.mark.parametrize(("text", "rows"), [
    ("ds,y\n2024-01-01T00:00Z,1\n2024-01-01T00:00Z,3\n2024-01-01T01:00Z,2\n", 3),
    ("ds,y,note\n2024-01-01T00:00Z,1,a\n2024-01-01T01:00Z,2,a\n", 2),
    # a written-out row index numbers rows, not series: duplicates are averaged later
    (",ds,y\n0,2024-01-01T00:00Z,1\n1,2024-01-01T00:00Z,3\n2,2024-01-01T01:00Z,2\n", 3),
    # ... even when it repeats (frames concatenated before writing)
    (",ds,y\n0,2024-01-01T00:00Z,1\n0,2024-01-01T00:00Z,3\n1,2024-01-01T01:00Z,2\n", 3),
    # a column with one value (metadata) cannot be the series key
    ("ds,y,region\n2024-01-01T00:00Z,1,eu\n2024-01-01T00:00Z,3,eu\n2024-01-01T01:00Z,2,eu\n", 3),
])
def test_a_file_without_ids_is_one_series_if_only_duplicates_or_only_extra_columns(
        tmp_path, text, rows):
    out = read_history(_write(tmp_path / "eu.csv", text))
    assert out["unique_id"].tolist() == ["eu"] * rows


@pytest.mark.parametrize(("name", "text", "bom"), [
    ("excel.csv", "ds;y\r\n2024-01-01T00:00Z;1.5\r\n2024-01-01T01:00Z;2\r\n", True),
    ("tabs.csv", "ds\ty\n2024-01-01T00:00Z\t1.5\n2024-01-01T01:00Z\t2\n", False),
    ("commas.tsv", "ds,y\n2024-01-01T00:00Z,1.5\n2024-01-01T01:00Z,2\n", False),
    ("bom.csv", "ds,y\n2024-01-01T00:00Z,1.5\n2024-01-01T01:00Z,2\n", True),
])
def test_the_separator_comes_from_the_header_not_the_extension(tmp_path, name, text, bom):
    out = read_history(_write(tmp_path / name, text, bom=bom))
    assert out["ds"].tolist() == ["2024-01-01T00:00Z", "2024-01-01T01:00Z"]
    assert out["y"].tolist() == [1.5, 2.0]


def test_decimal_commas_in_a_semicolon_file_are_numbers_only_when_unambiguous(tmp_path):
    text = "cluster;ds;y\neu;2024-01-01T00:00Z;1,5\neu;2024-01-01T01:00Z;-2\n"
    out = read_history(_write(tmp_path / "eu.csv", text, bom=True), id_col="cluster")
    assert out["y"].tolist() == [1.5, -2.0]
    mixed = read_history(_write(tmp_path / "mixed.csv", "ds;y\n2024-01-01T00:00Z;1.234,5\n"))
    assert mixed["y"].tolist() == ["1.234,5"]      # left as read: frame.prepare reports it


def test_a_one_cell_header_that_holds_a_separator_says_which(tmp_path):
    path = _write(tmp_path / "h.csv", '"ds;y"\n"2024-01-01T00:00Z;1"\n')
    with pytest.raises(SourceError, match=r"header is one column 'ds;y', which contains "
                       r"semicolon ';' but was read with separator comma ','"):
        read_history(path)


def test_gpus_in_use_is_time_weighted_per_hour():
    jobs = pd.DataFrame({
        "start": [T0, T0 + pd.Timedelta(minutes=30), T0 + pd.Timedelta(hours=1)],
        "end": [T0 + pd.Timedelta(hours=2), T0 + pd.Timedelta(minutes=90), None],
        "gpus": [2.0, 4.0, 1.0],
        "cluster": ["eu", "eu", "us"]})
    out = gpus_in_use(jobs, id_cols=["cluster"], until=T0 + pd.Timedelta(hours=3))
    eu = out[out["unique_id"] == "eu"]["y"].tolist()
    us = out[out["unique_id"] == "us"]["y"].tolist()
    assert eu == pytest.approx([2 + 4 * 0.5, 2 + 4 * 0.5, 0.0])
    assert us == pytest.approx([0.0, 1.0, 1.0])            # still running until 'until'


def test_gpus_in_use_rejects_a_job_that_ends_before_it_starts():
    jobs = pd.DataFrame({"start": [T0 + pd.Timedelta(hours=2)], "end": [T0], "gpus": [1]})
    with pytest.raises(SourceError, match="row 2: ends .* before it starts"):
        gpus_in_use(jobs, until=T0 + pd.Timedelta(hours=5))


def test_gpus_in_use_wants_zone_aware_times():
    jobs = pd.DataFrame({"start": ["2024-01-01 00:00"], "end": ["2024-01-01 02:00"], "gpus": [1]})
    with pytest.raises(SourceError, match="no time zone"):
        gpus_in_use(jobs)


def test_gpus_in_use_counts_jobs_without_an_end_until_until():
    jobs = pd.DataFrame({"start": [T0, T0 + pd.Timedelta(hours=1)], "end": [None, None],
                         "gpus": [2, 1]})
    out = gpus_in_use(jobs, until=T0 + pd.Timedelta(hours=3))
    assert out["y"].tolist() == pytest.approx([2.0, 3.0, 3.0])
    assert gpus_in_use(jobs)["y"].tolist() == pytest.approx([2.0])   # default: latest start


def test_gpus_in_use_asks_for_until_when_running_jobs_span_no_step():
    jobs = pd.DataFrame({"start": [T0], "end": [None], "gpus": [1]})
    with pytest.raises(SourceError, match=r"less than one whole step; fix: pass until .*1 job"):
        gpus_in_use(jobs)


@pytest.mark.parametrize("until", [pd.Timestamp("2024-01-01 03:00"), "2024-01-01 03:00", "soon"])
def test_gpus_in_use_wants_until_as_a_time_with_a_zone(until):
    jobs = pd.DataFrame({"start": [T0], "end": [T0 + pd.Timedelta(hours=2)], "gpus": [1]})
    with pytest.raises(InputDataError, match=r"jobs: field 'until': .*(no time zone|not a time)"):
        gpus_in_use(jobs, until=until)


@pytest.mark.parametrize("freq", ["abc", "MS", "0h"])
def test_gpus_in_use_and_events_per_step_want_a_fixed_freq(freq):
    jobs = pd.DataFrame({"start": [T0], "end": [T0 + pd.Timedelta(hours=2)], "gpus": [1]})
    match = rf"^freq: '{freq}' (is not a fixed-length pandas frequency|has no positive length)"
    with pytest.raises(InputDataError, match=match):
        gpus_in_use(jobs, freq=freq)
    with pytest.raises(InputDataError, match=match):
        events_per_step(pd.DataFrame({"t": [T0]}), time_col="t", freq=freq)


def test_gpus_in_use_rejects_a_job_that_starts_after_until():
    jobs = pd.DataFrame({"start": [T0, T0 + pd.Timedelta(hours=5)],
                         "end": [T0 + pd.Timedelta(hours=1), None], "gpus": [1, 1]})
    with pytest.raises(SourceError, match=r"field 'start': row 3: starts .* after until"):
        gpus_in_use(jobs, until=T0 + pd.Timedelta(hours=3))


def test_events_per_step_counts_with_zeros_in_quiet_steps():
    t = [T0, T0 + pd.Timedelta(minutes=5), T0 + pd.Timedelta(hours=2, minutes=1)]
    out = events_per_step(pd.DataFrame({"t": t}), time_col="t")
    assert out["y"].tolist() == [2.0, 0.0, 1.0]
    assert out["unique_id"].unique().tolist() == ["requests"]


def test_alibaba_gpu_trace_gives_an_hourly_series_from_where_the_pod_list_is_complete(shared_data):
    path = shared_data / "cluster_traces" / "alibaba_gpu_v2023" / "openb_pod_list_default.csv"
    full = alibaba_gpus_in_use(path, unbiased_only=False)
    out = alibaba_gpus_in_use(path)
    pods = pd.read_csv(path)
    first = pd.Timestamp("2023-01-01T00:00Z") + pd.Timedelta(seconds=pods["deletion_time"].min())
    assert out["ds"].min() == first.ceil("h")
    assert (out["ds"].diff().dropna() == pd.Timedelta(hours=1)).all()
    assert out["y"].between(0, 1213 * 8).all()                 # at most every GPU node x 8
    assert full["y"].iloc[:24].mean() < out["y"].mean()        # survivorship: early count is low


def test_alibaba_lora_trace_counts_every_request_once(shared_data):
    path = shared_data / "cluster_traces" / "alibaba_genai_2026" / "lora_request_trace.csv"
    out = alibaba_lora_requests(path)
    assert out["y"].sum() == len(pd.read_csv(path))
    assert (out["y"] > 0).sum() == 370                         # SOURCES.md: 370 non-empty hours


def test_shared_carbon_trace_forecasts_a_day_ahead(shared_data):
    path = shared_data / "carbon_intensity" / "electricitymaps_hourly" / "GB_2023_hourly.csv"
    hist = electricitymaps_hourly(path).iloc[:28 * 24]
    out = forecast(hist, horizon=24, n_windows=1)
    assert out.values["unique_id"].unique().tolist() == ["GB"]
    assert np.isfinite(out.values["mean"]).all() and (out.values["lo-80"] >= 0).all()
    assert set(out.scores["model"]) == {"seasonal_naive", "stl_ets", "weekly_naive", "median"}


def test_gpus_in_use_reads_job_times_by_their_own_offsets_across_dst():
    jobs = pd.DataFrame({"start": ["2024-03-31T00:00+01:00", "2024-03-31T05:00+02:00"],
                         "end": ["2024-03-31T02:00+01:00", "2024-03-31T07:00+02:00"],
                         "gpus": [2, 4]})
    out = gpus_in_use(jobs).set_index("ds")["y"]
    assert out[pd.Timestamp("2024-03-30T23:00Z")] == 2.0       # 00:00+01:00
    assert out[pd.Timestamp("2024-03-31T03:00Z")] == 4.0       # 05:00+02:00
    assert out[pd.Timestamp("2024-03-31T01:00Z")] == 0.0


def test_gpus_in_use_refuses_a_naive_time_among_zoned_ones():
    # pandas alone would give the naive time the previous value's offset, silently
    jobs = pd.DataFrame({"start": ["2024-01-01T00:00+02:00", "2024-01-01 01:00"],
                         "end": ["2024-01-01T03:00+02:00", "2024-01-01T04:00+02:00"],
                         "gpus": [1, 1]})
    with pytest.raises(SourceError, match=r"field 'start': row 3: time '2024-01-01 01:00' has no "
                                          r"time zone"):
        gpus_in_use(jobs)


@pytest.mark.parametrize(("start", "message"), [
    ("yesterday", r"row 3: time 'yesterday' cannot be read; fix: use ISO 8601"),
    ("2024-01-01T01:00+0x:00", r"row 3: time '2024-01-01T01:00\+0x:00' cannot be read"),
])
def test_gpus_in_use_names_the_row_of_a_time_it_cannot_read(start, message):
    # rows count as the file shows them: the header is row 1, the first job row 2
    jobs = pd.DataFrame({"start": ["2024-01-01T00:00Z", start],
                         "end": ["2024-01-01T03:00Z", "2024-01-01T04:00Z"], "gpus": [1, 1]})
    with pytest.raises(SourceError, match=rf"field 'start': {message}"):
        gpus_in_use(jobs)


def test_gpus_in_use_says_how_to_name_a_differently_named_column():
    jobs = pd.DataFrame({"start": [T0], "end": [T0 + pd.Timedelta(hours=2)], "num_gpu": [1]})
    with pytest.raises(SourceError, match=r"field 'gpus': no column 'gpus'.*--gpus-col"):
        gpus_in_use(jobs)
    assert gpus_in_use(jobs, gpus="num_gpu")["y"].tolist() == [1.0, 1.0]
