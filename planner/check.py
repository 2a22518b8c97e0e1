"""Independent check of a Plan against its inputs, without the solver.

It re-derives everything it checks from the problem (workloads, fleet,
catalog, intensity) and the carbon/pricing maths, not from the model's
options, so a modelling bug shows up here as a violation:

- every workload is fully assigned or listed as unplaced, never both; a
  gang runs whole;
- each assignment uses an allowed region, an acceptable accelerator the
  cluster has, an offer of the catalog, spot only for checkpointing jobs;
  starts in an hourly slot of the horizon, no earlier than its release; ends
  no later than its deadline and within the look-ahead; runs exactly the
  on-demand runtime, or on spot the expected runtime with rework, and on
  spot finishes by the deadline with at least SPOT_FINISH_PROBABILITY;
- serving (planner/check_serving.py): replicas in regions that residency and the
  latency SLO allow, on whole GPUs enough for the model; served requests/s per hour
  meet the demand, the on-demand floor and the failover share unless reported unplaced;
- GPUs per (cluster, accelerator, hour) never exceed capacity, nor spot GPUs a
  cluster's separate spot cap, in the plan
  and in each capacity-aware baseline; team budgets and emission caps hold;
- cost, energy, operational and embodied emissions of each assignment match
  a recomputation, and every total is the sum of its assignments.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta

from planner.check_serving import (
    Intensity,
    embodied_kg_co2e,
    energy_kwh,
    mig_layouts,
    serving_assignment,
    serving_coverage,
)
from planner.domain import HOUR, Assignment, Plan, Purchase, Totals, WorkloadKind
from planner.options import SPOT_FINISH_PROBABILITY
from planner.problem import PlanningProblem
from pricing import spot

_TOL = timedelta(seconds=1)
_REL = 1e-6


class PlanCheckError(AssertionError):
    """A plan broke a rule of its own inputs: a planner bug, never a user error."""


def violations(plan: Plan, problem: PlanningProblem) -> list[str]:
    found: list[str] = []
    workloads = {w.name: w for w in problem.workloads}
    assigned_gpus: dict[str, int] = defaultdict(int)
    pieces: dict[str, int] = defaultdict(int)
    regions = {r.name: r for r in problem.fleet.regions}
    serving = {w.name: w for w in problem.serving}
    g_per_kwh = Intensity(problem)
    for a in plan.assignments:
        if a.kind is WorkloadKind.SERVING:
            found.extend(serving_assignment(a, serving.get(a.workload), regions.get(a.region),
                                            problem, g_per_kwh))
            continue
        if a.kind is WorkloadKind.MIG_HEADROOM:
            continue  # checked with the layouts below
        found.extend(_assignment(a, workloads.get(a.workload), regions.get(a.region), problem,
                                 g_per_kwh))
        assigned_gpus[a.workload] += a.gpus
        pieces[a.workload] += 1
    unplaced = {u.workload for u in plan.unplaced}
    found.extend(serving_coverage(plan.assignments, problem, unplaced))
    found.extend(mig_layouts(plan, problem))
    for name in unplaced - set(workloads) - set(serving):
        found.append(f"{name}: listed unplaced but not a workload of the problem")
    for name, w in workloads.items():
        if w.gang and pieces[name] > 1:
            found.append(f"{name}: gang split over {pieces[name]} assignments")
        if assigned_gpus[name] > w.gpus:
            found.append(f"{name}: {assigned_gpus[name]} GPUs assigned, asks {w.gpus}")
        elif assigned_gpus[name] < w.gpus and name not in unplaced:
            found.append(f"{name}: {assigned_gpus[name]} of {w.gpus} GPUs assigned, "
                         "not reported unplaced")
        elif assigned_gpus[name] == w.gpus and name in unplaced:
            found.append(f"{name}: fully assigned but also reported unplaced")
    found.extend(_capacity("plan", plan.assignments, problem))
    for limit in problem.limits:  # team budgets cap training (planner/serving_model.py),
        used = sum(limit.value(cost_usd=a.cost_usd, emissions_kg=a.emissions_kg)  # caps all
                   for a in plan.assignments if limit.team is None or (
                       a.kind is WorkloadKind.TRAINING and limit.applies(workloads[a.workload])))
        if used > limit.cap * (1 + 1e-9) + 1e-9:
            found.append(f"{limit.label}: {used:,.3f} planned > cap {limit.cap:,.3f}")
    found.extend(_totals("plan", plan.totals, plan.assignments))
    for name, baseline in plan.baselines.items():
        found.extend(_totals(f"baseline {name}", baseline.totals, baseline.assignments))
        found.extend(_capacity(f"baseline {name}", baseline.assignments, problem))
    return found


def _assignment(a: Assignment, w, region, problem: PlanningProblem,
                g_per_kwh: Intensity) -> list[str]:
    tag = f"{a.workload} @ {a.region}/{a.accelerator}/{a.purchase} {a.start:%m-%dT%H:%M}"
    if w is None:
        return [f"{tag}: not a workload of the problem"]
    cluster = next((c for c in region.clusters if c.name == a.cluster), None) if region else None
    if cluster is None:
        return [f"{tag}: cluster {a.cluster} is not in region {a.region}"]
    if a.accelerator not in w.accelerators:
        return [f"{tag}: accelerator not acceptable"]
    found = []
    if not w.allows(a.region):
        found.append(f"{tag}: region not allowed")
    if cluster.capacity_gpus.get(a.accelerator, 0) <= 0:
        found.append(f"{tag}: cluster has no {a.accelerator}")
    if a.purchase is Purchase.SPOT and w.checkpoint_interval_h is None:
        return found + [f"{tag}: spot for a job without checkpoints"]
    slot = (a.start - problem.horizon_start) / HOUR
    if not (0 <= slot < problem.horizon_hours and slot == int(slot)):
        found.append(f"{tag}: start is not an hourly slot of the horizon")
    if a.start + _TOL < w.earliest_start:
        found.append(f"{tag}: starts before its release {w.earliest_start:%m-%dT%H:%M}")
    if a.end > w.deadline + _TOL:
        found.append(f"{tag}: ends {a.end:%m-%dT%H:%M} after its deadline {w.deadline:%m-%dT%H:%M}")
    if a.end > problem.horizon_end + problem.lookahead_hours * HOUR + _TOL:
        found.append(f"{tag}: runs past the look-ahead of the intensity data")
    offer = next((o for o in problem.catalog.offers_for(
        provider=region.provider, region=region.cloud_region, accelerator=a.accelerator,
        purchase=a.purchase) if o.instance_type == a.instance_type), None)
    if offer is None:
        return found + [f"{tag}: {a.instance_type} is not a {a.purchase} offer of the catalog"]
    if w.gang:
        instances = math.ceil(a.gpus / offer.gpus_per_instance)
        usd_per_hour = instances * offer.usd_per_hour
    else:
        instances, usd_per_hour = 1, offer.usd_per_gpu_hour * a.gpus
    work_h = w.runtime_h(a.accelerator)
    expected_h = work_h
    if a.purchase is Purchase.SPOT:
        risk = spot.spot_risk(work_h=work_h, checkpoint_interval_h=w.checkpoint_interval_h,
                              restart_overhead_h=w.restart_overhead_h,
                              bucket=offer.interruption_bucket, instances=instances)
        expected_h = risk.expected_runtime_h
        p_finish = risk.p_finish_within((w.deadline - a.start) / HOUR)
        if p_finish < SPOT_FINISH_PROBABILITY - 1e-9:
            found.append(f"{tag}: finishes by the deadline with probability {p_finish:.3f} only")
    hours = a.hours
    if not math.isclose(hours, expected_h, rel_tol=_REL, abs_tol=1e-6):
        found.append(f"{tag}: runs {hours:.4f} h, expected {expected_h:.4f} h")
    checks = {
        "cost_usd": usd_per_hour * hours,
        "energy_kwh": energy_kwh(accelerator=a.accelerator, gpus=a.gpus, hours=hours,
                                 utilisation=w.utilisation, pue=region.pue),
        "embodied_kg": embodied_kg_co2e(accelerator=a.accelerator, gpu_hours=a.gpus * hours),
    }
    checks["operational_kg"] = _operational_kg(checks["energy_kwh"], hours, int(slot),
                                               region.grid_zone, g_per_kwh)
    market = region.market
    checks["market_kg"] = (checks["operational_kg"] if market is None else
                           (1 - market.clean_share) * (market.residual_mix.g_per_kwh
                                                       * checks["energy_kwh"] / 1000.0
                                                       if market.residual_mix is not None
                                                       else checks["operational_kg"]))
    for field, value in checks.items():
        if not math.isclose(getattr(a, field), value, rel_tol=_REL, abs_tol=1e-9):
            found.append(f"{tag}: {field} {getattr(a, field):.6f}, recomputed {value:.6f}")
    return found


def _operational_kg(kwh: float, hours: float, first: int, zone: str,
                    g_per_kwh: Intensity) -> float:
    kg, remaining, t = 0.0, hours, first
    while remaining > 1e-9:
        share = min(1.0, remaining)
        kg += kwh * (share / hours) * g_per_kwh(zone, t) / 1000.0
        remaining -= share
        t += 1
    return kg


def _capacity(label: str, assignments: Iterable[Assignment], problem: PlanningProblem) -> list[str]:
    assignments = list(assignments)
    capacity = {(c.name, a): gpus for c in problem.fleet.clusters
                for a, gpus in c.capacity_gpus.items()}
    used: dict[tuple[str, str, int], int] = defaultdict(int)
    for ((cluster, accelerator), t), gpus in problem.reserved_gpus.items():
        used[(cluster, accelerator, t)] += gpus
    spot_caps = {(c.name, f"{a}@spot"): gpus for c in problem.fleet.clusters
                 for a, gpus in c.spot_capacity_gpus.items()}
    capacity.update(spot_caps)
    for a in assignments:
        first = math.floor((a.start - problem.horizon_start) / HOUR)
        last = math.ceil((a.end - problem.horizon_start) / HOUR - 1e-9)
        spot = (a.cluster, f"{a.accelerator}@spot")
        for t in range(first, last):
            used[(a.cluster, a.accelerator, t)] += a.gpus
            if a.purchase is Purchase.SPOT and spot in spot_caps:
                used[(*spot, t)] += a.gpus
    return [f"{label}: capacity {cluster}/{accelerator} slot {t}: {gpus} GPUs > "
            f"{capacity.get((cluster, accelerator), 0)}"
            for (cluster, accelerator, t), gpus in sorted(used.items())
            if gpus > capacity.get((cluster, accelerator), 0)
            and any(a.cluster == cluster and a.accelerator in (accelerator,
                                                               accelerator.removesuffix("@spot"))
                    for a in assignments)]


def _totals(label: str, totals: Totals, assignments: Iterable[Assignment]) -> list[str]:
    expected = Totals.of(list(assignments))
    return [f"{label}: totals {field} {getattr(totals, field)} != sum {getattr(expected, field)}"
            for field in ("cost_usd", "energy_kwh", "operational_kg", "embodied_kg", "market_kg")
            if not math.isclose(getattr(expected, field), getattr(totals, field),
                                rel_tol=1e-9, abs_tol=1e-6)]


def assert_valid(plan: Plan, problem: PlanningProblem) -> None:
    found = violations(plan, problem)
    if found:
        shown = "; ".join(found[:10])
        more = f" (+{len(found) - 10} more)" if len(found) > 10 else ""
        raise PlanCheckError(f"plan failed the independent check: {shown}{more}")
