"""CSV and Parquet history files -> the frame ``unique_id, ds, y``.

Columns are mapped by name (``id_col``, ``time_col``, ``value_col``). A file without an id
column holds one series, named after the file (``cpu.csv`` -> ``cpu``), unless ``id_col`` was
given explicitly, which makes its absence an error. Values are returned as read; checking and
repair happen in ``forecasting.frame.prepare``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from forecasting.errors import SourceError

SUFFIXES = {".csv": "csv", ".txt": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}


def _read(path: Path) -> pd.DataFrame:
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise SourceError(str(path), f"unknown file type {path.suffix!r}",
                          fix=f"use one of {sorted(SUFFIXES)}")
    if not path.is_file():
        raise SourceError(str(path), "no such file", fix="check the path")
    try:
        if kind == "parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path, sep="\t" if kind == "tsv" else ",")
    except (ValueError, OSError, ImportError, pd.errors.ParserError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SourceError(str(path), f"cannot read as {kind}: {first}",
                          fix=f"check that it is a valid {kind} file") from None


def read_history(path: str | Path, *, id_col: str | None = None, time_col: str = "ds",
                 value_col: str = "y") -> pd.DataFrame:
    """Read ``path`` and return ``unique_id, ds, y`` (ids as strings, values as read)."""
    path = Path(path)
    raw = _read(path)
    cols = list(raw.columns)
    explicit_id = id_col is not None
    id_col = id_col or "unique_id"
    for col, flag in ((time_col, "--time-col"), (value_col, "--value-col")):
        if col not in raw.columns:
            raise SourceError(str(path), f"no column {col!r}; columns are {cols}", field=col,
                              fix=f"name the right column with {flag}")
    if id_col not in raw.columns:
        if explicit_id:
            raise SourceError(str(path), f"no column {id_col!r}; columns are {cols}",
                              field=id_col, fix="name the series column with --id-col")
        ids = pd.Series(path.stem, index=raw.index)
    else:
        ids = raw[id_col].astype("string").astype(object)
    return pd.DataFrame({"unique_id": ids, "ds": raw[time_col], "y": raw[value_col]})
