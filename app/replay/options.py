"""The planner's options of each job, built once per job *shape* and re-timed per re-plan.

What an option costs, how long it runs (spot: expected runtime and P95 window from
``pricing.spot``), its energy and embodied emissions do not depend on when it is
planned, only on the job's shape (GPUs, accelerators, duration, checkpoints,
utilisation, allowed regions). ``OptionBook`` asks ``planner.options.build_options``
once per shape, on a one-job template problem with a long window and a flat
intensity, and keeps the options. At a re-plan, ``timed`` gives each option of a
job its allowed starts (slots relative to the re-plan time ``t``)::

    first = max(t, earliest start slot of the job)
    last  = floor(deadline_h - window_h)          (planner.options: start + window <= deadline)

and its operational kg per start from the forecast intensity the planner sees,
the same sliding dot product as ``planner.options._option``, through cumulative sums::

    op_kg(s) = energy_kwh / 1000 * sum_k share_k * g(s + k)

so the Option values are exactly those ``build_options`` would make for the same
problem. Jobs are placed whole (``gang=True``), as ``planner.incremental.place_one``
places an arriving Pod: one decision per job.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import datetime, timedelta

import numpy as np

from carbon.intensity import IntensityKind, IntensitySeries
from planner.domain import Fleet, TrainingWorkload
from planner.options import Option, build_options
from planner.problem import PlanningProblem, lookahead_hours
from pricing.catalog import Catalog

HOUR = timedelta(hours=1)


def shape_of(w: TrainingWorkload) -> tuple:
    return (w.gpus, tuple(w.accelerators.items()), round(w.duration_h, 9),
            w.checkpoint_interval_h, w.restart_overhead_h, w.utilisation, w.allowed_regions)


class OptionBook:
    def __init__(self, fleet: Fleet, catalog: Catalog, origin: datetime) -> None:
        self.fleet, self.catalog, self.origin = fleet, catalog, origin
        self._book: dict[tuple, tuple[Option, ...]] = {}

    def options(self, w: TrainingWorkload) -> tuple[Option, ...]:
        key = shape_of(w)
        if key not in self._book:
            self._book[key] = self._build(w)
        return self._book[key]

    def _build(self, w: TrainingWorkload) -> tuple[Option, ...]:
        runtime = w.duration_h / min(w.accelerators.values())
        window = math.ceil(8 * runtime + 48)  # longer than any spot P95 window we accept
        template = dataclasses.replace(
            w, name="template", gang=True, earliest_start=self.origin,
            deadline=self.origin + window * HOUR)
        zones = {r.grid_zone for r in self.fleet.regions}
        hours = window + lookahead_hours((template,), window) + 1
        flat = {z: IntensitySeries(zone=z, start=self.origin, g_per_kwh=(0.0,) * hours,
                                   kind=IntensityKind.DEFAULT, source="flat template")
                for z in zones}
        problem = PlanningProblem(fleet=self.fleet, workloads=(template,),
                                  horizon_start=self.origin, horizon_hours=window,
                                  intensity=flat, catalog=self.catalog)
        (wo,) = build_options(problem)
        return wo.options


def last_start_slot(option: Option, deadline_h: float) -> int:
    """Latest start slot (absolute) of ``option`` for a deadline ``deadline_h`` hours
    after the replay start (planner.options: start + window_h <= deadline)."""
    return math.floor(deadline_h - option.window_h + 1e-9)


def cumulative(view: np.ndarray) -> np.ndarray:
    return np.concatenate(([0.0], np.cumsum(view)))


def operational_kg(option: Option, view: np.ndarray, first: int, last: int,
                   csum: np.ndarray | None = None) -> np.ndarray:
    """Operational kg of ``option`` for every start first..last (indices into ``view``;
    ``csum`` = ``cumulative(view)``, computed once per view)."""
    n = option.slots
    frac = option.runtime_h - (n - 1)
    if csum is None:
        csum = cumulative(view)
    starts = np.arange(first, last + 1)
    full = csum[starts + n - 1] - csum[starts]  # the n - 1 whole hours
    weighted = (full + frac * view[starts + n - 1]) / option.runtime_h
    return weighted * option.energy_kwh / 1000.0


def timed(option: Option, *, workload_index: int, t: int, first: int, last: int,
          view: np.ndarray, csum: np.ndarray | None = None) -> Option:
    """``option`` with starts first..last (absolute slots) relative to re-plan time ``t``
    and operational kg from ``view`` (intensity from slot ``t`` on)."""
    return dataclasses.replace(
        option, workload=workload_index, first_start=first - t, last_start=last - t,
        operational_kg=operational_kg(option, view, first - t, last - t, csum), penalty=None)
