"""The public traces in shared/data (provenance: shared/data/SOURCES.md) as usage series.

Alibaba GPU cluster, cluster-trace-gpu-v2023 (Weng et al., USENIX ATC '23),
``openb_pod_list_default.csv``: pods with ``num_gpu``, ``gpu_milli`` and
``scheduled_time`` / ``deletion_time`` in seconds from the trace start (no absolute date; the
series is placed at ``ALIBABA_ORIGIN``, so weekdays are arbitrary). GPUs held by a pod are
``num_gpu * gpu_milli / 1000`` (``gpu_milli`` is the share of one GPU when ``num_gpu == 1`` and
1000 otherwise); pods never scheduled hold none. Survivorship: every listed pod was deleted at
or after the earliest ``deletion_time`` (about 9.96 M s), so pods that ended earlier are
missing and the count before that time is biased low. From then on, every pod alive is
listed, so ``alibaba_gpus_in_use`` starts there by default (``unbiased_only=True``).

Alibaba GenAI LoRA serving trace (cluster-trace-v2026-GenAI, ``lora_request_trace.csv``):
one row per request, ``gmt_create`` anonymised and without a stated zone (China local time is
likely, so it is read as Asia/Shanghai). Demand is requests per hour.

Electricity Maps hourly carbon intensity (via HewlettPackard/green-dcc), gCO2eq/kWh, UTC.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.errors import SourceError
from forecasting.sources.usage import events_per_step, gpus_in_use

ALIBABA_ORIGIN = pd.Timestamp("2023-01-01T00:00Z")
LORA_TZ = "Asia/Shanghai"
CI_COLUMNS = {"direct": "Carbon Intensity gCO₂eq/kWh (direct)",
              "lca": "Carbon Intensity gCO₂eq/kWh (LCA)"}


def _csv(path: str | Path, needed: list[str]) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise SourceError(str(path), "no such file", fix="check the path to shared/data")
    table = pd.read_csv(path)
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise SourceError(str(path), f"missing column(s) {missing}", fix="pass the original file")
    return table


def alibaba_gpus_in_use(path: str | Path, *, unbiased_only: bool = True,
                        origin: pd.Timestamp = ALIBABA_ORIGIN) -> pd.DataFrame:
    """Hourly GPUs in use in the Alibaba openb cluster (unique_id ``alibaba-openb``)."""
    pods = _csv(path, ["num_gpu", "gpu_milli", "scheduled_time", "deletion_time"])
    pods = pods[pods["scheduled_time"].notna() & (pods["num_gpu"] > 0)]
    jobs = pd.DataFrame({
        "start": origin + pd.to_timedelta(pods["scheduled_time"], unit="s"),
        "end": origin + pd.to_timedelta(pods["deletion_time"], unit="s"),
        "gpus": np.where(pods["num_gpu"] == 1, pods["gpu_milli"] / 1000, pods["num_gpu"]),
        "cluster": "alibaba-openb"})
    series = gpus_in_use(jobs, id_cols=["cluster"], source=str(path))
    if unbiased_only:
        complete_from = origin + pd.to_timedelta(pods["deletion_time"].min(), unit="s")
        series = series[series["ds"] >= complete_from.ceil("h")].reset_index(drop=True)
    return series


def alibaba_lora_requests(path: str | Path) -> pd.DataFrame:
    """Hourly LoRA serving requests (unique_id ``alibaba-lora``), zeros in quiet hours."""
    table = _csv(path, ["gmt_create"])
    times = pd.to_datetime(table["gmt_create"]).dt.tz_localize(LORA_TZ).dt.tz_convert("UTC")
    return events_per_step(pd.DataFrame({"t": times}), time_col="t", default_id="alibaba-lora",
                           source=str(path))


def electricitymaps_hourly(path: str | Path, *, kind: str = "direct") -> pd.DataFrame:
    """Hourly carbon intensity of one zone file (unique_id = the file's Zone Id)."""
    col = CI_COLUMNS[kind]
    table = _csv(path, ["Datetime (UTC)", "Zone Id", col])
    return pd.DataFrame({"unique_id": table["Zone Id"].astype(str),
                         "ds": pd.to_datetime(table["Datetime (UTC)"]).dt.tz_localize("UTC"),
                         "y": table[col].astype(float)})
