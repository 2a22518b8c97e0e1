"""The one interface every intensity source implements, and its errors.

A source answers an ``IntensityQuery`` (zone, UTC start hour, hours, optional
coordinates and cloud region) with an ``IntensitySeries`` that covers exactly that
window, or raises a ``SourceError``::

    actual(query)   -> kind ACTUAL   (measured/estimated past values)
    forecast(query) -> kind FORECAST (the source's own forecast; NotCovered if it has none)

Errors (the chain in ``carbon.sources.chain`` catches ``SourceError`` and falls back)::

    SourceError
     +-- SourceUnavailable     timeout, connection refused, HTTP 5xx
     |    +-- RateLimited      HTTP 429 (retry_after_s: what the server asked for)
     +-- AuthError             no credentials, HTTP 401/403
     +-- BadResponse           malformed or empty payload, wrong unit, HTTP 4xx
     +-- NotCovered            this source has no data for the zone, window or kind

Messages never contain credentials: HTTP errors name the source, the endpoint path and
the status only, and anything echoed from a server is passed through ``redact``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from carbon.intensity import IntensitySeries

__all__ = [
    "AuthError",
    "BadResponse",
    "IntensityQuery",
    "IntensitySource",
    "NotCovered",
    "RateLimited",
    "SourceError",
    "SourceUnavailable",
    "fit_window",
    "redact",
]

HOUR = timedelta(hours=1)


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every non-empty secret replaced by ``***``."""
    for s in secrets:
        if s:
            text = text.replace(s, "***")
    return text


class SourceError(Exception):
    """A source could not answer; ``source`` names it, the message says why."""

    def __init__(self, source: str, reason: str) -> None:
        self.source, self.reason = source, reason
        super().__init__(f"{source}: {reason}")


class SourceUnavailable(SourceError):
    pass


class RateLimited(SourceUnavailable):
    def __init__(self, source: str, reason: str, retry_after_s: float | None = None) -> None:
        super().__init__(source, reason)
        self.retry_after_s = retry_after_s


class AuthError(SourceError):
    pass


class BadResponse(SourceError):
    pass


class NotCovered(SourceError):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class IntensityQuery:
    """Hourly intensity of ``zone`` for [start, start + hours h); start is floored to the hour."""

    zone: str
    start: datetime
    hours: int
    lat: float | None = None
    lon: float | None = None
    region: str | None = None  # "provider:cloud_region", for sources with per-region ids

    def __post_init__(self) -> None:
        if not isinstance(self.start, datetime) or self.start.tzinfo is None:
            raise ValueError(f"IntensityQuery.start = {self.start!r} must be a timezone-aware "
                             "datetime")
        object.__setattr__(self, "start", self.start.astimezone(UTC).replace(
            minute=0, second=0, microsecond=0))
        if isinstance(self.hours, bool) or not isinstance(self.hours, int) or self.hours < 1:
            raise ValueError(f"IntensityQuery.hours = {self.hours!r} must be a whole number >= 1")
        if not self.zone:
            raise ValueError("IntensityQuery.zone is empty; give a grid zone such as 'DE'")

    @property
    def end(self) -> datetime:
        return self.start + self.hours * HOUR

    def shifted(self, *, start: datetime, hours: int) -> IntensityQuery:
        return IntensityQuery(zone=self.zone, start=start, hours=hours, lat=self.lat,
                              lon=self.lon, region=self.region)

    @classmethod
    def for_region(cls, region, *, start: datetime, hours: int) -> IntensityQuery:
        """From a ``carbon.zones.RegionZone``."""
        return cls(zone=region.zone, start=start, hours=hours, lat=region.lat, lon=region.lon,
                   region=region.key)


@runtime_checkable
class IntensitySource(Protocol):
    name: str

    def actual(self, query: IntensityQuery) -> IntensitySeries: ...

    def forecast(self, query: IntensityQuery) -> IntensitySeries: ...


def fit_window(series: IntensitySeries, query: IntensityQuery, *, source: str,
               max_edge_hours: int = 0) -> IntensitySeries:
    """The query's window of ``series``; edges missing up to ``max_edge_hours`` are held flat."""
    if series.covers(query.start, query.hours):
        return series.window(query.start, query.hours)
    lead = max(0, int((series.start - query.start) / HOUR))
    tail = max(0, int((query.end - series.end) / HOUR))
    if series.end <= query.start or series.start >= query.end or max(lead, tail) > max_edge_hours:
        raise NotCovered(source, f"data for zone {query.zone!r} covers "
                                 f"{series.start:%Y-%m-%dT%H:%MZ} to {series.end:%Y-%m-%dT%H:%MZ}"
                                 f", not {query.start:%Y-%m-%dT%H:%MZ} to "
                                 f"{query.end:%Y-%m-%dT%H:%MZ}")
    values = (series.g_per_kwh[0],) * lead + series.g_per_kwh + (series.g_per_kwh[-1],) * tail
    padded = replace(series, start=series.start - lead * HOUR, g_per_kwh=values)
    note = (f"held the first value for {lead} h before and the last for {tail} h after the "
            f"data ({source})")
    return padded.window(query.start, query.hours).with_notes(note)


def series_from_points(points, *, source: str, label: str, query: IntensityQuery,
                       kind, fetched_at: datetime, signal=None, policy=None,
                       max_edge_hours: int = 0, convert=None,
                       subhourly: bool = False) -> IntensitySeries:
    """Vendor points ``[(time, value or None), ...]`` -> the query's hourly window.

    Empty payloads and data ``carbon.repair`` cannot mend become ``BadResponse``;
    data for other hours become ``NotCovered``. ``convert`` maps each value (units)."""
    from carbon.intensity import IntensitySignal
    from carbon.repair import IntensityDataError, to_hourly

    if not points:
        raise BadResponse(source, f"empty payload: no data points for zone {query.zone!r}")
    times = [t for t, _ in points]
    values = [None if v is None else (convert(v) if convert else v) for _, v in points]
    try:
        s = to_hourly(times, values, zone=query.zone, source=label, kind=kind,
                      fetched_at=fetched_at, signal=signal or IntensitySignal.AVERAGE,
                      policy=policy, what=f"{source} zone {query.zone!r}", subhourly=subhourly)
    except IntensityDataError as exc:
        raise BadResponse(source, f"unusable data: {exc}") from None
    return fit_window(s, query, source=source, max_edge_hours=max_edge_hours)
