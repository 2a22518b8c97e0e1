"""``gridshift replay``: what gridshift would have done with past jobs on the real grid.

    gridshift replay --fleet FLEET.yaml --jobs JOBS.csv|.parquet|.yaml
                     --carbon ZONE=PATH[,PATH] ... --from T0 --to T1
                     [--forecast oracle|persistence|model|provider-file] [--replan-every 1h]
                     [--objective carbon|balanced|cost] [--carbon-price USD_PER_T]
                     [--strategies run_now,carbon_greedy,gridshift,gridshift-oracle]
                     [--planner fast|solve] [--time-limit S] [--seed N] [--catalog CSV]
                     [--forecast-cache DIR] [--out report.json]

Jobs submitted in [T0, T1) are replayed under each strategy (app/replay/simulate.py):
the planner sees only the chosen forecast; emissions are accounted with the actual
intensity of the hours the jobs ran. Prints a table and writes the report JSON.

Exit codes: 0 report written; 2 bad input (the line names the input, field and fix);
70 internal error.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from app.errors import InputError
from app.exits import EXIT_BAD_INPUT, EXIT_INTERNAL, fail
from app.inputs import check_fleet_prices, load_fleet
from app.problem_io import hour_floor
from app.replay.forecasters import ForecastKind
from app.replay.grid import parse_carbon_specs
from app.replay.jobs import load_jobs
from app.replay.report import dumps, print_report
from app.replay.run import STRATEGIES, grid_for, in_window, run_replay
from app.replay.simulate import PlannerPath, ReplayConfig, Strategy
from app.timeparse import parse_hours, parse_time
from planner.domain import Objective
from planner.problem import DEFAULT_CARBON_PRICE_USD_PER_T
from pricing.catalog import CatalogError, load_catalog


def _strategies(text: str) -> tuple[Strategy, ...]:
    out = []
    for part in text.split(","):
        try:
            out.append(Strategy(part.strip()))
        except ValueError:
            raise InputError("--strategies", f"unknown strategy {part.strip()!r}",
                             fix=f"use {', '.join(s.value for s in Strategy)}") from None
    return tuple(out)


def register(app: typer.Typer) -> None:
    """Add ``replay`` to ``app``."""

    @app.command("replay")
    def replay_command(
        fleet: Annotated[Path, typer.Option("--fleet", help="Fleet YAML file.")],
        jobs: Annotated[Path, typer.Option(
            "--jobs", help="Job table (CSV/Parquet, columns in app/replay/jobs.py) or "
                           "workloads YAML.")],
        carbon: Annotated[list[str], typer.Option(
            "--carbon", help="ZONE=PATH[,PATH] of an hourly intensity trace; repeat per "
                             "zone of the fleet.")],
        start: Annotated[str, typer.Option("--from", help="Replay start (ISO 8601 UTC).")],
        end: Annotated[str, typer.Option("--to", help="Replay end, exclusive (ISO 8601).")],
        forecast: Annotated[ForecastKind, typer.Option(
            help="What the planner is shown: perfect foresight, same hour yesterday, the "
                 "project's model, or the trace's published forecast.")] = ForecastKind.MODEL,
        replan_every: Annotated[str, typer.Option(
            "--replan-every", help="Re-plan interval of the scheduled job, e.g. 1h.")] = "1h",
        objective: Annotated[Objective, typer.Option(
            help="What gridshift minimises.")] = Objective.CARBON,
        carbon_price: Annotated[float, typer.Option(
            "--carbon-price", min=0, help="USD per tonne CO2e for 'balanced'.")
        ] = DEFAULT_CARBON_PRICE_USD_PER_T,
        strategies: Annotated[str, typer.Option(
            help="Comma-separated strategies to replay.")] = ",".join(s.value for s in
                                                                      STRATEGIES),
        planner: Annotated[PlannerPath, typer.Option(
            help="fast: the planner's options and capacity-aware greedy per re-plan; "
                 "solve: planner.solve.plan (CP-SAT) per re-plan.")] = PlannerPath.FAST,
        time_limit: Annotated[float, typer.Option(
            "--time-limit", min=0.1, help="Seconds per re-plan, the whole plan (--planner solve).")
        ] = 2.0,
        seed: Annotated[int, typer.Option(help="Seed of the spot interruptions.")] = 0,
        catalog: Annotated[Path | None, typer.Option(
            help="Offer catalog CSV (default: the bundled one).")] = None,
        forecast_cache: Annotated[Path | None, typer.Option(
            "--forecast-cache", help="Directory caching model forecasts between runs.")] = None,
        out: Annotated[Path, typer.Option("--out", help="Report JSON.")] = Path("report.json"),
    ) -> None:
        """Replay past jobs on the real grid under run-now, per-job greedy and gridshift."""
        try:
            now = datetime.now(UTC)
            t0 = hour_floor(parse_time(start, now=now))
            t1 = hour_floor(parse_time(end, now=now))
        except (ValueError, TypeError) as exc:
            raise fail(f"--from/--to: {exc}", EXIT_BAD_INPUT) from None
        if t1 <= t0:
            raise fail("--to: must be after --from (at least one hour)", EXIT_BAD_INPUT)
        try:
            every = parse_hours(replan_every)
        except ValueError as exc:
            raise fail(f"--replan-every: {exc}", EXIT_BAD_INPUT) from None
        if every < 1 or every != int(every):
            raise fail(f"--replan-every: must be a whole number of hours >= 1, got "
                       f"{replan_every!r}", EXIT_BAD_INPUT)
        try:
            chosen = _strategies(strategies)
            fleet_v = load_fleet(fleet)
            catalog_v = load_catalog(catalog)
            check_fleet_prices(fleet, fleet_v, catalog_v)
            specs = parse_carbon_specs(carbon)
            for region in fleet_v.regions:
                if region.grid_zone not in specs:
                    raise InputError("--carbon", f"no trace for grid zone {region.grid_zone!r} "
                                     f"of region {region.name!r}",
                                     fix=f"add --carbon {region.grid_zone}=PATH")
            all_jobs = load_jobs(jobs, fleet_v, start=t0)
            window_jobs = in_window(all_jobs, t0, t1)
            if not window_jobs:
                raise InputError(str(jobs), f"no job is submitted in {t0:%Y-%m-%dT%H:%MZ} .. "
                                 f"{t1:%Y-%m-%dT%H:%MZ}", field="submit_time",
                                 fix="widen --from/--to or check the table's times")
            config = ReplayConfig(replan_every_h=int(every), objective=objective,
                                  carbon_price_usd_per_t=carbon_price, seed=seed,
                                  path=planner, time_limit_s=time_limit)
            grid = grid_for(specs, window_jobs, start=t0, end=t1,
                            max_horizon_h=config.max_horizon_h)
        except (InputError, CatalogError) as exc:
            raise fail(str(exc).splitlines()[0], EXIT_BAD_INPUT) from None
        console = Console(stderr=True)
        try:
            with Progress(TextColumn("{task.description:<18}"), BarColumn(),
                          TextColumn("{task.completed:>6.0f}/{task.total:.0f} h"),
                          TimeElapsedColumn(), console=console, transient=False) as bar:
                def on_strategy(strategy: Strategy):
                    task = bar.add_task(strategy.value, total=grid.n_slots)

                    def advance(slot: int) -> None:
                        bar.update(task, completed=min(slot, grid.n_slots))
                    return advance

                report = run_replay(jobs=window_jobs, fleet=fleet_v, catalog=catalog_v,
                                    grid=grid, forecast=forecast, config=config,
                                    strategies=chosen, cache_dir=forecast_cache,
                                    on_strategy=on_strategy,
                                    meta={"jobs_outside_window": len(all_jobs) - len(window_jobs),
                                          "fleet": str(fleet), "jobs_file": str(jobs)})
                for task in bar.tasks:
                    bar.update(task.id, completed=task.total)
        except (InputError, ValueError) as exc:
            raise fail(str(exc).splitlines()[0], EXIT_BAD_INPUT) from None
        except Exception as exc:  # noqa: BLE001 - a bug: one line, never a traceback
            raise fail(f"internal error, please report: {type(exc).__name__}: "
                       f"{str(exc).splitlines()[0] if str(exc) else ''}", EXIT_INTERNAL) from None
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(dumps(report), encoding="utf-8")
        print_report(report)
        Console().print(f"report written to {out}")
