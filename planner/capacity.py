"""GPU capacity per (cluster, accelerator) and hourly slot, and its bookkeeping.

Used by the model (as constraint data), the capacity-aware greedy, the
baselines and the checker, so that all of them read capacity the same way.
"""

from __future__ import annotations

from collections import defaultdict

from planner.domain import Fleet

Resource = tuple[str, str]  # (cluster, accelerator)


def capacity_table(fleet: Fleet) -> dict[Resource, int]:
    """GPUs per resource. Constant over the horizon until capacity forecasts arrive."""
    return {
        (cluster.name, accelerator): gpus
        for cluster in fleet.clusters
        for accelerator, gpus in cluster.capacity_gpus.items()
    }


class Ledger:
    """GPUs in use per resource and slot; answers 'does this fit?'."""

    def __init__(self, capacity: dict[Resource, int]) -> None:
        self.capacity = capacity
        self.used: dict[Resource, defaultdict[int, int]] = defaultdict(lambda: defaultdict(int))

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
        """GPU-hours above capacity, summed over resources and slots."""
        return sum(
            max(0, gpus - self.capacity.get(resource, 0))
            for resource, by_slot in self.used.items()
            for gpus in by_slot.values()
        )
