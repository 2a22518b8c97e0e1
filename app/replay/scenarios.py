"""Synthetic job sets of the published carbon-shifting scenarios (for benchmarks and tests).

Let's Wait Awhile ML jobs (Wiesner et al., Middleware '21; their simulator ``simulate.py``
and ``strategy.py`` in dos-group/lets-wait-awhile, re-implemented here, not copied):

- ``n`` = 3,387 jobs over the workdays (Mon-Fri) of 2020; jobs per workday drawn
  ``multinomial(n, uniform)`` from ``numpy.random.default_rng(0)``; on each day the start
  times are the sorted draws from 09:00, 09:30, ..., 16:30; then the durations are drawn
  from 4 h, 4.5 h, ..., 89.5 h (uniform), all from the same generator, in their order;
- times are UTC (their data are treated as UTC);
- deadline ``next_workday``: the original finish f = start + duration moves to 09:00 of
  the next workday when it falls outside 09:00-17:00 on a workday, exactly as their
  rule: Saturday -> 09:00 + 2 days; Sunday or after 17:00 -> 09:00 next day (so a Friday
  evening finish gets Saturday 09:00); before 09:00 -> 09:00 that day; else f itself.

``ml_year_jobs`` is our own year of flexible ML jobs for the 2022/2023 traces: arrivals
on workdays 09:00-17:00 in each home region's local time, durations 0.5-12 h, 1/2/4/8
GPUs, half of them checkpointable, deadline 09:00 local on the next workday (or the
finish, when later).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from planner.domain import TrainingWorkload

LWA_N_JOBS = 3387


def lwa_next_workday(finish: pd.Timestamp) -> pd.Timestamp:
    """Their ``next_workday`` rule, quirks included (module docstring)."""
    nine = finish.replace(hour=9, minute=0, second=0)
    hour = finish.hour + (0.5 if finish.minute == 30 else 0.0)
    weekday = finish.weekday()
    if weekday == 5:
        return nine + timedelta(days=2)
    if weekday == 6 or hour > 17:
        return nine + timedelta(days=1)
    if hour < 9:
        return nine
    return finish


def lwa_ml_jobs(n: int = LWA_N_JOBS, *, home_region: str, accelerator: str = "H100",
                interruptible: bool = False) -> tuple[TrainingWorkload, ...]:
    """The LWA ML jobs; ``interruptible`` splits each into one-hour pieces (last shorter)
    sharing its window: with no capacity limit, placing the pieces independently picks the
    cleanest hours of the window, as their interruptible strategy does."""
    rng = np.random.default_rng(0)
    days = pd.date_range("2020-01-01", "2020-12-31", freq="D")
    workdays = [d for d in days if d.weekday() <= 4]
    per_day = rng.multinomial(n, [1 / len(workdays)] * len(workdays))
    starts = []
    for day, count in zip(workdays, per_day):
        minutes = np.sort(rng.choice(np.arange(9 * 60, 17 * 60, 30), size=count))
        starts += [day + timedelta(minutes=int(m)) for m in minutes]
    durations_min = rng.choice(np.arange(4 * 60, 90 * 60, 30), size=n)
    out = []
    for i, (start, minutes) in enumerate(zip(starts, durations_min)):
        hours = float(minutes) / 60
        deadline = lwa_next_workday(start + timedelta(hours=hours))
        pieces = [hours] if not interruptible else [1.0] * int(hours) + (
            [hours - int(hours)] if hours > int(hours) else [])
        for k, piece in enumerate(pieces):
            out.append(TrainingWorkload(
                name=f"lwa-{i}" + (f"/{k}" if interruptible else ""), team="ml", gpus=1,
                accelerators={accelerator: 1.0}, duration_h=piece,
                earliest_start=start.to_pydatetime().replace(tzinfo=UTC),
                deadline=deadline.to_pydatetime().replace(tzinfo=UTC),
                home_region=home_region))
    return tuple(out)


def _next_workday_nine(local: datetime) -> datetime:
    d = local + timedelta(days=1)
    while d.weekday() >= 5:
        d += timedelta(days=1)
    return d.replace(hour=9, minute=0, second=0, microsecond=0)


def ml_year_jobs(n: int, *, year: int, homes: Sequence[tuple[str, str]],
                 accelerator: str = "H100", seed: int = 1,
                 allowed_regions: tuple[str, ...] = ()) -> tuple[TrainingWorkload, ...]:
    """``n`` flexible ML jobs in ``year``, spread evenly over ``homes`` = (region, IANA tz)."""
    rng = np.random.default_rng(seed)
    days = [d for d in pd.date_range(f"{year}-01-01", f"{year}-12-31", freq="D")
            if d.weekday() <= 4]
    day_ix = rng.integers(0, len(days), size=n)
    minute = rng.integers(9 * 60, 17 * 60, size=n)
    hours = rng.integers(1, 25, size=n) * 0.5
    gpus = rng.choice([1, 2, 4, 8], p=[0.4, 0.3, 0.2, 0.1], size=n)
    checkpoint = rng.random(n) < 0.5
    home_ix = rng.integers(0, len(homes), size=n)
    out = []
    for i in range(n):
        region, tz = homes[home_ix[i]]
        local = (days[day_ix[i]].to_pydatetime() + timedelta(minutes=int(minute[i]))
                 ).replace(tzinfo=ZoneInfo(tz))
        finish = local + timedelta(hours=float(hours[i]))
        deadline = max(_next_workday_nine(local), finish)
        out.append(TrainingWorkload(
            name=f"ml-{i}", team="ml", gpus=int(gpus[i]), accelerators={accelerator: 1.0},
            duration_h=float(hours[i]), earliest_start=local.astimezone(UTC),
            deadline=deadline.astimezone(UTC), home_region=region,
            allowed_regions=allowed_regions,
            checkpoint_interval_h=1.0 if checkpoint[i] else None))
    return tuple(sorted(out, key=lambda w: w.earliest_start))
