"""Errors of the forecasting package, one small tree.

    ForecastError(Exception)
     ├── InputDataError(ForecastError, ValueError)   the history itself is unusable
     ├── EngineUnavailableError(ForecastError)       e.g. ``engine="ray"`` without Ray installed
     └── SourceError(ForecastError)                  a loader could not read its source
          ├── PromQLError(SourceError)               Prometheus rejected the query
          └── EmptyResultError(SourceError)          the source answered, but with no data

Every message names the input (file, URL or series), the field, what is wrong and the fix,
so a command line can print it as one line.
"""

from __future__ import annotations


class ForecastError(Exception):
    """Base of every error raised on purpose by ``forecasting``."""


def _text(source: str, problem: str, *, field: str | None, series: str | None, fix: str) -> str:
    where = [source]
    if series is not None:
        where.append(f"series {series!r}")
    if field is not None:
        where.append(f"field {field!r}")
    text = f"{': '.join(where)}: {problem}"
    return f"{text}; fix: {fix}" if fix else text


class InputDataError(ForecastError, ValueError):
    """The history cannot be forecast as given (and cannot be repaired safely)."""

    def __init__(self, source: str, problem: str, *, field: str | None = None,
                 series: str | None = None, fix: str = "") -> None:
        self.source, self.problem, self.field, self.series, self.fix = (
            source, problem, field, series, fix)
        super().__init__(_text(source, problem, field=field, series=series, fix=fix))


class EngineUnavailableError(ForecastError):
    """The requested execution engine cannot run here."""


class SourceError(ForecastError):
    """A loader (file, Prometheus, ...) failed; the message names the source and the fix."""

    def __init__(self, source: str, problem: str, *, field: str | None = None,
                 fix: str = "") -> None:
        self.source, self.problem, self.field, self.fix = source, problem, field, fix
        super().__init__(_text(source, problem, field=field, series=None, fix=fix))


class PromQLError(SourceError):
    """Prometheus answered ``status: error`` (bad PromQL, too many points, timeout)."""


class EmptyResultError(SourceError):
    """The query was valid but returned no series or no samples."""
