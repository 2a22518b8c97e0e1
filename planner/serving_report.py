"""Serving in the plan's words: assignments, unplaced demand, explanations, baselines.

Reads the replicas the model chose (planner/serving_model.py) into dated
:class:`Assignment` values, one per (workload, option) and run of hours with the same
replica count; says why demand went unserved; explains each choice against the home
region. The serving baselines are sized in planner/serving_baseline.py.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta

from planner.domain import HOUR, Assignment, Purchase, Unplaced, WorkloadKind
from planner.objective import Weights
from planner.placement import market_kg
from planner.serving import ServingOptions, worst_rtt
from planner.serving_model import (
    MILLI,
    ServingPlacement,
    by_workload,
    shortfall_milli,
)


def assignments(placements: list[ServingPlacement], serving_options: tuple[ServingOptions, ...],
                horizon_start, reason: Callable[[ServingPlacement, int], str] | None = None
                ) -> list[Assignment]:
    """One assignment per (workload, option) and run of consecutive slots with the same
    replica count."""
    by_key: dict[tuple[int, int], dict[int, ServingPlacement]] = defaultdict(dict)
    for p in placements:
        by_key[(p.workload, id(p.option))][p.slot] = p
    out = []
    for (s, _), slots in by_key.items():
        w = serving_options[s].workload
        ordered = sorted(slots)
        first = 0
        for k in range(1, len(ordered) + 1):
            if (k < len(ordered) and ordered[k] == ordered[k - 1] + 1
                    and slots[ordered[k]].replicas == slots[ordered[first]].replicas):
                continue
            head, hours = slots[ordered[first]], k - first
            out.append(_assignment(w, head, hours, horizon_start,
                                   reason(head, hours) if reason else ""))
            first = k
    return sorted(out, key=lambda a: (a.start, a.workload, a.region))


def _assignment(w, head: ServingPlacement, hours: int, horizon_start,
                reason: str) -> Assignment:
    """The run of ``hours`` slots from ``head``, each with ``head.replicas`` replicas; every
    figure is the sum of the run's placements' figures (ServingPlacement), in slot order."""
    o, n = head.option, head.replicas
    start = horizon_start + head.slot * HOUR
    operational = sum((o.operational_kg[head.slot:head.slot + hours] * n).tolist())
    kwh = sum([o.kwh_per_hour * n] * hours)
    return Assignment(
        workload=w.name, kind=WorkloadKind.SERVING, team=w.team, region=o.region.name,
        cluster=o.cluster, accelerator=o.accelerator, partition=o.partition,
        purchase=o.purchase, instance_type=o.offer.instance_type,
        interruption_bucket=o.offer.interruption_bucket if o.purchase is Purchase.SPOT else None,
        bucket_basis=o.offer.bucket_basis if o.purchase is Purchase.SPOT else None,
        start=start, end=start + timedelta(hours=hours),
        gpus=n * o.gpus_per_replica, replicas=n,
        cost_usd=sum([o.usd_per_hour * n] * hours), energy_kwh=kwh, operational_kg=operational,
        embodied_kg=sum([o.embodied_kg_per_hour * n] * hours),
        market_kg=market_kg(o.region.market, operational, kwh), reason=reason)


def unplaced(serving_options: tuple[ServingOptions, ...], placements: list[ServingPlacement],
             horizon_start) -> list[Unplaced]:
    grouped = by_workload(placements)
    out = []
    for s, so in enumerate(serving_options):
        if not so.options:
            if float(so.demand_rps.max(initial=0.0)) > 0:
                out.append(Unplaced(workload=so.workload.name, reason=so.why_none))
            continue
        short = shortfall_milli(so, grouped.get(s, []))
        hours = [t for t, v in enumerate(short) if v > 0]
        if not hours:
            continue
        peak = max(hours, key=lambda t: short[t])
        w = so.workload
        regions = sorted({o.region.name for o in so.options})
        where = (f"{sum(short) / MILLI:,.1f} rps·h unmet in {len(hours)} h (worst "
                 f"{short[peak] / MILLI:,.1f} rps at {horizon_start + peak * HOUR:%m-%dT%H:%MZ})")
        if w.failover_fraction > 0 and len(regions) < 2:
            reason = (f"availability: a failover share needs a second region within its SLOs, "
                      f"only {regions[0]} qualifies; {where}; lower failover_fraction or relax "
                      "latency_slo_ms / allowed_regions")
        else:
            resources = sorted({f"{o.cluster}/{o.accelerator}" for o in so.options})
            reason = (f"capacity: {where}; {', '.join(resources[:6])} are full there")
        out.append(Unplaced(workload=w.name, reason=reason))
    return out


def explain(p: ServingPlacement, hours: int, so: ServingOptions, fleet, weights: Weights) -> str:
    """Why this option: what it serves, its latency, and its price and carbon per request
    against the home region's on-demand option."""
    o, w = p.option, so.workload
    served = p.replicas * o.throughput_rps
    line = (f"{p.replicas} x {o.accelerator} {o.purchase} replicas serve {served:,.0f} rps "
            f"for {hours} h")
    if w.latency_slo_ms is not None:
        rtt, user, basis = worst_rtt(w, o.region, fleet)
        line += f"; {rtt:.0f} ms to {user} ({basis}) within the {w.latency_slo_ms:g} ms SLO"
    home = [h for h in so.options if h.region.name == w.home_region
            and h.purchase is Purchase.ON_DEMAND]
    if home and o.region.name != w.home_region:
        h = min(home, key=lambda h: h.usd_per_hour / h.throughput_rps)
        usd = (o.usd_per_hour / o.throughput_rps - h.usd_per_hour / h.throughput_rps) * served
        kg = ((float(o.operational_kg[p.slot]) + o.embodied_kg_per_hour) / o.throughput_rps
              - (float(h.operational_kg[p.slot]) + h.embodied_kg_per_hour) / h.throughput_rps
              ) * served
        line += f"; vs home {w.home_region} on-demand: {usd:+,.2f} USD/h, {kg:+,.2f} kgCO2e/h"
    if w.failover_fraction > 0:
        line += f"; failover keeps {w.failover_fraction:.0%} of demand if a region is lost"
    return line
