"""Check and repair a history frame into the contract ``unique_id, ds, y``.

The contract: one row per series and step, ``unique_id`` a string, ``ds`` tz-aware UTC on a
regular grid of ``freq`` with no gaps, ``y`` finite floats. Input that breaks it is either
repaired, with one human-readable line per kind of repair (kept in ``Forecast.repairs``), or
rejected with an :class:`~forecasting.errors.InputDataError` naming the series and the fix.
Nothing is repaired silently.

Repairs, in the order applied, then two warnings that change no data:
1. ``ds`` without a time zone is read as UTC; other zones are converted to UTC, each value by
   its own offset (so ``+01:00`` and ``+02:00`` across a DST change both parse). A column that
   mixes values with and without a zone is read the same way, with its own line naming the
   series and how many values had none (not refused: all-naive input is read as UTC as well).
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
8. Values over ``OUTLIER_K`` (100) robust standard deviations from their series' median
   (1.4826 x MAD, or IQR / 1.349 where the MAD is 0; a series with both 0 is not checked) are
   reported with the series, their number and the most extreme one with its time, but kept:
   a glitch (1e6 in a series of ~50) and a real spike (a scarcity price) look alike here, and
   forecasts and intervals follow either, so the user checks them (blanked values are filled).
9. With several series, those ending over ``STALE_STEPS`` (1) step before the newest series'
   last timestamp are named with how far behind they are: each forecast starts after its own
   series' last point, not after the newest one.
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
# Warning 8: K robust SDs. Largest distance measured in shared/data (whole series, and 90-day
# windows every 7 days, the history the accuracy benchmark gives): Electricity Maps carbon
# 2022-23, 14 zone-years, direct or LCA: 34 (38 in a window); Alibaba openb GPUs in use: 6;
# LoRA requests/h: 32; wholesale prices 2022-23, 12 zone-years: DE, IN, JP under 31, CAISO 41
# (78), SG 66 (144, the $3,361 cap), ERCOT 2022 99 (180), ERCOT 2023 421 (358). With K = 100
# only ERCOT 2023 warns over its whole year (68 hours over ~$1,000 at a $23 median), and 36 of
# 480 price windows (SG 2023, ERCOT); no carbon, GPU or LoRA series. A 10x peak in 50 +- 20 is
# ~22, a x100 unit slip ~250, a 1e6 glitch ~50,000. K = 50 adds CAISO and more SG/ERCOT
# windows (90 of 480); K = 500 flags no real trace but misses x100 slips.
OUTLIER_K = 100.0
# Warning 9: a series may end one step before the newest without a word: flooring to the grid
# puts a scrape just before a step boundary a step behind one just after it, and a last step
# still being written is blank and trimmed (repair 4). Two steps means a whole step in which
# that series said nothing while another did, and its forecast is shifted by that much.
STALE_STEPS = 1
MAD_TO_SD = 1.4826          # a normal's standard deviation is 1.4826 x its MAD ...
IQR_TO_SD = 1 / 1.349       # ... and 1 / 1.349 x its interquartile range


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


# A zone designator as pandas' ISO 8601 parser reads one: Z, +HH, +HHMM or +HH:MM after a time
# (the time is required so that the day of a date-only "2024-01-01" is not taken for -01:00).
_ZONE = r"[T\s]\d{2}(?::?\d{2}(?::?\d{2}(?:[.,]\d+)?)?)?\s*(?:[zZ]|[+-]\d{2}(?::?\d{2})?)\s*$"


def has_zone(text: pd.Series) -> np.ndarray:
    """Per value of ``text`` (timestamps as strings), whether it carries a zone designator."""
    return text.astype(str).str.contains(_ZONE, regex=True).to_numpy()


def _utc(ds: pd.Series, source: str, ids: pd.Series, repairs: list[str]) -> pd.Series:
    if pd.api.types.is_numeric_dtype(ds) and not pd.api.types.is_bool_dtype(ds):
        raise InputDataError(source, "timestamps are numbers, not dates", field="ds",
                             fix="store ISO 8601 times such as 2024-05-01T13:00Z")
    if not pd.api.types.is_datetime64_any_dtype(ds):
        return _parse_text(ds, source, ids, repairs)
    if ds.isna().any():
        i = ds.isna().idxmax()
        raise InputDataError(source, "a timestamp is empty", field="ds", series=str(ids[i]),
                             fix="drop rows without a time")
    if ds.dt.tz is None:
        repairs.append("timestamps had no time zone; they were read as UTC")
        return ds.dt.tz_localize("UTC")
    return ds.dt.tz_convert("UTC")


def _parse_text(ds: pd.Series, source: str, ids: pd.Series, repairs: list[str]) -> pd.Series:
    """Text (or Python datetimes) to UTC; each distinct value is parsed once."""
    codes, distinct = pd.factorize(ds)                       # empty cells get code -1
    text = pd.Series(np.asarray(distinct, dtype=object)).astype(str)
    zoned = has_zone(text)
    # utc=True reads each value to its instant: offsets that differ (+01:00 and +02:00 across
    # DST) are converted, not left as object dtype with pandas' FutureWarning. Values with and
    # without a zone are parsed apart: in one call pandas 2.3 gives a naive value the offset of
    # the last zoned value before it (UTC+02:00, say), and UTC only when none came before.
    parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")
    for part in (zoned, ~zoned):
        if part.any():
            parsed[part] = pd.to_datetime(text[part], errors="coerce", format="ISO8601", utc=True)
    unread = parsed.isna().to_numpy()
    if unread.any():
        i = int(np.flatnonzero(unread[codes] & (codes >= 0))[0])
        raise InputDataError(source, f"cannot read timestamp {ds.iloc[i]!r}", field="ds",
                             series=str(ids.iloc[i]), fix="use ISO 8601, e.g. 2024-05-01T13:00Z")
    if (codes < 0).any():
        i = int(np.argmax(codes < 0))
        raise InputDataError(source, "a timestamp is empty", field="ds", series=str(ids.iloc[i]),
                             fix="drop rows without a time")
    naive = ~zoned[codes]
    if naive.all():
        repairs.append("timestamps had no time zone; they were read as UTC")
    elif naive.any():
        # Mixed: kept, not refused, since all-naive input is read as UTC too (repair 1); the
        # line names the series so that local times written without an offset can be fixed.
        named = sorted(set(ids[naive]))
        repairs.append(f"{int(naive.sum())} timestamp(s) in {name_list(named)} had no time zone "
                       f"while {int((~naive).sum())} had one; they were read as UTC (if they "
                       "are local times, write their offset, e.g. 2024-05-01T13:00+02:00)")
    return pd.Series(parsed.array.take(codes), index=ds.index, name=ds.name)


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


def _far(y: np.ndarray, observed: np.ndarray, k: float) -> tuple[np.ndarray, np.ndarray]:
    """Positions in ``y`` over ``k`` robust SDs from the median of ``observed``, and their SDs.

    The SD is 1.4826 x MAD, or IQR / 1.349 where over half the values are equal (MAD 0); a
    series with IQR 0 too (flat most of the time, e.g. idle with rare bursts) is not checked:
    no spread to measure against. NaN in ``y`` is never flagged.
    """
    med = np.median(observed)
    sd = MAD_TO_SD * np.median(np.abs(observed - med))
    if sd == 0:
        q1, q3 = np.quantile(observed, [0.25, 0.75])
        sd = (q3 - q1) * IQR_TO_SD
    if sd == 0:
        return np.empty(0, dtype=np.int64), np.empty(0)
    z = np.abs(y - med) / sd
    far = np.flatnonzero(z > k)
    return far, z[far]


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
        # named as in the file (header = row 1), as forecasting.sources.usage names rows
        raise InputDataError(source, f"row {i + 2} has no series id", field="unique_id",
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
    outliers: list[tuple[str, int, float, float, np.datetime64]] = []  # uid, count, worst: SDs, y, ds
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
        far, sds = _far(y, y[~np.isnan(y)] if n_missing else y, OUTLIER_K)
        if far.size:
            worst = far[np.argmax(sds)]
            outliers.append((uid, far.size, float(sds.max()), float(y[worst]),
                             ds[0] + worst * step64))
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
    if outliers:
        repairs.append(_outlier_warning(outliers))
    ends = np.array([d[-1] for d in out_ds])
    behind = (ends.max() - ends) // step64
    if (behind > STALE_STEPS).any():
        repairs.append(_stale_warning(out_ids, behind, ends.max(), unit))
    lengths = [len(y) for y in out_y]
    out = pd.DataFrame({"unique_id": np.repeat(np.array(out_ids, dtype=object), lengths),
                        "ds": pd.DatetimeIndex(np.concatenate(out_ds)).tz_localize("UTC"),
                        "y": np.concatenate(out_y)})
    return Prepared(frame=out, seasons=seasons, constant=frozenset(constant),
                    nonnegative=frozenset(nonneg), step=step, repairs=tuple(repairs))


def _iso(t: np.datetime64) -> str:
    t = pd.Timestamp(t)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ" if t.second else "%Y-%m-%dT%H:%MZ")


def _outlier_warning(outliers: list[tuple[str, int, float, float, np.datetime64]]) -> str:
    uid, _, _, value, at = max(outliers, key=lambda o: o[2])
    n = sum(o[1] for o in outliers)
    return (f"{n} value(s) in {name_list([o[0] for o in outliers])} lie over {OUTLIER_K:g} robust "
            f"standard deviations from their series' median (the most extreme: {value:.6g} in "
            f"{uid!r} at {_iso(at)}); they were kept, and forecasts and intervals will follow "
            "them: check them, and blank out any that are errors (blanks are filled)")


def _stale_warning(ids: list[str], behind: np.ndarray, newest: np.datetime64, unit: str) -> str:
    late = np.flatnonzero(behind > STALE_STEPS)
    late = late[np.argsort(-behind[late], kind="stable")]        # the stalest first
    lo, hi = int(behind[late[-1]]), int(behind[late[0]])
    gap = f"{hi}" if lo == hi else f"{lo} to {hi}"
    if len(late) == 1:
        whose = "its forecast starts after its own last point"
    else:
        whose = "each forecast starts after that series' own last point"
    ends = "ends" if len(late) == 1 else "end"
    return (f"{name_list([ids[i] for i in late])}: {ends} {gap} {unit}(s) before the newest "
            f"series ({_iso(newest)}); {whose}")
