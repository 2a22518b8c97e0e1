"""Raw (timestamp, g/kWh) points -> a clean hourly ``IntensitySeries``, saying what was repaired.

Every source (vendor JSON, trace files) ends here, so bad data is handled one way:

============================  ==================================================  ===========
input problem                 what happens                                        policy knob
============================  ==================================================  ===========
naive timestamps              read in ``naive_tz`` (e.g. "UTC" where SOURCES.md    naive_tz
                              says the file is UTC); error when not given
local time, DST fall-back     repeated wall-clock hour: error, or resolved by      ambiguous
(ambiguous)                   order ("infer") when asked
local time, DST spring-fwd    a wall-clock hour that does not exist: error, or     nonexistent
(nonexistent)                 shifted forward when asked
value < 0 or > 2,000 g/kWh    dropped (then a gap) or error                        on_invalid,
or not a number                                                                    max_g_per_kwh
duplicate timestamps          equal values: one kept; different: mean or error     duplicates
out of order                  sorted
sub-hourly (15/30/5 min)      mean of the points inside each UTC hour              -
off-hour stamps (hh:30)       floored to the hour they fall in                     -
gaps                          <= ``max_gap_hours`` missing hours: linear           max_gap_hours
                              interpolation; longer: error naming the gap
============================  ==================================================  ===========

2,000 g/kWh is above any grid's hourly average (lignite, the dirtiest fuel, is about
1,000-1,200 g/kWh direct), so a larger value is a unit or parsing error. Each repair
adds a note to the series (``IntensitySeries.notes``) and one ``IntensityDataWarning``
is emitted listing them; errors are ``IntensityDataError`` (a ValueError) naming the
input, the first offending timestamp and the fix.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from carbon.intensity import IntensityKind, IntensitySeries, IntensitySignal

try:  # pandas raises pytz's errors for DST problems; they are not ValueErrors
    import pytz
    _TZ_ERRORS: tuple[type[Exception], ...] = (ValueError, pytz.exceptions.InvalidTimeError)
except ImportError:  # pragma: no cover
    _TZ_ERRORS = (ValueError,)

__all__ = [
    "IntensityDataError",
    "IntensityDataWarning",
    "RepairPolicy",
    "to_hourly",
]


class IntensityDataError(ValueError):
    """Intensity data that cannot be repaired under the policy."""


class IntensityDataWarning(UserWarning):
    """Intensity data was repaired; the message (and the series' notes) say how."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RepairPolicy:
    naive_tz: str | None = None
    ambiguous: str = "error"        # "error" | "infer"
    nonexistent: str = "error"      # "error" | "shift_forward"
    on_invalid: str = "drop"        # "drop" | "error"
    duplicates: str = "mean"        # "mean" | "error"
    max_g_per_kwh: float = 2000.0
    max_gap_hours: int = 3

    def __post_init__(self) -> None:
        for name, allowed in (("ambiguous", ("error", "infer")),
                              ("nonexistent", ("error", "shift_forward")),
                              ("on_invalid", ("drop", "error")),
                              ("duplicates", ("mean", "error"))):
            if getattr(self, name) not in allowed:
                raise ValueError(f"RepairPolicy.{name} = {getattr(self, name)!r}; use one of "
                                 f"{', '.join(allowed)}")


def _utc_index(times: Sequence | pd.Series, what: str, p: RepairPolicy,
               notes: list[str]) -> pd.DatetimeIndex:
    raw = pd.Series(list(times) if not isinstance(times, pd.Series) else times.to_numpy())
    if raw.empty:
        raise IntensityDataError(f"{what}: no data points; give at least one timestamped value")
    if pd.api.types.is_datetime64_any_dtype(raw):
        idx = pd.DatetimeIndex(raw)
    else:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                try:
                    parsed = pd.to_datetime(raw, utc=False, format="mixed")
                    mixed = parsed.dtype == object
                except ValueError as exc:
                    if "offset" not in str(exc).lower() and "tz" not in str(exc).lower():
                        raise
                    mixed = True
            if mixed:  # different offsets, e.g. +01:00 and +00:00 across a DST change
                parsed = pd.to_datetime(raw, utc=True, format="mixed")
                notes.append("timestamps carried different UTC offsets; converted to UTC")
        except (ValueError, TypeError) as exc:
            raise IntensityDataError(f"{what}: timestamps cannot be parsed ({exc}); give ISO 8601 "
                                     "times such as 2026-01-01T00:00Z") from None
        idx = pd.DatetimeIndex(parsed)
    if idx.isna().any():
        i = int(np.flatnonzero(idx.isna())[0])
        raise IntensityDataError(f"{what}: timestamp #{i} ({raw.iloc[i]!r}) is empty or not a "
                                 "time; fix or drop that row")
    if idx.tz is not None:
        if str(idx.tz) not in ("UTC", "utc"):
            notes.append(f"timestamps in {idx.tz} converted to UTC")
        return idx.tz_convert("UTC")
    if p.naive_tz is None:
        raise IntensityDataError(
            f"{what}: timestamps have no time zone (first: {raw.iloc[0]}); say which zone they "
            "are in (naive_tz='UTC' when the file documents UTC, or an IANA zone such as "
            "'Europe/London')")
    if p.naive_tz.upper() == "UTC":
        return idx.tz_localize("UTC")
    try:
        local = idx.tz_localize(p.naive_tz,
                                ambiguous="infer" if p.ambiguous == "infer" else "raise",
                                nonexistent="shift_forward" if p.nonexistent == "shift_forward"
                                else "raise")
    except _TZ_ERRORS as exc:
        kind = type(exc).__name__
        fix = ("ambiguous='infer' to resolve repeated hours by order"
               if "Ambiguous" in kind else "nonexistent='shift_forward'")
        raise IntensityDataError(
            f"{what}: local time in {p.naive_tz} is not unique or does not exist around a DST "
            f"change ({kind}: {exc}); give UTC timestamps, or set {fix}") from None
    notes.append(f"naive timestamps read as {p.naive_tz} local time and converted to UTC")
    return local.tz_convert("UTC")


def _values(values: Sequence | pd.Series, idx: pd.DatetimeIndex, what: str, p: RepairPolicy,
            notes: list[str]) -> pd.Series:
    v = pd.to_numeric(pd.Series(np.asarray(values, dtype=object)), errors="coerce")
    v.index = idx
    missing = v.isna()
    bad = (v < 0) | (v > p.max_g_per_kwh)
    if bad.any() and p.on_invalid == "error":
        t = v.index[bad.to_numpy()][0]
        raise IntensityDataError(
            f"{what}: {int(bad.sum())} values outside [0, {p.max_g_per_kwh:g}] g/kWh, first "
            f"{v[bad].iloc[0]:g} at {t:%Y-%m-%dT%H:%MZ}; check the unit (g/kWh expected) or "
            "drop those rows")
    if bad.any():
        t = v.index[bad.to_numpy()][0]
        notes.append(f"dropped {int(bad.sum())} values outside [0, {p.max_g_per_kwh:g}] g/kWh "
                     f"(first {v[bad].iloc[0]:g} at {t:%Y-%m-%dT%H:%MZ})")
    if missing.any():
        notes.append(f"dropped {int(missing.sum())} empty or non-numeric values")
    return v[~(bad | missing)].astype(float)


def _dedupe(v: pd.Series, what: str, p: RepairPolicy, notes: list[str]) -> pd.Series:
    if not v.index.is_monotonic_increasing:
        notes.append("points were out of time order; sorted")
        v = v.sort_index(kind="stable")
    dup = v.index.duplicated(keep=False)
    if not dup.any():
        return v
    spread = v[dup].groupby(level=0).agg(lambda s: s.max() - s.min())
    conflicting = spread[spread > 0]
    if len(conflicting) and p.duplicates == "error":
        t = conflicting.index[0]
        raise IntensityDataError(f"{what}: {len(conflicting)} timestamps appear more than once "
                                 f"with different values, first {t:%Y-%m-%dT%H:%MZ}; keep one "
                                 "row per time or set duplicates='mean'")
    n_dup = int(v.index.duplicated().sum())
    how = "averaged" if len(conflicting) else "identical, one kept"
    notes.append(f"{n_dup} duplicate timestamps ({how}"
                 + (f"; {len(conflicting)} had different values" if len(conflicting) else "")
                 + ")")
    return v.groupby(level=0).mean()


def to_hourly(times: Sequence | pd.Series, values: Sequence | pd.Series, *, zone: str,
              source: str, kind: IntensityKind, policy: RepairPolicy | None = None,
              fetched_at: datetime | None = None,
              signal: IntensitySignal = IntensitySignal.AVERAGE,
              what: str | None = None, warn: bool = True,
              subhourly: bool = False) -> IntensitySeries:
    """Clean hourly series from raw points (see the module table); notes say what changed.

    ``subhourly=True`` says sub-hourly points are the source's normal step (5-min
    WattTime, 30-min NGESO): their hourly mean is then not reported as a repair."""
    p = policy or RepairPolicy()
    what = what or f"{source} zone {zone!r}"
    if len(times) != len(values):
        raise IntensityDataError(f"{what}: {len(times)} timestamps but {len(values)} values")
    notes: list[str] = []
    idx = _utc_index(times, what, p, notes)
    v = _dedupe(_values(values, idx, what, p, notes), what, p, notes)
    if v.empty:
        raise IntensityDataError(f"{what}: no valid values left after dropping bad ones")
    hourly_points = v.groupby(v.index.floor("h")).agg(["mean", "size"])
    if (hourly_points["size"] > 1).any() and not subhourly:
        notes.append(f"sub-hourly points averaged to hourly means (up to "
                     f"{int(hourly_points['size'].max())} per hour)")
    elif (v.index != v.index.floor("h")).any() and not subhourly:
        notes.append("timestamps not on the hour were floored to the hour they fall in")
    full = pd.date_range(hourly_points.index[0], hourly_points.index[-1], freq="h")
    s = hourly_points["mean"].reindex(full)
    holes = s.isna()
    if holes.any():
        runs = (holes != holes.shift()).cumsum()[holes]
        lengths = runs.groupby(runs).size()
        longest = int(lengths.max())
        if longest > p.max_gap_hours:
            first = runs[runs == lengths.idxmax()].index[0]
            raise IntensityDataError(
                f"{what}: a gap of {longest} missing hours from {first:%Y-%m-%dT%H:%MZ} is longer"
                f" than max_gap_hours={p.max_gap_hours}; give data for those hours, use a source "
                "that covers them, or raise max_gap_hours")
        s = s.interpolate(method="linear")
        notes.append(f"interpolated {int(holes.sum())} missing hours in {len(lengths)} gaps "
                     f"(longest {longest} h)")
    series = IntensitySeries(zone=zone, start=full[0].to_pydatetime(), g_per_kwh=tuple(s),
                             source=source, kind=kind, fetched_at=fetched_at, signal=signal,
                             notes=tuple(f"repaired: {n}" for n in notes))
    if notes and warn:
        warnings.warn(IntensityDataWarning(f"{what}: " + "; ".join(notes)), stacklevel=2)
    return series
