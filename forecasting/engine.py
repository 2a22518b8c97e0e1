"""Where statsforecast runs: in this process (``local``) or on a Ray cluster (``ray``).

``local`` runs statsforecast's own process pool with one worker per core (capped by the
number of series: a pool for a handful of series costs more than it saves). ``ray`` hands the
same ``StatsForecast`` call a Ray Dataset, which statsforecast dispatches to its Fugue backend
(``statsforecast.distributed.fugue.FugueBackend``) partitioned by ``unique_id``: nothing here
distributes work by itself. Ray is an optional extra (``ray[data]`` and ``duckdb``, what
``statsforecast[ray]`` lists); ``ray.init()``
connects to ``RAY_ADDRESS`` when set, else starts a local Ray, unless the caller already did.

statsforecast gets naive UTC timestamps (Fugue/Arrow schemas and statsforecast's frequency
arithmetic both handle them reliably); results are turned back into tz-aware UTC.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd
from statsforecast import StatsForecast

from forecasting.errors import EngineUnavailableError, ForecastError

MIN_SERIES_PER_WORKER = 8


class Engine(StrEnum):
    LOCAL = "local"
    RAY = "ray"


def parse_engine(engine: str) -> Engine:
    try:
        return Engine(str(engine).strip().lower())
    except ValueError:
        raise EngineUnavailableError(
            f"engine {engine!r} is unknown; use one of {[e.value for e in Engine]}") from None


def local_jobs(n_series: int) -> int:
    """Workers for the local engine: one per core, but only with enough series to share."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, n_series // MIN_SERIES_PER_WORKER))


def _ray_dataset(df: pd.DataFrame) -> Any:
    try:
        import fugue_ray  # noqa: F401  (registers Ray with Fugue; needs duckdb)
        import ray
        import ray.data
        from ray.data.context import ShuffleStrategy
    except ImportError as exc:
        raise EngineUnavailableError(
            f"engine 'ray' is not installed ({exc}); install the extra: "
            "pip install 'ray[data]>=2.30' 'duckdb>=0.5'") from None
    if not ray.is_initialized():
        ray.init(address=os.environ.get("RAY_ADDRESS"), ignore_reinit_error=True,
                 log_to_driver=False)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    # statsforecast's Fugue backend groups the rows by unique_id through a Ray Data shuffle.
    # Ray's default (actor-based hash shuffle into 200 partitions) cost 15-25 s of fixed
    # overhead per call here, even for two series; the task-based sort shuffle with two
    # partitions per CPU costs under a second once the workers are up.
    ctx.shuffle_strategy = ShuffleStrategy.SORT_SHUFFLE_PULL_BASED
    ctx.default_hash_shuffle_parallelism = max(2, 2 * int(ray.cluster_resources().get("CPU", 1)))
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    return ray.data.from_pandas(df)


