"""The inputs of one planning run, bundled and checked for consistency."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from carbon.intensity import IntensitySeries
from planner.domain import HOUR, Fleet, TrainingWorkload
from planner.limits import Limit
from planner.serving import ServingWorkload
from pricing.catalog import Catalog

# Carbon price used by the ``balanced`` objective when none is given:
# US EPA (2023), "Report on the Social Cost of Greenhouse Gases", central
# estimate for 2020 emissions at a 2 % discount rate: 190 USD per tonne CO2.
DEFAULT_CARBON_PRICE_USD_PER_T = 190.0


def lookahead_hours(workloads: tuple[TrainingWorkload, ...], horizon_hours: int) -> int:
    """Hours past the horizon that intensity data must cover for the baselines.

    A run-now queue can hold a job back by up to the sum of what runs before
    it (capped at 8 horizons), and the job then runs for its own runtime.
    """
    if not workloads:
        return 0
    # slots held, not hours run: a 1.01 h job holds 2 slots
    slots = [math.ceil(w.duration_h / min(w.accelerators.values()) - 1e-9) for w in workloads]
    return min(sum(slots), 8 * horizon_hours) + max(slots) + 1


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanningProblem:
    """Fleet, workloads, prices and grid intensity over a horizon of hourly slots.

    ``intensity`` maps each grid zone of the fleet to an hourly series that
    covers the horizon and ``lookahead_hours`` beyond it (baselines such as
    run-now may queue past the horizon and are accounted there too).
    """

    fleet: Fleet
    workloads: tuple[TrainingWorkload, ...]
    horizon_start: datetime
    horizon_hours: int
    intensity: Mapping[str, IntensitySeries]
    catalog: Catalog
    limits: tuple[Limit, ...] = ()  # team budgets and emission caps (planner/limits.py)
    # GPUs not the planner's: ((cluster, accelerator), slot) -> GPUs (started work, forecast load)
    reserved_gpus: Mapping[tuple[tuple[str, str], int], int] = field(default_factory=dict)
    # what the previous plan announced per workload, in one or more pieces
    # (planner/stability.py), and the score units a unit pays to move away from it
    announced: Mapping[str, tuple] = field(default_factory=dict)
    move_penalty: float = 0.0
    # always-on services, sized per hour to their demand (planner/serving.py)
    serving: tuple[ServingWorkload, ...] = ()
    lookahead_hours: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "lookahead_hours",
                           lookahead_hours(self.workloads, self.horizon_hours))
        start = self.horizon_start
        if start.tzinfo is None or start.utcoffset() != timedelta(0):
            raise ValueError(f"horizon_start must be a UTC datetime (offset 0), got {start!r}")
        if start.minute or start.second or start.microsecond:
            raise ValueError(f"horizon_start must be on the hour, got {start:%Y-%m-%dT%H:%M:%SZ}")
        if self.horizon_hours < 1:
            raise ValueError("horizon_hours must be >= 1")
        names = [w.name for w in self.workloads] + [w.name for w in self.serving]
        if len(set(names)) != len(names):
            dupes = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"workload names must be unique; repeated: {', '.join(dupes)}")
        needed = self.horizon_hours + self.lookahead_hours
        for region in self.fleet.regions:
            series = self.intensity.get(region.grid_zone)
            if series is None:
                raise ValueError(f"no intensity series for grid zone {region.grid_zone!r} "
                                 f"(region {region.name})")
            offset = (self.horizon_start - series.start) / HOUR
            if offset < 0 or offset + needed > len(series.g_per_kwh):
                raise ValueError(
                    f"intensity series for {region.grid_zone!r} covers {series.start:%Y-%m-%dT%H:%MZ}"
                    f" + {len(series.g_per_kwh)} h; the plan needs {self.horizon_start:%Y-%m-%dT%H:%MZ}"
                    f" + {needed} h")

    @property
    def horizon_end(self) -> datetime:
        return self.horizon_start + self.horizon_hours * HOUR


    def g_per_kwh(self, zone: str, slot: int) -> float:
        """Intensity of ``zone`` in hourly slot ``slot`` (0 = horizon start)."""
        series = self.intensity[zone]
        offset = int((self.horizon_start - series.start) / HOUR)
        return series.g_per_kwh[offset + slot]
