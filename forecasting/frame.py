"""Check and repair a history frame into the contract ``unique_id, ds, y``.

The contract: one row per series and step, ``unique_id`` a string, ``ds`` tz-aware UTC on a
regular grid of ``freq`` with no gaps, ``y`` finite floats. Input that breaks it is either
repaired, with one human-readable line per kind of repair (kept in ``Forecast.repairs``), or
rejected with an :class:`~forecasting.errors.InputDataError` naming the series and the fix.
Nothing is repaired silently.

Repairs, in the order applied:
1. ``ds`` without a time zone is read as UTC; other zones are converted to UTC.
2. Non-finite ``y`` (NaN, +-inf) become missing values.
3. Timestamps off the ``freq`` grid are floored to it; several rows in one step (off-grid or
   exact duplicates) are averaged. ``y`` must therefore be a level or rate (GPUs in use,
   requests per second), not a count per row.
4. Leading and trailing missing values are dropped.
5. Missing steps inside the series (absent rows or NaN) are filled: a run shorter than the
   shortest season ``m`` by linear interpolation, a longer run by the value one season earlier
   (``y[t] = y[t - m]``), so a missing day keeps its daily shape. More than half missing is an
   error.
6. A season ``s`` needs ``n >= 2 s`` observations; shorter series drop that season (and fall back
   to non-seasonal models when none is left).
7. A constant series (including all zeros) is flagged: it is forecast as that constant with
   zero-width intervals, since no model can estimate variability it never saw.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.errors import InputDataError

COLUMNS = ("unique_id", "ds", "y")
MIN_POINTS = 3
MAX_MISSING_SHARE = 0.5


@dataclass(frozen=True, slots=True, kw_only=True)
class Prepared:
    """A history that meets the contract, and what it took to get there."""

    frame: pd.DataFrame                      # unique_id, ds (UTC), y; sorted, regular, finite
    seasons: dict[str, tuple[int, ...]]      # usable season lengths per series (may be empty)
    constant: frozenset[str]                 # series with a single value throughout
    nonnegative: frozenset[str]              # series never below zero (forecasts clipped at 0)
    step: pd.Timedelta
    repairs: tuple[str, ...]


def freq_step(freq: str) -> pd.Timedelta:
    """The fixed length of one step of ``freq`` ('h', '15min', 'D'); calendar freqs are refused."""
    try:
        step = pd.Timedelta(pd.tseries.frequencies.to_offset(freq))
    except (ValueError, TypeError):
        raise InputDataError("freq", f"{freq!r} is not a fixed-length pandas frequency",
                             fix="use e.g. 'h', '30min' or 'D'") from None
    if step <= pd.Timedelta(0):
        raise InputDataError("freq", f"{freq!r} has no positive length", fix="use e.g. 'h'")
    return step


def _unit(step: pd.Timedelta) -> str:
    return {pd.Timedelta(hours=1): "hour", pd.Timedelta(days=1): "day",
            pd.Timedelta(minutes=1): "minute"}.get(step, f"{step} step")


def name_list(ids: Sequence[str], limit: int = 3) -> str:
    shown = ", ".join(repr(i) for i in ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def _utc(ds: pd.Series, source: str, ids: pd.Series, repairs: list[str]) -> pd.Series:
    if pd.api.types.is_numeric_dtype(ds) and not pd.api.types.is_bool_dtype(ds):
        raise InputDataError(source, "timestamps are numbers, not dates", field="ds",
                             fix="store ISO 8601 times such as 2024-05-01T13:00Z")
    if not pd.api.types.is_datetime64_any_dtype(ds):
        parsed = pd.to_datetime(ds, errors="coerce", format="ISO8601", utc=False)
        if not pd.api.types.is_datetime64_any_dtype(parsed):   # mixed offsets: go via UTC
            parsed = pd.to_datetime(ds, errors="coerce", format="ISO8601", utc=True)
        bad = parsed.isna() & ds.notna()
        if bad.any():
            i = bad.idxmax()
            raise InputDataError(source, f"cannot read timestamp {ds[i]!r}", field="ds",
                                 series=str(ids[i]), fix="use ISO 8601, e.g. 2024-05-01T13:00Z")
        ds = parsed
    if ds.isna().any():
        i = ds.isna().idxmax()
        raise InputDataError(source, "a timestamp is empty", field="ds", series=str(ids[i]),
                             fix="drop rows without a time")
    if ds.dt.tz is None:
        repairs.append("timestamps had no time zone; they were read as UTC")
        return ds.dt.tz_localize("UTC")
    return ds.dt.tz_convert("UTC")


def _values(y: pd.Series, source: str, ids: pd.Series, repairs: list[str]) -> pd.Series:
    if pd.api.types.is_bool_dtype(y):
        y = y.astype(float)
    if pd.api.types.is_numeric_dtype(y):
        num = y.astype(float)
    else:
        num = pd.to_numeric(y, errors="coerce").astype(float)
        suspect = num.isna() & y.notna()          # only these can be unparsable text
        if suspect.any():
            text = y[suspect].astype(str).str.strip().str.lower()
            bad = (text != "") & ~text.isin({"nan", "none", "null", "na"})
            if bad.any():
                i = bad.idxmax()
                raise InputDataError(source, f"value {y[i]!r} is not a number", field="y",
                                     series=str(ids[i]),
                                     fix="store plain numbers (blank for missing)")
    inf = np.isinf(num.to_numpy())
    if inf.any():
        bad_ids = sorted(set(ids[inf]))
        repairs.append(f"{int(inf.sum())} infinite value(s) in {name_list(bad_ids)} were treated "
                       "as missing")
        num = num.copy()
        num[inf] = np.nan
    return num


def _fill(y: np.ndarray, m: int) -> tuple[np.ndarray, int, int]:
    """Fill NaN runs: shorter than ``m`` linearly, longer from one season earlier."""
    y = y.copy()
    missing = np.isnan(y)
    if not missing.any():
        return y, 0, 0
    edges = np.flatnonzero(np.diff(np.concatenate(([0], missing.view(np.int8), [0]))))
    linear = seasonal = 0
    idx = np.arange(len(y))
    valid = ~missing
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        length = stop - start
        if m > 1 and length >= m and start - m >= 0:
            for t in range(start, stop):
                y[t] = y[t - m]
            seasonal += length
        else:
            y[start:stop] = np.interp(idx[start:stop], idx[valid], y[valid])
            linear += length
    return y, linear, seasonal


def prepare(frame: pd.DataFrame, *, freq: str = "h", season_lengths: Sequence[int] = (24, 168),
            source: str = "history") -> Prepared:
    """Validate ``frame`` against the contract, repairing what can be repaired (module doc)."""
    missing_cols = [c for c in COLUMNS if c not in frame.columns]
    if missing_cols:
        raise InputDataError(source,
                             f"missing column(s) {missing_cols}; it has {list(frame.columns)}",
                             fix="name the columns unique_id, ds, y (the CLI takes --id-col, "
                                 "--time-col and --value-col)")
    if frame.empty:
        raise InputDataError(source, "has no rows", fix="pass a history with at least a few points")
    if any(int(s) < 1 for s in season_lengths):
        raise InputDataError("season_lengths", f"{list(season_lengths)} has a length below 1",
                             fix="give season lengths in steps, e.g. (24, 168) for hourly data")
    step = freq_step(freq)
    unit = _unit(step)
    repairs: list[str] = []
    df = frame.loc[:, list(COLUMNS)].reset_index(drop=True)
    if df["unique_id"].isna().any():
        i = int(df["unique_id"].isna().to_numpy().argmax())
        raise InputDataError(source, f"row {i} has no series id", field="unique_id",
                             fix="give every row a unique_id")
    df["unique_id"] = df["unique_id"].astype(str)
    df["ds"] = _utc(df["ds"], source, df["unique_id"], repairs)
    df["y"] = _values(df["y"], source, df["unique_id"], repairs)

    floored = df["ds"].dt.floor(step)
    off_grid = floored != df["ds"]
    dup = df.duplicated(["unique_id", "ds"], keep=False) & ~off_grid
    if off_grid.any():
        ids = sorted(df.loc[off_grid, "unique_id"].unique())
        repairs.append(f"{int(off_grid.sum())} timestamp(s) in {name_list(ids)} were off the "
                       f"{unit} grid; floored to the {unit} and averaged per {unit}")
    if dup.any():
        ids = sorted(df.loc[dup, "unique_id"].unique())
        repairs.append(f"{int(dup.sum())} rows with duplicate timestamps in {name_list(ids)} were "
                       "averaged")
    df["ds"] = floored
    if off_grid.any() or dup.any():
        df = df.groupby(["unique_id", "ds"], sort=True, as_index=False)["y"].mean()
    else:
        df = df.sort_values(["unique_id", "ds"], kind="stable", ignore_index=True)
    return _regularise(df, step=step, unit=unit,
                       season_lengths=tuple(int(s) for s in season_lengths), source=source,
                       repairs=repairs)


def _regularise(df: pd.DataFrame, *, step: pd.Timedelta, unit: str, season_lengths: tuple[int, ...],
                source: str, repairs: list[str]) -> Prepared:
    seasons: dict[str, tuple[int, ...]] = {}
    constant: list[str] = []
    nonneg: list[str] = []
    trimmed, filled, dropped_season, no_season = [], [], {}, []
    n_linear = n_seasonal = 0
    # df is sorted by (unique_id, ds): each series is one contiguous slice of these arrays
    ids = df["unique_id"].to_numpy()
    all_ds = df["ds"].dt.tz_convert(None).to_numpy().astype("datetime64[ns]")
    all_y = df["y"].to_numpy(dtype=float)
    cuts = np.flatnonzero(ids[1:] != ids[:-1]) + 1
    bounds = zip(np.concatenate(([0], cuts)), np.concatenate((cuts, [len(ids)])), strict=True)
    step64 = step.to_timedelta64()
    out_ids: list[str] = []
    out_ds: list[np.ndarray] = []
    out_y: list[np.ndarray] = []
    for lo, hi in bounds:
        uid = str(ids[lo])
        ds, y = all_ds[lo:hi], all_y[lo:hi]
        valid = ~np.isnan(y)
        if not valid.any():
            raise InputDataError(source, "has no numeric values at all", field="y", series=uid,
                                 fix="drop the series or supply its values")
        first, last = np.flatnonzero(valid)[[0, -1]]
        if first > 0 or last < len(y) - 1:
            trimmed.append(uid)
            ds, y = ds[first:last + 1], y[first:last + 1]
        n = int((ds[-1] - ds[0]) // step64) + 1
        if n != len(ds) or np.isnan(y).any():
            full = np.full(n, np.nan)
            full[((ds - ds[0]) // step64).astype(np.int64)] = y
            y = full
        n_missing = int(np.isnan(y).sum())
        if n_missing > MAX_MISSING_SHARE * n:
            raise InputDataError(source, f"{n_missing} of {n} {unit}s are missing "
                                 f"({n_missing / n:.0%})", field="y", series=uid,
                                 fix="supply a denser history or a coarser --freq")
        if n < MIN_POINTS:
            raise InputDataError(source, f"has {n} {unit}(s) of history; at least {MIN_POINTS} "
                                 "are needed", field="ds", series=uid,
                                 fix="supply a longer history or drop the series")
        usable = tuple(s for s in season_lengths if s > 1 and n >= 2 * s)
        lost = tuple(s for s in season_lengths if s > 1 and s not in usable)
        if lost:
            dropped_season.setdefault(lost, []).append(uid)
        if not usable and any(s > 1 for s in season_lengths):
            no_season.append(uid)
        if n_missing:
            y, lin, sea = _fill(y, min(usable) if usable else 1)
            n_linear, n_seasonal = n_linear + lin, n_seasonal + sea
            filled.append(uid)
        seasons[uid] = usable
        if np.ptp(y) == 0:
            constant.append(uid)
        if y.min() >= 0:
            nonneg.append(uid)
        out_ids.append(uid)
        out_ds.append(ds if len(ds) == n else ds[0] + np.arange(n) * step64)
        out_y.append(y)
    if trimmed:
        repairs.append(f"leading/trailing missing values dropped in {name_list(trimmed)}")
    if filled:
        how = [f"{n_linear} by linear interpolation"] if n_linear else []
        if n_seasonal:
            how.append(f"{n_seasonal} from the same time one season earlier")
        repairs.append(f"{n_linear + n_seasonal} missing {unit}(s) in {name_list(filled)} were "
                       f"filled ({', '.join(how)})")
    for lost, ids in dropped_season.items():
        repairs.append(f"{name_list(ids)}: history shorter than 2 x {list(lost)} {unit}s; "
                       f"season(s) {list(lost)} not modelled")
    if no_season:
        repairs.append(f"{name_list(no_season)}: no season could be modelled; "
                       "non-seasonal models used")
    if constant:
        repairs.append(f"{name_list(constant)}: constant history; forecast is that constant with "
                       "zero-width intervals")
    lengths = [len(y) for y in out_y]
    out = pd.DataFrame({"unique_id": np.repeat(np.array(out_ids, dtype=object), lengths),
                        "ds": pd.DatetimeIndex(np.concatenate(out_ds)).tz_localize("UTC"),
                        "y": np.concatenate(out_y)})
    return Prepared(frame=out, seasons=seasons, constant=frozenset(constant),
                    nonnegative=frozenset(nonneg), step=step, repairs=tuple(repairs))
