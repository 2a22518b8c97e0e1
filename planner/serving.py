"""Serving workloads: replicas per hour that meet demand, latency and availability SLOs.

A serving workload is an always-on service. Its demand is a forecast of requests/s per
hourly slot (the chosen quantile of forecasting/'s interval, so capacity covers the
upper band, not the mean). One replica on accelerator ``a`` serves ``throughput_rps[a]``
requests/s; a replica holds ``gpus_per_replica(a)`` whole GPUs, enough memory for the
model. The planner chooses, per slot, how many replicas run on each option
(cluster, accelerator, purchase) of the regions the SLOs allow:

- **latency SLO**: a region is allowed when the round-trip time to *every* user
  location is within ``latency_slo_ms``. RTT comes from the fleet's latency table when
  it has the (region, location) pair, else from the great-circle distance
  (:func:`estimated_rtt_ms`). Users on several continents are several serving
  workloads, one per geography, as they are in practice (one deployment per market).
- **availability SLO**: on-demand replicas carry at least ``on_demand_floor`` of the
  demand (spot replicas can vanish together), and when ``failover_fraction`` > 0 the
  replicas outside any one region still carry that fraction of the demand: losing a
  region leaves the service up, which also spreads it over at least two regions.

Per slot t the served throughput of workload s is sum_o thr_o * r_sot, and

    (S1) sum_o thr_o r_sot                         + u_st >= D_st
    (S2) sum_{o on-demand} thr_o r_sot             + u_st >= floor_s * D_st
    (S3) sum_{o not in region g} thr_o r_sot       + u_st >= failover_s * D_st   for each g

with u_st >= 0 the unserved requests/s, paid at a penalty above any way to serve them
and reported as unplaced demand with its reason. Replicas use GPUs of their
(cluster, accelerator) in slot t, in the same capacity rows as training.

Cost and energy of a replica-hour: ``gpus_per_replica`` x the offer's USD per GPU-hour
(the cheapest offer of that region, accelerator and purchase), and carbon/energy's
facility kWh at the service's utilisation and the region's PUE; operational kg at the
slot's grid intensity, embodied kg per GPU-hour.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np

from planner import cached
from planner.capacity import pools_used
from planner.domain import HOUR, Fleet, Purchase, Region, WorkloadKind, _finite, _freeze
from pricing import mig
from pricing.catalog import Catalog, Offer

# GPU memory (GB) of each accelerator gridshift knows, from the vendors' datasheets:
# NVIDIA H100 SXM5 80 GB, A100 SXM4 80/40 GB, L40S 48 GB, L4 24 GB, A10G 24 GB (AWS G5),
# T4 16 GB.
GPU_MEMORY_GB: Mapping[str, float] = {
    "H100": 80.0, "A100-80GB": 80.0, "A100-40GB": 40.0, "L40S": 48.0, "L4": 24.0,
    "A10G": 24.0, "T4": 16.0,
}

# RTT estimate from great-circle distance: light in fibre covers about 200 km per ms
# (refractive index ~1.47), real routes are longer than the great circle (a factor of
# about 1.5 is typical between well-connected metros), and the last mile, TLS
# termination and load balancers add a few ms. An estimate, not a measurement: give the
# fleet a latency table (``latency_ms``) where you have one.
FIBRE_KM_PER_MS = 200.0
ROUTE_FACTOR = 1.5
BASE_RTT_MS = 5.0
EARTH_RADIUS_KM = 6371.0


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance in km on a sphere of the Earth's mean radius."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def estimated_rtt_ms(km: float) -> float:
    return BASE_RTT_MS + 2.0 * ROUTE_FACTOR * km / FIBRE_KM_PER_MS


@dataclass(frozen=True, slots=True, kw_only=True)
class UserLocation:
    name: str
    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ServingWorkload:
    """An always-on service; ``demand_rps[t]`` is the demand in slot t of the horizon
    (the last value holds for later slots)."""

    name: str
    team: str
    home_region: str
    model_memory_gb: float
    # accelerator (whole GPUs) or "accelerator:profile" (one MIG instance) -> requests/s
    # one replica serves
    throughput_rps: Mapping[str, float]
    demand_rps: tuple[float, ...]
    users: tuple[UserLocation, ...] = ()
    latency_slo_ms: float | None = None
    allowed_regions: tuple[str, ...] = ()  # residency; empty: any region of the fleet
    on_demand_floor: float = 1.0
    failover_fraction: float = 0.0
    utilisation: float = 0.6

    kind: WorkloadKind = WorkloadKind.SERVING

    def __post_init__(self) -> None:
        _freeze(self, "throughput_rps")
        tag = f"serving workload {self.name!r}"
        if not self.throughput_rps:
            raise ValueError(f"{tag}: needs a throughput for at least one accelerator")
        for accelerator, rps in self.throughput_rps.items():
            _finite(f"{tag}: throughput_rps[{accelerator}]", rps)
            if rps <= 0:
                raise ValueError(f"{tag}: throughput_rps[{accelerator}] must be > 0")
        if not self.demand_rps:
            raise ValueError(f"{tag}: demand_rps needs at least one value")
        for rps in self.demand_rps:
            _finite(f"{tag}: demand_rps", rps)
            if rps < 0:
                raise ValueError(f"{tag}: demand_rps must be >= 0")
        _finite(f"{tag}: model_memory_gb", self.model_memory_gb)
        if self.model_memory_gb <= 0:
            raise ValueError(f"{tag}: model_memory_gb must be > 0")
        for name in ("on_demand_floor", "failover_fraction", "utilisation"):
            value = getattr(self, name)
            _finite(f"{tag}: {name}", value)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{tag}: {name} must be in [0, 1]")
        if self.latency_slo_ms is not None and not self.latency_slo_ms > 0:
            raise ValueError(f"{tag}: latency_slo_ms must be > 0")
        if self.latency_slo_ms is not None and not self.users:
            raise ValueError(f"{tag}: a latency SLO needs the users' locations")

    def demand_at(self, slot: int) -> float:
        return self.demand_rps[min(slot, len(self.demand_rps) - 1)]

    def allows(self, region: str) -> bool:
        return not self.allowed_regions or region in self.allowed_regions


def gpus_per_replica(w: ServingWorkload, accelerator: str) -> int | None:
    """Whole GPUs one replica needs to hold the model; None for an unknown accelerator."""
    memory = GPU_MEMORY_GB.get(accelerator)
    return None if memory is None else max(1, math.ceil(w.model_memory_gb / memory - 1e-9))


def rtt_ms(region: Region, user: UserLocation, fleet: Fleet) -> tuple[float, str]:
    """(RTT in ms, "table" | "estimate") between a region and a user location."""
    measured = fleet.latency_ms.get((region.name, user.name))
    if measured is not None:
        return measured, "table"
    km = great_circle_km(region.latitude, region.longitude, user.latitude, user.longitude)
    return estimated_rtt_ms(km), "estimate"


def latency_ok(w: ServingWorkload, region: Region, fleet: Fleet) -> bool:
    if w.latency_slo_ms is None:
        return True
    return all(rtt_ms(region, u, fleet)[0] <= w.latency_slo_ms for u in w.users)


def worst_rtt(w: ServingWorkload, region: Region, fleet: Fleet) -> tuple[float, str, str]:
    """(RTT ms, user location, basis) of the farthest user, for explanations."""
    worst = max(((*rtt_ms(region, u, fleet), u.name) for u in w.users), default=(0.0, "", ""))
    return worst[0], worst[2], worst[1]


@dataclass(frozen=True, slots=True, kw_only=True)
class ServingOption:
    """Replicas of serving workload ``workload`` on one (cluster, accelerator, purchase)."""

    workload: int  # index into problem.serving
    region: Region
    cluster: str
    accelerator: str
    purchase: Purchase
    offer: Offer
    gpus_per_replica: int
    throughput_rps: float
    usd_per_hour: float  # one replica
    kwh_per_hour: float  # one replica
    embodied_kg_per_hour: float  # one replica
    operational_kg: np.ndarray  # one replica-hour, by slot 0..H-1
    max_replicas: int  # what the cluster could hold of it
    # a MIG profile instead of whole GPUs (gpus_per_replica 0; planner/mig_pools.py)
    profile: mig.MigProfile | None = None
    # score units a replica-hour pays for running where the last plan did not announce it
    # (planner/stability.py): move_penalty / SERVING_MOVE_HOURS
    penalty_per_hour: float = 0.0
    spot_capped: bool = False  # spot in a cluster that caps its spot GPUs separately

    @property
    def resource(self) -> tuple[str, str]:
        return (self.cluster, self.accelerator)

    @property
    def resources(self) -> tuple[tuple[str, str], ...]:
        return pools_used(self.cluster, self.accelerator, self.spot_capped)

    @property
    def partition(self) -> str:
        return "whole" if self.profile is None else self.profile.name


@dataclass(frozen=True, slots=True, kw_only=True)
class ServingOptions:
    workload: ServingWorkload
    options: tuple[ServingOption, ...]
    demand_rps: np.ndarray  # by slot 0..H-1
    why_none: str = ""


def _cheapest(catalog: Catalog, region: Region, accelerator: str,
              purchase: Purchase) -> Offer | None:
    offers = catalog.offers_for(provider=region.provider, region=region.cloud_region,
                                accelerator=accelerator, purchase=purchase)
    return min(offers, key=lambda o: (o.usd_per_gpu_hour, o.instance_type), default=None)


# A replica running a whole day where the last plan did not put it pays one move penalty.
SERVING_MOVE_HOURS = 24.0


def build_serving_options(serving: tuple[ServingWorkload, ...], fleet: Fleet, catalog: Catalog,
                          horizon_hours: int, intensity: Mapping[str, np.ndarray], *,
                          announced: Mapping[str, tuple] | None = None,
                          move_penalty: float = 0.0) -> tuple[ServingOptions, ...]:
    """Options of every serving workload; ``intensity`` is g/kWh per zone by slot. With
    ``announced`` (the last plan's pieces per workload), options it did not use pay
    ``move_penalty / SERVING_MOVE_HOURS`` per replica-hour, so re-plans do not churn."""
    out = []
    by_zone = {zone: np.asarray(g[:horizon_hours], dtype=float) for zone, g in intensity.items()}
    for s, w in enumerate(serving):
        demand = np.asarray([w.demand_at(t) for t in range(horizon_hours)], dtype=float)
        options: list[ServingOption] = []
        for region in fleet.regions:
            if not (w.allows(region.name) and latency_ok(w, region, fleet)):
                continue
            g_per_kwh = by_zone[region.grid_zone]
            for cluster in region.clusters:
                for key, rps in w.throughput_rps.items():
                    accelerator, profile_name = split_key(key)
                    if profile_name is not None:
                        option = _mig_option(s, w, region, cluster, accelerator, profile_name,
                                             float(rps), catalog, g_per_kwh)
                        if option is not None:
                            options.append(option)
                        continue
                    gpus = gpus_per_replica(w, accelerator)
                    have = cluster.capacity_gpus.get(accelerator, 0)
                    if gpus is None or have < gpus:
                        continue
                    for purchase in Purchase:
                        if purchase is Purchase.SPOT and w.on_demand_floor >= 1.0:
                            continue
                        offer = _cheapest(catalog, region, accelerator, purchase)
                        if offer is None:
                            continue
                        kwh = cached.energy_kwh(accelerator=accelerator, gpus=gpus, hours=1.0,
                                                utilisation=w.utilisation, pue=region.pue)
                        options.append(ServingOption(
                            workload=s, region=region, cluster=cluster.name,
                            accelerator=accelerator, purchase=purchase, offer=offer,
                            gpus_per_replica=gpus, throughput_rps=float(rps),
                            usd_per_hour=offer.usd_per_gpu_hour * gpus, kwh_per_hour=kwh,
                            embodied_kg_per_hour=cached.embodied_kg_co2e(
                                accelerator=accelerator, gpu_hours=float(gpus)),
                            operational_kg=kwh * g_per_kwh / 1000.0,
                            max_replicas=have // gpus,
                            spot_capped=(purchase is Purchase.SPOT
                                         and accelerator in cluster.spot_capacity_gpus)))
        pieces = (announced or {}).get(w.name)
        if pieces and move_penalty > 0:
            used = {(a.cluster, a.accelerator, a.purchase) for a in pieces}
            options = [o if (o.cluster, o.accelerator, o.purchase) in used else
                       replace(o, penalty_per_hour=move_penalty / SERVING_MOVE_HOURS)
                       for o in options]
        out.append(ServingOptions(workload=w, options=tuple(options), demand_rps=demand,
                                  why_none="" if options else _why_none(w, fleet, catalog)))
    return tuple(out)


def split_key(key: str) -> tuple[str, str | None]:
    """``"A100-80GB:3g.40gb"`` -> ("A100-80GB", "3g.40gb"); ``"H100"`` -> ("H100", None)."""
    accelerator, _, profile_name = key.partition(":")
    return accelerator, profile_name or None


def _mig_option(s: int, w: ServingWorkload, region: Region, cluster, accelerator: str,
                profile_name: str, rps: float, catalog: Catalog,
                g_per_kwh: np.ndarray) -> ServingOption | None:
    """A replica on one MIG instance: on-demand (a partitioned GPU is not spot), charged
    its profile's share of a GPU-hour; None when the cluster has no such GPU, the profile
    is too small for the model, or there is no price."""
    from planner.mig_pools import MIG_POOL_UTILISATION

    p = mig.profile(accelerator, profile_name)
    have = cluster.capacity_gpus.get(accelerator, 0)
    offer = _cheapest(catalog, region, accelerator, Purchase.ON_DEMAND)
    if have < 1 or p.memory_gb < w.model_memory_gb or offer is None:
        return None
    kwh = p.power_share * cached.energy_kwh(accelerator=accelerator, gpus=1, hours=1.0,
                                            utilisation=MIG_POOL_UTILISATION, pue=region.pue)
    return ServingOption(
        workload=s, region=region, cluster=cluster.name, accelerator=accelerator,
        purchase=Purchase.ON_DEMAND, offer=offer, gpus_per_replica=0, throughput_rps=rps,
        usd_per_hour=offer.usd_per_gpu_hour * p.price_share, kwh_per_hour=kwh,
        embodied_kg_per_hour=p.price_share * cached.embodied_kg_co2e(
            accelerator=accelerator, gpu_hours=1.0),
        operational_kg=kwh * g_per_kwh / 1000.0, max_replicas=have * p.max_instances,
        profile=p)


def _why_none(w: ServingWorkload, fleet: Fleet, catalog: Catalog) -> str:
    regions = [r for r in fleet.regions if w.allows(r.name)]
    if not regions:
        return "residency: none of its allowed regions is in the fleet"
    near = [r for r in regions if latency_ok(w, r, fleet)]
    if not near:
        best = min(regions, key=lambda r: worst_rtt(w, r, fleet)[0])
        rtt, user, basis = worst_rtt(w, best, fleet)
        return (f"latency: no allowed region is within {w.latency_slo_ms:g} ms of all its users "
                f"(nearest: {best.name}, {rtt:.0f} ms to {user}, {basis}); relax latency_slo_ms "
                "or split the users into one serving workload per geography")
    whole = [a for a in w.throughput_rps if split_key(a)[1] is None]
    if not any(gpus_per_replica(w, a) is not None
               and c.capacity_gpus.get(a, 0) >= gpus_per_replica(w, a)
               for r in near for c in r.clusters for a in whole):
        return (f"capacity: no cluster within its latency SLO has enough "
                f"{'/'.join(w.throughput_rps)} GPUs for a {w.model_memory_gb:g} GB model")
    return "pricing: no offer in the catalog for its accelerators in the regions its SLOs allow"


def slot_time(horizon_start: datetime, slot: int) -> datetime:
    return horizon_start + slot * HOUR