def _naive_utc(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out["ds"] = out["ds"].dt.tz_convert("UTC").dt.tz_localize(None)
    return out


def _aware_utc(df: pd.DataFrame) -> pd.DataFrame:
    for col in ("ds", "cutoff"):
        if col in df.columns:
            df[col] = pd.to_datetime(df[col]).dt.tz_localize("UTC")
    df["unique_id"] = df["unique_id"].astype(str)
    for col in df.columns.difference(["unique_id", "ds", "cutoff"]):
        df[col] = df[col].astype("float64")    # Ray/Arrow hands back float32 and Arrow dtypes
    return df.sort_values([c for c in ("unique_id", "cutoff", "ds") if c in df.columns],
                          ignore_index=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class Failure:
    """A model that could not be fitted on one series (statsforecast raised)."""

    unique_id: str
    model: str
    message: str


class FailureMarker:
    """statsforecast ``fallback_model`` that forecasts NaN: a model that raises on a series
    leaves NaN cells for that (series, model) instead of aborting the whole call, and the NaN
    marks it as failed (no silent substitute forecast)."""

    alias = "failed"
    uses_exog = False

    def __repr__(self) -> str:
        return self.alias

    def new(self) -> FailureMarker:
        return FailureMarker()

    def forecast(self, y: Any, h: int, X: Any = None, X_future: Any = None,
                 level: Sequence[int] | None = None, fitted: bool = False) -> dict[str, Any]:
        nan = np.full(h, np.nan)
        out = {"mean": nan}
        for lv in level or ():
            out[f"lo-{lv}"], out[f"hi-{lv}"] = nan, nan
        if fitted:
            out["fitted"] = np.full(len(y), np.nan)
        return out


MAX_EXPLAINED_FAILURES = 20


def _call(method: str, df: pd.DataFrame, models: Sequence[Any], *, freq: str, engine: Engine,
          fallback: Any, **kwargs: Any) -> pd.DataFrame:
    data = _naive_utc(df)
    n_series = data["unique_id"].nunique()
    jobs = local_jobs(n_series) if engine is Engine.LOCAL else 1
    sf = StatsForecast(models=list(models), freq=freq, n_jobs=jobs, fallback_model=fallback)
    if engine is Engine.RAY:
        data = _ray_dataset(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # statsforecast/statsmodels convergence chatter
        out = getattr(sf, method)(df=data, **kwargs)
    if engine is Engine.RAY:
        out = out.to_pandas()
    return _aware_utc(out.reset_index() if "unique_id" not in out.columns else out)


def _alias(model: Any) -> str:
    return str(getattr(model, "alias", type(model).__name__))


def _why(method: str, df: pd.DataFrame, uid: str, model: Any, **kwargs: Any) -> str:
    """Re-run one failed (series, model) without the marker to get statsforecast's error."""
    kwargs["engine"] = Engine.LOCAL
    try:
        _call(method, df[df["unique_id"] == uid], [model], fallback=None, **kwargs)
    except Exception as exc:  # noqa: BLE001  (the error we are after)
        return f"{type(exc).__name__}: {exc}"[:160]
    return "forecast was not finite"


def _run(method: str, df: pd.DataFrame, models: Sequence[Any], **kwargs: Any
         ) -> tuple[pd.DataFrame, list[Failure]]:
    """Run statsforecast ``method``; (series, model) pairs that raised come back as NaN
    cells plus a ``Failure`` each (the first few with statsforecast's message)."""
    try:
        out = _call(method, df, models, fallback=FailureMarker(), **kwargs)
    except (KeyboardInterrupt, EngineUnavailableError):
        raise
    except Exception as exc:  # not a per-series model failure: report it whole
        names = ", ".join(_alias(m) for m in models)
        raise ForecastError(f"statsforecast {method} with {names} failed on "
                            f"{df['unique_id'].nunique()} series: {type(exc).__name__}: {exc}"
                            ) from exc
    failures: list[Failure] = []
    for model in models:
        alias = _alias(model)
        bad = out.loc[~np.isfinite(out[alias].to_numpy(dtype=float)), "unique_id"].unique()
        for uid in sorted(bad):
            why = (_why(method, df, uid, model, **kwargs)
                   if len(failures) < MAX_EXPLAINED_FAILURES else "statsforecast raised")
            failures.append(Failure(unique_id=str(uid), model=alias, message=why))
    return out, failures


def run_forecast(df: pd.DataFrame, models: Sequence[Any], *, freq: str, horizon: int,
                 levels: Sequence[int], engine: Engine) -> tuple[pd.DataFrame, list[Failure]]:
    """statsforecast ``forecast``: unique_id, ds, <alias>, <alias>-lo-L, <alias>-hi-L; plus the
    (series, model) pairs that failed (their cells NaN)."""
    return _run("forecast", df, models, freq=freq, engine=engine, h=horizon, level=list(levels))


def run_cross_validation(df: pd.DataFrame, models: Sequence[Any], *, freq: str, horizon: int,
                         levels: Sequence[int], n_windows: int, input_size: int | None,
                         engine: Engine) -> tuple[pd.DataFrame, list[Failure]]:
    """statsforecast ``cross_validation``: rolling origins ``horizon`` apart at the end; plus
    the (series, model) pairs that failed (their cells NaN)."""
    return _run("cross_validation", df, models, freq=freq, engine=engine, h=horizon,
                level=list(levels), n_windows=n_windows, step_size=horizon,
                input_size=input_size, refit=True)
