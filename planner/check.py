"""Independent check of a Plan against its inputs, without the solver.

It re-derives everything it checks from the problem (workloads, fleet,
catalog, intensity) and the carbon/pricing maths, not from the model's
options, so a modelling bug shows up here as a violation:

- every workload is fully assigned or listed as unplaced; a gang runs whole;
- each assignment uses an allowed region, an acceptable accelerator the
  cluster has, spot only for checkpointing jobs, starts no earlier than its
  release and ends no later than its deadline, inside the horizon, and runs
  at least the workload's runtime on that accelerator;
- GPUs per (cluster, accelerator, hour) never exceed capacity;
- cost, energy and operational emissions of each assignment match a
  recomputation, and the totals are the sums of the assignments.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import timedelta

from carbon import energy
from planner.domain import HOUR, Plan, Purchase, Totals
from planner.problem import PlanningProblem

_TOL = timedelta(seconds=1)


class PlanCheckError(AssertionError):
    """A plan broke a rule of its own inputs: a planner bug, never a user error."""


def violations(plan: Plan, problem: PlanningProblem) -> list[str]:
    found: list[str] = []
    workloads = {w.name: w for w in problem.workloads}
    clusters = {c.name: (r, c) for r in problem.fleet.regions for c in r.clusters}
    assigned_gpus: dict[str, int] = defaultdict(int)
    pieces: dict[str, int] = defaultdict(int)
    used: dict[tuple[str, str, int], int] = defaultdict(int)

    for a in plan.assignments:
        w = workloads.get(a.workload)
        tag = f"{a.workload} @ {a.region}/{a.accelerator}/{a.purchase} {a.start:%m-%dT%H:%M}"
        if w is None:
            found.append(f"{tag}: not a workload of the problem")
            continue
        assigned_gpus[w.name] += a.gpus
        pieces[w.name] += 1
        region, cluster = clusters.get(a.cluster, (None, None))
        if region is None or region.name != a.region:
            found.append(f"{tag}: cluster {a.cluster} is not in region {a.region}")
            continue
        if not w.allows(a.region):
            found.append(f"{tag}: region not allowed")
        if a.accelerator not in w.accelerators:
            found.append(f"{tag}: accelerator not acceptable")
            continue
        if cluster.capacity_gpus.get(a.accelerator, 0) <= 0:
            found.append(f"{tag}: cluster has no {a.accelerator}")
        if a.purchase is Purchase.SPOT and w.checkpoint_interval_h is None:
            found.append(f"{tag}: spot for a job without checkpoints")
        if a.start + _TOL < w.earliest_start:
            found.append(f"{tag}: starts before its release {w.earliest_start:%m-%dT%H:%M}")
        if a.end > w.deadline + _TOL:
            found.append(f"{tag}: ends {a.end:%m-%dT%H:%M} after its deadline {w.deadline:%m-%dT%H:%M}")
        if a.start < plan.horizon_start or a.start.minute or a.start.second:
            found.append(f"{tag}: start is not an hourly slot of the horizon")
        hours = a.hours
        if hours * HOUR + _TOL < w.runtime_h(a.accelerator) * HOUR:
            found.append(f"{tag}: runs {hours:.2f} h, needs {w.runtime_h(a.accelerator):.2f} h")
        first = int((a.start - plan.horizon_start) / HOUR)
        slots = math.ceil(hours - 1e-9)
        if first + slots > plan.horizon_hours:
            found.append(f"{tag}: runs past the horizon")
        for t in range(first, first + slots):
            used[(a.cluster, a.accelerator, t)] += a.gpus
        found.extend(_recomputed(tag, a, region, w, problem, first, hours))

    for name, w in workloads.items():
        unplaced = any(u.workload == name for u in plan.unplaced)
        if w.gang and pieces[name] > 1:
            found.append(f"{name}: gang split over {pieces[name]} assignments")
        if assigned_gpus[name] > w.gpus:
            found.append(f"{name}: {assigned_gpus[name]} GPUs assigned, asks {w.gpus}")
        elif assigned_gpus[name] < w.gpus and not unplaced:
            found.append(f"{name}: {assigned_gpus[name]} of {w.gpus} GPUs assigned, not reported unplaced")

    for (cluster, accelerator, t), gpus in sorted(used.items()):
        cap = clusters[cluster][1].capacity_gpus.get(accelerator, 0)
        if gpus > cap:
            found.append(f"capacity: {cluster}/{accelerator} slot {t}: {gpus} GPUs > {cap}")

    totals = Totals.of(plan.assignments)
    for field in ("cost_usd", "energy_kwh", "operational_kg", "embodied_kg"):
        if not math.isclose(getattr(totals, field), getattr(plan.totals, field),
                            rel_tol=1e-9, abs_tol=1e-6):
            found.append(f"totals: {field} {getattr(plan.totals, field)} != sum {getattr(totals, field)}")
    return found


def _recomputed(tag, a, region, w, problem: PlanningProblem, first: int, hours: float) -> list[str]:
    found = []
    offer = problem.catalog.cheapest(provider=region.provider, region=region.cloud_region,
                                     accelerator=a.accelerator, purchase=a.purchase)
    if offer is None:
        return [f"{tag}: no {a.purchase} offer in the catalog"]
    cost = offer.usd_per_gpu_hour * a.gpus * hours
    if not math.isclose(cost, a.cost_usd, rel_tol=1e-3, abs_tol=0.01):
        found.append(f"{tag}: cost {a.cost_usd:.2f} USD, recomputed {cost:.2f}")
    kwh = energy.energy_kwh(accelerator=a.accelerator, gpus=a.gpus, hours=hours,
                            utilisation=w.utilisation, pue=region.pue)
    if not math.isclose(kwh, a.energy_kwh, rel_tol=1e-3, abs_tol=1e-3):
        found.append(f"{tag}: energy {a.energy_kwh:.3f} kWh, recomputed {kwh:.3f}")
    kg = 0.0
    remaining = hours
    t = first
    while remaining > 1e-9:
        share = min(1.0, remaining)
        kg += kwh * (share / hours) * problem.g_per_kwh(region.grid_zone, t) / 1000.0
        remaining -= share
        t += 1
    if not math.isclose(kg, a.operational_kg, rel_tol=1e-3, abs_tol=1e-3):
        found.append(f"{tag}: operational {a.operational_kg:.3f} kg, recomputed {kg:.3f}")
    return found


def assert_valid(plan: Plan, problem: PlanningProblem) -> None:
    found = violations(plan, problem)
    if found:
        shown = "; ".join(found[:10])
        more = f" (+{len(found) - 10} more)" if len(found) > 10 else ""
        raise PlanCheckError(f"plan failed the independent check: {shown}{more}")
