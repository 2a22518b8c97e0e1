"""Forecast speed and peak memory at fleet scale.

Issue 5 target: 1,000 hourly series x 90 days -> 48 h forecasts with 80 % intervals in
<= 30 s on this 2-core machine, peak memory reported.

The series are synthetic (there are not 1,000 real hourly series in shared/data): a level,
daily and weekly cycles with random amplitude and phase, AR(1) noise and a few level shifts,
seeded, non-negative like cluster load. Each mode runs in a fresh Python process so that its
first call is cold (imports done, but statsforecast/numba/ARIMA code paths not yet warmed);
the second call in the same process is warm. Peak memory is the largest resident set of the
whole process tree (the statsforecast worker pool included), sampled every 50 ms.

    .venv/bin/python benchmarks/forecast_speed.py [--series 1000] [--days 90] [--modes ...]

Modes: ``auto`` (the default call: backtest with 3 windows at 1,000 series, up to 8 with
fewer (``forecasting.api.default_windows``), per-series choice among
seasonal_naive, stl_ets, weekly_naive and their median, calibrated intervals), and single
models without a backtest (``seasonal_naive``, ``stl_ets``, ``median``; any other model name,
e.g. ``stl_arima``, can be given to --modes). CPU seconds (this process plus its finished
workers) are printed beside wall time: on a machine shared with other work they are the
steadier figure, and so is each mode's ratio to seasonal naive's warm time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pandas as pd

MODES = ("seasonal_naive", "stl_ets", "median", "auto")


def fleet(n_series: int, days: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = days * 24
    t = np.arange(n)
    ds = pd.date_range("2024-01-01T00:00Z", periods=n, freq="h")
    level = rng.uniform(20, 200, (n_series, 1))
    daily = rng.uniform(0.05, 0.4, (n_series, 1)) * level
    weekly = rng.uniform(0.0, 0.2, (n_series, 1)) * level
    phase = rng.uniform(0, 2 * np.pi, (n_series, 2))
    y = (level + daily * np.sin(2 * np.pi * t / 24 + phase[:, :1])
         + weekly * np.sin(2 * np.pi * t / 168 + phase[:, 1:]))
    noise = rng.normal(0, 1, (n_series, n)) * 0.05 * level
    for k in range(1, n):
        noise[:, k] += 0.7 * noise[:, k - 1]
    shifts = (rng.uniform(0, 1, (n_series, n)) < 1 / (24 * 30)) * rng.normal(0, 0.1, (n_series, n))
    y = np.clip(y + noise + np.cumsum(shifts, axis=1) * level, 0, None)
    return pd.DataFrame({"unique_id": np.repeat([f"cluster-{i:04d}" for i in range(n_series)], n),
                         "ds": np.tile(ds, n_series), "y": y.ravel()})


def _peak_tracker() -> tuple[threading.Event, list[int]]:
    import psutil

    stop, peak = threading.Event(), [0]
    me = psutil.Process()

    def sample() -> None:
        while not stop.is_set():
            try:
                procs = [me, *me.children(recursive=True)]
                peak[0] = max(peak[0], sum(p.memory_info().rss for p in procs if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.05)

    threading.Thread(target=sample, daemon=True).start()
    return stop, peak


def child(mode: str, n_series: int, days: int) -> None:
    from forecasting import forecast

    frame = fleet(n_series, days)
    stop, peak = _peak_tracker()
    kwargs = {"models": "auto"} if mode == "auto" else {"models": [mode], "n_windows": 0}
    times, cpu = [], []
    for _ in range(2):
        t0, c0 = time.perf_counter(), os.times()
        fc = forecast(frame, horizon=48, levels=(80,), **kwargs)
        c1 = os.times()
        times.append(time.perf_counter() - t0)
        cpu.append(c1.user + c1.system + c1.children_user + c1.children_system
                   - c0.user - c0.system - c0.children_user - c0.children_system)
    stop.set()
    picks = pd.Series(dict(fc.chosen)).value_counts().to_dict()
    print(json.dumps({"mode": mode, "cold_s": times[0], "warm_s": times[1], "warm_cpu_s": cpu[1],
                      "peak_mib": peak[0] / 2**20, "rows": len(fc.values), "picks": picks}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.series, args.days)
        return
    print(f"{args.series} hourly series x {args.days} days -> 48 h, 80 % intervals; "
          f"{os.cpu_count()} cores (shared with other work while measured)")
    print(f"{'mode':<16}{'cold s':>9}{'warm s':>9}{'cpu s':>8}{'x snaive':>10}{'peak MiB':>10}"
          "  picks")
    base = None
    for mode in args.modes.split(","):
        out = subprocess.run([sys.executable, __file__, "--child", mode, "--series",
                              str(args.series), "--days", str(args.days)],
                             capture_output=True, text=True, check=False)
        if out.returncode != 0:
            print(f"{mode:<16} failed: {out.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        base = r["warm_s"] if mode == "seasonal_naive" else base
        ratio = f"{r['warm_s'] / base:>10.1f}" if base else f"{'-':>10}"
        print(f"{mode:<16}{r['cold_s']:>9.1f}{r['warm_s']:>9.1f}{r['warm_cpu_s']:>8.1f}{ratio}"
              f"{r['peak_mib']:>10.0f}  {r['picks']}", flush=True)


if __name__ == "__main__":
    main()
