"""Forecast combinations: models whose forecast is made from other models' forecasts.

    median  the pointwise median of seasonal_naive, stl_ets and weekly_naive: for every step,
            ``mean`` is the median of the three means, ``lo-L`` / ``hi-L`` the medians of the
            three lower / upper bounds (a median of quantiles, which is again a quantile
            forecast; Lichtendahl, Grushka-Cockayne & Winkler 2013). With three members one
            bad forecast (a weekly rule in a week that broke the pattern, a daily rule across
            a weekend) is outvoted. Measured on the shared traces (benchmarks/
            forecast_accuracy.py, MASE x seasonal naive): GPU load 0.78 (best member 0.65),
            LoRA requests 0.77 (best 0.53), carbon intensity 0.85 (best 0.96): never the
            worst, and the only auto candidate below 0.8 on both cluster traces.

The per-series choice keeps a combination unless another model beats it by more than one
standard error over the backtest windows (``forecasting.backtest``). A combination costs
nothing extra in a backtest, where its members are fitted anyway; for a final forecast its
members are fitted on the series that chose it. A combination fails on a series when any
member does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from forecasting.engine import Failure
from forecasting.models import MEMBERS, ModelName


def is_combination(name: ModelName) -> bool:
    return name in MEMBERS


def fitted_models(names: Sequence[ModelName]) -> list[ModelName]:
    """The models statsforecast must fit for ``names``: combinations replaced by their
    members, each once, in first-seen order."""
    out: list[ModelName] = []
    for name in names:
        for part in MEMBERS.get(name, (name,)):
            if part not in out:
                out.append(part)
    return out


def combine(df: pd.DataFrame, names: Sequence[ModelName], levels: Sequence[int],
            failures: Sequence[Failure]) -> tuple[pd.DataFrame, list[Failure]]:
    """Add the columns ``<name>``, ``<name>-lo-L``, ``<name>-hi-L`` of each combination in
    ``names`` to statsforecast output ``df`` (which has its members' columns), and a failure
    for each (series, combination) with a failed member."""
    out = df.copy()
    failed = list(failures)
    for name in names:
        parts = [m.value for m in MEMBERS.get(name, ())]
        if not parts:
            continue
        suffixes = ["", *(f"-{side}-{lv}" for lv in levels for side in ("lo", "hi"))]
        for suffix in suffixes:
            stack = out[[p + suffix for p in parts]].to_numpy(dtype=float)
            # NaN in any member (a failed fit) makes the combination NaN there
            value = np.median(stack, axis=1)
            out[name.value + suffix] = value
        for f in failures:
            if f.model in parts:
                failed.append(Failure(unique_id=f.unique_id, model=name.value,
                                      message=f"member {f.model} failed: {f.message}"))
    return out, failed
