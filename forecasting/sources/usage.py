"""Job and request tables -> usage series in the frame ``unique_id, ds, y``.

GPUs in use. A job ``j`` holds ``g_j`` GPUs over ``[s_j, e_j)``. The value of step
``[t_k, t_k + d)`` is the time-weighted mean GPUs in use (GPU-hours per hour for ``d = 1 h``):

    y_k = (A(t_k + d) - A(t_k)) / d,   A(t) = sum_j g_j * clip(t - s_j, 0, e_j - s_j)

``A`` is evaluated at all grid points at once from prefix sums over jobs sorted by start and
by end, so a million jobs cost one sort. Jobs without an end are running: they end at ``until``
(default: the latest start or end in the table; pass it when jobs are still running, since the
table cannot say how long they have run). Jobs that end later are cut at ``until``; a job that
starts after it is an error, like the other bad rows. The grid runs from the floor of the first
start to the floor of ``until``; a final partial step is left out rather than under-counted.

Requests per step. ``events_per_step`` counts rows per step between the first and the last
event; steps without a request are real zeros (the table is assumed complete over its span).

Errors name a bad job by its row as a spreadsheet or editor shows the file: the header is row 1,
so the table's first job (position 0) is row 2.

Times in the tables and ``until`` must carry a zone (naive times are refused, not guessed), and
``freq`` must be a fixed step ('h', '15min', 'D'), not a calendar one ('MS', 'W').
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from forecasting.errors import InputDataError, SourceError
from forecasting.frame import freq_step, has_zone

_ISO_FIX = "use ISO 8601 times with a zone, e.g. 2024-05-01T13:00Z"


def _first(mask: np.ndarray | pd.Series) -> int:
    """Position of the first job where ``mask`` holds."""
    return int(np.asarray(mask).argmax())


def _row(i: int) -> str:
    """How errors name the job at position ``i``: its file row, the header being row 1."""
    return f"row {i + 2}"

def _until(until: object, source: str) -> pd.Timestamp:
    try:
        out = pd.Timestamp(until)
    except (ValueError, TypeError):
        out = pd.NaT
    if out is pd.NaT:
        raise InputDataError(source, f"{until!r} is not a time", field="until",
                             fix="pass a time with a zone, e.g. 2024-05-01T13:00Z")
    if out.tz is None:
        raise InputDataError(source, f"{until!r} has no time zone", field="until",
                             fix="pass a time with a zone, e.g. 2024-05-01T13:00Z")
    return out.tz_convert("UTC")


def _times(col: pd.Series, source: str, name: str) -> pd.Series:
    """UTC instants; every non-empty time needs a zone (each value read by its own offset, so
    +01:00 and +02:00 across a DST change both parse). An all-empty column (no job has ended)
    is all NaT."""
    if pd.api.types.is_datetime64_any_dtype(col):
        if col.dt.tz is None and col.notna().any():
            raise SourceError(source, "times have no time zone", field=name,
                              fix="add 'Z' or an offset, or localise the column to UTC first")
        return col.dt.tz_localize("UTC") if col.dt.tz is None else col.dt.tz_convert("UTC")
    present = col.notna()
    naive = present.to_numpy() & ~has_zone(col.where(present, ""))
    if naive.any():
        i = _first(naive)
        if pd.isna(pd.to_datetime(col.iloc[i], format="ISO8601", errors="coerce")):
            raise SourceError(source, f"{_row(i)}: time {col.iloc[i]!r} cannot be read",
                              field=name, fix=_ISO_FIX)
        raise SourceError(source, f"{_row(i)}: time {col.iloc[i]!r} has no time zone",
                          field=name, fix="add 'Z' or an offset to every time, e.g. "
                                          "2024-05-01T13:00Z")
    try:
        return pd.to_datetime(col, format="ISO8601", utc=True)
    except (ValueError, TypeError):
        bad = present.to_numpy() & pd.to_datetime(col, format="ISO8601", utc=True,
                                                  errors="coerce").isna().to_numpy()
        where = f"{_row(_first(bad))}: time {col.iloc[_first(bad)]!r}" if bad.any() else "times"
        raise SourceError(source, f"{where} cannot be read", field=name, fix=_ISO_FIX) from None


def _ids(table: pd.DataFrame, id_cols: Sequence[str], default: str, source: str) -> pd.Series:
    if not id_cols:
        return pd.Series(default, index=table.index)
    for col in id_cols:
        if col not in table.columns:
            raise SourceError(source, f"no column {col!r}; columns are {list(table.columns)}",
                              field=col, fix="name existing columns as the series key")
    return table[list(id_cols)].astype(str).agg("/".join, axis=1)


def gpus_in_use(jobs: pd.DataFrame, *, start: str = "start", end: str = "end",
                gpus: str = "gpus", id_cols: Sequence[str] = (), freq: str = "h",
                until: pd.Timestamp | None = None, source: str = "jobs") -> pd.DataFrame:
    """Time-weighted GPUs in use per step and series (``id_cols`` joined by '/'; default 'all')."""
    for role, col in (("start", start), ("end", end), ("gpus", gpus)):
        if col not in jobs.columns:
            raise SourceError(source, f"no column {col!r}; columns are {list(jobs.columns)}",
                              field=col, fix=f"rename the column that holds each job's {role} "
                                             f"to {col!r}, or name it ({role}=...; in the CLI "
                                             f"--{role}-col)")
    if jobs.empty:
        raise SourceError(source, "has no jobs", fix="pass a table with at least one job")
    step = freq_step(freq)
    s = _times(jobs[start], source, start)
    if s.isna().any():
        raise SourceError(source, f"{_row(_first(s.isna()))}: the job has no start",
                          field=start, fix="drop jobs that never started")
    e = _times(jobs[end], source, end)
    g = pd.to_numeric(jobs[gpus], errors="coerce")
    if g.isna().any() or (g < 0).any():
        i = _first(g.isna() | (g < 0))
        raise SourceError(source, f"{_row(i)}: GPUs {jobs[gpus].iloc[i]!r} is not a number >= 0",
                          field=gpus, fix="give each job's GPU count as a number")
    if (e < s).any():
        i = _first(e < s)
        raise SourceError(source, f"{_row(i)}: ends ({e.iloc[i]}) before it starts ({s.iloc[i]})",
                          field=end, fix="fix or drop that job")
    running = int(e.isna().sum())
    latest = max(s.max(), e.max()) if e.notna().any() else s.max()
    until_given = until is not None
    until = _until(until, source) if until_given else latest
    if (s > until).any():
        i = _first(s > until)
        raise SourceError(source, f"{_row(i)}: starts ({s.iloc[i]}) after until ({until})",
                          field=start, fix="pass a later until, or drop jobs that start after it")
    e = e.fillna(until).clip(upper=until)
    t0 = s.min().floor(step)
    n_steps = int((until.floor(step) - t0) / step)
    if n_steps < 1:
        fix = f"pass a longer table or a finer freq than {freq!r}"
        if running and not until_given:
            fix = (f"pass until (e.g. now): {running} job(s) have no end, so they run until the "
                   f"latest time in the table ({until})")
        raise SourceError(source, "spans less than one whole step", field=end, fix=fix)
    grid = (np.arange(n_steps + 1) * (step / pd.Timedelta(seconds=1)))
    ids = _ids(jobs, id_cols, "all", source)
    sec_s = ((s - t0) / pd.Timedelta(seconds=1)).to_numpy(float)
    sec_e = ((e - t0) / pd.Timedelta(seconds=1)).to_numpy(float)
    out = []
    for uid, idx in pd.Series(range(len(jobs))).groupby(ids.to_numpy()).indices.items():
        area = _area(grid, sec_s[idx], sec_e[idx], g.to_numpy(float)[idx])
        y = np.diff(area) / (step / pd.Timedelta(seconds=1))
        out.append(pd.DataFrame({"unique_id": str(uid),
                                 "ds": pd.date_range(t0, periods=n_steps, freq=step), "y": y}))
    return pd.concat(out, ignore_index=True)


def _area(grid: np.ndarray, s: np.ndarray, e: np.ndarray, g: np.ndarray) -> np.ndarray:
    """A(t) = sum_j g_j * (clip(t - s_j, 0) - clip(t - e_j, 0)) at every grid point."""
    def ramp(points: np.ndarray) -> np.ndarray:
        order = np.argsort(points)
        p, w = points[order], g[order]
        cw, cwp = np.concatenate(([0.0], np.cumsum(w))), np.concatenate(([0.0], np.cumsum(w * p)))
        k = np.searchsorted(p, grid, side="right")
        return grid * cw[k] - cwp[k]
    return ramp(s) - ramp(e)


def events_per_step(events: pd.DataFrame, *, time_col: str, id_cols: Sequence[str] = (),
                    freq: str = "h", default_id: str = "requests", source: str = "events"
                    ) -> pd.DataFrame:
    """Rows per step (e.g. requests per hour) per series, zeros where nothing happened."""
    if time_col not in events.columns:
        raise SourceError(source, f"no column {time_col!r}; columns are {list(events.columns)}",
                          field=time_col, fix="name the event time column")
    if events.empty:
        raise SourceError(source, "has no events", fix="pass a table with at least one row")
    step = freq_step(freq)
    t = _times(events[time_col], source, time_col).dt.floor(step)
    ids = _ids(events, id_cols, default_id, source)
    counts = pd.DataFrame({"unique_id": ids.to_numpy(), "ds": t.to_numpy()}).value_counts()
    grid = pd.date_range(t.min(), t.max(), freq=step)
    out = []
    for uid in sorted(set(ids)):
        per = counts.xs(uid, level="unique_id") if len(counts) else pd.Series(dtype=float)
        per.index = pd.DatetimeIndex(per.index).tz_localize("UTC") if per.index.tz is None \
            else per.index
        out.append(pd.DataFrame({"unique_id": uid, "ds": grid,
                                 "y": per.reindex(grid, fill_value=0).to_numpy(float)}))
    return pd.concat(out, ignore_index=True)
