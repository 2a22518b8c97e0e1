r"""MIG layout planning: how many GPUs of a pool run each layout over the planning window.

A *pool* is one (cluster, MIG-capable accelerator) that some serving workload may use
through a MIG profile (``throughput_rps`` keys like ``A100-80GB:3g.40gb``). The planner
partitions whole GPUs of the pool into layouts from pricing/mig.py (the maximal
layouts, without ``+me`` profiles, that hold at least one profile asked for there) and
packs the replicas on profiles into them:

    n_pL in {0..K_p}     GPUs of pool p running layout L for the whole window
    d_pL >= n_pL - c_pL  GPUs newly partitioned into L (c_pL: the pool's current layout,
                         from the fleet), each drained and re-partitioned once

    (M1) sum_{s,o: profile(o)=q, pool(o)=p} r_sot <= sum_L count_L(q) n_pL    all q, t
    (M2) the n_pL hold whole GPUs of p in every slot, in the capacity rows (2) that
         training and whole-GPU replicas use

Cost: a partitioned GPU is paid and powered whole (pricing/mig.py), so n_pL costs the
GPU-hours of the window at the pool's on-demand price and its energy at
MIG_POOL_UTILISATION, and d_pL costs MIG_DRAIN_HOURS of such a GPU-hour. Replicas on
profiles cost nothing more in the model. In the plan, each replica-hour carries its
profile's share (compute slices / 7) of a GPU-hour and the pool's ``mig-headroom``
assignment carries the rest (slices partitioned but idle, and stranded slices), so the
totals add up to what is paid.

One layout per window keeps layouts from changing every hour; a re-plan changes them
only where the saving beats the drain cost against the layout the fleet reports.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta

import numpy as np

from carbon import energy
from planner.domain import (
    HOUR,
    Assignment,
    Fleet,
    MigLayout,
    Purchase,
    Region,
    WorkloadKind,
)
from planner.objective import SCALE, Weights
from planner.placement import market_kg
from planner.serving import ServingOptions
from pricing import mig
from pricing.catalog import Catalog, Offer

# Utilisation at which a partitioned GPU's draw is counted: several tenants share it.
MIG_POOL_UTILISATION = 0.6
# Hours a GPU is out of service to drain its replicas and re-partition it.
MIG_DRAIN_HOURS = 0.5

LayoutKey = tuple[str, ...]  # sorted profile names
Layouts = Mapping[tuple[str, str], Mapping[LayoutKey, int]]  # (cluster, accelerator) -> GPUs


@dataclass(frozen=True, slots=True, kw_only=True)
class Pool:
    cluster: str
    accelerator: str
    region: Region
    offer: Offer  # the cheapest on-demand offer: a partitioned GPU is paid whole
    gpus: int  # the pool's GPUs
    layouts: tuple[mig.Layout, ...]
    current: Mapping[LayoutKey, int]
    kwh_per_gpu_hour: float
    embodied_kg_per_gpu_hour: float
    operational_kg: np.ndarray  # one GPU-hour, by slot

    @property
    def resource(self) -> tuple[str, str]:
        return (self.cluster, self.accelerator)

    def gpu_scores(self, weights: Weights) -> np.ndarray:
        """Score of one partitioned GPU-hour by slot, in solver units."""
        kg = self.operational_kg + self.embodied_kg_per_gpu_hour
        return np.rint((weights.usd * self.offer.usd_per_gpu_hour + weights.kg * kg)
                       * SCALE).astype(np.int64)

    def window_score(self, weights: Weights, slots: range) -> int:
        """Solver units of one GPU partitioned for ``slots``."""
        return int(self.gpu_scores(weights)[slots.start:slots.stop].sum())

    def drain_score(self, weights: Weights) -> int:
        """Solver units of draining and re-partitioning one GPU (MIG_DRAIN_HOURS)."""
        return round(MIG_DRAIN_HOURS * float(self.gpu_scores(weights).mean()))


def key_of(layout: mig.Layout) -> LayoutKey:
    return tuple(sorted(layout.names))


def pools(serving_options: tuple[ServingOptions, ...], catalog: Catalog,
          intensity: Mapping[str, np.ndarray], horizon_hours: int) -> tuple[Pool, ...]:
    """The pools some MIG option uses, with the layouts worth considering."""
    wanted: dict[tuple[str, str], set[str]] = defaultdict(set)
    region_of: dict[tuple[str, str], Region] = {}
    for so in serving_options:
        for o in so.options:
            if o.profile is not None:
                wanted[o.resource].add(o.profile.name)
                region_of[o.resource] = o.region
    out = []
    for (cluster, accelerator), names in sorted(wanted.items()):
        region = region_of[(cluster, accelerator)]
        offers = catalog.offers_for(provider=region.provider, region=region.cloud_region,
                                    accelerator=accelerator, purchase=Purchase.ON_DEMAND)
        offer = min(offers, key=lambda o: (o.usd_per_gpu_hour, o.instance_type))
        c = next(c for c in region.clusters if c.name == cluster)
        layouts = tuple(lay for lay in mig.valid_layouts(accelerator, maximal_only=True,
                                                         include_media_extensions=False)
                        if names & set(lay.names))
        kwh = energy.energy_kwh(accelerator=accelerator, gpus=1, hours=1.0,
                                utilisation=MIG_POOL_UTILISATION, pue=region.pue)
        g = np.asarray(intensity[region.grid_zone][:horizon_hours], dtype=float)
        out.append(Pool(cluster=cluster, accelerator=accelerator, region=region, offer=offer,
                        gpus=c.capacity_gpus.get(accelerator, 0), layouts=layouts,
                        current=dict(c.mig_layouts.get(accelerator, {})),
                        kwh_per_gpu_hour=kwh,
                        embodied_kg_per_gpu_hour=energy.embodied_kg_co2e(
                            accelerator=accelerator, gpu_hours=1.0),
                        operational_kg=kwh * g / 1000.0))
    return tuple(out)


@dataclass(slots=True)
class PoolVars:
    """Layout variables of each pool in one CP-SAT model."""

    n: dict[tuple[tuple[str, str], LayoutKey], object]

    def read(self, solver) -> dict[tuple[str, str], dict[LayoutKey, int]]:
        out: dict[tuple[str, str], dict[LayoutKey, int]] = defaultdict(dict)
        for (resource, key), v in self.n.items():
            gpus = solver.value(v)
            if gpus:
                out[resource][key] = gpus
        return dict(out)

    def hint(self, model, layouts: Layouts) -> None:
        for (resource, key), v in self.n.items():
            model.add_hint(v, layouts.get(resource, {}).get(key, 0))


def add_to_model(model, pools_: tuple[Pool, ...], replicas: list, weights: Weights,
                 slots: range, capacity_terms, objective_terms: list, *,
                 drain: bool = True) -> PoolVars:
    """Layout variables, (M1) supply per profile and slot, (M2) their GPUs in the capacity
    rows, and their cost. ``replicas``: (ServingPlacement of one replica, its variable).
    ``drain`` False leaves out the drain cost (a relaxation, for per-slot bounds)."""
    from ortools.sat.python import cp_model

    by_profile: dict[tuple[tuple[str, str], str, int], list] = defaultdict(list)
    for p, v in replicas:
        if p.option.profile is not None:
            by_profile[(p.option.resource, p.option.profile.name, p.slot)].append(v)
    pv = PoolVars(n={})
    for pool in pools_:
        window = pool.window_score(weights, slots)
        drain_cost = pool.drain_score(weights) if drain else 0
        for lay in pool.layouts:
            key = key_of(lay)
            n = model.new_int_var(0, pool.gpus, f"mig_{pool.cluster}_{pool.accelerator}_{key}")
            pv.n[(pool.resource, key)] = n
            objective_terms.append((n, window))
            if drain_cost:
                current = pool.current.get(key, 0)
                new = model.new_int_var(0, pool.gpus, f"migd_{pool.cluster}_{key}")
                model.add(new >= n - current)
                objective_terms.append((new, drain_cost))
            for t in slots:
                capacity_terms(pool.resource, t, n, 1, pool.gpus)
        model.add(cp_model.LinearExpr.sum([pv.n[(pool.resource, key_of(lay))]
                                           for lay in pool.layouts]) <= pool.gpus)
        for t in slots:
            for q in {name for lay in pool.layouts for name in lay.names}:
                demand = by_profile.get((pool.resource, q, t))
                if not demand:
                    continue
                supply = [(pv.n[(pool.resource, key_of(lay))], lay.counts().get(q, 0))
                          for lay in pool.layouts if lay.counts().get(q, 0)]
                model.add(cp_model.LinearExpr.sum(demand) <= cp_model.LinearExpr.weighted_sum(
                    [v for v, _ in supply], [c for _, c in supply]))
    return pv


def value(pools_: tuple[Pool, ...], layouts: Layouts, weights: Weights, slots: range) -> float:
    """Score units of these layouts over ``slots`` (drain cost included), as the model counts."""
    total = 0
    for pool in pools_:
        window = pool.window_score(weights, slots)
        drain = pool.drain_score(weights)
        for key, gpus in layouts.get(pool.resource, {}).items():
            total += gpus * window + max(0, gpus - pool.current.get(key, 0)) * drain
    return total / SCALE


def reserved(layouts: Layouts, slots: range) -> dict[tuple[tuple[str, str], int], int]:
    """GPUs the layouts hold, by (resource, slot)."""
    out: dict[tuple[tuple[str, str], int], int] = {}
    for resource, by_key in layouts.items():
        gpus = sum(by_key.values())
        if gpus:
            for t in slots:
                out[(resource, t)] = gpus
    return out


def with_layouts(fleet: Fleet, layouts: tuple[MigLayout, ...]) -> Fleet:
    """``fleet`` whose clusters run ``layouts`` (a previous plan's) where the fleet reports
    no layout of its own for that accelerator: a re-plan drains only what it changes."""
    by_pool: dict[tuple[str, str], dict[LayoutKey, int]] = defaultdict(dict)
    for lay in layouts:
        key = tuple(sorted(lay.profiles))
        by_pool[(lay.cluster, lay.accelerator)][key] = (
            by_pool[(lay.cluster, lay.accelerator)].get(key, 0) + lay.gpus)
    if not by_pool:
        return fleet
    regions = []
    for region in fleet.regions:
        clusters = []
        for c in region.clusters:
            mine = {a: dict(k) for (name, a), k in by_pool.items() if name == c.name
                    and a not in c.mig_layouts and c.capacity_gpus.get(a, 0) >= sum(k.values())}
            clusters.append(replace(c, mig_layouts={**c.mig_layouts, **mine}) if mine else c)
        regions.append(replace(region, clusters=tuple(clusters)))
    return replace(fleet, regions=tuple(regions))


def decisions(pools_: tuple[Pool, ...], layouts: Layouts, horizon_start,
              horizon_hours: int) -> tuple[MigLayout, ...]:
    out = []
    for pool in pools_:
        for key, gpus in sorted(layouts.get(pool.resource, {}).items()):
            out.append(MigLayout(
                region=pool.region.name, cluster=pool.cluster, accelerator=pool.accelerator,
                profiles=key, gpus=gpus, start=horizon_start,
                end=horizon_start + horizon_hours * HOUR,
                repartitioned_gpus=max(0, gpus - pool.current.get(key, 0))))
    return tuple(out)


def headroom(pools_: tuple[Pool, ...], layouts: Layouts, replica_assignments: list[Assignment],
             horizon_start, horizon_hours: int) -> list[Assignment]:
    """Per pool with partitioned GPUs: what its replicas do not carry of the GPUs' cost,
    energy and emissions over the window (idle and stranded slices, drain time)."""
    out = []
    for pool in pools_:
        gpus = sum(layouts.get(pool.resource, {}).values())
        if not gpus:
            continue
        repartitioned = sum(max(0, n - pool.current.get(key, 0))
                            for key, n in layouts[pool.resource].items())
        gpu_hours = gpus * horizon_hours + MIG_DRAIN_HOURS * repartitioned
        mine = [a for a in replica_assignments
                if (a.cluster, a.accelerator) == pool.resource and a.partition != "whole"]
        drain_kg = MIG_DRAIN_HOURS * repartitioned * float(pool.operational_kg.mean())
        operational = (gpus * float(pool.operational_kg[:horizon_hours].sum()) + drain_kg
                       - sum(a.operational_kg for a in mine))
        kwh = gpu_hours * pool.kwh_per_gpu_hour - sum(a.energy_kwh for a in mine)
        out.append(Assignment(
            workload=f"mig-headroom:{pool.cluster}/{pool.accelerator}",
            kind=WorkloadKind.MIG_HEADROOM, team="(MIG headroom)", region=pool.region.name,
            cluster=pool.cluster, accelerator=pool.accelerator, partition="idle",
            purchase=Purchase.ON_DEMAND, instance_type=pool.offer.instance_type,
            start=horizon_start, end=horizon_start + timedelta(hours=horizon_hours),
            gpus=gpus, replicas=0,
            cost_usd=gpu_hours * pool.offer.usd_per_gpu_hour - sum(a.cost_usd for a in mine),
            energy_kwh=kwh, operational_kg=operational,
            embodied_kg=gpu_hours * pool.embodied_kg_per_gpu_hour
            - sum(a.embodied_kg for a in mine),
            market_kg=market_kg(pool.region.market, operational, kwh),
            reason=(f"{gpus} {pool.accelerator} GPUs partitioned for MIG replicas "
                    f"({repartitioned} re-partitioned, {MIG_DRAIN_HOURS:g} h drain each); "
                    "this line carries their idle and stranded slices")))
    return out


def totals(pools_: tuple[Pool, ...], layouts: Layouts, horizon_hours: int) -> tuple[float, float]:
    """(USD, kgCO2e) the partitioned GPUs cost over the window, drain time included."""
    usd = kg = 0.0
    for pool in pools_:
        by_key = layouts.get(pool.resource, {})
        gpus = sum(by_key.values())
        if not gpus:
            continue
        drained = sum(max(0, n - pool.current.get(key, 0)) for key, n in by_key.items())
        gpu_hours = gpus * horizon_hours + MIG_DRAIN_HOURS * drained
        usd += gpu_hours * pool.offer.usd_per_gpu_hour
        kg += (gpus * float(pool.operational_kg[:horizon_hours].sum())
               + MIG_DRAIN_HOURS * drained * float(pool.operational_kg.mean())
               + gpu_hours * pool.embodied_kg_per_gpu_hour)
    return usd, kg
