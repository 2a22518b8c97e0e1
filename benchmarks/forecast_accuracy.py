"""Forecast accuracy and interval coverage on the real traces in shared/data.

For each data set, rolling origins: at each origin the history before it goes through
``forecasting.forecast`` exactly as a user would call it (48 h horizon, 80 % intervals), and
the next 48 hours are scored:

    MASE      mean |y - yhat| over the 48 h / in-sample seasonal-naive (m = 24) MAE of the
              history given; averaged over origins and series
    coverage  share of the 48 h actuals inside [lo-80, hi-80], pooled

for the automatic choice (``models="auto"``), the slower ``models="thorough"`` (auto plus
ARIMA on STL/MSTL), each candidate on its own, and the auto choice with uncalibrated
intervals (``calibrate=False``). Target (issue 5): auto MASE <= 0.8 x seasonal
naive MASE, coverage 75-85 %.

Data (shared/data/SOURCES.md): Electricity Maps hourly direct carbon intensity 2023, 7 zones
(via HewlettPackard/green-dcc); Alibaba cluster-trace-gpu-v2023 openb pods -> hourly GPUs in
use, from the time the pod list is complete; Alibaba cluster-trace-v2026-GenAI LoRA requests
-> requests per hour.

    .venv/bin/python benchmarks/forecast_accuracy.py [--data PATH] [--sets carbon,gpu,lora]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting import forecast
from forecasting.metrics import seasonal_scale
from forecasting.models import THOROUGH
from forecasting.sources.traces import (
    alibaba_gpus_in_use,
    alibaba_lora_requests,
    electricitymaps_hourly,
)

HORIZON = 48
LEVEL = 80
ZONES = ("DE-LU", "GB", "US-CAL-CISO", "US-TEX-ERCO", "SG", "JP-TK", "IN-WE")


Dataset = tuple[pd.DataFrame, list[pd.Timestamp], int]


def datasets(data: Path, which: set[str]) -> dict[str, Dataset]:
    """name -> (frame, origins, history hours given to forecast())."""
    out = {}
    if "carbon" in which:
        ci = data / "carbon_intensity" / "electricitymaps_hourly"
        frame = pd.concat([electricitymaps_hourly(ci / f"{z}_2023_hourly.csv") for z in ZONES],
                          ignore_index=True)
        origins = list(pd.date_range("2023-04-01T00:00Z", "2023-12-29T00:00Z", freq="21D"))
        out["carbon (Electricity Maps 2023, 7 zones)"] = (frame, origins, 90 * 24)
    traces = data / "cluster_traces"
    if "gpu" in which:
        frame = alibaba_gpus_in_use(traces / "alibaba_gpu_v2023" / "openb_pod_list_default.csv")
        start, end = frame["ds"].min(), frame["ds"].max()
        origins = list(pd.date_range(start + pd.Timedelta(days=16),
                                     end - pd.Timedelta(hours=HORIZON), freq="36h"))
        out["GPUs in use (Alibaba gpu-v2023 openb)"] = (frame, origins, 90 * 24)
    if "lora" in which:
        frame = alibaba_lora_requests(traces / "alibaba_genai_2026" / "lora_request_trace.csv")
        start, end = frame["ds"].min(), frame["ds"].max()
        origins = list(pd.date_range(start + pd.Timedelta(days=15),
                                     end - pd.Timedelta(hours=HORIZON), freq="24h"))
        out["LoRA requests/h (Alibaba GenAI 2026)"] = (frame, origins, 90 * 24)
    return out


def score(frame: pd.DataFrame, origin: pd.Timestamp, history_h: int, fc_values: pd.DataFrame
          ) -> pd.DataFrame:
    rows = []
    for uid, grp in frame.groupby("unique_id"):
        hist = grp[(grp["ds"] < origin) & (grp["ds"] >= origin - pd.Timedelta(hours=history_h))]
        scale = seasonal_scale(hist["y"].to_numpy(float), 24)[-1]
        pred = fc_values[fc_values["unique_id"] == uid].merge(grp[["ds", "y"]], on="ds")
        if len(pred) < HORIZON or not scale > 0:
            continue
        rows.append({"unique_id": uid,
                     "mase": float(np.mean(np.abs(pred["y"] - pred["mean"])) / scale),
                     "covered": float(np.mean((pred["y"] >= pred[f"lo-{LEVEL}"])
                                              & (pred["y"] <= pred[f"hi-{LEVEL}"])))})
    return pd.DataFrame(rows)


def run(name: str, frame: pd.DataFrame, origins: list[pd.Timestamp], history_h: int) -> None:
    variants = {"auto": {"models": "auto"},
                "auto, uncalibrated": {"models": "auto", "calibrate": False},
                "thorough": {"models": "thorough"}}
    variants |= {m.value: {"models": [m.value]} for m in THOROUGH}
    results: dict[str, list[pd.DataFrame]] = {v: [] for v in variants}
    picks: dict[str, int] = {}
    seconds = 0.0
    for origin in origins:
        since = origin - pd.Timedelta(hours=history_h)
        hist = frame[(frame["ds"] < origin) & (frame["ds"] >= since)]
        for variant, kwargs in variants.items():
            t0 = time.perf_counter()
            fc = forecast(hist, horizon=HORIZON, levels=(LEVEL,), **kwargs)
            seconds += time.perf_counter() - t0
            results[variant].append(score(frame, origin, history_h, fc.values))
            if variant == "auto":
                for model in fc.chosen.values():
                    picks[model] = picks.get(model, 0) + 1
    print(f"\n## {name}: {frame['unique_id'].nunique()} series, {len(origins)} origins "
          f"({origins[0]:%Y-%m-%d} .. {origins[-1]:%Y-%m-%d}), 48 h ahead, 80 % intervals")
    base = pd.concat(results["seasonal_naive"])["mase"].mean()
    print(f"{'variant':<22}{'MASE':>8}{'x snaive':>10}{'coverage-80':>13}")
    for variant, parts in results.items():
        res = pd.concat(parts)
        print(f"{variant:<22}{res['mase'].mean():>8.3f}{res['mase'].mean() / base:>10.2f}"
              f"{res['covered'].mean():>13.1%}")
    per_series = pd.concat(results["auto"]).groupby("unique_id")[["mase", "covered"]].mean()
    snaive = pd.concat(results["seasonal_naive"]).groupby("unique_id")["mase"].mean()
    per_series["x snaive"] = per_series["mase"] / snaive
    if len(per_series) > 1:
        print(per_series.round(3).to_string())
    print(f"auto picked: {picks}; forecast() time {seconds:.0f} s in all")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path,
                        default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--sets", default="carbon,gpu,lora")
    args = parser.parse_args()
    for name, (frame, origins, history_h) in datasets(args.data, set(args.sets.split(","))).items():
        run(name, frame, origins, history_h)


if __name__ == "__main__":
    main()
