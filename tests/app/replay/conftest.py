"""Small synthetic fleets and grids with hand-checkable answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from app.inputs import fleet_from_data
from app.replay.grid import Grid, ZoneTrace
from planner.domain import TrainingWorkload
from pricing.catalog import load_catalog

T0 = datetime(2023, 3, 1, tzinfo=UTC)
HISTORY_H = 48


def fleet_of(capacity: dict[str, int], zone: str = "GB"):
    return fleet_from_data({"regions": [{
        "name": "gb", "provider": "gcp", "cloud_region": "europe-west2", "grid_zone": zone,
        "location": {"lat": 51.5, "lon": -0.1},
        "clusters": [{"name": "gb-gpu", "capacity": capacity}]}]}, "test fleet")


def grid_of(actual_by_slot: dict[int, float], *, base: float = 100.0, n_slots: int = 48,
            tail: int = 400, published: dict[int, float] | None = None,
            history: int = HISTORY_H) -> Grid:
    """Zone GB at ``base`` g/kWh except the given slots (slot 0 = T0; negative = history)."""
    values = np.full(history + n_slots + tail, base)
    for slot, g in actual_by_slot.items():
        values[history + slot] = g
    pub = None
    if published is not None:
        pub = np.full(len(values), np.nan)
        for slot, g in published.items():
            pub[history + slot] = g
    return Grid(origin=T0, n_slots=n_slots, zones={"GB": ZoneTrace(
        zone="GB", actual=values, published=pub, offset=history, source="synthetic")})


def job(name: str, *, submit_h: float, hours: float, deadline_h: float, gpus: int = 1,
        accelerator: str = "H100", checkpoint_h: float | None = None,
        home: str = "gb") -> TrainingWorkload:
    return TrainingWorkload(name=name, team="t", gpus=gpus, accelerators={accelerator: 1.0},
                            duration_h=hours, earliest_start=T0 + timedelta(hours=submit_h),
                            deadline=T0 + timedelta(hours=deadline_h), home_region=home,
                            checkpoint_interval_h=checkpoint_h)


@pytest.fixture(scope="session")
def catalog():
    return load_catalog(None)
