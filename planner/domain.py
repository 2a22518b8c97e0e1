"""Domain values of the planning problem.

Everything here is immutable (frozen dataclasses; change with
``dataclasses.replace``), times are timezone-aware UTC and quantities carry
their unit in the name. Pydantic lives only at the edges (app/input_schema.py); it
converts to these types.

Accelerators and providers are plain strings validated at the edge against
what carbon/ (power data) and pricing/ (offers) know, so that carbon/ and
pricing/ need not import each other or planner/.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType

from carbon.footprint import MarketInstruments
from pricing.catalog import Purchase

__all__ = [
    "Assignment",
    "BaselineTotals",
    "Cluster",
    "Fleet",
    "MigLayout",
    "Objective",
    "Plan",
    "Purchase",
    "Region",
    "SolverReport",
    "SolverStatus",
    "Totals",
    "TrainingWorkload",
    "Unplaced",
    "WorkloadKind",
]

HOUR = timedelta(hours=1)


class Objective(enum.StrEnum):
    """What the solver minimises (see planner/objective.py)."""

    COST = "cost"
    CARBON = "carbon"
    BALANCED = "balanced"


class WorkloadKind(enum.StrEnum):
    TRAINING = "training"
    SERVING = "serving"
    # the part of MIG-partitioned GPUs no replica carries (planner/mig_pools.py)
    MIG_HEADROOM = "mig-headroom"


class SolverStatus(enum.StrEnum):
    OPTIMAL = "OPTIMAL"
    FEASIBLE = "FEASIBLE"
    INFEASIBLE = "INFEASIBLE"
    UNKNOWN = "UNKNOWN"
    MODEL_INVALID = "MODEL_INVALID"


def _require_utc(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() != timedelta(0):
        raise ValueError(f"{name} must be a timezone-aware UTC datetime, got {value!r}")


def _freeze(obj: object, name: str) -> None:
    """Replace a dict field by a read-only view, so a frozen value stays frozen."""
    object.__setattr__(obj, name, MappingProxyType(dict(getattr(obj, name))))


def _finite(name: str, value: float) -> None:
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Cluster:
    """A pool of GPUs in one region that the planner may place work on."""

    name: str
    region: str
    capacity_gpus: Mapping[str, int]  # accelerator -> GPUs the planner may use
    # MIG layouts the cluster runs now: accelerator -> {sorted profile names: GPUs}
    mig_layouts: Mapping[str, Mapping[tuple[str, ...], int]] = field(default_factory=dict)
    # at most this many of its GPUs on spot, by accelerator (absent: no separate cap)
    spot_capacity_gpus: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _freeze(self, "capacity_gpus")
        _freeze(self, "mig_layouts")
        _freeze(self, "spot_capacity_gpus")
        for accelerator, gpus in self.capacity_gpus.items():
            if gpus < 0:
                raise ValueError(f"cluster {self.name!r}: capacity for {accelerator} is negative")


@dataclass(frozen=True, slots=True, kw_only=True)
class Region:
    """A cloud (or on-premises) region and the grid it draws power from."""

    name: str  # fleet-wide id, e.g. "aws-us-east-1"
    provider: str  # aws | gcp | azure | onprem | ...
    cloud_region: str  # the provider's own id, e.g. "us-east-1"
    grid_zone: str  # Electricity Maps style zone code, e.g. "US-MIDA-PJM"
    pue: float
    latitude: float
    longitude: float
    clusters: tuple[Cluster, ...]
    # contracted clean energy / residual mix for the market-based figure (None: not declared)
    market: MarketInstruments | None = None

    def capacity_gpus(self, accelerator: str) -> int:
        return sum(c.capacity_gpus.get(accelerator, 0) for c in self.clusters)


@dataclass(frozen=True, slots=True, kw_only=True)
class Fleet:
    regions: tuple[Region, ...]
    # measured round-trip times, (region, user location) -> ms; serving latency SLOs use
    # them before the great-circle estimate (planner/serving.py)
    latency_ms: Mapping[tuple[str, str], float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _freeze(self, "latency_ms")

    def region(self, name: str) -> Region:
        for region in self.regions:
            if region.name == name:
                return region
        raise KeyError(name)

    @property
    def region_names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.regions)

    @property
    def clusters(self) -> tuple[Cluster, ...]:
        return tuple(c for r in self.regions for c in r.clusters)


@dataclass(frozen=True, slots=True, kw_only=True)
class TrainingWorkload:
    """A training or batch job.

    ``duration_h`` is the wall time on an accelerator of relative speed 1.0;
    on an accelerator of speed ``s`` it runs ``duration_h / s`` hours.
    ``accelerators`` maps each acceptable accelerator to its relative speed,
    in order of preference (the first is what the job asks for today).
    A gang job needs all its GPUs at once in one cluster; a non-gang job is
    ``gpus`` independent one-GPU tasks (sweeps, batch inference).
    ``checkpoint_interval_h`` set means the job can resume after a spot
    interruption; without it the job never gets a spot offer.
    """

    name: str
    team: str
    gpus: int
    accelerators: Mapping[str, float]
    duration_h: float
    earliest_start: datetime
    deadline: datetime
    home_region: str
    allowed_regions: tuple[str, ...] = ()  # empty: any region of the fleet
    gang: bool = True
    checkpoint_interval_h: float | None = None
    restart_overhead_h: float = 0.1
    utilisation: float = 0.8

    kind: WorkloadKind = field(default=WorkloadKind.TRAINING, init=False)

    def __post_init__(self) -> None:
        _freeze(self, "accelerators")
        _require_utc(f"workload {self.name!r}: earliest_start", self.earliest_start)
        _require_utc(f"workload {self.name!r}: deadline", self.deadline)
        if self.gpus < 1:
            raise ValueError(f"workload {self.name!r}: gpus must be >= 1")
        for name in ("duration_h", "restart_overhead_h", "utilisation"):
            _finite(f"workload {self.name!r}: {name}", getattr(self, name))
        if self.duration_h <= 0:
            raise ValueError(f"workload {self.name!r}: duration_h must be > 0")
        if self.restart_overhead_h < 0:
            raise ValueError(f"workload {self.name!r}: restart_overhead_h must be >= 0")
        if self.checkpoint_interval_h is not None and not (
                math.isfinite(self.checkpoint_interval_h) and self.checkpoint_interval_h > 0):
            raise ValueError(f"workload {self.name!r}: checkpoint_interval_h must be > 0")
        if self.allowed_regions and self.home_region not in self.allowed_regions:
            raise ValueError(f"workload {self.name!r}: home_region {self.home_region!r} is not "
                             "among its allowed_regions")
        if not self.accelerators:
            raise ValueError(f"workload {self.name!r}: needs at least one accelerator")
        if any(not (math.isfinite(speed) and speed > 0) for speed in self.accelerators.values()):
            raise ValueError(f"workload {self.name!r}: relative speeds must be finite and > 0")
        if not 0.0 <= self.utilisation <= 1.0:
            raise ValueError(f"workload {self.name!r}: utilisation must be in [0, 1]")

    def runtime_h(self, accelerator: str) -> float:
        return self.duration_h / self.accelerators[accelerator]

    def allows(self, region: str) -> bool:
        return not self.allowed_regions or region in self.allowed_regions


@dataclass(frozen=True, slots=True, kw_only=True)
class Assignment:
    """Where and when (part of) a workload runs, and what it costs and emits.

    ``emissions_kg`` = ``operational_kg`` (location-based: energy x hourly grid
    intensity of the region) + ``embodied_kg`` (manufacturing share per
    GPU-hour), as the Software Carbon Intensity spec adds them.
    """

    workload: str
    kind: WorkloadKind
    team: str
    region: str
    cluster: str
    accelerator: str
    partition: str  # "whole" until MIG partitions arrive
    purchase: Purchase
    instance_type: str  # the offer rented; a gang rents whole instances
    start: datetime
    end: datetime
    gpus: int
    replicas: int
    cost_usd: float
    energy_kwh: float
    operational_kg: float
    embodied_kg: float
    reason: str = ""
    # market-based operational kgCO2e (GHG Protocol Scope 2): a separate figure, never
    # added to the location-based one
    market_kg: float = 0.0
    interruption_bucket: str | None = None  # spot only: monthly interruption frequency
    bucket_basis: str | None = None  # where the bucket comes from ("assumed" when no data)

    @property
    def emissions_kg(self) -> float:
        return self.operational_kg + self.embodied_kg

    @property
    def hours(self) -> float:
        return (self.end - self.start) / HOUR


@dataclass(frozen=True, slots=True, kw_only=True)
class MigLayout:
    """``gpus`` GPUs of a cluster partitioned into one MIG layout for [start, end)."""

    region: str
    cluster: str
    accelerator: str
    profiles: tuple[str, ...]  # sorted profile names, e.g. ("3g.40gb", "4g.40gb")
    gpus: int
    start: datetime
    end: datetime
    repartitioned_gpus: int = 0  # of them, GPUs that change layout (drained first)


@dataclass(frozen=True, slots=True, kw_only=True)
class Totals:
    cost_usd: float
    energy_kwh: float
    operational_kg: float  # location-based
    embodied_kg: float
    market_kg: float = 0.0  # market-based operational; reported beside, never summed with it

    @property
    def emissions_kg(self) -> float:
        return self.operational_kg + self.embodied_kg

    @staticmethod
    def of(assignments: tuple[Assignment, ...] | list[Assignment]) -> Totals:
        return Totals(
            cost_usd=sum(a.cost_usd for a in assignments),
            energy_kwh=sum(a.energy_kwh for a in assignments),
            operational_kg=sum(a.operational_kg for a in assignments),
            embodied_kg=sum(a.embodied_kg for a in assignments),
            market_kg=sum(a.market_kg for a in assignments),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class BaselineTotals:
    """A baseline strategy's totals on the same inputs, with what it breaks."""

    totals: Totals
    deadline_misses: int
    overbooked_gpu_h: int  # GPU-hours over capacity if each job ignored the others
    unplaced: int
    assignments: tuple[Assignment, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Unplaced:
    workload: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SolverReport:
    status: SolverStatus
    objective: float  # score units (planner/objective.py): USD-equivalent; kg for carbon
    bound: float
    gap: float  # relative, 0.0 = proven optimal
    wall_s: float
    num_variables: int
    num_constraints: int
    workers: int
    time_limit_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    created_at: datetime
    horizon_start: datetime
    horizon_hours: int
    objective: Objective
    carbon_price_usd_per_t: float
    assignments: tuple[Assignment, ...]
    unplaced: tuple[Unplaced, ...]
    totals: Totals
    baselines: Mapping[str, BaselineTotals]
    solver: SolverReport
    provenance: Mapping[str, str]  # what data the plan used: carbon sources, catalog version
    changes: tuple = ()  # planner.stability.Change per workload, when re-planned
    mig_layouts: tuple[MigLayout, ...] = ()  # how MIG GPUs are partitioned (mig_pools.py)

    def __post_init__(self) -> None:
        _freeze(self, "baselines")
        _freeze(self, "provenance")

    @property
    def horizon_end(self) -> datetime:
        return self.horizon_start + self.horizon_hours * HOUR
