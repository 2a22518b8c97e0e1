"""Hourly grid carbon intensity (g CO2e per kWh) and the embedded default profiles.

An ``IntensitySeries`` is one value per hour from ``start`` (tz-aware UTC, on the
hour); the value of hour ``i`` applies to [start + i h, start + (i+1) h).

The embedded default
--------------------
With no live or forecast data, ``embedded_default(zone, start=, hours=)`` builds a
series from ``data/intensity_profiles.csv``: for each zone, the mean intensity by
(calendar month 1-12, UTC hour 0-23) of a real hourly trace, i.e. a "typical day
per month". Hour ``t`` of the series takes the row (t.month, t.hour) in UTC, so a
series that crosses midnight at a month end switches to the next month's rows::

    g_per_kwh[i] = mean{ trace(d, h) : month(d) = month(start + i h), h = hour(start + i h) }

It ignores the year, day-to-day weather and trend, so it is a prior to plan
against, not a forecast; every series says so in ``source`` and ``kind=DEFAULT``.

Zones of the region table (``carbon.zones``) without an hourly profile fall back to
one flat annual mean from ``data/zone_annual_means.csv`` (Google 2023 region grid
intensity, eGRID2023 state rates or a country mean, per row; see
``scripts/derive_region_zones.py``). Such a series has no daily shape and says so.
``default_zones()`` lists the zones with an hourly profile; ``known_zones()`` adds the
flat ones.

Traces (re-derive with ``scripts/derive_carbon_defaults.py --data-dir ../shared/data``):

- US-CAL-CISO, US-TEX-ERCO, DE (file DE-LU), GB, SG, JP-TK, IN-WE: Electricity Maps
  2023 hourly, column "Carbon Intensity gCO₂eq/kWh (direct)" (operational emissions
  only), via HewlettPackard/green-dcc @ 3f6ea95c. Electricity Maps marks IN-WE and
  JP-TK as fully estimated and SG as ~8 % estimated.
- FR (AWS eu-west-3), US-MIDA-PJM (us-east-1), BR-CS (sa-east-1), AU-NSW
  (ap-southeast-2): CASPER hourly per-AWS-region intensity, 2021-10-08 to 2022-10-01
  (carbonfirst/casper @ 7b70ea57). CASPER does not state whether the figures are
  direct or life-cycle, so these zones are not strictly comparable with the others.
"""

from __future__ import annotations

import csv
import enum
import functools
import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from importlib import resources

__all__ = [
    "IntensityKind",
    "IntensitySeries",
    "IntensitySignal",
    "OutsideSeriesError",
    "UnknownZoneError",
    "default_zones",
    "embedded_default",
    "known_zones",
]

HOUR = timedelta(hours=1)
PROFILE_FILE = "intensity_profiles.csv"
ANNUAL_FILE = "zone_annual_means.csv"


class IntensityKind(enum.StrEnum):
    ACTUAL = "actual"
    FORECAST = "forecast"
    DEFAULT = "default"


class IntensitySignal(enum.StrEnum):
    """``average``: grid-average (inventory) intensity; ``marginal``: the emissions rate of
    the generator that responds to a change in load (WattTime ``co2_moer``). Marginal
    figures rank hours and places; they are not an inventory footprint."""

    AVERAGE = "average"
    MARGINAL = "marginal"


