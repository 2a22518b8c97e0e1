"""The Alibaba openb pod list -> job table converter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from app.replay.convert import convert_openb
from app.replay.jobs import jobs_from_frame

from .conftest import fleet_of


def test_one_pod_becomes_one_job_as_documented():
    pods = pd.DataFrame({
        "name": ["p-be", "p-ls", "p-cpu", "p-pending"], "num_gpu": [2, 1, 0, 1],
        "gpu_milli": [1000, 300, 0, 1000], "gpu_spec": ["", "T4|P100", "", ""],
        "qos": ["BE", "LS", "BE", "BE"], "pod_phase": ["Succeeded", "Running", "Running", "Pending"],
        "creation_time": [3600, 7200, 0, 0], "deletion_time": [3600 + 5400, 20000, 10, 10],
        "scheduled_time": [3600, 7200, 0, None]})
    out = convert_openb(pods, home_region="gb", start=datetime(2023, 1, 1, tzinfo=UTC),
                        accelerator="H100", slack_h=12)
    jobs = out.jobs.set_index("name")
    assert list(jobs.index) == ["p-be", "p-ls"]
    assert out.skipped == {"no_gpu": 1, "never_scheduled": 1, "held_gpus_over_168h": 0}
    be, ls = jobs.loc["p-be"], jobs.loc["p-ls"]
    assert be.submit_time == "2023-01-01T01:00:00Z" and be.duration_h == 1.5
    assert (be.gpus, be.accelerator, be.slack_h, be.team) == (2, "H100", 12.0, "alibaba-be")
    assert (ls.gpus, ls.accelerator, ls.slack_h, ls.censored) == (1, "T4", 0.0, "true")


def test_the_real_openb_trace_converts_into_readable_jobs(shared_data):
    path = shared_data / "cluster_traces" / "alibaba_gpu_v2023" / "openb_pod_list_default.csv"
    pods = pd.read_csv(path)
    out = convert_openb(pods, home_region="gb", accelerator="H100")
    gpu_pods = int(((pods.num_gpu > 0) | (pods.gpu_milli > 0)).sum())
    assert len(out.jobs) + sum(v for k, v in out.skipped.items() if k != "no_gpu") == gpu_pods
    assert len(out.jobs) > 6000
    workloads = jobs_from_frame(out.jobs.astype(str), str(path), fleet_of({"H100": 8, "T4": 8}))
    assert len(workloads) == len(out.jobs)
    start = datetime(2023, 1, 1, tzinfo=UTC)  # the default anchor; the trace spans ~149 days
    assert all(start <= w.earliest_start < start + timedelta(days=150) for w in workloads)
    # short pods dominate (median 11 min held, SOURCES.md); none held over the 7-day cap
    assert max(w.duration_h for w in workloads) <= 168
    assert all(w.deadline >= w.earliest_start + timedelta(hours=w.duration_h) for w in workloads)
