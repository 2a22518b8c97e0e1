"""Hourly carbon intensity per grid zone on one replay timeline (the I/O side of a replay).

Each zone's files are read by ``carbon.sources.trace.read_trace`` as they are (format
detected from the header: Electricity Maps hourly CSV, Let's Wait Awhile 15/30-min CSV
-- averaged to hourly means by ``carbon.repair`` -- DACF files with their day-ahead
forecast column ``carbon_from_src_forecasts``, ...). Several files of one zone are
joined on the hour; where they overlap, the later file wins.

The timeline: slot 0 is the replay start ``origin``; a zone's arrays cover slots
``-history_h .. n_slots + tail_h - 1`` (``offset`` = index of slot 0). The replay
window itself must be covered by real data. Outside it, so that forecasters have history
and jobs that end after the window can be accounted, missing hours are filled and the
fill is named in ``notes``: before the data, its first day repeated backwards; after
it, its last week repeated. ``published`` is NaN where the files have no forecast.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from app.errors import InputError
from carbon.intensity import IntensityKind, IntensitySeries
from carbon.repair import IntensityDataError
from carbon.sources.trace import TraceFile, read_trace

HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class ZoneTrace:
    zone: str
    actual: np.ndarray  # g/kWh by slot - (-offset)
    published: np.ndarray | None  # the files' published forecast, NaN where none
    offset: int  # index of slot 0 (the replay start)
    source: str
    notes: tuple[str, ...] = ()

    def actual_at(self, first: int, hours: int) -> np.ndarray:
        return self.actual[self.offset + first:self.offset + first + hours]

    def series(self, origin: datetime, first: int, values: np.ndarray, *, kind: IntensityKind,
               source: str) -> IntensitySeries:
        """``values`` from slot ``first`` as a carbon.intensity series."""
        return IntensitySeries(zone=self.zone, start=origin + first * HOUR,
                               g_per_kwh=tuple(float(v) for v in values), kind=kind,
                               source=source)


@dataclass(frozen=True, slots=True, kw_only=True)
class Grid:
    origin: datetime
    n_slots: int  # replay window length in hours
    zones: Mapping[str, ZoneTrace]

    def zone(self, name: str) -> ZoneTrace:
        return self.zones[name]


def parse_carbon_specs(specs: Sequence[str]) -> dict[str, list[Path]]:
    """'ZONE=PATH[,PATH...]' items (repeatable; the same zone may be given twice)."""
    out: dict[str, list[Path]] = {}
    for spec in specs:
        zone, sep, paths = spec.partition("=")
        if not sep or not zone.strip() or not paths.strip():
            raise InputError("--carbon", f"{spec!r} is not ZONE=PATH",
                             fix="write e.g. --carbon GB=GB_2023_hourly.csv")
        for p in paths.split(","):
            path = Path(p.strip())
            if not path.is_file():
                raise InputError("--carbon", f"{path}: file not found", fix="check the path")
            out.setdefault(zone.strip(), []).append(path)
    return out


def _series(s: IntensitySeries) -> pd.Series:
    idx = pd.date_range(s.start, periods=len(s.g_per_kwh), freq="h")
    return pd.Series(np.asarray(s.g_per_kwh, dtype=float), index=idx)


def _read_zone(zone: str, paths: Sequence[Path]) -> tuple[pd.Series, pd.Series | None, str,
                                                           list[str]]:
    actual, published, labels, notes = None, None, [], []
    for path in paths:
        try:
            a, f = read_trace(TraceFile(zone=zone, paths=(path,)))
        except (IntensityDataError, ValueError, OSError) as exc:
            raise InputError(f"--carbon {zone}={path}", str(exc).splitlines()[0],
                             fix="give a trace in one of the formats of carbon/sources/trace.py"
                             ) from None
        labels.append(a.source)
        notes += list(a.notes)
        sa = _series(a)
        actual = sa if actual is None else sa.combine_first(actual)
        if f is not None:
            sf = _series(f)
            published = sf if published is None else sf.combine_first(published)
    return actual, published, "; ".join(labels), notes


def load_grid(specs: Mapping[str, Sequence[Path]], *, origin: datetime, n_slots: int,
              history_h: int = 28 * 24, tail_h: int = 30 * 24) -> Grid:
    """Every zone's intensity on the timeline [origin - history_h, origin + n_slots + tail_h)."""
    zones = {}
    idx = pd.date_range(origin - history_h * HOUR, periods=history_h + n_slots + tail_h,
                        freq="h")
    end = origin + n_slots * HOUR
    for zone, paths in specs.items():
        actual, published, source, notes = _read_zone(zone, paths)
        first, last = actual.index[0], actual.index[-1] + HOUR
        if first > origin or last < end:
            raise InputError(f"--carbon {zone}", f"the trace covers {first:%Y-%m-%dT%H:%MZ} to "
                             f"{last:%Y-%m-%dT%H:%MZ}; the replay window is "
                             f"{origin:%Y-%m-%dT%H:%MZ} to {end:%Y-%m-%dT%H:%MZ}",
                             fix="give a trace that covers --from..--to or narrow the window")
        values = actual.reindex(idx).to_numpy(dtype=float)
        gaps = np.isnan(values)
        inside = gaps[history_h:history_h + n_slots]
        if inside.any():
            raise InputError(f"--carbon {zone}", f"{int(inside.sum())} hours of the replay "
                             "window have no value", fix="give a trace without gaps")
        before = int(np.argmax(~gaps))  # first real value
        if before:
            day = values[before:before + 24]
            values[:before] = np.resize(day[::-1], before)[::-1]
            notes.append(f"{before} h before the data filled with its first day repeated")
        after = len(values) - int(np.nonzero(~gaps)[0][-1]) - 1
        if after:
            week = values[-after - 168:-after]
            values[-after:] = np.resize(week, after)
            notes.append(f"{after} h after the data filled with its last week repeated")
        pub = None
        if published is not None:
            pub = published.reindex(idx).to_numpy(dtype=float)
        zones[zone] = ZoneTrace(zone=zone, actual=values, published=pub, offset=history_h,
                                source=source, notes=tuple(dict.fromkeys(notes)))
    return Grid(origin=origin, n_slots=n_slots, zones=zones)


def hours_between(start: datetime, end: datetime) -> int:
    return math.ceil((end - start) / HOUR - 1e-9)
