"""CSV and Parquet history files -> the frame ``unique_id, ds, y``.

Columns are mapped by name (``id_col``, ``time_col``, ``value_col``). A file without an id
column holds one series, named after the file (``cpu.csv`` -> ``cpu``), unless ``id_col`` was
given explicitly, which makes its absence an error. A file without an id column that has other
columns and repeats timestamps looks like several series in one file; it is refused rather than
averaged into one (name the series column with ``id_col``). Values are returned as read;
checking and repair happen in ``forecasting.frame.prepare``.

Text files are read as UTF-8 (a byte-order mark is dropped). The separator is taken from the
header line, among ``,`` ``;`` and tab, whatever the extension says; the extension only breaks
ties. In a ``;`` file, a value column written with decimal commas only (``1,5``, no ``.``
anywhere) is read as numbers; anything else is left as read.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd

from forecasting.errors import SourceError

SUFFIXES = {".csv": "csv", ".txt": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}
SEPARATORS = (",", ";", "\t")                     # in order of preference when tied
DEFAULT_SEPARATOR = {"csv": ",", "tsv": "\t"}
SEPARATOR_NAMES = {",": "comma ','", ";": "semicolon ';'", "\t": "tab"}
DECIMAL_COMMA = r"\s*[+-]?(\d+(,\d*)?|,\d+)\s*"


def _first_lines(path: Path, n: int = 2) -> list[str]:
    """Up to ``n`` non-blank lines from the top of a text file (for sniffing only)."""
    lines = []
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as fh:
        for line in fh:
            if line.strip():
                lines.append(line.rstrip("\r\n"))
            if len(lines) == n:
                break
    return lines


def _separator(path: Path, kind: str) -> str:
    """The separator that splits the header into most fields, preferring ones the next line
    agrees with; the extension's separator wins ties, and is used when nothing splits."""
    lines = _first_lines(path)
    if not lines:
        return DEFAULT_SEPARATOR[kind]

    def fields(line: str, sep: str) -> int:
        return len(next(csv.reader([line], delimiter=sep)))

    def score(sep: str) -> tuple[bool, bool, int, bool, int]:
        n = fields(lines[0], sep)
        agrees = len(lines) < 2 or fields(lines[1], sep) == n
        return (n > 1, agrees, n, sep == DEFAULT_SEPARATOR[kind], -SEPARATORS.index(sep))
    best = max(SEPARATORS, key=score)
    return best if score(best)[0] else DEFAULT_SEPARATOR[kind]


def _read(path: Path) -> tuple[pd.DataFrame, str | None]:
    """The table in ``path`` and the separator it was read with (``None`` for Parquet)."""
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise SourceError(str(path), f"unknown file type {path.suffix!r}",
                          fix=f"use one of {sorted(SUFFIXES)}")
    if not path.is_file():
        raise SourceError(str(path), "no such file", fix="check the path")
    sep = None
    try:
        if kind == "parquet":
            return pd.read_parquet(path), sep
        sep = _separator(path, kind)
        return pd.read_csv(path, sep=sep, encoding="utf-8-sig"), sep
    except (ValueError, OSError, ImportError, pd.errors.ParserError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        how = f" with separator {SEPARATOR_NAMES[sep]}" if sep else ""
        raise SourceError(str(path), f"cannot read as {kind}{how}: {first}",
                          fix=f"check that it is a valid {kind} file") from None


def _decimal_commas(values: pd.Series) -> pd.Series:
    """``values`` as floats if every one is a number written with a decimal comma, else as is."""
    if pd.api.types.is_numeric_dtype(values):
        return values
    text = values.dropna().astype(str)
    if text.empty or not text.str.fullmatch(DECIMAL_COMMA).all():
        return values
    return pd.to_numeric(values.str.replace(",", ".", regex=False))


def _check_header(path: Path, cols: list, sep: str | None, col: str, flag: str) -> None:
    if col in cols:
        return
    if len(cols) == 1 and sep is not None:
        seen = [SEPARATOR_NAMES[s] for s in SEPARATORS if s in str(cols[0])]
        if seen:
            raise SourceError(str(path), f"the header is one column {cols[0]!r}, which contains "
                              f"{' and '.join(seen)} but was read with separator "
                              f"{SEPARATOR_NAMES[sep]}", field=col,
                              fix="write the header and rows with one separator (',', ';' or "
                                  "tab), unquoted, the same on every line")
    jobs = flag == "--time-col" and {"start", "end"} <= set(map(str, cols))
    raise SourceError(str(path), f"no column {col!r}; columns are {cols}", field=col,
                      fix=("it looks like a job table: forecast it with --jobs" if jobs
                           else f"name the right column with {flag}"))


def _check_one_series(path: Path, raw: pd.DataFrame, time_col: str, value_col: str) -> None:
    """Refuse a file without ids that repeats timestamps and has columns that could be ids."""
    # a column with one value cannot tell series apart, and one with a distinct value on every
    # row or named like pandas' written-out index ("Unnamed: 0") numbers rows, not series
    others = [c for c in raw.columns if c not in (time_col, value_col)
              and 1 < raw[c].nunique(dropna=False) < len(raw)
              and not re.fullmatch(r"Unnamed: \d+", str(c))]
    repeated = int(raw[time_col].dropna().duplicated().sum())
    if not others or not repeated:
        return
    keys = [c for c in others if not raw.duplicated([c, time_col]).any()] or others
    raise SourceError(str(path), f"looks like several series in one file: {repeated} of "
                      f"{len(raw)} rows repeat a timestamp and there is no 'unique_id' column; "
                      f"candidate series columns are {keys}",
                      fix=f"name the series column with --id-col (e.g. --id-col {keys[0]})")


def read_table(path: str | Path) -> pd.DataFrame:
    """The table in ``path`` as read (separator from the header, Parquet by extension), for
    loaders that turn other tables into histories (``usage.gpus_in_use`` for job tables)."""
    return _read(Path(path))[0]


def read_history(path: str | Path, *, id_col: str | None = None, time_col: str = "ds",
                 value_col: str = "y") -> pd.DataFrame:
    """Read ``path`` and return ``unique_id, ds, y`` (ids as strings, values as read)."""
    path = Path(path)
    raw, sep = _read(path)
    cols = list(raw.columns)
    explicit_id = id_col is not None
    id_col = id_col or "unique_id"
    for col, flag in ((time_col, "--time-col"), (value_col, "--value-col")):
        _check_header(path, cols, sep, col, flag)
    if id_col not in raw.columns:
        if explicit_id:
            raise SourceError(str(path), f"no column {id_col!r}; columns are {cols}",
                              field=id_col, fix="name the series column with --id-col")
        _check_one_series(path, raw, time_col, value_col)
        ids = pd.Series(path.stem, index=raw.index)
    else:
        ids = raw[id_col].astype("string").astype(object)
    values = _decimal_commas(raw[value_col]) if sep == ";" else raw[value_col]
    return pd.DataFrame({"unique_id": ids, "ds": raw[time_col], "y": values})
