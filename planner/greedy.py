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

import numpy as np

from planner.capacity import Capacity, Ledger
from planner.limits import Limit, LimitLedger
from planner.objective import Weights
from planner.options import Option, WorkloadOptions
from planner.placement import Placement

# A key gives, for every start of an option, the sort keys of one unit placed there
# (most significant first), as arrays over the option's starts.
Key = Callable[[Option], tuple[np.ndarray, ...]]
Order = Callable[[WorkloadOptions], Any]


def by_deadline(wo: WorkloadOptions) -> tuple:
    return (wo.workload.deadline, -wo.workload.gpus, wo.workload.name)


def by_submission(wo: WorkloadOptions) -> tuple:
    return (wo.workload.earliest_start, wo.workload.name)


def _emissions(o: Option) -> np.ndarray:
    return o.operational_kg + o.embodied_kg


def score_key(weights: Weights) -> Key:
    return lambda o: (weights.usd * o.cost_usd + weights.kg * _emissions(o)
                      + (0.0 if o.penalty is None else o.penalty),)


def cost_key(o: Option) -> tuple[np.ndarray, ...]:
    kg = _emissions(o)
    return (np.full(len(kg), o.cost_usd), kg)


def carbon_key(o: Option) -> tuple[np.ndarray, ...]:
    kg = _emissions(o)
    return (kg, np.full(len(kg), o.cost_usd))


def greedy(workload_options: tuple[WorkloadOptions, ...], capacity: Capacity, *,
           key: Key, order: Order, limits: tuple[Limit, ...] = ()) -> list[Placement]:
    return greedy_and_wishes(workload_options, capacity, key=key, order=order,
                             limits=limits)[0]


def greedy_and_wishes(workload_options: tuple[WorkloadOptions, ...], capacity: Capacity, *,
                      key: Key, order: Order, limits: tuple[Limit, ...] = ()
                      ) -> tuple[list[Placement], dict[int, tuple[Option, int]]]:
    """:func:`greedy`, and each workload's wish: the (option, start) with the smallest key
    whether or not it fits (ties: the earlier option, then the earlier start), by the
    workload's index in ``workload_options``."""
    ledger = Ledger(capacity)
    spent = LimitLedger(limits)
    placements: list[Placement] = []
    wishes: dict[int, tuple[Option, int]] = {}
    for j in sorted((j for j, wo in enumerate(workload_options) if wo.options),
                    key=lambda j: order(workload_options[j])):
        wo = workload_options[j]
        option_ix, starts, ranked = _ranked(wo, key)
        first = int(ranked[0])
        wishes[j] = (wo.options[option_ix[first]], int(starts[first]))
        remaining = wo.units
        for r in ranked.tolist():
            o, s = wo.options[option_ix[r]], int(starts[r])
            units = min(remaining, ledger.free(o.resources, s, o.slots) // wo.gpus_per_unit)
            room = spent.room(wo.workload, o, s) if limits else None
            if room is not None:
                units = min(units, room)
            if units <= 0:
                continue
            ledger.take(o.resources, s, o.slots, units * wo.gpus_per_unit)
            spent.take(wo.workload, o, s, units)
            placements.append(Placement(option=o, start=s, units=units))
            remaining -= units
            if remaining == 0:
                break
    return placements, wishes


def _ranked(wo: WorkloadOptions, key: Key) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (option, start) of a workload as rows (option index, start), and the rows in
    the order of their keys, then option index, then start."""
    keys = [key(o) for o in wo.options]
    lengths = np.asarray([o.last_start - o.first_start + 1 for o in wo.options])
    option_ix = np.repeat(np.arange(len(wo.options)), lengths)
    ends = np.cumsum(lengths)
    # row k of option i starts at first_start(i) + (k - rows before option i)
    offsets = np.asarray([o.first_start for o in wo.options]) - (ends - lengths)
    starts = np.arange(int(ends[-1])) + np.repeat(offsets, lengths)
    columns = [np.concatenate([k[level] for k in keys]) for level in range(len(keys[0]))]
    return option_ix, starts, np.lexsort([starts, option_ix] + columns[::-1])


def greedy_placements(workload_options: tuple[WorkloadOptions, ...],
                      capacity: Capacity, weights: Weights,
                      limits: tuple[Limit, ...] = ()) -> list[Placement]:
    """The solver's hint: tightest deadline first, each unit to its best-scoring free slot."""
    return greedy(workload_options, capacity, key=score_key(weights), order=by_deadline,
                  limits=limits)
