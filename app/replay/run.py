"""One replay end to end: jobs in the window, the grid, each strategy, the report."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from app.replay.forecasters import Forecaster, ForecastKind
from app.replay.grid import HOUR, Grid, hours_between, load_grid
from app.replay.options import OptionBook
from app.replay.report import account, build_report
from app.replay.simulate import ReplayConfig, Strategy, replay
from planner.domain import Fleet, TrainingWorkload
from pricing.catalog import Catalog

STRATEGIES = (Strategy.RUN_NOW, Strategy.CARBON_GREEDY, Strategy.GRIDSHIFT,
              Strategy.GRIDSHIFT_ORACLE)


def in_window(jobs: Sequence[TrainingWorkload], start: datetime,
              end: datetime) -> tuple[TrainingWorkload, ...]:
    return tuple(w for w in jobs if start <= w.earliest_start < end)


def tail_hours(jobs: Sequence[TrainingWorkload], start: datetime, n_slots: int,
               max_horizon_h: int) -> int:
    """Hours after the window the grid must cover: late deadlines, waits, look-ahead."""
    if not jobs:
        return 24
    last = max((w.deadline - start) / HOUR for w in jobs)
    longest = max(w.duration_h / min(w.accelerators.values()) for w in jobs)
    return max(0, math.ceil(last - n_slots)) + math.ceil(3 * longest) + 9 * max_horizon_h + 168


def grid_for(specs: Mapping[str, Sequence[Path]], jobs: Sequence[TrainingWorkload], *,
             start: datetime, end: datetime, max_horizon_h: int,
             history_days: int = 28) -> Grid:
    n = hours_between(start, end)
    return load_grid(specs, origin=start, n_slots=n, history_h=history_days * 24,
                     tail_h=tail_hours(jobs, start, n, max_horizon_h))


def run_replay(*, jobs: Sequence[TrainingWorkload], fleet: Fleet, catalog: Catalog, grid: Grid,
               forecast: ForecastKind, config: ReplayConfig,
               strategies: Sequence[Strategy] = STRATEGIES, cache_dir: Path | None = None,
               on_strategy: Callable[[Strategy], Callable[[int], None] | None] | None = None,
               meta: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Replay every strategy on the same jobs and grid; the report (app/replay/report.py)."""
    book = OptionBook(fleet, catalog, grid.origin)
    forecaster = Forecaster(grid, forecast, cache_dir=cache_dir)
    oracle = Forecaster(grid, ForecastKind.ORACLE)
    totals = {}
    for strategy in strategies:
        shown = {Strategy.RUN_NOW: None, Strategy.GRIDSHIFT_ORACLE: oracle}.get(strategy,
                                                                              forecaster)
        progress = on_strategy(strategy) if on_strategy else None
        outcome = replay(jobs, fleet=fleet, catalog=catalog, grid=grid, strategy=strategy,
                         forecaster=shown, config=config, book=book, progress=progress)
        totals[strategy.value] = account(outcome, grid)
    info = {"from": f"{grid.origin:%Y-%m-%dT%H:%MZ}",
            "to": f"{grid.origin + grid.n_slots * HOUR:%Y-%m-%dT%H:%MZ}",
            "jobs": len(jobs), "forecast": str(forecast),
            "replan_every_h": config.replan_every_h, "objective": str(config.objective),
            "planner_path": str(config.path), "seed": config.seed,
            "model_forecast_fit_s": round(forecaster.issue_seconds, 2),
            **(meta or {})}
    return build_report(grid=grid, totals=totals, meta=info, forecaster_notes=forecaster.notes)
