"""What the planner is shown at a re-plan: hourly intensity of a zone from slot ``t`` on.

``view(zone, t, hours)`` returns the values the planner sees at re-plan time ``t`` for
slots ``t .. t + hours - 1``. Only hours before ``t`` are known (actuals); every
forecaster below uses nothing later:

- ``oracle``: the actual intensity (perfect foresight; the upper bound of shifting);
- ``persistence``: the last known day repeated: y_hat(t + i) = y(t - 24 + (i mod 24)),
  i.e. "same hour yesterday" for the next 24 h and the last known day after that;
- ``model``: the project's forecaster ``carbon.forecast.forecast_series`` (engine
  ``auto``: ``forecasting.forecast``, else seasonal-naive), issued once a day at 00:00 UTC
  from the ``history_days`` days before it, for ``horizon_h`` hours (a day-ahead
  forecast as a scheduled job would fetch it). At ``t`` the planner sees the latest issue
  (the one of ``t``'s day); beyond its horizon, persistence. Issues are cached in memory
  and, with ``cache_dir``, on disk (they depend only on the zone's trace and the origin);
- ``provider-file``: the published day-ahead forecast of the trace file (DACF's
  ``carbon_from_src_forecasts``); hours the file does not forecast fall back to
  persistence and are counted in ``notes``.
"""

from __future__ import annotations

import enum
import hashlib
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from app.replay.grid import HOUR, Grid
from carbon.forecast import forecast_series
from carbon.intensity import IntensityKind, IntensitySeries


class ForecastKind(enum.StrEnum):
    ORACLE = "oracle"
    PERSISTENCE = "persistence"
    MODEL = "model"
    PROVIDER_FILE = "provider-file"


def persistence(actual: np.ndarray, index: int, hours: int) -> np.ndarray:
    """``hours`` values from array index ``index``: the 24 values before it, repeated."""
    last_day = actual[max(0, index - 24):index]
    if len(last_day) == 0:
        return np.full(hours, actual[0])
    return np.resize(last_day, hours) if len(last_day) == 24 else np.full(hours, last_day[-1])


@dataclass
class Forecaster:
    grid: Grid
    kind: ForecastKind
    history_days: int = 28
    horizon_h: int = 7 * 24
    cache_dir: Path | None = None
    notes: dict[str, int] = field(default_factory=dict)  # what had to fall back, counted
    _issues: dict[tuple[str, int], np.ndarray] = field(default_factory=dict)
    issue_seconds: float = 0.0

    @property
    def label(self) -> str:
        return str(self.kind)

    def view(self, zone: str, t: int, hours: int) -> np.ndarray:
        z = self.grid.zone(zone)
        i = z.offset + t
        if self.kind is ForecastKind.ORACLE:
            return z.actual[i:i + hours].copy()
        fallback = persistence(z.actual, i, hours)
        if self.kind is ForecastKind.PERSISTENCE:
            return fallback
        if self.kind is ForecastKind.PROVIDER_FILE:
            if z.published is None:
                self._note(f"{zone}: no published forecast in the file; persistence", hours)
                return fallback
            out = z.published[i:i + hours].copy()
            missing = np.isnan(out)
            if missing.any():
                self._note(f"{zone}: hours outside the published forecast; persistence",
                           int(missing.sum()))
                out[missing] = fallback[missing]
            return out
        origin = t - (t + self._hour_of_day0()) % 24  # 00:00 UTC of t's day
        issued = self._issue(zone, origin)
        if issued is None:
            return fallback
        lead = t - origin
        out = fallback.copy()
        n = max(0, min(hours, len(issued) - lead))
        out[:n] = issued[lead:lead + n]
        return out

    def _hour_of_day0(self) -> int:
        return self.grid.origin.hour

    def _note(self, text: str, hours: int) -> None:
        self.notes[text] = self.notes.get(text, 0) + hours

    def _issue(self, zone: str, origin: int) -> np.ndarray | None:
        key = (zone, origin)
        if key in self._issues:
            return self._issues[key]
        z = self.grid.zone(zone)
        hist_h = self.history_days * 24
        i = z.offset + origin
        first_real = 0
        if i - hist_h < first_real:
            hist_h = i - first_real
        if hist_h < 7 * 24:
            self._note(f"{zone}: under 7 days of history for the model; persistence", 24)
            self._issues[key] = None
            return None
        history = z.actual[i - hist_h:i]
        start = self.grid.origin + origin * HOUR
        path = None
        if self.cache_dir is not None:
            digest = hashlib.sha256(history.tobytes()).hexdigest()[:16]
            path = self.cache_dir / f"{zone}-{start:%Y%m%dT%H}-{self.horizon_h}-{digest}.npy"
            if path.is_file():
                self._issues[key] = np.load(path)
                return self._issues[key]
        t0 = time.perf_counter()
        series = IntensitySeries(zone=zone, start=start - hist_h * HOUR,
                                 g_per_kwh=tuple(float(v) for v in history),
                                 kind=IntensityKind.ACTUAL, source="replay history")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fc = forecast_series(series, start=start, hours=self.horizon_h)
        self.issue_seconds += time.perf_counter() - t0
        values = np.asarray(fc.g_per_kwh, dtype=float)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, values)
        self._issues[key] = values
        return values
