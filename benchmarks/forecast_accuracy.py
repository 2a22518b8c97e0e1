"""Forecast accuracy and interval coverage on the real traces in shared/data.

For each data set, rolling origins: at each origin the history before it goes through
``forecasting.forecast`` exactly as a user would call it (48 h horizon, 80 % intervals), and
the next 48 hours are scored:

    MASE      mean |y - yhat| over the 48 h / in-sample seasonal-naive (m = 24) MAE of the
              history given; averaged over origins and series
    coverage  share of the 48 h actuals inside [lo-80, hi-80], pooled; ``below`` / ``above``
              the shares under lo-80 and over hi-80 (10 % each for a calibrated interval);
              ``90 % CI`` a bootstrap interval of the coverage over origins (how far one
              set's figure can be trusted: on the GPU-load set, one series with 11 origins,
              it spans about 12 points)

for the automatic choice (``models="auto"``), the slower ``models="thorough"`` (auto plus
ARIMA on STL/MSTL), the thorough set as ``carbon/forecast.py`` calls it (4 windows, 4 weeks
of history), each candidate on its own, and the auto choice with uncalibrated intervals
(``calibrate=False``). ``auto`` is the default call: with the few series here, 8 backtest
windows where the history allows (``forecasting.api.default_windows``). Target (issue 5):
auto MASE <= 0.8 x seasonal naive MASE, coverage 75-85 %.

Test sets (``--sets carbon,gpu,lora``, the default; shared/data/SOURCES.md): Electricity Maps
hourly direct carbon intensity 2023, 7 zones (via HewlettPackard/green-dcc); Alibaba
cluster-trace-gpu-v2023 openb pods -> hourly GPUs in use, from the time the pod list is
complete; Alibaba cluster-trace-v2026-GenAI LoRA requests -> requests per hour.

Held-out sets (``--sets heldout``), where the choice rule and the calibration prior of
``forecasting.backtest`` were decided, so that no constant is tuned on the test windows
above: ``gpu-early``, the same Alibaba trace before the pod list is complete (Jan-Apr 2023,
hours that no test history or test window contains: step-like, survivorship-biased load);
``carbon-2022``, the same 7 Electricity Maps zones in 2022 (the test uses 2023 only);
``prices-2022``, wholesale electricity prices 2022 of 6 zones (green-dcc), a demand-like
series with weekday/weekend rhythm and spikes. ``--study`` runs the rule variants compared
there (plain minimum vs the one-standard-error rule vs ``median`` alone; calibration prior
0, 1 or 3 windows; the old widen-only calibration), all with 3 backtest windows, then 3, 5
and the default number of windows (8 for these few series).

    .venv/bin/python benchmarks/forecast_accuracy.py [--data PATH] [--sets carbon,gpu,lora]
    .venv/bin/python benchmarks/forecast_accuracy.py --sets heldout --study
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecasting import backtest, forecast
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
PRICE_ZONES = ("DE-LU", "US-CAL-CISO", "US-TEX-ERCO", "SG", "JP-TK", "IN-WE")
HELDOUT = ("gpu-early", "carbon-2022", "prices-2022")

Dataset = tuple[pd.DataFrame, list[pd.Timestamp], int]
# variant -> (forecast() keyword arguments, forecasting.backtest constants to set)
Variant = tuple[dict[str, Any], dict[str, float]]

# what carbon/forecast.py calls for grid intensity
CARBON_CALL = {"models": "thorough", "n_windows": 4, "history_steps": 672, "choice": "lowest"}
STANDARD: dict[str, Variant] = {
    "auto": ({"models": "auto"}, {}),
    "auto, uncalibrated": ({"models": "auto", "calibrate": False}, {}),
    "thorough": ({"models": "thorough"}, {}),
    "carbon/forecast.py call": (CARBON_CALL, {}),
    **{m.value: ({"models": [m.value]}, {}) for m in THOROUGH},
}
# The rule variants compared on the held-out sets (see forecasting/backtest.py), with the
# 3 backtest windows they were decided with; then the number of windows (forecasting/api.py).
AUTO3 = {"models": "auto", "n_windows": 3}
THOROUGH3 = {"models": "thorough", "n_windows": 3}
STUDY: dict[str, Variant] = {
    "seasonal_naive": ({"models": ["seasonal_naive"]}, {}),
    "median": ({"models": ["median"]}, {}),
    "auto, plain minimum": (AUTO3 | {"choice": "lowest"}, {}),
    "auto, 1-SE rule": (AUTO3, {}),
    # calibration, with the 1-SE choice: two-sided for every chosen model, prior 0, 1 or 3
    # windows; the old widen-only rule; and two-sided only for a model not picked for its
    # small backtest errors (the default)
    "auto, all two-sided, prior 0": (AUTO3, {"NARROW_SELECTED": True, "PRIOR_WINDOWS": 0.0}),
    "auto, all two-sided, prior 1": (AUTO3, {"NARROW_SELECTED": True}),
    "auto, all two-sided, prior 3": (AUTO3, {"NARROW_SELECTED": True, "PRIOR_WINDOWS": 3.0}),
    "auto, widen only": (AUTO3, {"MIN_FACTOR": 1.0, "PRIOR_WINDOWS": 0.0}),
    "auto, unselected two-sided": (AUTO3, {}),
    "thorough, plain minimum": (THOROUGH3 | {"choice": "lowest"}, {}),
    "thorough, 1-SE rule": (THOROUGH3, {}),
    # carbon/forecast.py's call: thorough, 4 windows, 4 weeks of history
    "carbon call, minimum, widen only": (CARBON_CALL | {"choice": "lowest"},
                                         {"MIN_FACTOR": 1.0, "PRIOR_WINDOWS": 0.0}),
    "carbon call, minimum, all two-sided": (CARBON_CALL | {"choice": "lowest"},
                                            {"NARROW_SELECTED": True}),
    "carbon call, 1-SE, all two-sided": (CARBON_CALL | {"choice": "robust"},
                                         {"NARROW_SELECTED": True}),
    "carbon call, 1-SE, widen only": (CARBON_CALL | {"choice": "robust"},
                                      {"MIN_FACTOR": 1.0, "PRIOR_WINDOWS": 0.0}),
    # the number of backtest windows, with the rule above (unselected two-sided, prior 1)
    "auto, 5 windows": ({"models": "auto", "n_windows": 5}, {}),
    "auto, default windows": ({"models": "auto"}, {}),
}


@contextlib.contextmanager
def constants(values: dict[str, float]) -> Iterator[None]:
    old = {name: getattr(backtest, name) for name in values}
    try:
        for name, value in values.items():
            setattr(backtest, name, value)
        yield
    finally:
        for name, value in old.items():
            setattr(backtest, name, value)


def _prices(path: Path) -> pd.DataFrame:
    table = pd.read_csv(path)
    ds = pd.to_datetime(table["Datetime (UTC)"], utc=True).dt.floor("h")
    frame = pd.DataFrame({"unique_id": path.name.split("_")[0], "ds": ds,
                          "y": table["Price (USD/MWh)"].astype(float)})
    return frame.drop_duplicates(["unique_id", "ds"])


def datasets(data: Path, which: set[str]) -> dict[str, Dataset]:
    """name -> (frame, origins, history hours given to forecast())."""
    out = {}
    if "heldout" in which:
        which = which | set(HELDOUT)
    ci = data / "carbon_intensity" / "electricitymaps_hourly"
    traces = data / "cluster_traces"
    pods = traces / "alibaba_gpu_v2023" / "openb_pod_list_default.csv"

    def carbon(year: int) -> tuple[pd.DataFrame, list, int]:
        frame = pd.concat([electricitymaps_hourly(ci / f"{z}_{year}_hourly.csv") for z in ZONES],
                          ignore_index=True)
        return frame, list(pd.date_range(f"{year}-04-01T00:00Z", f"{year}-12-29T00:00Z",
                                         freq="21D")), 90 * 24

    if "carbon" in which:
        out["carbon (Electricity Maps 2023, 7 zones)"] = carbon(2023)
    if "gpu" in which:
        frame = alibaba_gpus_in_use(pods)
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
    if "gpu-early" in which:
        complete_from = alibaba_gpus_in_use(pods)["ds"].min()
        full = alibaba_gpus_in_use(pods, unbiased_only=False)
        frame = full[full["ds"] < complete_from].reset_index(drop=True)
        origins = list(pd.date_range(frame["ds"].min() + pd.Timedelta(days=16),
                                     complete_from - pd.Timedelta(hours=HORIZON), freq="36h"))
        out["held out: GPUs in use before the pod list is complete"] = (frame, origins, 90 * 24)
    if "carbon-2022" in which:
        out["held out: carbon (Electricity Maps 2022, 7 zones)"] = carbon(2022)
    if "prices-2022" in which:
        prices = data / "electricity_prices"
        frame = pd.concat([_prices(prices / f"{z}_2022_usd_per_mwh.csv") for z in PRICE_ZONES],
                          ignore_index=True)
        origins = list(pd.date_range("2022-04-01T00:00Z", "2022-12-29T00:00Z", freq="21D"))
        out["held out: electricity prices 2022, 6 zones"] = (frame, origins, 90 * 24)
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
        below = float(np.mean(pred["y"] < pred[f"lo-{LEVEL}"]))
        above = float(np.mean(pred["y"] > pred[f"hi-{LEVEL}"]))
        rows.append({"unique_id": uid,
                     "mase": float(np.mean(np.abs(pred["y"] - pred["mean"])) / scale),
                     "covered": 1.0 - below - above, "below": below, "above": above})
    return pd.DataFrame(rows)


def coverage_interval(res: pd.DataFrame, draws: int = 2000, seed: int = 0
                      ) -> tuple[float, float]:
    """90 % bootstrap interval of the pooled coverage, resampling whole origins (all series
    and hours of an origin together: hours of one window are far from independent). Windows
    of neighbouring origins overlap on some sets, so the interval is if anything too narrow."""
    per_origin = res.groupby("origin")["covered"].agg(["sum", "count"]).to_numpy(dtype=float)
    pick = np.random.default_rng(seed).integers(0, len(per_origin), (draws, len(per_origin)))
    pooled = per_origin[pick, 0].sum(axis=1) / per_origin[pick, 1].sum(axis=1)
    return float(np.quantile(pooled, 0.05)), float(np.quantile(pooled, 0.95))


def run(name: str, frame: pd.DataFrame, origins: list[pd.Timestamp], history_h: int,
        variants: dict[str, Variant]) -> None:
    results: dict[str, list[pd.DataFrame]] = {v: [] for v in variants}
    picks: dict[str, dict[str, int]] = {v: {} for v in variants if "auto" in v}
    seconds = 0.0
    for origin in origins:
        since = origin - pd.Timedelta(hours=history_h)
        hist = frame[(frame["ds"] < origin) & (frame["ds"] >= since)]
        for variant, (kwargs, consts) in variants.items():
            t0 = time.perf_counter()
            with constants(consts):
                fc = forecast(hist, horizon=HORIZON, levels=(LEVEL,), **kwargs)
            seconds += time.perf_counter() - t0
            results[variant].append(score(frame, origin, history_h, fc.values).assign(
                origin=origin))
            for model in fc.chosen.values() if variant in picks else ():
                picks[variant][model] = picks[variant].get(model, 0) + 1
    print(f"\n## {name}: {frame['unique_id'].nunique()} series, {len(origins)} origins "
          f"({origins[0]:%Y-%m-%d} .. {origins[-1]:%Y-%m-%d}), 48 h ahead, 80 % intervals")
    base = pd.concat(results["seasonal_naive"])["mase"].mean()
    print(f"{'variant':<28}{'MASE':>8}{'x snaive':>10}{'coverage-80':>13}{'90 % CI':>13}"
          f"{'below':>8}{'above':>8}")
    for variant, parts in results.items():
        res = pd.concat(parts)
        lo, hi = coverage_interval(res)
        print(f"{variant:<28}{res['mase'].mean():>8.3f}{res['mase'].mean() / base:>10.2f}"
              f"{res['covered'].mean():>13.1%}{f'{lo:.1%}-{hi:.1%}':>13}"
              f"{res['below'].mean():>8.1%}{res['above'].mean():>8.1%}")
    first = next(iter(picks), None)
    if first is not None:
        per_series = pd.concat(results[first]).groupby("unique_id")[["mase", "covered"]].mean()
        snaive = pd.concat(results["seasonal_naive"]).groupby("unique_id")["mase"].mean()
        per_series["x snaive"] = per_series["mase"] / snaive
        if len(per_series) > 1:
            print(f"per series, {first}:")
            print(per_series.round(3).to_string())
    for variant, counts in picks.items():
        print(f"{variant} picked: {dict(sorted(counts.items()))}")
    print(f"forecast() time {seconds:.0f} s in all")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path,
                        default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--sets", default="carbon,gpu,lora")
    parser.add_argument("--study", action="store_true",
                        help="compare the choice-rule and calibration variants instead")
    parser.add_argument("--variants", help="only these variants (names separated by ;)")
    args = parser.parse_args()
    variants = STUDY if args.study else STANDARD
    if args.variants:
        keep = ["seasonal_naive", *args.variants.split(";")]
        variants = {v: variants[v] for v in dict.fromkeys(keep)}
    for name, (frame, origins, history_h) in datasets(args.data, set(args.sets.split(","))).items():
        run(name, frame, origins, history_h, variants)


if __name__ == "__main__":
    main()
