"""Carbon commands: measure a run, ingest codecarbon output, show a zone's intensity.

    gridshift measure --region R [--out measured.jsonl] [--pue X] [--interval S] -- COMMAND...
    gridshift ingest-codecarbon EMISSIONS.csv [--region R] [--tz ZONE] [--out measured.jsonl]
    gridshift intensity (--region R | --zone Z) [--hours 24] [--start T] [--trace FILE]...
                        [--offline] [--marginal] [--cache-dir DIR]

``measure`` runs COMMAND under codecarbon's offline tracker (the region's country, no
network), appends one JSON line with ``"kind": "measured"`` to ``--out`` and prints a
summary. ``ingest-codecarbon`` reads a codecarbon ``emissions.csv`` produced elsewhere,
prints it and, with ``--out``, appends it the same way. ``intensity`` asks the source
chain (Electricity Maps with a token, the UK API for GB, ``--trace`` files, the
embedded default) and prints the hourly series with where it came from and what failed.
R is a cloud region, ``provider:region`` (``aws:us-east-1``) or a unique id
(``us-east-1``).

Exit codes: 0 ok; 2 bad input (unknown region or zone, unreadable file, no command);
for ``measure``, a command that fails passes its own exit code through (after the
measurement is recorded).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from app.exits import fail as _fail
from carbon.intensity import IntensityKind
from carbon.measured import (
    MeasuredDataError,
    Measurement,
    append_jsonl,
    read_codecarbon_csv,
    summarise,
)
from carbon.sources import (
    DiskCache,
    EmbeddedDefaultSource,
    IntensityChain,
    IntensityQuery,
    NoIntensityError,
    TraceFile,
    TraceSource,
    default_cache_dir,
    default_chain,
)
from carbon.sources.credentials import CredentialsError
from carbon.zones import RegionZone, UnknownRegionError, find_region

EXIT_BAD_INPUT = 2

err = Console(stderr=True)
out = Console()

RegionOpt = Annotated[str | None, typer.Option(
    "--region", help="Cloud region: provider:region (aws:us-east-1) or a unique id.")]
OutOpt = Annotated[Path | None, typer.Option("--out", help="Append measurements (JSON lines).")]




def _region(text: str) -> RegionZone:
    try:
        return find_region(text)
    except (UnknownRegionError, ValueError) as exc:
        raise _fail(f"--region: {exc}") from None


def _print_measurements(ms: list[Measurement], title: str) -> None:
    table = Table(title=title)
    for col in ("run", "start (UTC)", "duration s", "kWh", "kg CO2e", "g/kWh", "region"):
        table.add_column(col, justify="right" if col[0] in "dkg" else "left")
    for m in ms:
        g = m.g_per_kwh
        table.add_row(m.run_id[:8], f"{m.started_at:%Y-%m-%d %H:%M:%S}", f"{m.duration_s:.1f}",
                      f"{m.energy.kwh:.6g}", f"{m.emissions.kg_co2e:.6g}",
                      "-" if g is None else f"{g:.0f}", m.region or m.country_iso3 or "-")
    out.print(table)
    t = summarise(ms)
    out.print(f"measured (kind=measured, location-based): {t['runs']} run(s), "
              f"{t['energy_kwh']:.6g} kWh, {t['emissions_kg_co2e']:.6g} kg CO2e; "
              f"source: {ms[0].source}")
    for note in dict.fromkeys(n for m in ms for n in m.notes):
        out.print(f"  note: {note}")


def measure(
    ctx: typer.Context,
    region: RegionOpt = None,
    out_path: Annotated[Path, typer.Option("--out", help="JSON-lines file to append to.")] = Path(
        "measured.jsonl"),
    pue: Annotated[float | None, typer.Option(
        min=1.0, help="PUE applied to measured energy (default: the provider's).")] = None,
    interval: Annotated[float, typer.Option(
        min=0.1, help="Seconds between power readings.")] = 1.0,
) -> None:
    """Run COMMAND (after --) under codecarbon's offline tracker; record kWh and kg CO2e."""
    from carbon.tracker import MeasureError, measure_command

    if not region:
        raise _fail("--region is required, e.g. --region aws:us-east-1")
    argv = list(ctx.args)
    if argv and argv[0] == "--":
        argv = argv[1:]
    rz = _region(region)
    try:
        run = measure_command(argv, region=rz, pue=pue, measure_power_secs=interval)
    except MeasureError as exc:
        raise _fail(str(exc)) from None
    append_jsonl(out_path, run.measurement)
    _print_measurements([run.measurement], f"gridshift measure: {' '.join(argv)}")
    out.print(f"appended to {out_path}")
    if run.exit_code:
        err.print(f"gridshift: the command exited with {run.exit_code} (measurement recorded)",
                  markup=False, highlight=False)
        raise typer.Exit(run.exit_code if 0 < run.exit_code < 256 else 1)


