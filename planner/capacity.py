"""GPU capacity per (cluster, accelerator) and hourly slot, and its bookkeeping.

Used by the model (as constraint data), the capacity-aware greedy, the
baselines and the checker, so that all of them read capacity the same way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from planner.domain import Fleet

Resource = tuple[str, str]  # (cluster, accelerator)


@dataclass(frozen=True, slots=True)
class Capacity:
    """GPUs per resource, less what is already taken in given slots.

    ``base`` is what each (cluster, accelerator) has; ``reserved`` holds GPUs
    that are not the planner's in a slot: work that has already started, or
    the cluster's own background load as forecast at a chosen quantile.
    """

    base: Mapping[Resource, int]
    reserved: Mapping[tuple[Resource, int], int] = field(default_factory=dict)

    def get(self, resource: Resource, default: int = 0) -> int:
        return self.base.get(resource, default)

    def at(self, resource: Resource, t: int) -> int:
        return max(0, self.base.get(resource, 0) - self.reserved.get((resource, t), 0))


def capacity_table(fleet: Fleet,
                   reserved: Mapping[tuple[Resource, int], int] | None = None) -> Capacity:
    """The fleet's GPUs per resource, less ``reserved`` (GPUs per resource and slot)."""
    return Capacity(base={(cluster.name, accelerator): gpus
                          for cluster in fleet.clusters
                          for accelerator, gpus in cluster.capacity_gpus.items()},
                    reserved=dict(reserved or {}))


class Ledger:
    """GPUs in use per resource and slot; answers 'does this fit?'."""

    def __init__(self, capacity: Capacity) -> None:
        self.capacity = capacity
        self.used: dict[Resource, defaultdict[int, int]] = defaultdict(lambda: defaultdict(int))
        for (resource, t), gpus in capacity.reserved.items():
            self.used[resource][t] += gpus

    def free(self, resource: Resource, start: int, slots: int) -> int:
        used = self.used[resource]
        peak = max((used[t] for t in range(start, start + slots)), default=0)
        return self.capacity.get(resource, 0) - peak

    def fits(self, resource: Resource, start: int, slots: int, gpus: int) -> bool:
        return self.free(resource, start, slots) >= gpus

    def take(self, resource: Resource, start: int, slots: int, gpus: int) -> None:
        used = self.used[resource]
        for t in range(start, start + slots):
            used[t] += gpus

    def overload_gpu_hours(self) -> int:
        """GPU-hours above capacity, summed over resources and slots (reservations count)."""
        return sum(
            max(0, gpus - self.capacity.get(resource, 0))
            for resource, by_slot in self.used.items()
            for gpus in by_slot.values()
        )
