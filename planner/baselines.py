"""What the fleet would do without gridshift, on the same inputs.

- ``run_now``: every workload starts at submission in its home region, on
  on-demand capacity, on the first accelerator it asks for that the home
  region has.
  The cluster admits jobs first come, first served: when the home cluster is
  full a job waits until it has room, and a job that thereby ends after its
  deadline is a deadline miss. Emissions are accounted in the hours the jobs
  really run, which may lie past the horizon.
- ``cost_greedy`` / ``carbon_greedy``: in submission order, each workload
  takes its own cheapest / cleanest option and start within its window among
  what is still free, as per-job advisory tools do (planner/greedy.py). They
  meet every deadline and capacity, so the optimised plan must do at least as
  well on its objective. ``overbooked_gpu_h`` reports the GPU-hours that
  the same per-job choices would overbook if each job ignored the others
  (what an advisory tool that does not see capacity would cause).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from planner.capacity import Ledger, capacity_table
from planner.domain import HOUR, Purchase, Region
from planner.greedy import Key, by_submission, greedy_and_wishes
from planner.options import (
    Memo,
    WorkloadOptions,
    first_slot,
    intensity_arrays,
    make_option,
    units_of,
)
from planner.placement import Placement
from planner.problem import PlanningProblem


@dataclass(frozen=True, slots=True, kw_only=True)
class Intent:
    workload: int
    region: Region
    cluster: str
    accelerator: str
    purchase: Purchase
    start: int


@dataclass(frozen=True, slots=True, kw_only=True)
class BaselineRun:
    placements: tuple[Placement, ...]
    deadline_misses: int
    overbooked_gpu_h: int  # GPU-hours over capacity at the intended starts
    unplaced: int  # workloads that found no capacity at all (or no option)


def run_now(problem: PlanningProblem) -> BaselineRun:
    intents, unplaced = [], 0
    for j, w in enumerate(problem.workloads):
        intent = _home_intent(problem, j)
        if intent is None:
            unplaced += 1
        else:
            intents.append(intent)
    return _admit(problem, intents, unplaced)


def independent_greedy(problem: PlanningProblem, workload_options: tuple[WorkloadOptions, ...],
                       *, key: Key) -> BaselineRun:
    capacity = capacity_table(problem.fleet, problem.reserved_gpus)
    placements, wishes = greedy_and_wishes(workload_options, capacity, key=key,
                                           order=by_submission)
    placed: dict[int, int] = defaultdict(int)
    for p in placements:
        placed[p.workload] += p.units
    blind = Ledger(capacity)  # each job's own best choice, blind to the others
    for j, wo in enumerate(workload_options):
        if j in wishes:
            o, s = wishes[j]
            blind.take(o.resources, s, o.slots, wo.units * wo.gpus_per_unit)
    unplaced = sum(1 for j, wo in enumerate(workload_options) if placed[j] < wo.units)
    return BaselineRun(placements=tuple(placements), deadline_misses=0,
                       overbooked_gpu_h=blind.overload_gpu_hours(), unplaced=unplaced)


def _home_intent(problem: PlanningProblem, j: int) -> Intent | None:
    w = problem.workloads[j]
    _, gpus_per_unit = units_of(w)
    region = problem.fleet.region(w.home_region)
    for accelerator in w.accelerators:
        for cluster in region.clusters:
            if cluster.capacity_gpus.get(accelerator, 0) < gpus_per_unit:
                continue
            if problem.catalog.cheapest(provider=region.provider, region=region.cloud_region,
                                        accelerator=accelerator, purchase=Purchase.ON_DEMAND):
                return Intent(workload=j, region=region, cluster=cluster.name,
                              accelerator=accelerator, purchase=Purchase.ON_DEMAND,
                              start=first_slot(problem, w))
    return None


def _admit(problem: PlanningProblem, intents: list[Intent], unplaced: int) -> BaselineRun:
    """Admit intents first come, first served; full clusters make jobs wait."""
    intensity = intensity_arrays(problem)
    memo = Memo()
    limit = problem.horizon_hours + problem.lookahead_hours
    ledger = Ledger(capacity_table(problem.fleet, problem.reserved_gpus))
    wished = Ledger(capacity_table(problem.fleet, problem.reserved_gpus))
    placements: list[Placement] = []
    misses = 0
    order = sorted(intents, key=lambda i: (i.start, problem.workloads[i.workload].name))
    for intent in order:
        w = problem.workloads[intent.workload]
        units, gpus_per_unit = units_of(w)
        option = make_option(problem, intent.workload, intent.region, intent.cluster,
                             intent.accelerator, intent.purchase, intent.start, limit - 1, intensity,
                             memo)
        if option is None:
            unplaced += 1
            continue
        wished.take(option.resources, intent.start, option.slots, units * gpus_per_unit)
        placed, missed = 0, False
        for s in option.starts:
            if placed == units:
                break
            free = ledger.free(option.resources, s, option.slots) // gpus_per_unit
            take = min(units - placed, free)
            if take <= 0:
                continue
            ledger.take(option.resources, s, option.slots, take * gpus_per_unit)
            placements.append(Placement(option=option, start=s, units=take))
            placed += take
            end = problem.horizon_start + s * HOUR + option.runtime_h * HOUR
            missed = missed or end > w.deadline
        if placed < units:
            unplaced += 1
        else:
            misses += int(missed)
    return BaselineRun(placements=tuple(placements), deadline_misses=misses,
                       overbooked_gpu_h=wished.overload_gpu_hours(), unplaced=unplaced)
