"""Grid intensity for a planning run: which sources, in which order (the I/O side).

    offline  trace files given with --carbon-trace, then the embedded defaults
             (no network: the demo, tests, air-gapped clusters)
    live     carbon.sources.default_chain: Electricity Maps (token from the
             environment or config), the UK Carbon Intensity API, the trace
             files, then the embedded defaults, each falling back to the next
             and saying so in the plan's provenance
"""

from __future__ import annotations

import enum
from datetime import datetime
from pathlib import Path

from app.errors import InputError
from carbon.intensity import IntensitySeries
from carbon.sources import (
    DiskCache,
    EmbeddedDefaultSource,
    IntensityChain,
    IntensityQuery,
    TraceFile,
    TraceSource,
    default_cache_dir,
    default_chain,
)
from planner.domain import Fleet


class CarbonMode(enum.StrEnum):
    OFFLINE = "offline"
    LIVE = "live"


def parse_traces(specs: list[str]) -> tuple[TraceFile, ...]:
    """'ZONE=PATH' items, as given to --carbon-trace."""
    out = []
    for spec in specs:
        zone, sep, path = spec.partition("=")
        if not sep or not zone or not path:
            raise InputError("--carbon-trace", f"{spec!r} is not ZONE=PATH",
                             fix="write e.g. --carbon-trace GB=gb_2023_hourly.csv")
        if not Path(path).is_file():
            raise InputError("--carbon-trace", f"{path}: file not found", fix="check the path")
        out.append(TraceFile(zone=zone.strip(), paths=(Path(path),)))
    return tuple(out)


def intensity_for(fleet: Fleet, *, start: datetime, hours: int,
                  mode: CarbonMode = CarbonMode.OFFLINE, traces: tuple[TraceFile, ...] = (),
                  cache_dir: Path | None = None) -> dict[str, IntensitySeries]:
    """One hourly series per grid zone of the fleet, covering [start, start + hours)."""
    if mode is CarbonMode.LIVE:
        chain = default_chain(traces=traces, cache_dir=cache_dir)
    else:
        sources = ([TraceSource(traces)] if traces else []) + [EmbeddedDefaultSource()]
        chain = IntensityChain(sources, cache=DiskCache(cache_dir or default_cache_dir()))
    out = {}
    for region in fleet.regions:
        if region.grid_zone in out:
            continue
        out[region.grid_zone] = chain.series(IntensityQuery(
            zone=region.grid_zone, start=start, hours=hours, lat=region.latitude,
            lon=region.longitude, region=f"{region.provider}:{region.cloud_region}"))
    return out