class OutsideSeriesError(KeyError):
    """A time outside the hours an IntensitySeries covers (a KeyError with a readable message)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def _require_aware(name: str, t: datetime) -> datetime:
    if not isinstance(t, datetime):
        raise TypeError(f"{name} = {t!r} is not a datetime; give a timezone-aware UTC datetime")
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"{name} = {t.isoformat()} is naive; give a timezone-aware datetime, "
                         "e.g. datetime(..., tzinfo=UTC)")
    return t.astimezone(UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class IntensitySeries:
    """Hourly intensity of a grid zone; ``g_per_kwh[i]`` covers [start + i h, start + (i+1) h)."""

    zone: str
    start: datetime
    g_per_kwh: tuple[float, ...]
    source: str
    kind: IntensityKind
    fetched_at: datetime | None = None
    signal: IntensitySignal = IntensitySignal.AVERAGE
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        start = _require_aware("IntensitySeries.start", self.start)
        if start.minute or start.second or start.microsecond:
            raise ValueError(f"IntensitySeries.start = {self.start.isoformat()} is not on the hour "
                             "in UTC; floor it to the hour")
        object.__setattr__(self, "start", start)
        values = tuple(float(v) for v in self.g_per_kwh)
        if not values:
            raise ValueError(f"IntensitySeries for zone {self.zone!r}: g_per_kwh is empty; "
                             "give at least one hourly value")
        for i, v in enumerate(values):
            if not (math.isfinite(v) and v >= 0.0):
                raise ValueError(f"IntensitySeries for zone {self.zone!r}: g_per_kwh[{i}] = {v!r} "
                                 "must be a finite number >= 0; fix or drop that hour")
        object.__setattr__(self, "g_per_kwh", values)
        try:
            object.__setattr__(self, "kind", IntensityKind(self.kind))
        except ValueError:
            raise ValueError(f"IntensitySeries for zone {self.zone!r}: kind = {self.kind!r} is not "
                             f"one of {', '.join(k.value for k in IntensityKind)}") from None
        if self.fetched_at is not None:
            object.__setattr__(self, "fetched_at",
                               _require_aware("IntensitySeries.fetched_at", self.fetched_at))
        try:
            object.__setattr__(self, "signal", IntensitySignal(self.signal))
        except ValueError:
            raise ValueError(f"IntensitySeries for zone {self.zone!r}: signal = {self.signal!r} "
                             "is not 'average' or 'marginal'") from None
        object.__setattr__(self, "notes", tuple(str(n) for n in self.notes))

    @property
    def end(self) -> datetime:
        """Exclusive end: start + len(g_per_kwh) hours."""
        return self.start + len(self.g_per_kwh) * HOUR

    def at(self, t: datetime) -> float:
        """g/kWh of the hour containing ``t``; OutsideSeriesError (a KeyError) outside."""
        tu = _require_aware("t", t)
        if not (self.start <= tu < self.end):
            raise OutsideSeriesError(
                f"{tu:%Y-%m-%dT%H:%M:%SZ} is outside the intensity series of zone {self.zone!r}, "
                f"which covers {self.start:%Y-%m-%dT%H:%MZ} to {self.end:%Y-%m-%dT%H:%MZ}; "
                "ask for a time inside it or build a longer series")
        return self.g_per_kwh[int((tu - self.start) // HOUR)]

    def mean_g_per_kwh(self) -> float:
        """Unweighted mean over the hours of the series."""
        return math.fsum(self.g_per_kwh) / len(self.g_per_kwh)

    def covers(self, start: datetime, hours: int) -> bool:
        """True when every hour of [start, start + hours h) is in the series."""
        s = _require_aware("start", start)
        return self.start <= s and s + hours * HOUR <= self.end

    def window(self, start: datetime, hours: int) -> IntensitySeries:
        """The hours [start, start + hours h) of this series (same source, kind, notes)."""
        s = _require_aware("start", start).replace(minute=0, second=0, microsecond=0)
        if hours < 1 or not self.covers(s, hours):
            raise OutsideSeriesError(
                f"zone {self.zone!r}: {hours} h from {s:%Y-%m-%dT%H:%MZ} are not all inside the "
                f"series {self.start:%Y-%m-%dT%H:%MZ} to {self.end:%Y-%m-%dT%H:%MZ}")
        i = int((s - self.start) // HOUR)
        return replace(self, start=s, g_per_kwh=self.g_per_kwh[i:i + hours])

    def with_notes(self, *notes: str) -> IntensitySeries:
        """A copy with ``notes`` appended (what was repaired, which source failed, ...)."""
        return replace(self, notes=self.notes + tuple(n for n in notes if n))

    def describe(self) -> str:
        """One line for provenance: source [kind, signal, fetched ...]; notes."""
        bits = [str(self.kind)]
        if self.signal is IntensitySignal.MARGINAL:
            bits.append("marginal")
        if self.fetched_at is not None:
            bits.append(f"fetched {self.fetched_at:%Y-%m-%dT%H:%MZ}")
        text = f"{self.source} [{', '.join(bits)}]"
        return text + ("; " + "; ".join(self.notes) if self.notes else "")


class UnknownZoneError(ValueError):
    """A grid zone with no embedded default profile."""

    def __init__(self, zone: str, known: frozenset[str]) -> None:
        self.zone = zone
        self.known = known
        near = [k for k in known if k.lower() == str(zone).lower()]
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        super().__init__(f"grid zone {zone!r} has no embedded default intensity{hint}; "
                         f"known zones: {', '.join(sorted(known))}; "
                         "give a trace file or another zone")


@functools.cache
def _annual_means() -> dict[str, tuple[float, str, str]]:
    path = resources.files("carbon") / "data" / ANNUAL_FILE
    out = {}
    with path.open("r", encoding="utf-8", newline="") as fh:
        for line, r in enumerate(csv.DictReader(fh), start=2):
            try:
                g = float(r["g_per_kwh"])
            except (TypeError, ValueError):
                g = math.nan
            if not (math.isfinite(g) and g >= 0):
                raise ValueError(f"carbon/data/{ANNUAL_FILE} line {line}: g_per_kwh "
                                 f"{r['g_per_kwh']!r} must be a number >= 0; re-run "
                                 "scripts/derive_region_zones.py")
            out[r["zone"]] = (g, r["year"], r["source"])
    return out


@dataclass(frozen=True, slots=True)
class _Profile:
    values: tuple[float, ...]  # 288 values, index (month - 1) * 24 + hour_utc
    source: str
    period: str


@functools.cache
def _profiles() -> dict[str, _Profile]:
    path = resources.files("carbon") / "data" / PROFILE_FILE
    cells: dict[str, dict[int, float]] = {}
    meta: dict[str, tuple[str, str]] = {}
    with path.open("r", encoding="utf-8", newline="") as fh:
        for line, r in enumerate(csv.DictReader(fh), start=2):
            where = f"carbon/data/{PROFILE_FILE} line {line}"
            try:
                zone, month, hour = r["zone"], int(r["month"]), int(r["hour_utc"])
                g = float(r["g_per_kwh"])
            except (TypeError, ValueError):
                raise ValueError(f"{where}: month, hour_utc and g_per_kwh must be numbers; "
                                 "re-run scripts/derive_carbon_defaults.py") from None
            if not (1 <= month <= 12 and 0 <= hour <= 23 and math.isfinite(g) and g >= 0):
                raise ValueError(f"{where}: month {month}, hour_utc {hour} or g_per_kwh {g} out of "
                                 "range; re-run scripts/derive_carbon_defaults.py")
            cells.setdefault(zone, {})[(month - 1) * 24 + hour] = g
            meta.setdefault(zone, (r["source"], r["period"]))
    out = {}
    for zone, c in cells.items():
        if len(c) != 12 * 24:
            raise ValueError(f"carbon/data/{PROFILE_FILE}: zone {zone!r} has {len(c)} of 288 "
                             "(month, hour) rows; re-run scripts/derive_carbon_defaults.py")
        out[zone] = _Profile(values=tuple(c[i] for i in range(288)),
                             source=meta[zone][0], period=meta[zone][1])
    return out


def default_zones() -> frozenset[str]:
    """Grid zones (Electricity Maps zone codes) with an embedded default profile."""
    return frozenset(_profiles())


def known_zones() -> frozenset[str]:
    """Zones ``embedded_default`` can answer: hourly profiles plus flat annual means."""
    return frozenset(_profiles()) | frozenset(_annual_means())


def embedded_default(zone: str, *, start: datetime, hours: int) -> IntensitySeries:
    """``hours`` hourly values of ``zone`` from ``start`` floored to the UTC hour; kind=DEFAULT."""
    profiles = _profiles()
    if zone not in profiles and zone not in _annual_means():
        raise UnknownZoneError(zone, known_zones())
    if isinstance(hours, bool) or not isinstance(hours, int) or hours < 1:
        raise ValueError(f"hours = {hours!r} must be a whole number >= 1; give the series length")
    t0 = _require_aware("start", start).replace(minute=0, second=0, microsecond=0)
    if zone not in profiles:
        g, year, src = _annual_means()[zone]
        return IntensitySeries(
            zone=zone, start=t0, g_per_kwh=(g,) * hours, kind=IntensityKind.DEFAULT,
            source=f"embedded-default (flat annual mean {year}, no hourly shape: {src})")
    prof = profiles[zone]
    values = []
    for i in range(hours):
        t = t0 + i * HOUR
        values.append(prof.values[(t.month - 1) * 24 + t.hour])
    return IntensitySeries(
        zone=zone, start=t0, g_per_kwh=tuple(values),
        source=f"embedded-default ({prof.source}; mean by month x UTC hour over {prof.period})",
        kind=IntensityKind.DEFAULT)
