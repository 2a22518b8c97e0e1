"""Trace files (CSV or Parquet) as an intensity source, read as they are.

A ``TraceFile`` names one zone's file(s) and how to read them: a ``TraceFormat``
(time column, value column, how naive timestamps are meant, optional published
forecast column, optional zone column to check). Formats of the real files in
shared/data are presets, detected from the header when none is given:

=================  ===============================  ===================================  ========
preset             time column                      value column(s)                      naive =
=================  ===============================  ===================================  ========
electricitymaps    ``Datetime (UTC)``               ``Carbon Intensity gCO₂eq/kWh         UTC
                                                    (direct)`` (or ``(LCA)``)
dacf               ``UTC time``                     ``carbon_intensity`` + forecast       UTC
                                                    ``carbon_from_src_forecasts``
dacf-actuals       ``UTC time``                     ``carbon_intensity``                  UTC
lets-wait-awhile   ``Time``                         ``Carbon Intensity``                  UTC
casper             ``timestamp`` (Unix s)           one column per AWS region:            -
                                                    ``value_column`` = the region
=================  ===============================  ===================================  ========

"naive = UTC" follows SOURCES.md (the column names or the papers say UTC). Any other
file: give ``TraceFormat(time_column=..., value_column=..., naive_tz=...)``; a file with
local timestamps takes its IANA zone in ``naive_tz`` and DST is handled by
``carbon.repair`` (ambiguous hours are an error unless ``RepairPolicy(ambiguous='infer')``).
Rows out of time order (CASPER), sub-hourly steps (15/30 min), gaps, duplicates and
absurd values are repaired or refused there too, with notes.

``actual`` answers windows inside the file; ``forecast`` answers only from a published
forecast column (DACF's day-ahead forecast), otherwise ``NotCovered`` (the chain then
forecasts from the file's history).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from carbon.intensity import IntensityKind, IntensitySeries
from carbon.repair import IntensityDataError, RepairPolicy, to_hourly
from carbon.sources.base import BadResponse, IntensityQuery, NotCovered, fit_window

__all__ = ["PRESETS", "TraceFile", "TraceFormat", "TraceSource", "detect_format", "read_trace"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TraceFormat:
    name: str = "custom"
    time_column: str
    value_column: str | None = None
    time_unit: str = "iso"           # "iso" | "unix_s"
    naive_tz: str | None = None
    forecast_column: str | None = None
    zone_column: str | None = None
    forecast_label: str = "published forecast"

    def __post_init__(self) -> None:
        if self.time_unit not in ("iso", "unix_s"):
            raise ValueError(f"TraceFormat.time_unit = {self.time_unit!r}; use 'iso' or 'unix_s'")


PRESETS: dict[str, TraceFormat] = {
    "electricitymaps": TraceFormat(name="electricitymaps", time_column="Datetime (UTC)",
                                   value_column="Carbon Intensity gCO₂eq/kWh (direct)",
                                   naive_tz="UTC", zone_column="Zone Id"),
    "dacf": TraceFormat(name="dacf", time_column="UTC time", value_column="carbon_intensity",
                        naive_tz="UTC", forecast_column="carbon_from_src_forecasts",
                        forecast_label="DACF day-ahead forecast (Maji et al., e-Energy 2022)"),
    "dacf-actuals": TraceFormat(name="dacf-actuals", time_column="UTC time",
                                value_column="carbon_intensity", naive_tz="UTC"),
    "lets-wait-awhile": TraceFormat(name="lets-wait-awhile", time_column="Time",
                                    value_column="Carbon Intensity", naive_tz="UTC"),
    "casper": TraceFormat(name="casper", time_column="timestamp", time_unit="unix_s"),
}


def detect_format(columns: Sequence[str]) -> TraceFormat:
    """The preset whose columns the header has (most specific first)."""
    cols = set(columns)
    for name in ("electricitymaps", "dacf", "dacf-actuals", "lets-wait-awhile"):
        f = PRESETS[name]
        need = {f.time_column, f.value_column} | ({f.forecast_column} if f.forecast_column else set())
        if need <= cols:
            return f
    if "timestamp" in cols and len(cols) > 1:
        return PRESETS["casper"]
    raise ValueError(f"trace header {sorted(cols)[:8]} matches no known format; give "
                     "TraceFormat(time_column=..., value_column=..., naive_tz=...)")


@dataclass(frozen=True, slots=True, kw_only=True)
class TraceFile:
    zone: str
    paths: tuple[Path, ...]
    format: TraceFormat | None = None
    value_column: str | None = None
    naive_tz: str | None = None
    repair: RepairPolicy | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        paths = (self.paths,) if isinstance(self.paths, str | Path) else self.paths
        object.__setattr__(self, "paths", tuple(Path(p) for p in paths))
        if not self.paths:
            raise ValueError(f"TraceFile for zone {self.zone!r}: no paths given")


def _read_frame(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise FileNotFoundError(f"trace {path}: no such file; check the path")
    if path.suffix.lower() in (".parquet", ".pq"):
        return pd.read_parquet(path)
    return pd.read_csv(path, encoding="utf-8-sig")


def read_trace(trace: TraceFile) -> tuple[IntensitySeries, IntensitySeries | None]:
    """(actual series, published-forecast series or None) of a trace, repaired."""
    frames = [_read_frame(p) for p in trace.paths]
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    fmt = trace.format or detect_format(list(df.columns))
    what = f"trace {', '.join(p.name for p in trace.paths)}"
    value_col = trace.value_column or fmt.value_column
    missing = [c for c in (fmt.time_column, value_col, fmt.forecast_column)
               if c and c not in df.columns]
    if value_col is None or missing:
        raise ValueError(f"{what}: column(s) {missing or ['value_column']} not in the file "
                         f"(columns: {', '.join(map(str, df.columns[:10]))}); give "
                         "value_column= or a TraceFormat that matches")
    if fmt.zone_column and fmt.zone_column in df.columns:
        zones = set(df[fmt.zone_column].dropna().astype(str))
        if zones and trace.zone not in zones:
            raise ValueError(f"{what}: the file's {fmt.zone_column!r} is {sorted(zones)}, not "
                             f"{trace.zone!r}; give the file of that zone or zone="
                             f"{min(zones)!r}")
    times = df[fmt.time_column]
    if fmt.time_unit == "unix_s":
        times = pd.to_datetime(pd.to_numeric(times, errors="coerce"), unit="s", utc=True)
    policy = trace.repair or RepairPolicy()
    tz = trace.naive_tz or fmt.naive_tz
    if tz and policy.naive_tz is None:
        policy = replace(policy, naive_tz=tz)
    label = f"trace {', '.join(p.name for p in trace.paths)} [{fmt.name}: {value_col}]"
    actual = to_hourly(times, df[value_col], zone=trace.zone, source=label,
                       kind=IntensityKind.ACTUAL, policy=policy, what=what)
    forecast = None
    if fmt.forecast_column:
        forecast = to_hourly(times, df[fmt.forecast_column], zone=trace.zone,
                             source=f"trace {trace.paths[0].name} [{fmt.forecast_label}]",
                             kind=IntensityKind.FORECAST, policy=policy, what=what + " forecast")
    return actual, forecast


class TraceSource:
    """Intensity from trace files, one ``TraceFile`` per zone."""

    name = "trace"

    def __init__(self, traces: Sequence[TraceFile]) -> None:
        self.traces = {t.zone: t for t in traces}
        if len(self.traces) != len(traces):
            raise ValueError("TraceSource: two traces for the same zone; merge their paths")
        self._loaded: dict[str, tuple[IntensitySeries, IntensitySeries | None]] = {}

    def _load(self, zone: str) -> tuple[IntensitySeries, IntensitySeries | None]:
        if zone not in self._loaded:
            try:
                a, f = read_trace(self.traces[zone])
            except (IntensityDataError, ValueError, FileNotFoundError, OSError) as exc:
                raise BadResponse(self.name, str(exc)) from None
            loaded = datetime.now(UTC)  # "fetched" = when the file was read
            self._loaded[zone] = (replace(a, fetched_at=loaded),
                                  replace(f, fetched_at=loaded) if f else None)
        return self._loaded[zone]

    def _trace(self, query: IntensityQuery) -> tuple[IntensitySeries, IntensitySeries | None]:
        if query.zone not in self.traces:
            raise NotCovered(self.name, f"no trace file for zone {query.zone!r} (traces: "
                                        f"{', '.join(sorted(self.traces)) or 'none'})")
        return self._load(query.zone)

    def actual(self, query: IntensityQuery) -> IntensitySeries:
        return fit_window(self._trace(query)[0], query, source=self.name)

    def forecast(self, query: IntensityQuery) -> IntensitySeries:
        forecast = self._trace(query)[1]
        if forecast is None:
            raise NotCovered(self.name, f"trace of zone {query.zone!r} has no forecast column")
        return fit_window(forecast, query, source=self.name)
