"""Grid intensity on the Carbon page: what lay behind a plan, and forecast against actual.

Behind the plan: the same chain the plan used offline (app.carbon_io.intensity_for: trace
files given to the dashboard, then the embedded default), per region of the plan's fleet;
without the fleet, per grid zone named in the plan's provenance. Each zone says whether
the source shown is the one the plan's provenance names.

Forecast against actual needs actuals: an hourly trace per zone (``--carbon-trace
ZONE=PATH``, read by carbon.sources.trace). At an origin the forecaster sees only the
``HISTORY_DAYS`` before it; it is the engine carbon.forecast uses (forecasting.forecast,
daily and weekly seasons, models "auto") with its calibrated central interval, beside
persistence ("same hour yesterday") and the trace's published forecast when it has one.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from app.carbon_io import CarbonMode, intensity_for, parse_traces
from app.dashboard import env
from carbon.intensity import IntensitySeries, UnknownZoneError, embedded_default
from carbon.sources import TraceFile
from carbon.sources.trace import read_trace
from forecasting import forecast
from planner.domain import Fleet

ENV_TRACES = env.CARBON_TRACES
HOUR = timedelta(hours=1)
HISTORY_DAYS = 28
LEVEL = 80


def traces_from_env(environ: Mapping[str, str] = os.environ) -> tuple[TraceFile, ...]:
    specs = [s for s in environ.get(ENV_TRACES, "").split(os.pathsep) if s.strip()]
    return parse_traces(specs)


def behind_plan(fleet: Fleet | None, provenance: Mapping[str, str], *, start: datetime,
                hours: int, traces: tuple[TraceFile, ...] = ()) -> tuple[pd.DataFrame, list[str]]:
    """Long table (row, region, zone, ds, g_per_kwh, source, as_planned) and notes."""
    notes: list[str] = []
    rows: list[tuple[str, str | None, str]] = []  # (row label, region, zone)
    series: dict[str, IntensitySeries] = {}
    if fleet is not None:
        series = intensity_for(fleet, start=start, hours=hours, mode=CarbonMode.OFFLINE,
                               traces=traces)
        rows = [(f"{r.name} ({r.grid_zone})", r.name, r.grid_zone) for r in fleet.regions]
    else:
        zones = sorted(k.split(":", 1)[1] for k in provenance if k.startswith("carbon:"))
        for zone in zones:
            try:
                series[zone] = embedded_default(zone, start=start, hours=hours)
                rows.append((zone, None, zone))
            except UnknownZoneError as exc:
                notes.append(str(exc))
        if zones:
            notes.append("the plan's fleet file is not readable here: rows are grid zones, "
                         "from the embedded default")
    records = []
    for label, region, zone in rows:
        s = series[zone].window(start, hours)
        used = provenance.get(f"carbon:{zone}")
        as_planned = used is not None and used.split(" [")[0] == s.source
        for i, g in enumerate(s.g_per_kwh):
            records.append({"row": label, "region": region, "zone": zone,
                            "ds": pd.Timestamp(start + i * HOUR),
                            "g_per_kwh": g, "source": s.describe(), "as_planned": as_planned})
    for zone in sorted({z for _, _, z in rows}):
        used = provenance.get(f"carbon:{zone}")
        shown = series[zone]
        if used is not None and used.split(" [")[0] != shown.source:
            notes.append(f"{zone}: the plan used '{used}'; shown here: '{shown.describe()}'")
    return pd.DataFrame(records, columns=["row", "region", "zone", "ds", "g_per_kwh", "source",
                                          "as_planned"]), notes


@dataclass(frozen=True, slots=True, kw_only=True)
class Actuals:
    zone: str
    actual: IntensitySeries
    published: IntensitySeries | None

    @property
    def first_origin(self) -> datetime:
        return self.actual.start + HISTORY_DAYS * 24 * HOUR

    def last_origin(self, hours: int) -> datetime:
        return self.actual.end - hours * HOUR


def actuals(trace: TraceFile) -> Actuals:
    actual, published = read_trace(trace)
    return Actuals(zone=trace.zone, actual=actual, published=published)


def _ape(truth: list[float], pred: list[float]) -> float:
    errors = [abs(a - b) / a for a, b in zip(truth, pred, strict=True) if a > 0]
    return 100.0 * math.fsum(errors) / len(errors) if errors else math.nan


def forecast_vs_actual(a: Actuals, origin: datetime, *, hours: int = 48,
                       level: int = LEVEL) -> tuple[pd.DataFrame, dict[str, object]]:
    """(ds, actual, mean, lo, hi, persistence, published) from ``origin``, and scores."""
    origin = origin.replace(minute=0, second=0, microsecond=0)
    if origin < a.first_origin or origin > a.last_origin(hours):
        raise ValueError(f"{a.zone}: origin {origin:%Y-%m-%dT%H:%MZ} needs {HISTORY_DAYS} days "
                         f"of trace before it and {hours} h after; pick one between "
                         f"{a.first_origin:%Y-%m-%d} and {a.last_origin(hours):%Y-%m-%d}")
    history = a.actual.window(origin - HISTORY_DAYS * 24 * HOUR, HISTORY_DAYS * 24)
    ds = pd.date_range(history.start, periods=len(history.g_per_kwh), freq="h")
    frame = pd.DataFrame({"unique_id": a.zone, "ds": ds, "y": list(history.g_per_kwh)})
    fc = forecast(frame, horizon=hours, levels=(level,), freq="h", season_lengths=(24, 168),
                  models="auto")
    values = fc.values.sort_values("ds").reset_index(drop=True)
    truth = list(a.actual.window(origin, hours).g_per_kwh)
    persistence = list(a.actual.window(origin - 24 * HOUR, hours).g_per_kwh)
    lo = values[f"lo-{level}"].clip(lower=0.0)
    hi = values[f"hi-{level}"].clip(lower=0.0)
    out = pd.DataFrame({"ds": pd.date_range(origin, periods=hours, freq="h"), "actual": truth,
                        "mean": values["mean"].clip(lower=0.0).to_numpy(),
                        "lo": lo.to_numpy(), "hi": hi.to_numpy(), "persistence": persistence})
    published = None
    if a.published is not None and a.published.covers(origin, hours):
        published = list(a.published.window(origin, hours).g_per_kwh)
        out["published"] = published
    inside = ((out["actual"] >= out["lo"]) & (out["actual"] <= out["hi"])).mean()
    scores = {"model": fc.chosen.get(a.zone, "auto"), "level": level,
              "mape_forecast": _ape(truth, list(out["mean"])),
              "mape_persistence": _ape(truth, persistence),
              "mape_published": _ape(truth, published) if published else math.nan,
              "coverage": 100.0 * float(inside), "repairs": list(fc.repairs)}
    return out, scores
