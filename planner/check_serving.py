"""Independent check of serving assignments (called by planner/check.py).

Recomputed from the problem, not the model: the latency of each region from the
users' locations, the replica's GPUs from the model memory, the offer's price, energy
and emissions per replica-hour, and per hour the requests/s served in total, on
on-demand replicas and outside each region, against the demand.
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from collections.abc import Iterable

from carbon import energy
from planner.domain import HOUR, Assignment, Purchase, WorkloadKind
from planner.mig_pools import MIG_DRAIN_HOURS, MIG_POOL_UTILISATION
from planner.problem import PlanningProblem
from planner.serving import GPU_MEMORY_GB, latency_ok
from pricing import mig

_REL = 1e-6
_SLACK_RPS = 1e-3  # the model rounds demand up and throughput down to milli-requests/s

# The checker's own memo of the pure carbon maths (not the planner's, planner/cached.py):
# a large plan repeats the same replica-hour thousands of times.
energy_kwh = functools.lru_cache(maxsize=1 << 14, typed=True)(energy.energy_kwh)
embodied_kg_co2e = functools.lru_cache(maxsize=1 << 14, typed=True)(energy.embodied_kg_co2e)


class Intensity:
    """g/kWh of a zone by slot as the problem gives it (PlanningProblem.g_per_kwh), read
    once per zone and slot for one check."""

    def __init__(self, problem: PlanningProblem) -> None:
        self.problem = problem
        self.by_zone: dict[str, list[float]] = {}

    def __call__(self, zone: str, slot: int) -> float:
        p = self.problem
        if not 0 <= slot < p.horizon_hours + p.lookahead_hours:
            return p.g_per_kwh(zone, slot)  # outside the plan's slots: as the problem says
        series = self.by_zone.get(zone)
        if series is None:
            series = self.by_zone[zone] = [
                p.g_per_kwh(zone, t) for t in range(p.horizon_hours + p.lookahead_hours)]
        return series[slot]


def serving_assignment(a: Assignment, w, region, problem: PlanningProblem,
                       g_per_kwh: Intensity) -> list[str]:
    tag = f"{a.workload} @ {a.region}/{a.accelerator}/{a.purchase} {a.start:%m-%dT%H:%M}"
    if w is None:
        return [f"{tag}: not a serving workload of the problem"]
    if region is None or not any(c.name == a.cluster for c in region.clusters):
        return [f"{tag}: cluster {a.cluster} is not in region {a.region}"]
    found = []
    if w.allowed_regions and a.region not in w.allowed_regions:
        found.append(f"{tag}: region not allowed (residency)")
    if not latency_ok(w, region, problem.fleet):
        found.append(f"{tag}: region outside the {w.latency_slo_ms} ms latency SLO")
    if throughput_key(a) not in w.throughput_rps:
        return found + [f"{tag}: no throughput for {throughput_key(a)}"]
    share = 1.0
    if a.partition != "whole":
        p = mig.profile(a.accelerator, a.partition)
        share = p.price_share
        if p.memory_gb < w.model_memory_gb:
            found.append(f"{tag}: {p.name} holds {p.memory_gb} GB < model {w.model_memory_gb} GB")
        if a.gpus != 0 or a.purchase is not Purchase.ON_DEMAND:
            found.append(f"{tag}: a MIG replica holds no whole GPU and is on-demand")
    else:
        per_replica = max(1, math.ceil(w.model_memory_gb / GPU_MEMORY_GB[a.accelerator] - 1e-9))
        if a.gpus != a.replicas * per_replica:
            found.append(f"{tag}: {a.gpus} GPUs for {a.replicas} replicas of {per_replica} GPUs")
    slot = (a.start - problem.horizon_start) / HOUR
    end_slot = (a.end - problem.horizon_start) / HOUR
    if not (slot == int(slot) and end_slot == int(end_slot) and 0 <= slot < end_slot
            <= problem.horizon_hours):
        found.append(f"{tag}: not whole hourly slots inside the horizon")
        return found
    offers = [o for o in problem.catalog.offers_for(
        provider=region.provider, region=region.cloud_region, accelerator=a.accelerator,
        purchase=a.purchase) if o.instance_type == a.instance_type]
    if not offers:
        return found + [f"{tag}: {a.instance_type} is not a {a.purchase} offer of the catalog"]
    hours = end_slot - slot
    if a.partition == "whole":
        gpu_equiv = a.gpus
        kwh_per_hour = energy_kwh(accelerator=a.accelerator, gpus=a.gpus, hours=1.0,
                                         utilisation=w.utilisation, pue=region.pue)
    else:
        gpu_equiv = share * a.replicas
        kwh_per_hour = gpu_equiv * energy_kwh(
            accelerator=a.accelerator, gpus=1, hours=1.0, utilisation=MIG_POOL_UTILISATION,
            pue=region.pue)
    checks = {
        "cost_usd": offers[0].usd_per_gpu_hour * gpu_equiv * hours,
        "energy_kwh": kwh_per_hour * hours,
        "embodied_kg": embodied_kg_co2e(accelerator=a.accelerator,
                                               gpu_hours=gpu_equiv * hours),
        "operational_kg": sum(kwh_per_hour * g_per_kwh(region.grid_zone, t) / 1000.0
                              for t in range(int(slot), int(end_slot))),
    }
    for field, value in checks.items():
        if not math.isclose(getattr(a, field), value, rel_tol=_REL, abs_tol=1e-9):
            found.append(f"{tag}: {field} {getattr(a, field):.6f}, recomputed {value:.6f}")
    return found


def serving_coverage(assignments: Iterable[Assignment], problem: PlanningProblem,
                     unplaced: set[str]) -> list[str]:
    """Demand, on-demand floor and failover share per hour, unless reported unplaced."""
    served: dict[tuple[str, int], list[Assignment]] = defaultdict(list)
    for a in assignments:
        if a.kind is not WorkloadKind.SERVING:
            continue
        first = round((a.start - problem.horizon_start) / HOUR)
        for t in range(first, first + round(a.hours)):
            served[(a.workload, t)].append(a)
    found = []
    for w in problem.serving:
        if w.name in unplaced:
            continue
        for t in range(problem.horizon_hours):
            demand = w.demand_at(t)
            if demand <= 0:
                continue
            mine = served.get((w.name, t), [])
            rps = {id(a): a.replicas * w.throughput_rps[throughput_key(a)] for a in mine}
            total = sum(rps.values())
            on_demand = sum(rps[id(a)] for a in mine if a.purchase is Purchase.ON_DEMAND)
            tag = f"{w.name} hour {t}"
            if total + _SLACK_RPS < demand:
                found.append(f"{tag}: serves {total:.3f} rps of {demand:.3f}")
            if on_demand + _SLACK_RPS < w.on_demand_floor * demand:
                found.append(f"{tag}: on-demand {on_demand:.3f} rps < floor "
                             f"{w.on_demand_floor:.0%} of {demand:.3f}")
            if w.failover_fraction > 0:
                for g in {a.region for a in mine}:
                    rest = total - sum(rps[id(a)] for a in mine if a.region == g)
                    if rest + _SLACK_RPS < w.failover_fraction * demand:
                        found.append(f"{tag}: without {g} only {rest:.3f} rps remain, "
                                     f"failover needs {w.failover_fraction:.0%} of {demand:.3f}")
    return found


def throughput_key(a: Assignment) -> str:
    return a.accelerator if a.partition == "whole" else f"{a.accelerator}:{a.partition}"


def mig_layouts(plan, problem: PlanningProblem) -> list[str]:
    """Layouts fit one GPU each, their GPUs are held all window (the pool's headroom
    assignment), they supply every MIG replica in every hour, and a pool's replicas and
    headroom together pay exactly its partitioned GPU-hours plus drain time."""
    found = []
    supply: dict[tuple[str, str, str], int] = defaultdict(int)
    gpus: dict[tuple[str, str], int] = defaultdict(int)
    repartitioned: dict[tuple[str, str], int] = defaultdict(int)
    for lay in plan.mig_layouts:
        if mig.fits(lay.accelerator, lay.profiles) is None:
            found.append(f"MIG layout {'+'.join(lay.profiles)} does not fit one {lay.accelerator}")
        for name in lay.profiles:
            supply[(lay.cluster, lay.accelerator, name)] += lay.gpus
        gpus[(lay.cluster, lay.accelerator)] += lay.gpus
        repartitioned[(lay.cluster, lay.accelerator)] += lay.repartitioned_gpus
    used: dict[tuple[str, str, str, int], int] = defaultdict(int)
    cost: dict[tuple[str, str], float] = defaultdict(float)
    headroom = {}
    for a in plan.assignments:
        if a.kind is WorkloadKind.MIG_HEADROOM:
            headroom[(a.cluster, a.accelerator)] = a
            cost[(a.cluster, a.accelerator)] += a.cost_usd
        elif a.kind is WorkloadKind.SERVING and a.partition != "whole":
            cost[(a.cluster, a.accelerator)] += a.cost_usd
            first = round((a.start - problem.horizon_start) / HOUR)
            for t in range(first, first + round(a.hours)):
                used[(a.cluster, a.accelerator, a.partition, t)] += a.replicas
    for (cluster, accelerator, name, t), n in sorted(used.items()):
        if n > supply[(cluster, accelerator, name)]:
            found.append(f"MIG {cluster}/{accelerator} hour {t}: {n} {name} replicas > "
                         f"{supply[(cluster, accelerator, name)]} instances in its layouts")
    for pool, n in gpus.items():
        a = headroom.get(pool)
        if a is None or a.gpus != n:
            found.append(f"MIG {pool[0]}/{pool[1]}: {n} partitioned GPUs not held by its "
                         "headroom assignment")
            continue
        region = problem.fleet.region(a.region)
        offer = next(o for o in problem.catalog.offers_for(
            provider=region.provider, region=region.cloud_region, accelerator=a.accelerator,
            purchase=Purchase.ON_DEMAND) if o.instance_type == a.instance_type)
        paid = (n * problem.horizon_hours + MIG_DRAIN_HOURS * repartitioned[pool]) * \
            offer.usd_per_gpu_hour
        if not math.isclose(cost[pool], paid, rel_tol=1e-6, abs_tol=1e-6):
            found.append(f"MIG {pool[0]}/{pool[1]}: replicas + headroom cost "
                         f"{cost[pool]:.4f} USD, partitioned GPUs cost {paid:.4f}")
    return found