def ingest_codecarbon(
    emissions_csv: Annotated[Path, typer.Argument(help="codecarbon's emissions.csv.")],
    region: RegionOpt = None,
    tz: Annotated[str, typer.Option(help="Time zone codecarbon's timestamps were written in.")
                  ] = "UTC",
    out_path: OutOpt = None,
) -> None:
    """Read a codecarbon emissions.csv made elsewhere; print it and optionally record it."""
    rz = _region(region) if region else None
    try:
        ms = read_codecarbon_csv(emissions_csv, tz=tz, zone=rz.zone if rz else "",
                                 region=rz.key if rz else "")
    except MeasuredDataError as exc:
        raise _fail(str(exc)) from None
    _print_measurements(ms, f"codecarbon runs in {emissions_csv}")
    if out_path is not None:
        for m in ms:
            append_jsonl(out_path, m)
        out.print(f"appended {len(ms)} run(s) to {out_path}")


def intensity(
    region: RegionOpt = None,
    zone: Annotated[str | None, typer.Option(help="Grid zone (Electricity Maps key).")] = None,
    hours: Annotated[int, typer.Option(min=1, max=24 * 31, help="Hours to show.")] = 24,
    start: Annotated[str | None, typer.Option(
        help="First hour (ISO 8601 with offset); default: now, floored to the hour.")] = None,
    trace: Annotated[list[Path] | None, typer.Option(
        help="Trace file (CSV/Parquet) for the zone; repeatable.")] = None,
    offline: Annotated[bool, typer.Option(help="No live APIs: traces and defaults only.")
                       ] = False,
    marginal: Annotated[bool, typer.Option(help="Add WattTime (marginal MOER) to the chain.")
                        ] = False,
    cache_dir: Annotated[Path | None, typer.Option(help="Intensity cache folder.")] = None,
) -> None:
    """Hourly carbon intensity of a region or zone, with its source and any fallbacks."""
    if bool(region) == bool(zone):
        raise _fail("give exactly one of --region or --zone")
    rz = _region(region) if region else None
    z = rz.zone if rz else str(zone)
    try:
        t0 = (datetime.fromisoformat(start) if start
              else datetime.now(UTC))
    except ValueError:
        raise _fail(f"--start {start!r} is not an ISO 8601 time, e.g. 2026-11-23T20:00Z") \
            from None
    if t0.tzinfo is None:
        raise _fail(f"--start {start!r} has no UTC offset; add Z or +hh:mm")
    traces = [TraceFile(zone=z, paths=tuple(trace))] if trace else []
    if offline:
        sources = ([TraceSource(traces)] if traces else []) + [EmbeddedDefaultSource()]
        chain = IntensityChain(sources, cache=DiskCache(cache_dir or default_cache_dir()))
    else:
        try:
            chain = default_chain(traces=traces, cache_dir=cache_dir, marginal=marginal)
        except CredentialsError as exc:
            raise _fail(str(exc)) from None
    q = (IntensityQuery.for_region(rz, start=t0, hours=hours) if rz
         else IntensityQuery(zone=z, start=t0, hours=hours))
    try:
        s = chain.series(q)
    except NoIntensityError as exc:
        raise _fail(str(exc)) from None
    table = Table(title=f"carbon intensity, zone {z}" + (f" ({rz.key})" if rz else ""))
    table.add_column("hour (UTC)")
    table.add_column("g/kWh", justify="right")
    for i, g in enumerate(s.g_per_kwh):
        table.add_row(f"{s.start + timedelta(hours=i):%Y-%m-%d %H:%M}", f"{g:.1f}")
    out.print(table)
    mean = math.fsum(s.g_per_kwh) / len(s.g_per_kwh)
    bits = [str(s.kind)] + (["marginal"] if s.signal == "marginal" else [])
    if s.fetched_at:
        bits.append(f"fetched {s.fetched_at:%Y-%m-%dT%H:%MZ}")
    say = {"markup": False, "highlight": False, "soft_wrap": True}
    out.print(f"mean {mean:.1f} g/kWh; source: {s.source} [{', '.join(bits)}]", **say)
    for note in s.notes:
        out.print(f"  note: {note}", **say)
    if rz and rz.uncertain:
        out.print(f"  note: the zone of {rz.key} is {rz.confidence}-confidence ({rz.zone_basis}); "
                  "check it and override in the fleet if needed", **say)
    if s.kind is IntensityKind.DEFAULT:
        out.print("  note: embedded default, not live data", **say)


def register(app: typer.Typer) -> None:
    """Add ``measure``, ``ingest-codecarbon`` and ``intensity`` to ``app``."""
    app.command("measure", context_settings={"allow_extra_args": True,
                                             "ignore_unknown_options": True})(measure)
    app.command("ingest-codecarbon")(ingest_codecarbon)
    app.command("intensity")(intensity)
