"""Serving in the plan's words: assignments, unplaced demand, explanations, baselines.

Reads the replicas the model chose (planner/serving_model.py) into dated
:class:`Assignment` values, one per (workload, option) and run of hours with the same
replica count; says why demand went unserved; explains each choice against the home
region; and sizes the run-now and per-service greedy baselines.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta

from planner.capacity import Ledger
from planner.domain import HOUR, Assignment, Purchase, Unplaced, WorkloadKind
from planner.objective import Weights
from planner.placement import market_kg
from planner.serving import ServingOption, ServingOptions, great_circle_km, worst_rtt
from planner.serving_model import (
    MILLI,
    ServingPlacement,
    by_workload,
    demand_milli,
    shortfall_milli,
    thr_milli,
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
        run: list[ServingPlacement] = []
        for t in ordered + [None]:
            p = slots.get(t) if t is not None else None
            if run and (p is None or p.slot != run[-1].slot + 1 or p.replicas != run[0].replicas):
                out.append(_assignment(w, run, horizon_start,
                                       reason(run[0], len(run)) if reason else ""))
                run = []
            if p is not None:
                run.append(p)
    return sorted(out, key=lambda a: (a.start, a.workload, a.region))


def _assignment(w, run: list[ServingPlacement], horizon_start, reason: str) -> Assignment:
    o = run[0].option
    start = horizon_start + run[0].slot * HOUR
    operational = sum(p.operational_kg for p in run)
    kwh = sum(p.energy_kwh for p in run)
    return Assignment(
        workload=w.name, kind=WorkloadKind.SERVING, team=w.team, region=o.region.name,
        cluster=o.cluster, accelerator=o.accelerator, partition=o.partition,
        purchase=o.purchase, instance_type=o.offer.instance_type,
        interruption_bucket=o.offer.interruption_bucket if o.purchase is Purchase.SPOT else None,
        bucket_basis=o.offer.bucket_basis if o.purchase is Purchase.SPOT else None,
        start=start, end=start + timedelta(hours=len(run)),
        gpus=run[0].replicas * o.gpus_per_replica, replicas=run[0].replicas,
        cost_usd=sum(p.cost_usd for p in run), energy_kwh=kwh, operational_kg=operational,
        embodied_kg=sum(p.embodied_kg for p in run),
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


def baseline(serving_options: tuple[ServingOptions, ...], ledger: Ledger,
             key: Callable[[ServingOption, int], tuple], *, home_only: bool
             ) -> list[ServingPlacement]:
    """What a service does today (``home_only``: the home region's on-demand offers, and for
    a failover SLO the allowed region nearest home as the second site) or what a
    per-service advisory tool would pick (the on-demand option with the best ``key`` per
    request that still fits, and for failover the best second region): all on-demand,
    sized to the demand and the SLOs, one workload at a time."""
    out = []
    for so in serving_options:
        w = so.workload
        candidates = [o for o in so.options
                      if o.purchase is Purchase.ON_DEMAND and o.profile is None]
        if not candidates:
            continue
        for t in range(len(so.demand_rps)):
            d = demand_milli(so, t)
            if d <= 0:
                continue
            if home_only:
                home = next((o.region for o in candidates if o.region.name == w.home_region),
                            None)
                ranked = sorted(candidates, key=lambda o: (
                    o.region.name != w.home_region,
                    0.0 if home is None else great_circle_km(
                        home.latitude, home.longitude, o.region.latitude, o.region.longitude)))
            else:
                ranked = sorted(candidates, key=lambda o: key(o, t))
            sites = list(dict.fromkeys(o.region.name for o in ranked))
            if home_only and not (sites and sites[0] == w.home_region):
                continue  # the home region cannot serve it: nothing runs today
            plan: list[tuple[list[ServingOption], int]]
            if w.failover_fraction > 0 and len(sites) >= 2:
                need = math.ceil(w.failover_fraction * d)
                plan = [([o for o in ranked if o.region.name == sites[1]], need),
                        ([o for o in ranked if o.region.name == sites[0]], None)]
            else:
                plan = [(ranked, d)]
            served = 0
            for options, want in plan:
                want = max(d - served, need) if want is None else want
                for o in options:
                    n = math.ceil(want / thr_milli(o))
                    if ledger.fits(o.resource, t, 1, n * o.gpus_per_replica):
                        ledger.take(o.resource, t, 1, n * o.gpus_per_replica)
                        out.append(ServingPlacement(option=o, slot=t, replicas=n))
                        served += n * thr_milli(o)
                        break
    return out
