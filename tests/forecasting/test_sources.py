"""Loaders: files, job tables and request logs into ``unique_id, ds, y``; the shared traces."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting import SourceError, forecast
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
    with pytest.raises(SourceError, match="row 0: ends .* before it starts"):
        gpus_in_use(jobs, until=T0 + pd.Timedelta(hours=5))


def test_gpus_in_use_wants_zone_aware_times():
    jobs = pd.DataFrame({"start": ["2024-01-01 00:00"], "end": ["2024-01-01 02:00"], "gpus": [1]})
    with pytest.raises(SourceError, match="no time zone"):
        gpus_in_use(jobs)


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
