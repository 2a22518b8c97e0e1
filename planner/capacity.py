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
    base = {(cluster.name, accelerator): gpus for cluster in fleet.clusters
            for accelerator, gpus in cluster.capacity_gpus.items()}
    base.update({spot_pool(cluster.name, accelerator): gpus for cluster in fleet.clusters
                 for accelerator, gpus in cluster.spot_capacity_gpus.items()})
    return Capacity(base=base, reserved=dict(reserved or {}))


def _many(resource) -> tuple[Resource, ...]:
    """A resource, or the resources an option uses at once (its GPUs and, on spot where
    a cluster caps spot separately, its spot pool): always a tuple of resources."""
    return resource if isinstance(resource[0], tuple) else (resource,)


def spot_pool(cluster: str, accelerator: str) -> Resource:
    """The resource that caps a cluster's spot GPUs of one accelerator."""
    return (cluster, f"{accelerator}@spot")


def pools_used(cluster: str, accelerator: str, spot_capped: bool) -> tuple[Resource, ...]:
    """What an option uses: its GPUs, and its cluster's spot pool where spot is capped."""
    if spot_capped:
        return ((cluster, accelerator), spot_pool(cluster, accelerator))
    return ((cluster, accelerator),)


class Ledger:
    """GPUs in use per resource and slot; answers 'does this fit?'. Each method takes one
    resource or a tuple of them (all must have room; all are taken)."""

    def __init__(self, capacity: Capacity) -> None:
        self.capacity = capacity
        self.used: dict[Resource, defaultdict[int, int]] = defaultdict(lambda: defaultdict(int))
        for (resource, t), gpus in capacity.reserved.items():
            self.used[resource][t] += gpus

    def free(self, resource, start: int, slots: int) -> int:
        out = None
        for r in _many(resource):
            used = self.used[r]
            peak = max((used[t] for t in range(start, start + slots)), default=0)
            room = self.capacity.get(r, 0) - peak
            out = room if out is None else min(out, room)
        return out

    def fits(self, resource, start: int, slots: int, gpus: int) -> bool:
        return self.free(resource, start, slots) >= gpus

    def take(self, resource, start: int, slots: int, gpus: int) -> None:
        for r in _many(resource):
            used = self.used[r]
            for t in range(start, start + slots):
                used[t] += gpus

    def overload_gpu_hours(self) -> int:
        """GPU-hours above capacity, summed over resources and slots (reservations count)."""
        return sum(
            max(0, gpus - self.capacity.get(resource, 0))
            for resource, by_slot in self.used.items()
            for gpus in by_slot.values()
        )
