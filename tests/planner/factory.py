"""Small hand-made planning problems for planner tests (no files, no network)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from carbon.intensity import IntensityKind, IntensitySeries
from planner.domain import Cluster, Fleet, Region, TrainingWorkload
from planner.problem import PlanningProblem, lookahead_hours
from pricing.catalog import Catalog, Offer, Purchase

T0 = datetime(2026, 11, 23, 0, tzinfo=UTC)
H = timedelta(hours=1)


def region(name: str, zone: str, capacity: dict[str, int], provider: str = "aws", *,
           clusters: int = 1) -> Region:
    return Region(name=name, provider=provider, cloud_region=name, grid_zone=zone, pue=1.1,
                  latitude=0.0, longitude=0.0,
                  clusters=tuple(Cluster(name=f"{name}-c{'' if k == 0 else k}", region=name,
                                         capacity_gpus=capacity) for k in range(clusters)))


def offer(region_name: str, accelerator: str, usd_per_gpu_hour: float,
          spot_usd_per_gpu_hour: float | None = None, provider: str = "aws", *,
          gpus_per_instance: int = 1, bucket: str = "5-10%") -> list[Offer]:
    common = {"provider": provider, "region": region_name, "accelerator": accelerator,
              "instance_type": f"{accelerator.lower()}-x{gpus_per_instance}",
              "gpus_per_instance": gpus_per_instance, "source": "test",
              "as_of": date(2026, 11, 1)}
    out = [Offer(purchase=Purchase.ON_DEMAND, usd_per_hour=usd_per_gpu_hour * gpus_per_instance,
                 interruption_bucket=None, bucket_basis=None, **common)]
    if spot_usd_per_gpu_hour is not None:
        out.append(Offer(purchase=Purchase.SPOT,
                         usd_per_hour=spot_usd_per_gpu_hour * gpus_per_instance,
                         interruption_bucket=bucket, bucket_basis="test", **common))
    return out


def series(zone: str, values: list[float], hours: int) -> IntensitySeries:
    padded = (values * (hours // len(values) + 1))[:hours]
    return IntensitySeries(zone=zone, start=T0, g_per_kwh=tuple(float(v) for v in padded),
                           source="test", kind=IntensityKind.DEFAULT)


def job(name: str, *, gpus: int = 1, hours: float = 2.0, release_h: int = 0, deadline_h: int = 24,
        home: str = "dirty", accelerators: dict[str, float] | None = None, gang: bool = True,
        checkpoint_h: float | None = None, allowed: tuple[str, ...] = ()) -> TrainingWorkload:
    return TrainingWorkload(
        name=name, team="t", gpus=gpus, accelerators=accelerators or {"A100-80GB": 1.0},
        duration_h=hours, earliest_start=T0 + release_h * H, deadline=T0 + deadline_h * H,
        home_region=home, allowed_regions=allowed, gang=gang, checkpoint_interval_h=checkpoint_h)


def mixed_jobs(n: int = 40) -> list[TrainingWorkload]:
    """``n`` jobs of 1-4 GPUs and 1-5 hours, every other one checkpointing hourly."""
    return [job(f"j{i}", gpus=1 + i % 4, hours=1 + i % 5, checkpoint_h=1 if i % 2 else None)
            for i in range(n)]


def problem(workloads, *, regions=None, offers=None, intensity=None,
            horizon_hours: int = 24) -> PlanningProblem:
    regions = regions or (region("dirty", "Z-DIRTY", {"A100-80GB": 8}),
                          region("clean", "Z-CLEAN", {"A100-80GB": 8}))
    offers = offers if offers is not None else (
        offer("dirty", "A100-80GB", 3.0, 1.2) + offer("clean", "A100-80GB", 3.3, 1.4))
    workloads = tuple(workloads)
    hours = horizon_hours + lookahead_hours(workloads, horizon_hours)
    intensity = intensity or {"Z-DIRTY": [500.0], "Z-CLEAN": [50.0]}
    return PlanningProblem(
        fleet=Fleet(regions=tuple(regions)), workloads=workloads, horizon_start=T0,
        horizon_hours=horizon_hours,
        intensity={z: series(z, v, hours) for z, v in intensity.items()},
        catalog=Catalog(offers=tuple(offers), version="test"))
