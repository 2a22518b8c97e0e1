"""A chain of intensity sources with fallback, backed by a disk cache.

``IntensityChain(sources, cache=...).series(query)`` answers with the first source that
can, and the answer says what happened (``source``, ``kind``, ``fetched_at`` and
``notes``). For each source, in order:

1. **fresh cache**: an entry for (source, zone, kind) that covers the window and is
   younger than ``fresh_for`` (forecasts) or of any age (actuals) -> returned, no fetch;
2. **fetch**: ``actual`` when the whole window is in the past (end <= now), else
   ``forecast``. A source with no forecast of its own (``NotCovered``) is asked for
   ``history_hours`` of history ending ``history_lag_hours`` before now, and
   ``carbon.forecast.forecast_series`` forecasts from it. A good answer is cached;
3. **on failure** (timeout, HTTP 4xx/5xx, 429 after the bounded Retry-After wait,
   malformed or empty payload, data that cannot be repaired, no coverage): the newest
   cache entry of that source younger than ``stale_limit`` -> returned with a note;
   else the next source.

Each failure becomes a note on the series finally returned (``"electricitymaps: GET
/v3/carbon-intensity/forecast: HTTP 503"``), and a warning in the ``carbon.sources`` log.
Nothing in the chain sees credentials. When every source fails, ``NoIntensityError``
lists why each did. Put ``EmbeddedDefaultSource`` last to always have an answer for
known zones.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from carbon.forecast import forecast_series
from carbon.intensity import IntensityKind, IntensitySeries
from carbon.sources.base import IntensityQuery, IntensitySource, NotCovered, SourceError
from carbon.sources.cache import DiskCache

__all__ = ["ChainPolicy", "IntensityChain", "NoIntensityError"]

log = logging.getLogger("carbon.sources")
HOUR = timedelta(hours=1)
Forecaster = Callable[..., IntensitySeries]


class NoIntensityError(LookupError):
    """No source of the chain could answer; ``reasons`` has one line per source."""

    def __init__(self, query: IntensityQuery, reasons: list[str]) -> None:
        self.query, self.reasons = query, reasons
        super().__init__(
            f"no carbon intensity for zone {query.zone!r} {query.start:%Y-%m-%dT%H:%MZ} + "
            f"{query.hours} h: " + "; ".join(reasons) + "; add a source that covers the zone "
            "(a trace file, credentials for a live API) or the embedded default last")


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainPolicy:
    fresh_for: timedelta = timedelta(minutes=30)
    stale_limit: timedelta | None = timedelta(days=7)
    history_hours: int = 28 * 24
    history_lag_hours: int = 2


class IntensityChain:
    def __init__(self, sources: Sequence[IntensitySource], *, cache: DiskCache | None = None,
                 forecaster: Forecaster | None = forecast_series,
                 policy: ChainPolicy | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        if not sources:
            raise ValueError("IntensityChain needs at least one source")
        self.sources, self.cache, self.forecaster = list(sources), cache, forecaster
        self.policy, self.clock = policy or ChainPolicy(), clock

    def _now(self) -> datetime:
        return self.clock().astimezone(UTC).replace(minute=0, second=0, microsecond=0)

    def _forecast(self, src: IntensitySource, query: IntensityQuery,
                  now: datetime) -> IntensitySeries:
        try:
            return src.forecast(query)
        except NotCovered as no_forecast:
            if self.forecaster is None:
                raise
            end = min(now - self.policy.history_lag_hours * HOUR, query.start)
            hist_q = query.shifted(start=end - self.policy.history_hours * HOUR,
                                   hours=self.policy.history_hours)
            try:
                history = src.actual(hist_q)
            except SourceError as exc:
                raise type(exc)(src.name, f"no forecast ({no_forecast.reason}) and no history "
                                          f"to forecast from ({exc.reason})") from None
            fc = self.forecaster(history, start=query.start, hours=query.hours)
            return fc.with_notes(f"{src.name} has no forecast ({no_forecast.reason}); "
                                 "forecast from its history")

    def series(self, query: IntensityQuery) -> IntensitySeries:
        """Hourly intensity for the query's window (see the module docstring)."""
        now = self._now()
        want = IntensityKind.ACTUAL if query.end <= now else IntensityKind.FORECAST
        notes: list[str] = []
        key = f"{query.zone}@{query.region}" if query.region else query.zone
        for src in self.sources:
            if self.cache is not None:
                fresh = self.cache.get(source=src.name, zone=key, kind=want,
                                       start=query.start, hours=query.hours,
                                       max_age=None if want is IntensityKind.ACTUAL
                                       else self.policy.fresh_for)
                if fresh is not None:
                    return fresh.with_notes(*notes)
            try:
                s = (src.actual(query) if want is IntensityKind.ACTUAL
                     else self._forecast(src, query, now))
            except SourceError as exc:
                log.warning("carbon intensity: %s", exc)
                notes.append(str(exc))
                stale = None if self.cache is None else self.cache.get(
                    source=src.name, zone=key, kind=want, start=query.start,
                    hours=query.hours, max_age=self.policy.stale_limit)
                if stale is not None:
                    return stale.with_notes(*notes, f"{src.name}: fell back to its cache")
                continue
            if self.cache is not None and s.kind is not IntensityKind.DEFAULT:
                self.cache.put(s if s.fetched_at else replace(s, fetched_at=self.clock()),
                               source=src.name, key=key)
            return s.with_notes(*notes)
        raise NoIntensityError(query, notes)
