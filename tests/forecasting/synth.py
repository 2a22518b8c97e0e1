"""Synthetic hourly histories with known structure, for tests that need no shared data."""

from __future__ import annotations

import numpy as np
import pandas as pd


def hourly(ids: int | list[str] = 2, *, days: int = 21, level: float = 50.0, daily: float = 10.0,
           weekly: float = 3.0, noise: float = 1.0, seed: int = 0,
           start: str = "2024-03-04T00:00Z") -> pd.DataFrame:
    """``unique_id, ds, y`` with daily and weekly sine seasonality plus Gaussian noise."""
    names = [f"s{i}" for i in range(ids)] if isinstance(ids, int) else ids
    rng = np.random.default_rng(seed)
    n = days * 24
    t = np.arange(n)
    ds = pd.date_range(start, periods=n, freq="h")
    parts = []
    for k, uid in enumerate(names):
        y = (level + 5 * k + daily * np.sin(2 * np.pi * t / 24)
             + weekly * np.sin(2 * np.pi * t / 168) + rng.normal(0, noise, n))
        parts.append(pd.DataFrame({"unique_id": uid, "ds": ds, "y": y}))
    return pd.concat(parts, ignore_index=True)
