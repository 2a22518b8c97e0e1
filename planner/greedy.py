"""Capacity-aware greedy placement: one workload at a time, best choice that still fits.

Workloads are taken in a given order; each unit takes the (option, start)
with the smallest key among those that still fit the capacity left. It never
breaks capacity or deadlines, so its result is always a valid plan:

- the solver's hint and fallback: tightest deadline first, key = objective score;
- the ``cost_greedy`` / ``carbon_greedy`` baselines: submission order, key =
  (USD, kg) or (kg, USD), i.e. each job takes its own best option among what
  is still free, as per-job advisory tools do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from planner.capacity import Ledger, Resource
from planner.objective import Weights
from planner.options import WorkloadOptions
from planner.placement import Placement

Key = Callable[[Placement], Any]
Order = Callable[[WorkloadOptions], Any]


def by_deadline(wo: WorkloadOptions) -> tuple:
    return (wo.workload.deadline, -wo.workload.gpus, wo.workload.name)


def by_submission(wo: WorkloadOptions) -> tuple:
    return (wo.workload.earliest_start, wo.workload.name)


def greedy(workload_options: tuple[WorkloadOptions, ...], capacity: dict[Resource, int], *,
           key: Key, order: Order) -> list[Placement]:
    ledger = Ledger(capacity)
    placements: list[Placement] = []
    for wo in sorted((wo for wo in workload_options if wo.options), key=order):
        ranked = sorted(
            ((key(Placement(option=o, start=s, units=1)), oi, s)
             for oi, o in enumerate(wo.options) for s in o.starts),
            key=lambda item: (item[0], item[1], item[2]),
        )
        remaining = wo.units
        for _, oi, s in ranked:
            if remaining == 0:
                break
            o = wo.options[oi]
            units = min(remaining, ledger.free(o.resource, s, o.slots) // wo.gpus_per_unit)
            if units <= 0:
                continue
            ledger.take(o.resource, s, o.slots, units * wo.gpus_per_unit)
            placements.append(Placement(option=o, start=s, units=units))
            remaining -= units
    return placements


def greedy_placements(workload_options: tuple[WorkloadOptions, ...],
                      capacity: dict[Resource, int], weights: Weights) -> list[Placement]:
    """The solver's hint: tightest deadline first, each unit to its best-scoring free slot."""
    return greedy(workload_options, capacity, key=lambda p: p.score(weights), order=by_deadline)


def cost_key(p: Placement) -> tuple[float, float]:
    return (p.cost_usd, p.emissions_kg)


def carbon_key(p: Placement) -> tuple[float, float]:
    return (p.emissions_kg, p.cost_usd)
