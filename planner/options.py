"""Candidate options of each workload: where, on what, bought how, and when.

An *option* is (cluster, accelerator, purchase) for one workload, with the
hourly slots it may start in and, per start, what it costs and emits. This is
the data step of the model (STYLE: data -> variables -> constraints ->
objective); baselines and the checker read the same options.

Per option o of workload j (all per *unit*: the whole gang, or one GPU-task
of a non-gang job):

    runtime_h   = duration_h / speed(accelerator)              on-demand
                = E[runtime | spot interruptions]              spot (pricing.spot)
    slots       = ceil(runtime_h)                               hourly slots held
    usd/h       = instances * usd_per_hour(offer)               a gang rents whole instances,
                  instances = ceil(gpus_per_unit / gpus_per_instance)
                = usd_per_gpu_hour(offer)                       a one-GPU task shares one
    cost_usd    = usd/h * runtime_h
    energy_kwh  = carbon.energy_kwh(accelerator, gpus_per_unit, runtime_h, utilisation, PUE)
    op_kg(s)    = sum_k energy_kwh * share_k * g_per_kwh(zone, s + k) / 1000
                  (share_k = fraction of the runtime falling in slot k)
    embodied_kg = carbon.embodied_kg_co2e(accelerator, gpus_per_unit * runtime_h)

The offer is the instance type of the region and accelerator with the lowest
expected cost for the unit (spot: including the rework its instance count
brings).

Allowed starts: earliest_start <= start < horizon end (a run may go on past
the horizon, into the look-ahead, whose intensity is known) and
start + window_h <= deadline, where window_h is the runtime on-demand and, on
spot, the time within which the job finishes with probability
SPOT_FINISH_PROBABILITY (pricing.spot.SpotRisk.p_finish_within): spot may not
put a deadline at risk beyond that.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from planner import cached
from planner.capacity import pools_used
from planner.domain import HOUR, Purchase, Region, TrainingWorkload
from planner.problem import PlanningProblem
from pricing import spot
from pricing.catalog import Offer

# A spot option must finish by the deadline with at least this probability.
SPOT_FINISH_PROBABILITY = 0.95


@dataclass(frozen=True, slots=True, kw_only=True)
class Option:
    workload: int  # index into problem.workloads
    region: Region
    cluster: str
    accelerator: str
    purchase: Purchase
    offer: Offer
    instances: int  # instances rented for one unit (1 for a one-GPU task)
    runtime_h: float  # expected wall hours of one unit
    window_h: float  # hours to reserve before the deadline (P95 on spot)
    slots: int
    first_start: int  # slot index, inclusive
    last_start: int  # slot index, inclusive
    cost_usd: float
    energy_kwh: float
    embodied_kg: float
    operational_kg: np.ndarray  # by start slot - first_start
    interruption_bucket: str | None = None
    # score units one unit pays for leaving what the last plan announced, by start
    penalty: np.ndarray | None = None
    spot_capped: bool = False  # spot in a cluster that caps its spot GPUs separately

    def penalty_at(self, start: int) -> float:
        return 0.0 if self.penalty is None else float(self.penalty[start - self.first_start])

    @property
    def resource(self) -> tuple[str, str]:
        return (self.cluster, self.accelerator)

    @property
    def resources(self) -> tuple[tuple[str, str], ...]:
        return pools_used(self.cluster, self.accelerator, self.spot_capped)

    @property
    def starts(self) -> range:
        return range(self.first_start, self.last_start + 1)

    def operational_kg_at(self, start: int) -> float:
        return float(self.operational_kg[start - self.first_start])


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkloadOptions:
    workload: TrainingWorkload
    units: int  # 1 for a gang, gpus for independent one-GPU tasks
    gpus_per_unit: int
    options: tuple[Option, ...]
    why_none: str = ""  # when options is empty, why


def units_of(workload: TrainingWorkload) -> tuple[int, int]:
    """(units, gpus per unit): a gang is one unit of all its GPUs."""
    return (1, workload.gpus) if workload.gang else (workload.gpus, 1)


def first_slot(problem: PlanningProblem, workload: TrainingWorkload) -> int:
    return max(0, math.ceil((workload.earliest_start - problem.horizon_start) / HOUR))


@dataclass(frozen=True, slots=True, kw_only=True)
class Rental:
    """How one unit of a workload rents an offer."""

    offer: Offer
    instances: int
    usd_per_hour: float
    runtime_h: float
    window_h: float

    @property
    def cost_usd(self) -> float:
        return self.usd_per_hour * self.runtime_h


def rental(workload: TrainingWorkload, accelerator: str, offer: Offer,
           gpus_per_unit: int) -> Rental | None:
    """What one unit costs and how long it runs on ``offer``; None when not allowed."""
    base_h = workload.runtime_h(accelerator)
    if workload.gang:
        instances = max(1, math.ceil(gpus_per_unit / offer.gpus_per_instance))
        usd_per_hour = instances * offer.usd_per_hour
    else:
        instances, usd_per_hour = 1, offer.usd_per_gpu_hour * gpus_per_unit
    if offer.purchase is Purchase.ON_DEMAND:
        return Rental(offer=offer, instances=instances, usd_per_hour=usd_per_hour,
                      runtime_h=base_h, window_h=base_h)
    if workload.checkpoint_interval_h is None or offer.interruption_bucket is None:
        return None
    risk = cached.spot_risk(
        work_h=base_h, checkpoint_interval_h=workload.checkpoint_interval_h,
        restart_overhead_h=workload.restart_overhead_h, bucket=offer.interruption_bucket,
        instances=instances)
    if risk is None:
        return None
    return Rental(offer=offer, instances=instances, usd_per_hour=usd_per_hour,
                  runtime_h=risk.expected_runtime_h, window_h=finish_window_h(risk))


@functools.lru_cache(maxsize=1 << 16)  # pure in the risk, which many options share
def finish_window_h(risk: spot.SpotRisk) -> float:
    """Smallest whole number of minutes within which the run ends with the target probability."""
    low, high = risk.expected_runtime_h, max(risk.expected_runtime_h, risk.work_h) * 4 + 1.0
    if risk.p_finish_within(high) < SPOT_FINISH_PROBABILITY:
        return math.inf
    while high - low > 0.5 / 60:  # bisection on a monotone function, to half a minute
        mid = (low + high) / 2
        if risk.p_finish_within(mid) >= SPOT_FINISH_PROBABILITY:
            high = mid
        else:
            low = mid
    return math.ceil(high * 60) / 60


def best_rental(catalog, region: Region, workload: TrainingWorkload, accelerator: str,
                purchase: Purchase, gpus_per_unit: int) -> Rental | None:
    """The offer of the region with the lowest expected cost for one unit."""
    best = None
    for offer in catalog.offers_for(provider=region.provider, region=region.cloud_region,
                                    accelerator=accelerator, purchase=purchase):
        r = rental(workload, accelerator, offer, gpus_per_unit)
        if r is not None and (best is None or (r.cost_usd, r.instances, offer.instance_type)
                              < (best.cost_usd, best.instances, best.offer.instance_type)):
            best = r
    return best


def hourly_shares(runtime_h: float) -> np.ndarray:
    """Fraction of a run of ``runtime_h`` hours that falls in each hourly slot."""
    slots = math.ceil(runtime_h - 1e-9)
    shares = np.ones(slots)
    shares[-1] = runtime_h - (slots - 1)
    return shares / runtime_h


def intensity_arrays(problem: PlanningProblem) -> dict[str, np.ndarray]:
    """g/kWh per zone for slots 0 .. horizon + lookahead - 1."""
    slots = problem.horizon_hours + problem.lookahead_hours
    return {
        zone: np.asarray([problem.g_per_kwh(zone, t) for t in range(slots)])
        for zone in {r.grid_zone for r in problem.fleet.regions}
    }


def make_option(problem: PlanningProblem, j: int, region: Region, cluster: str,
                accelerator: str, purchase: Purchase, first: int, last: int,
                intensity: dict[str, np.ndarray], memo: Memo | None = None) -> Option | None:
    """One option with starts [first, last], ignoring deadline and horizon (for baselines);
    ``memo`` shares rentals and weighted intensity between the calls of one baseline."""
    w = problem.workloads[j]
    _, gpus_per_unit = units_of(w)
    memo = memo or Memo()
    r = memo.best_rental(problem.catalog, region, w, accelerator, purchase, gpus_per_unit)
    if r is None:
        return None
    slots = math.ceil(r.runtime_h - 1e-9)
    last = min(last, len(intensity[region.grid_zone]) - slots)
    if last < first:
        return None
    return _option(problem, j, w, region, cluster, accelerator, r, slots, first, last,
                   gpus_per_unit, intensity[region.grid_zone], memo.weighted)


class Memo:
    """What the options of many workloads share while they are built: the best rental by
    (region's offers, job shape) and the weighted intensity by (zone series, runtime). The
    intensity is keyed by the series array's identity: a memo lives no longer than the
    intensity arrays it is used with (one build_options or one baseline)."""

    __slots__ = ("rentals", "weighted")

    def __init__(self) -> None:
        self.rentals: dict[tuple, Rental | None] = {}
        self.weighted: dict[tuple, np.ndarray] = {}

    def best_rental(self, catalog, region: Region, w: TrainingWorkload, accelerator: str,
                    purchase: Purchase, gpus_per_unit: int) -> Rental | None:
        # everything rental() reads of the workload, and the offers best_rental() reads
        key = (region.provider, region.cloud_region, accelerator, purchase,
               w.runtime_h(accelerator), w.gang, w.checkpoint_interval_h,
               w.restart_overhead_h, gpus_per_unit)
        if key not in self.rentals:
            self.rentals[key] = best_rental(catalog, region, w, accelerator, purchase,
                                            gpus_per_unit)
        return self.rentals[key]


def build_options(problem: PlanningProblem) -> tuple[WorkloadOptions, ...]:
    intensity = intensity_arrays(problem)
    memo = Memo()
    return tuple(
        _options_of(problem, j, w, intensity, memo) for j, w in enumerate(problem.workloads)
    )


def _options_of(problem: PlanningProblem, j: int, w: TrainingWorkload,
                intensity: dict[str, np.ndarray], memo: Memo) -> WorkloadOptions:
    units, gpus_per_unit = units_of(w)
    first = first_slot(problem, w)
    deadline_h = (w.deadline - problem.horizon_start) / HOUR
    n_slots = problem.horizon_hours + problem.lookahead_hours
    options: list[Option] = []
    why: list[str] = []
    for region in problem.fleet.regions:
        if not w.allows(region.name):
            continue
        for cluster in region.clusters:
            for accelerator in w.accelerators:
                capacity = cluster.capacity_gpus.get(accelerator, 0)
                if capacity < gpus_per_unit:
                    continue
                for purchase in Purchase:
                    if (purchase is Purchase.SPOT
                            and cluster.spot_capacity_gpus.get(accelerator, gpus_per_unit)
                            < gpus_per_unit):
                        continue  # the cluster's spot pool is too small for one unit
                    r = memo.best_rental(problem.catalog, region, w, accelerator,
                                         purchase, gpus_per_unit)
                    if r is None:
                        continue
                    slots = math.ceil(r.runtime_h - 1e-9)
                    last = min(math.floor(deadline_h - r.window_h + 1e-9),
                               problem.horizon_hours - 1, n_slots - slots)
                    if last < first:
                        why.append(f"{region.name}/{accelerator}/{purchase}")
                        continue
                    options.append(_option(problem, j, w, region, cluster.name, accelerator, r,
                                           slots, first, last, gpus_per_unit,
                                           intensity[region.grid_zone], memo.weighted))
    reason = ""
    if not options:
        reason = _why_no_option(problem, w, gpus_per_unit, bool(why))
    return WorkloadOptions(workload=w, units=units, gpus_per_unit=gpus_per_unit,
                           options=tuple(options), why_none=reason)


def _option(problem: PlanningProblem, j: int, w: TrainingWorkload, region: Region,
            cluster: str, accelerator: str, r: Rental, slots: int, first: int, last: int,
            gpus_per_unit: int, g_per_kwh: np.ndarray, weighted: dict | None = None) -> Option:
    runtime_h = r.runtime_h
    energy_kwh = cached.energy_kwh(accelerator=accelerator, gpus=gpus_per_unit, hours=runtime_h,
                                   utilisation=w.utilisation, pue=region.pue)
    operational_kg = _weighted_intensity(g_per_kwh, runtime_h, slots, first, last,
                                         weighted) * energy_kwh / 1000.0
    return Option(
        workload=j, region=region, cluster=cluster, accelerator=accelerator,
        purchase=r.offer.purchase, offer=r.offer, instances=r.instances, runtime_h=runtime_h,
        window_h=r.window_h, slots=slots, first_start=first, last_start=last,
        cost_usd=r.cost_usd,
        energy_kwh=energy_kwh,
        embodied_kg=cached.embodied_kg_co2e(accelerator=accelerator,
                                            gpu_hours=gpus_per_unit * runtime_h),
        operational_kg=operational_kg,
        penalty=_move_penalty(problem, w, cluster, accelerator, r.offer.purchase, first, last),
        interruption_bucket=(r.offer.interruption_bucket
                             if r.offer.purchase is Purchase.SPOT else None),
        spot_capped=(r.offer.purchase is Purchase.SPOT and accelerator in next(
            c for c in region.clusters if c.name == cluster).spot_capacity_gpus),
    )


def _weighted_intensity(g_per_kwh: np.ndarray, runtime_h: float, slots: int, first: int,
                        last: int, weighted: dict | None) -> np.ndarray:
    """g/kWh of a run of ``runtime_h`` hours weighted by its hourly shares, for every start
    in [first, last]: a sliding dot product. It is the same for every option of a zone and
    runtime, so ``weighted`` keeps it for all starts by (zone series, runtime) while the
    options are built, and an option takes its slice: each start is its own dot product
    of ``slots`` terms in order, so a slice equals computing the window alone. A single
    start is computed alone: numpy takes another summation path (a vector dot) for it,
    which differed in the last bit for 4 of 3,000 random windows (numpy 2.4); a test
    holds every option to its own window, bit for bit."""
    if weighted is None or last == first:
        window = np.lib.stride_tricks.sliding_window_view(g_per_kwh[first:last + slots], slots)
        return window @ hourly_shares(runtime_h)
    key = (id(g_per_kwh), runtime_h)
    every_start = weighted.get(key)
    if every_start is None:
        window = np.lib.stride_tricks.sliding_window_view(g_per_kwh, slots)
        every_start = weighted[key] = window @ hourly_shares(runtime_h)
    return every_start[first:last + 1]


def _move_penalty(problem: PlanningProblem, w: TrainingWorkload, cluster: str, accelerator: str,
                  purchase: Purchase, first: int, last: int) -> np.ndarray | None:
    """move_penalty at every start but the announced one (planner/stability.py)."""
    pieces = problem.announced.get(w.name)
    if not pieces or problem.move_penalty <= 0:
        return None
    penalty = np.full(last - first + 1, problem.move_penalty)
    for a in pieces:  # a non-gang workload may have been announced in several pieces
        if (a.cluster, a.accelerator, a.purchase) == (cluster, accelerator, purchase):
            slot = (a.start - problem.horizon_start) / HOUR
            if slot == int(slot) and first <= int(slot) <= last:
                penalty[int(slot) - first] = 0.0
    return penalty


def _why_no_option(problem: PlanningProblem, w: TrainingWorkload, gpus_per_unit: int,
                   too_late: bool) -> str:
    regions = [r for r in problem.fleet.regions if w.allows(r.name)]
    if not regions:
        return "residency: none of its allowed regions is in the fleet"
    if not any(c.capacity_gpus.get(a, 0) >= gpus_per_unit
               for r in regions for c in r.clusters for a in w.accelerators):
        return (f"capacity: no cluster in its allowed regions has {gpus_per_unit} "
                f"{'/'.join(w.accelerators)} GPUs")
    if too_late:
        if w.earliest_start >= problem.horizon_end:
            return "horizon: its earliest start is after the planning horizon"
        return ("deadline: no allowed option can start inside the "
                f"{problem.horizon_hours} h horizon and finish by the deadline")
    return "pricing: no offer in the catalog for its accelerators in its allowed regions"
