"""Real cluster traces -> job tables for ``gridshift replay`` (app/replay/jobs.py columns).

Alibaba GPU cluster trace v2023 (``openb_pod_list_default.csv``, Weng et al., ATC '23;
provenance in shared/data/SOURCES.md 3a). One pod becomes one job:

==================  =====================================================================
job column          from the pod
==================  =====================================================================
name                ``name``
submit_time         ``start`` + ``creation_time`` seconds (the trace has no absolute
                    date: ``start`` anchors it, default 2023-01-01T00:00Z)
gpus                ``num_gpu``; a GPU-sharing pod (num_gpu 1, ``gpu_milli`` < 1000)
                    is one whole GPU (MIG/sharing is not replayed)
accelerator         ``gpu_spec`` first model mapped (T4 -> T4, A10 -> A10G); empty or
                    undisclosed models (G2, G3, P100, V100*) -> ``accelerator``
duration_h          (``deletion_time`` - ``scheduled_time``) / 3600: the time the pod
                    held its GPUs, at least one minute
slack_h             ``qos`` LS / Guaranteed (latency-sensitive): 0, it must run at once;
                    BE / Burstable: ``slack_h`` (default 12 h)
checkpointable      BE / Burstable pods: ``checkpointable_be`` (default false); others false
home_region, team   ``home_region``; team = ``alibaba-<qos>``
censored            true when the pod was still Running at the trace end (its duration
                    is a lower bound)
==================  =====================================================================

Skipped: pods without GPUs (num_gpu 0 and gpu_milli 0), pods never scheduled (empty
``scheduled_time``: Pending), and pods that held GPUs longer than ``max_duration_h``
(default 7 days: services, not batch jobs). Caveat (SOURCES.md): every deletion is late
in the trace, so the list is a snapshot of pods alive then -- arrivals are not a fair
sample of the whole period (survivorship bias); use it for realistic job shapes.

    python -m app.replay.convert POD_LIST.csv JOBS.csv --home-region R
        [--start 2023-01-01T00:00Z] [--accelerator T4] [--slack-h 12]
        [--checkpointable-be] [--max-duration-h 168]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

OPENB_COLUMNS = ("name", "num_gpu", "gpu_milli", "gpu_spec", "qos", "pod_phase",
                 "creation_time", "deletion_time", "scheduled_time")
GPU_SPEC_MAP = {"T4": "T4", "A10": "A10G"}
FLEXIBLE_QOS = {"BE", "Burstable"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Converted:
    jobs: pd.DataFrame
    skipped: dict[str, int]


def convert_openb(pods: pd.DataFrame, *, home_region: str,
                  start: datetime = datetime(2023, 1, 1, tzinfo=UTC),
                  accelerator: str = "T4", slack_h: float = 12.0,
                  checkpointable_be: bool = False, max_duration_h: float = 168.0) -> Converted:
    """A job table (app/replay/jobs.py) from an openb pod list (module docstring)."""
    missing = [c for c in OPENB_COLUMNS if c not in pods.columns]
    if missing:
        raise ValueError(f"not an openb pod list: column(s) {missing} missing")
    num_gpu = pd.to_numeric(pods["num_gpu"], errors="coerce").fillna(0)
    milli = pd.to_numeric(pods["gpu_milli"], errors="coerce").fillna(0)
    sched = pd.to_numeric(pods["scheduled_time"], errors="coerce")
    created = pd.to_numeric(pods["creation_time"], errors="coerce")
    deleted = pd.to_numeric(pods["deletion_time"], errors="coerce")
    gpu = (num_gpu > 0) | (milli > 0)
    scheduled = sched.notna() & deleted.notna() & created.notna()
    held_h = ((deleted - sched) / 3600.0).clip(lower=1 / 60)
    too_long = held_h > max_duration_h
    keep = gpu & scheduled & ~too_long
    skipped = {"no_gpu": int((~gpu).sum()), "never_scheduled": int((gpu & ~scheduled).sum()),
               f"held_gpus_over_{max_duration_h:g}h": int((gpu & scheduled & too_long).sum())}
    p = pods[keep]
    qos = p["qos"].astype(str)
    flexible = qos.isin(FLEXIBLE_QOS)
    spec = p["gpu_spec"].fillna("").astype(str).str.split("|").str[0].str.strip()
    jobs = pd.DataFrame({
        "name": p["name"].astype(str),
        "submit_time": (pd.Timestamp(start) + pd.to_timedelta(created[keep], unit="s"))
        .dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "gpus": np.maximum(1, num_gpu[keep].astype(int)),
        "accelerator": spec.map(GPU_SPEC_MAP).fillna(accelerator),
        "duration_h": held_h[keep].round(6),
        "slack_h": np.where(flexible, slack_h, 0.0),
        "checkpointable": np.where(flexible & checkpointable_be, "true", "false"),
        "home_region": home_region,
        "team": "alibaba-" + qos.str.lower(),
        "censored": np.where(p["pod_phase"].astype(str) == "Running", "true", "false"),
    })
    return Converted(jobs=jobs.sort_values(["submit_time", "name"]).reset_index(drop=True),
                     skipped=skipped)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="openb pod list -> gridshift replay job table")
    ap.add_argument("pods", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--home-region", required=True)
    ap.add_argument("--start", default="2023-01-01T00:00Z")
    ap.add_argument("--accelerator", default="T4")
    ap.add_argument("--slack-h", type=float, default=12.0)
    ap.add_argument("--checkpointable-be", action="store_true")
    ap.add_argument("--max-duration-h", type=float, default=168.0)
    args = ap.parse_args(argv)
    try:
        start = datetime.fromisoformat(args.start).astimezone(UTC)
        result = convert_openb(pd.read_csv(args.pods), home_region=args.home_region,
                               start=start, accelerator=args.accelerator,
                               slack_h=args.slack_h, checkpointable_be=args.checkpointable_be,
                               max_duration_h=args.max_duration_h)
    except (OSError, ValueError) as exc:
        print(f"convert: {args.pods}: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.out.suffix.lower() in (".parquet", ".pq"):
        result.jobs.to_parquet(args.out, index=False)
    else:
        result.jobs.to_csv(args.out, index=False)
    print(f"{len(result.jobs)} jobs written to {args.out}; skipped: {result.skipped}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
