"""A generated fleet and training (and serving) workload set for scale benchmarks.

Regions sit on the grid zones that carbon/ has embedded defaults for (several
regions may share a zone, as cloud regions do); prices are drawn around the
bundled catalog's per-GPU medians; everything is seeded, so a run is
repeatable. Nothing here is used by the product.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime, timedelta

from carbon.intensity import default_zones, embedded_default
from planner.domain import Cluster, Fleet, Region, TrainingWorkload
from planner.problem import PlanningProblem, lookahead_hours
from planner.serving import ServingWorkload, UserLocation, estimated_rtt_ms, great_circle_km
from pricing.catalog import Catalog, Offer, Purchase

START = datetime(2026, 11, 23, tzinfo=UTC)
# accelerator -> (on-demand USD per GPU-hour around which prices are drawn, relative speed)
ACCELERATORS = {"H100": (7.0, 2.0), "A100-80GB": (4.0, 1.0), "L4": (0.9, 0.3), "T4": (0.5, 0.15)}
PROVIDERS = ("aws", "gcp", "azure")


# metros regions are drawn around (lat, lon), so latency SLOs bind
METROS = ((39.0, -77.5), (45.6, -121.2), (32.8, -96.8), (53.3, -6.3), (50.1, 8.7),
          (51.5, -0.1), (35.7, 139.7), (1.35, 103.8), (19.1, 72.9), (-33.9, 151.2))
# whole-GPU throughput (requests/s of a 20 GB model) and the MIG profile it fits
SERVING = {"H100": (120.0, "3g.40gb"), "A100-80GB": (70.0, "3g.40gb"), "L4": (18.0, None)}


def generated_problem(n_jobs: int, *, n_regions: int = 20, horizon_hours: int = 48,
                      regions_per_job: int = 6, seed: int = 7,
                      serving_share: float = 0.0) -> PlanningProblem:
    """``n_jobs`` workloads, ``serving_share`` of them serving (latency SLO to a metro,
    half with a failover share, MIG profiles on H100/A100), the rest training."""
    rng = random.Random(seed)
    where = random.Random(seed + 1)  # locations: own stream, the training draws stay as before
    n_serving = round(n_jobs * serving_share)
    zones = sorted(default_zones())
    regions, offers = [], []
    for i in range(n_regions):
        provider = PROVIDERS[i % len(PROVIDERS)]
        name = f"{provider}-r{i:02d}"
        # services hold GPUs around the clock: twice the GPUs when there are any
        capacity = {a: rng.choice([16, 32, 64, 128]) * max(1, n_jobs // 1000)
                    * (2 if serving_share > 0 else 1)
                    for a in ACCELERATORS if rng.random() < 0.8}
        lat, lon = METROS[i % len(METROS)]
        regions.append(Region(
            name=name, provider=provider, cloud_region=name, grid_zone=zones[i % len(zones)],
            pue=1.1 + 0.1 * rng.random(), latitude=lat + where.uniform(-2, 2),
            longitude=lon + where.uniform(-2, 2),
            clusters=(Cluster(name=f"{name}-c", region=name, capacity_gpus=capacity),)))
        for accelerator in capacity:
            base = ACCELERATORS[accelerator][0] * rng.uniform(0.8, 1.3)
            common = {"provider": provider, "region": name, "accelerator": accelerator,
                      "instance_type": f"gen-{accelerator.lower()}", "gpus_per_instance": 8,
                      "source": "generated", "as_of": date(2026, 11, 1),
                      "bucket_basis": "generated"}
            offers.append(Offer(purchase=Purchase.ON_DEMAND, usd_per_hour=8 * base,
                                interruption_bucket=None, **common))
            offers.append(Offer(purchase=Purchase.SPOT, usd_per_hour=8 * base * rng.uniform(0.3, 0.7),
                                interruption_bucket=rng.choice(["<5%", "5-10%", "10-15%", ">20%"]),
                                **common))
    names = [r.name for r in regions]
    workloads = []
    for k in range(n_jobs - n_serving):
        accelerator = rng.choice(list(ACCELERATORS))
        speeds = {accelerator: ACCELERATORS[accelerator][1]}
        if rng.random() < 0.5:
            other = rng.choice(list(ACCELERATORS))
            speeds.setdefault(other, ACCELERATORS[other][1])
        allowed = tuple(rng.sample(names, regions_per_job))
        duration_h = rng.choice([1, 2, 3, 4, 6, 8, 12]) * max(speeds.values())
        release_h = rng.randint(0, 24)
        slack_h = rng.randint(0, 24)
        runtime_h = duration_h / max(speeds.values())
        workloads.append(TrainingWorkload(
            name=f"job-{k:05d}", team=f"team-{k % 7}", gpus=rng.choice([1, 1, 2, 4, 8, 8, 16]),
            accelerators=speeds, duration_h=duration_h,
            earliest_start=START + timedelta(hours=release_h),
            deadline=START + timedelta(hours=min(horizon_hours, release_h + runtime_h + slack_h + 1)),
            home_region=allowed[0], allowed_regions=allowed, gang=rng.random() < 0.8,
            checkpoint_interval_h=rng.choice([None, 0.5, 1.0]),
        ))
    workloads = tuple(workloads)
    serving = tuple(_service(k, rng, regions, horizon_hours) for k in range(n_serving))
    hours = horizon_hours + lookahead_hours(workloads, horizon_hours)
    intensity = {z: embedded_default(z, start=START, hours=hours) for z in {r.grid_zone for r in regions}}
    return PlanningProblem(fleet=Fleet(regions=tuple(regions)), workloads=workloads,
                           horizon_start=START, horizon_hours=horizon_hours, intensity=intensity,
                           catalog=Catalog(offers=tuple(offers), version="generated"),
                           serving=serving)


def _service(k: int, rng: random.Random, regions: list[Region],
             horizon_hours: int) -> ServingWorkload:
    home = rng.choice(regions)
    peak = rng.choice([10, 20, 40, 80, 160]) * rng.uniform(0.7, 1.3)
    phase = rng.randint(0, 23)
    demand = tuple(round(peak * (0.55 + 0.45 * math.cos(2 * math.pi * (t - phase) / 24)), 1)
                   for t in range(horizon_hours))
    throughput: dict[str, float] = {}
    have = [a for a in SERVING if home.clusters[0].capacity_gpus.get(a)] or list(SERVING)
    for accelerator in rng.sample(have, rng.randint(1, min(3, len(have)))):
        rps, profile = SERVING[accelerator]
        throughput[accelerator] = rps
        if profile is not None and rng.random() < 0.6:
            throughput[f"{accelerator}:{profile}"] = rps * 0.5
    near = [r for r in regions if estimated_rtt_ms(great_circle_km(
        home.latitude, home.longitude, r.latitude, r.longitude)) <= 80.0]
    failover = rng.choice([0.0, 0.0, 0.5]) if len(near) >= 3 else 0.0
    return ServingWorkload(
        name=f"svc-{k:05d}", team=f"team-{k % 7}", home_region=home.name,
        model_memory_gb=20.0, throughput_rps=throughput, demand_rps=demand,
        users=(UserLocation(name="users", latitude=home.latitude,
                            longitude=home.longitude),),
        latency_slo_ms=80.0, on_demand_floor=rng.choice([0.5, 0.8, 1.0]),
        failover_fraction=failover)
