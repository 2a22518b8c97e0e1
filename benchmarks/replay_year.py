#!/usr/bin/env python3
"""A year of replay: % of operational kgCO2e saved vs run-now, and % of the oracle's saving.

Usage (from the repo root)::

    python benchmarks/replay_year.py [--data-dir ../shared/data] [--scenario lwa,em,multi,dacf]
        [--years 2022,2023] [--zones GB,DE,...] [--jobs 10000] [--multi-jobs 20000]
        [--forecasts persistence,model] [--replan-every 1] [--cache-dir DIR]

Scenarios (jobs: app/replay/scenarios.py; strategies: app/replay/simulate.py):

- ``lwa``: the Let's Wait Awhile ML-job scenario on its own 2020 DE and GB data
  (``lets_wait_awhile_2020``, 15/30-min steps averaged to hourly means), perfect
  foresight, unlimited capacity, compared with their published savings (next_workday,
  no forecast error): non-interruptible / interruptible DE 5.91 / 7.93 %, GB 6.56 / 9.03 %.
  Non-interruptible = ``gridshift-oracle`` with whole jobs; interruptible = the same with
  each job split into one-hour pieces sharing its window.
- ``em``: one region per zone (temporal shifting only), Electricity Maps 2022 and 2023
  hourly (direct), ``--jobs`` flexible ML jobs per zone-year, next-workday deadlines.
- ``multi``: one fleet of all the zones' regions, ``--multi-jobs`` jobs homed across
  them that may run in any region (temporal + spatial), capacity 512 GPUs per region.
- ``paths``: one week of GB 2023 on a 64-GPU cluster, gridshift re-planning through
  ``planner.solve.plan`` (1 s limit) vs the fast path: ms per re-plan and % saved.
- ``dacf``: 2021-07..12 on the DACF files of US-CAL-CISO, US-TEX-ERCO and DE (history
  for CISO/ERCO from the DACF 2020-2021 actuals), with the published day-ahead forecast
  (``provider-file``) beside persistence and the model.

Every gridshift run re-plans every ``--replan-every`` hours through the fast path
(planner options + the planner's capacity-aware greedy; app/replay/simulate.py);
emissions are accounted with the actual intensity. Timings are wall-clock seconds on a
2-core machine shared with other work: indications, not speed benchmarks.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.inputs import fleet_from_data
from app.replay.forecasters import ForecastKind
from app.replay.run import grid_for, run_replay
from app.replay.scenarios import lwa_ml_jobs, ml_year_jobs
from app.replay.simulate import ReplayConfig, Strategy
from planner.domain import Objective
from pricing.catalog import load_catalog

CI = "carbon_intensity"
# zone -> (region name, provider, cloud region, IANA tz, EM file stem, lat, lon)
REGIONS = {
    "US-CAL-CISO": ("azure-westus", "azure", "westus", "America/Los_Angeles", "US-CAL-CISO",
                    37.78, -122.42),
    "US-TEX-ERCO": ("azure-southcentralus", "azure", "southcentralus", "America/Chicago",
                    "US-TEX-ERCO", 29.42, -98.49),
    "DE": ("azure-germanywestcentral", "azure", "germanywestcentral", "Europe/Berlin", "DE-LU",
           50.11, 8.68),
    "GB": ("gcp-europe-west2", "gcp", "europe-west2", "Europe/London", "GB", 51.51, -0.13),
    "SG": ("azure-southeastasia", "azure", "southeastasia", "Asia/Singapore", "SG", 1.35,
           103.82),
    "JP-TK": ("gcp-asia-northeast1", "gcp", "asia-northeast1", "Asia/Tokyo", "JP-TK", 35.69,
              139.69),
    "IN-WE": ("gcp-asia-south1", "gcp", "asia-south1", "Asia/Kolkata", "IN-WE", 19.08, 72.88),
}
PUBLISHED_LWA = {"DE": (5.91, 7.93), "GB": (6.56, 9.03)}


def fleet_for(zones, gpus: int):
    return fleet_from_data({"regions": [{
        "name": REGIONS[z][0], "provider": REGIONS[z][1], "cloud_region": REGIONS[z][2],
        "grid_zone": z, "location": {"lat": REGIONS[z][5], "lon": REGIONS[z][6]},
        "clusters": [{"name": REGIONS[z][0] + "-gpu", "capacity": {"H100": gpus}}]}
        for z in zones]}, "benchmark fleet")


def _line(label: str, report: dict, extra: str = "") -> None:
    s, c = report["strategies"], report["comparison"]

    def pct(name, key):
        v = c.get(name, {}).get(key)
        return "   -  " if v is None else f"{v:6.2f}"
    misses = max(t["deadline_misses"] for t in s.values())
    gs = s.get("gridshift", s.get("gridshift-oracle"))
    print(f"{label:<34} {report['forecast']:<13} saved% greedy {pct('carbon_greedy', 'saved_pct')}"
          f" gridshift {pct('gridshift', 'saved_pct')} oracle "
          f"{pct('gridshift-oracle', 'saved_pct')} | %oracle {pct('gridshift', 'pct_of_oracle_saving')}"
          f" | misses {misses} | interrupts {gs['interruptions']} | replay "
          f"{sum(t['wall_s'] for t in s.values()):6.1f} s, model fits "
          f"{report['model_forecast_fit_s']:5.1f} s {extra}", flush=True)


def lwa_rule(jobs, grid, zone: str) -> tuple[float, float]:
    """Their strategies applied directly to our hourly data (perfect foresight): % saved
    by the best contiguous window and by the cleanest hours of the window (interruptible),
    each vs running at arrival. Same hourly rounding as the replay."""
    import math

    import numpy as np
    z = grid.zone(zone)
    g = z.actual[z.offset:]
    base = contiguous = interrupted = 0.0
    for w in jobs:
        submit = (w.earliest_start - grid.origin).total_seconds() / 3600
        known = math.ceil(submit - 1e-9)
        deadline = (w.deadline - grid.origin).total_seconds() / 3600 + (known - submit)
        d = w.duration_h
        full, frac = int(d), d - int(d)

        def run(s, full=full, frac=frac):
            return g[s:s + full].sum() + frac * g[s + full]
        base += run(known)
        last = math.floor(deadline - d + 1e-9)
        contiguous += min(run(s) for s in range(known, last + 1))
        hours = np.sort(g[known:math.ceil(deadline - 1e-9)])
        interrupted += hours[:full].sum() + frac * hours[full] if frac else hours[:full].sum()
    return 100 * (1 - contiguous / base), 100 * (1 - interrupted / base)


def _each_forecast(label: str, jobs, fleet, catalog, grid, forecasts, every, cache) -> None:
    """One replay per forecaster on the same jobs and seed; the perfect-foresight run of the
    first stands for all of them (it does not depend on the forecast)."""
    from app.replay.report import compare
    oracle = None
    for fk in forecasts:
        strategies = (Strategy.RUN_NOW, Strategy.CARBON_GREEDY, Strategy.GRIDSHIFT) + (
            (Strategy.GRIDSHIFT_ORACLE,) if oracle is None else ())
        report = run_replay(jobs=jobs, fleet=fleet, catalog=catalog, grid=grid,
                            forecast=ForecastKind(fk), config=ReplayConfig(replan_every_h=every),
                            strategies=strategies, cache_dir=cache)
        if oracle is None:
            oracle = report["strategies"]["gridshift-oracle"]
        else:
            report["strategies"]["gridshift-oracle"] = oracle
            report["comparison"] = compare(report["strategies"])
        _line(label, report)


def run_lwa(data: Path, catalog) -> None:
    print("\n== Let's Wait Awhile ML jobs, 2020, perfect foresight, unlimited capacity ==")
    start, end = datetime(2020, 1, 1, tzinfo=UTC), datetime(2021, 1, 1, tzinfo=UTC)
    for zone, file in (("DE", "ger_ci.csv"), ("GB", "gb_ci.csv")):
        fleet = fleet_for([zone], 100_000)
        home = REGIONS[zone][0]
        specs = {zone: [data / CI / "lets_wait_awhile_2020" / file]}
        t = time.perf_counter()
        jobs = lwa_ml_jobs(home_region=home)
        grid = grid_for(specs, jobs, start=start, end=end, max_horizon_h=14 * 24)
        report = run_replay(jobs=jobs, fleet=fleet, catalog=catalog, grid=grid,
                            forecast=ForecastKind.ORACLE,
                            config=ReplayConfig(replan_every_h=1, objective=Objective.CARBON),
                            strategies=(Strategy.RUN_NOW, Strategy.GRIDSHIFT_ORACLE))
        saved = report["comparison"]["gridshift-oracle"]["saved_pct"]
        misses = report["strategies"]["gridshift-oracle"]["deadline_misses"]
        replay_s = time.perf_counter() - t
        rule_cont, rule_int = lwa_rule(jobs, grid, zone)
        pub_n, pub_i = PUBLISHED_LWA[zone]
        print(f"{zone} non-interruptible: gridshift-oracle replay {saved:5.2f} % "
              f"(their rule on our hourly data {rule_cont:5.2f} %, published {pub_n:.2f} %), "
              f"misses {misses}, {len(jobs)} jobs, {replay_s:4.1f} s", flush=True)
        print(f"{zone} interruptible:     their rule on our hourly data {rule_int:5.2f} % "
              f"(published {pub_i:.2f} %); gridshift has no suspend/resume to replay it",
              flush=True)


def run_em(data: Path, catalog, years, zones, n_jobs, forecasts, every, cache) -> None:
    print(f"\n== Single region per zone (temporal only), {n_jobs} jobs per zone-year ==")
    for year in years:
        start, end = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
        for zone in zones:
            region, tz, stem = REGIONS[zone][0], REGIONS[zone][3], REGIONS[zone][4]
            fleet = fleet_for([zone], 4096)
            jobs = ml_year_jobs(n_jobs, year=year, homes=[(region, tz)])
            d = data / CI / "electricitymaps_hourly"
            paths = [d / f"{stem}_{y}_hourly.csv" for y in (year - 1, year)
                     if (d / f"{stem}_{y}_hourly.csv").is_file()]
            grid = grid_for({zone: paths}, jobs, start=start, end=end, max_horizon_h=14 * 24)
            _each_forecast(f"{year} {zone}", jobs, fleet, catalog, grid, forecasts, every,
                           cache)


def run_multi(data: Path, catalog, years, zones, n_jobs, forecasts, every, cache) -> None:
    print(f"\n== Multi-region fleet {'+'.join(zones)} (temporal + spatial), {n_jobs} jobs ==")
    for year in years:
        start, end = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
        fleet = fleet_for(zones, 512)
        jobs = ml_year_jobs(n_jobs, year=year,
                            homes=[(REGIONS[z][0], REGIONS[z][3]) for z in zones])
        d = data / CI / "electricitymaps_hourly"
        specs = {z: [d / f"{REGIONS[z][4]}_{y}_hourly.csv" for y in (year - 1, year)
                     if (d / f"{REGIONS[z][4]}_{y}_hourly.csv").is_file()] for z in zones}
        grid = grid_for(specs, jobs, start=start, end=end, max_horizon_h=14 * 24)
        _each_forecast(f"{year} multi ({len(jobs)} jobs)", jobs, fleet, catalog, grid,
                       forecasts, every, cache)


def run_dacf(data: Path, catalog, n_jobs, forecasts, every, cache) -> None:
    print(f"\n== DACF 2021-07..12, single region per zone, {n_jobs} jobs per zone ==")
    start, end = datetime(2021, 7, 1, tzinfo=UTC), datetime(2021, 12, 24, tzinfo=UTC)
    for zone, tag in (("US-CAL-CISO", "CISO"), ("US-TEX-ERCO", "ERCO"), ("DE", "DE")):
        region, tz = REGIONS[zone][0], REGIONS[zone][3]
        fleet = fleet_for([zone], 4096)
        jobs = [w for w in ml_year_jobs(n_jobs * 2, year=2021, homes=[(region, tz)])
                if start <= w.earliest_start < end]
        hist = data / CI / "dacf_hourly_actuals_2020_2021" / f"{tag}_hourly_ci_and_generation.csv"
        test = data / CI / "dacf_dayahead_forecasts_2021" / f"{tag}_dayahead_ci_forecast_vs_actual.csv"
        specs = {zone: ([hist] if hist.is_file() else []) + [test]}
        grid = grid_for(specs, jobs, start=start, end=end, max_horizon_h=14 * 24)
        _each_forecast(f"2021H2 {zone} ({len(jobs)} jobs)", jobs, fleet, catalog, grid,
                       [*forecasts, "provider-file"], every, cache)


def run_paths(data: Path, catalog, n_jobs, every) -> None:
    """planner.solve.plan per re-plan vs the fast path, on one week of GB 2023."""
    from app.replay.simulate import PlannerPath
    print(f"\n== Planner path per re-plan: GB 2023-03-01..08, {n_jobs} jobs/year rate, "
          "persistence ==")
    start, end = datetime(2023, 3, 1, tzinfo=UTC), datetime(2023, 3, 8, tzinfo=UTC)
    region, tz = REGIONS["GB"][0], REGIONS["GB"][3]
    jobs = [w for w in ml_year_jobs(n_jobs, year=2023, homes=[(region, tz)])
            if start <= w.earliest_start < end]
    d = data / CI / "electricitymaps_hourly"
    grid = grid_for({"GB": [d / "GB_2023_hourly.csv"]}, jobs, start=start, end=end,
                    max_horizon_h=14 * 24)
    for path, limit in ((PlannerPath.FAST, 0.0), (PlannerPath.SOLVE, 1.0)):
        report = run_replay(jobs=jobs, fleet=fleet_for(["GB"], 64), catalog=catalog, grid=grid,
                            forecast=ForecastKind.PERSISTENCE,
                            config=ReplayConfig(replan_every_h=every, path=path,
                                                time_limit_s=limit or 1.0),
                            strategies=(Strategy.RUN_NOW, Strategy.GRIDSHIFT))
        g = report["strategies"]["gridshift"]
        print(f"{path:<6} {len(jobs)} jobs, 64 GPUs: saved "
              f"{report['comparison']['gridshift']['saved_pct']:5.2f} %, misses "
              f"{g['deadline_misses']}, {g['replans']} re-plans, planner {g['planner_s']:6.1f} s "
              f"= {1000 * g['planner_s'] / max(1, g['replans']):6.1f} ms per re-plan", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--scenario", default="lwa,em,multi,dacf")
    ap.add_argument("--years", default="2022,2023")
    ap.add_argument("--zones", default=",".join(REGIONS))
    ap.add_argument("--multi-zones", default="US-CAL-CISO,US-TEX-ERCO,DE,GB")
    ap.add_argument("--jobs", type=int, default=10_000)
    ap.add_argument("--multi-jobs", type=int, default=20_000)
    ap.add_argument("--forecasts", default="persistence,model")
    ap.add_argument("--replan-every", type=int, default=1)
    ap.add_argument("--cache-dir", type=Path, default=Path("/tmp/gridshift-replay-forecasts"))
    args = ap.parse_args(argv)
    if not (args.data_dir / "SOURCES.md").is_file():
        print(f"--data-dir {args.data_dir}: SOURCES.md not found", file=sys.stderr)
        return 2
    warnings.simplefilter("ignore")
    catalog = load_catalog(None)
    scenarios = set(args.scenario.split(","))
    years = [int(y) for y in args.years.split(",")]
    zones = args.zones.split(",")
    forecasts = args.forecasts.split(",")
    t0 = time.perf_counter()
    if "lwa" in scenarios:
        run_lwa(args.data_dir, catalog)
    if "em" in scenarios:
        run_em(args.data_dir, catalog, years, zones, args.jobs, forecasts, args.replan_every,
               args.cache_dir)
    if "multi" in scenarios:
        run_multi(args.data_dir, catalog, years, args.multi_zones.split(","), args.multi_jobs,
                  forecasts, args.replan_every, args.cache_dir)
    if "paths" in scenarios:
        run_paths(args.data_dir, catalog, args.jobs, args.replan_every)
    if "dacf" in scenarios:
        run_dacf(args.data_dir, catalog, args.jobs // 2, forecasts, args.replan_every,
                 args.cache_dir)
    print(f"\ntotal {time.perf_counter() - t0:.0f} s wall; saved% = operational kgCO2e vs "
          "run_now, accounted with actual intensity; %oracle = share of gridshift-oracle's saving")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
