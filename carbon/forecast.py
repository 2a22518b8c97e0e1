"""Forecast hourly intensity from a zone's history when a source publishes no forecast.

``forecast_series(history, start=, hours=)`` returns a ``kind=FORECAST`` series for
[start, start + hours h), start at or after the end of ``history`` (a forecast never
sees the hours it predicts).

Engines
-------
- ``"forecasting"``: ``forecasting.forecast`` (the package's statistical models, daily
  and weekly seasonality: ``season_lengths=(24, 168)``, ``models="auto"``) on the long
  frame ``unique_id=zone, ds=hour (UTC), y=g/kWh``; the point forecast is the ``mean``
  column and the 80 % interval (``lo-80``/``hi-80``) is summarised in the notes.
- ``"seasonal-naive"``: the documented fallback, used when ``forecasting`` is not
  importable or fails::

      y_hat(t) = y(t - 24 h * k),  k = the smallest whole number of days that lands in history

  i.e. the last observed day repeated ("same hour yesterday" for the first day).
- ``"auto"`` (default): ``forecasting`` if it imports, else seasonal-naive; a failure of
  ``forecasting`` falls back to seasonal-naive with a note.

Intensities are clipped at 0 g/kWh. The result keeps the history's signal
(average/marginal) and says in ``source`` which engine produced it from which history.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime, timedelta

import pandas as pd

from carbon.intensity import IntensityKind, IntensitySeries

__all__ = ["ENGINES", "forecast_series", "seasonal_naive"]

log = logging.getLogger("carbon.forecast")
HOUR = timedelta(hours=1)
ENGINES = ("auto", "forecasting", "seasonal-naive")


def seasonal_naive(history: IntensitySeries, horizon: int, season: int = 24) -> list[float]:
    """``horizon`` values after the end of ``history``: its last ``season`` hours repeated."""
    values = history.g_per_kwh
    if len(values) < season:
        return [values[-1]] * horizon
    last = values[-season:]
    return [last[i % season] for i in range(horizon)]


def _with_forecasting(history: IntensitySeries, horizon: int, level: int
                      ) -> tuple[list[float], str, list[str]]:
    from forecasting import forecast  # imported late: optional for carbon/

    ds = pd.date_range(history.start, periods=len(history.g_per_kwh), freq="h", tz=UTC)
    frame = pd.DataFrame({"unique_id": history.zone, "ds": ds, "y": list(history.g_per_kwh)})
    # grid intensity: the thorough set (ARIMA on STL/MSTL too) over 4 weeks and 4 backtest
    # windows; measured 0.79x seasonal-naive MASE vs 0.86x with the fast auto set
    # (benchmarks/forecast_accuracy.py, 7 zones); one series per zone, so time is cheap.
    # choice="lowest": with these strong candidates the plain minimum beat keeping the median
    # by default (held-out Electricity Maps 2022: 0.91x against 0.92x; forecasting/backtest.py)
    result = forecast(frame, horizon=horizon, levels=(level,), freq="h",
                      season_lengths=(24, 168), models="thorough", n_windows=4,
                      history_steps=672, choice="lowest")
    out = result.values.sort_values("ds")
    mean = [float(v) for v in out["mean"]]
    notes = []
    lo, hi = f"lo-{level}", f"hi-{level}"
    if lo in out and hi in out:
        width = float((out[hi] - out[lo]).mean())
        notes.append(f"{level} % interval {width:.0f} g/kWh wide on average")
    chosen = getattr(result, "chosen", {}) or {}
    model = chosen.get(history.zone)
    name = f"forecasting.forecast ({model})" if model else "forecasting.forecast (auto)"
    notes += [f"history (forecasting): {r}" for r in getattr(result, "repairs", ())]
    return mean, name, notes


def forecast_series(history: IntensitySeries, *, start: datetime, hours: int,
                    engine: str = "auto", level: int = 80) -> IntensitySeries:
    """A forecast of [start, start + hours h) from ``history`` (see the module docstring)."""
    if engine not in ENGINES:
        raise ValueError(f"engine = {engine!r}; use one of {', '.join(ENGINES)}")
    start = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if start < history.end:
        raise ValueError(f"zone {history.zone!r}: the forecast would start at "
                         f"{start:%Y-%m-%dT%H:%MZ}, inside the history (which ends "
                         f"{history.end:%Y-%m-%dT%H:%MZ}); forecast only after the history")
    if hours < 1:
        raise ValueError(f"hours = {hours!r} must be >= 1")
    lead = int((start - history.end) / HOUR)
    horizon = lead + hours
    notes: list[str] = []
    values: list[float] | None = None
    name = ""
    if engine in ("auto", "forecasting"):
        try:
            values, name, notes = _with_forecasting(history, horizon, level)
        except ImportError:
            if engine == "forecasting":
                raise
            notes.append("forecasting package not importable; seasonal-naive fallback")
        except Exception as exc:  # a model failure must not stop planning: fall back, say so
            if engine == "forecasting":
                raise
            log.warning("forecasting failed for zone %s: %s", history.zone, exc)
            notes.append(f"forecasting failed ({type(exc).__name__}: {exc}); seasonal-naive "
                         "fallback")
    if values is None:
        values = seasonal_naive(history, horizon)
        name = "seasonal-naive (last day of history repeated)"
    clipped = sum(1 for v in values if not (math.isfinite(v) and v >= 0))
    values = [v if math.isfinite(v) and v >= 0 else 0.0 for v in values]
    if clipped:
        notes.append(f"{clipped} forecast values below 0 g/kWh clipped to 0")
    if lead:
        notes.append(f"history ends {lead} h before the window; forecast lead {lead}-{horizon} h")
    return IntensitySeries(
        zone=history.zone, start=start, g_per_kwh=tuple(values[lead:]), kind=IntensityKind.FORECAST,
        signal=history.signal, fetched_at=history.fetched_at,
        source=(f"{name} on {len(history.g_per_kwh)} h of history to "
                f"{history.end:%Y-%m-%dT%H:%MZ} from {history.source}"),
        notes=tuple(notes))
