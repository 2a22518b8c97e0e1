"""Measured footprints: what codecarbon saw a real run use, kept apart from planned figures.

A ``Measurement`` is one run: when, how long, facility energy (kWh, including the PUE
codecarbon was given), location-based emissions (kg CO2e, at the intensity codecarbon
used for the country/region), the split by component, and where the figure came from.
Its ``kind`` is always ``"measured"``; planned figures (``carbon.footprint``, the Plan
JSON) carry ``"planned"``, and nothing adds one to the other.

Readers and writers for the store:

- ``read_codecarbon_csv(path)``: codecarbon's ``emissions.csv`` (any version with the
  columns ``timestamp, project_name, run_id, duration, emissions, energy_consumed``;
  ``cpu_energy, gpu_energy, ram_energy, country_iso_code, region, cloud_provider,
  cloud_region, pue, tracking_mode, codecarbon_version`` are read when present).
  codecarbon writes ``timestamp`` (the end of the run) in the machine's local time
  without a zone, so ``tz`` says which zone that was (default UTC, and the
  measurement notes the assumption). Units: ``duration`` s, ``*_energy`` and
  ``energy_consumed`` kWh, ``emissions`` kg CO2e.
- ``append_jsonl(path, m)`` / ``read_jsonl(path)``: one JSON object per line.

Bad rows are refused with the file, line, field and fix; nothing is half-loaded.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from carbon.units import Basis, Emissions, Energy

__all__ = ["MeasuredDataError", "Measurement", "append_jsonl", "read_codecarbon_csv",
           "read_jsonl"]

KIND = "measured"
REQUIRED = ("timestamp", "run_id", "duration", "emissions", "energy_consumed")


class MeasuredDataError(ValueError):
    """A measurement file that cannot be read; the message names file, line, field, fix."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Measurement:
    run_id: str
    started_at: datetime
    duration_s: float
    energy: Energy
    emissions: Emissions
    source: str
    project: str = ""
    region: str = ""
    zone: str = ""
    country_iso3: str = ""
    pue: float = 1.0
    cpu_kwh: float = 0.0
    gpu_kwh: float = 0.0
    ram_kwh: float = 0.0
    command: tuple[str, ...] = ()
    exit_code: int | None = None
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.started_at.tzinfo is None:
            raise ValueError("Measurement.started_at must be timezone-aware")
        object.__setattr__(self, "started_at", self.started_at.astimezone(UTC))
        if self.emissions.basis is not Basis.LOCATION:
            raise ValueError("a codecarbon measurement is location-based")
        for name in ("duration_s", "pue", "cpu_kwh", "gpu_kwh", "ram_kwh"):
            v = float(getattr(self, name))
            if not (math.isfinite(v) and v >= 0):
                raise ValueError(f"Measurement.{name} = {v!r} must be a finite number >= 0")
        if self.energy.kwh < 0 or self.emissions.kg_co2e < 0:
            raise ValueError("Measurement energy and emissions must be >= 0")
        object.__setattr__(self, "command", tuple(self.command))
        object.__setattr__(self, "notes", tuple(self.notes))

    @property
    def kind(self) -> str:
        return KIND

    @property
    def ended_at(self) -> datetime:
        return self.started_at + timedelta(seconds=self.duration_s)

    @property
    def g_per_kwh(self) -> float | None:
        """The intensity the measurement implies (emissions / energy), if energy > 0."""
        return self.emissions.g / self.energy.kwh if self.energy.kwh > 0 else None

    def to_json(self) -> dict[str, object]:
        return {"kind": KIND, "run_id": self.run_id, "project": self.project,
                "started_at": self.started_at.isoformat().replace("+00:00", "Z"),
                "ended_at": self.ended_at.isoformat().replace("+00:00", "Z"),
                "duration_s": self.duration_s, "energy_kwh": self.energy.kwh,
                "emissions_kg_co2e": self.emissions.kg_co2e, "basis": "location",
                "g_per_kwh": self.g_per_kwh, "region": self.region, "zone": self.zone,
                "country_iso3": self.country_iso3, "pue": self.pue, "cpu_kwh": self.cpu_kwh,
                "gpu_kwh": self.gpu_kwh, "ram_kwh": self.ram_kwh, "command": list(self.command),
                "exit_code": self.exit_code, "source": self.source, "notes": list(self.notes)}

    @classmethod
    def from_json(cls, d: dict) -> Measurement:
        if d.get("kind") != KIND:
            raise ValueError(f"kind = {d.get('kind')!r}, expected 'measured'")
        return cls(run_id=str(d["run_id"]), project=d.get("project", ""),
                   started_at=datetime.fromisoformat(str(d["started_at"])),
                   duration_s=float(d["duration_s"]), energy=Energy(float(d["energy_kwh"])),
                   emissions=Emissions(kg_co2e=float(d["emissions_kg_co2e"])),
                   source=d["source"], region=d.get("region", ""), zone=d.get("zone", ""),
                   country_iso3=d.get("country_iso3", ""), pue=float(d.get("pue", 1.0)),
                   cpu_kwh=float(d.get("cpu_kwh", 0)), gpu_kwh=float(d.get("gpu_kwh", 0)),
                   ram_kwh=float(d.get("ram_kwh", 0)), command=tuple(d.get("command", ())),
                   exit_code=d.get("exit_code"), notes=tuple(d.get("notes", ())))


def append_jsonl(path: Path, m: Measurement) -> None:
    """Append one measurement as a JSON line (creating the file and its folder)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(m.to_json(), sort_keys=True) + "\n")


def read_jsonl(path: Path) -> list[Measurement]:
    out = []
    with Path(path).open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                out.append(Measurement.from_json(json.loads(line)))
            except (ValueError, KeyError, TypeError) as exc:
                raise MeasuredDataError(f"{path} line {line_no}: {exc}; fix or remove the "
                                        "line") from None
    return out


def _num(path: Path, line: int, row: dict, name: str, default: float | None = None) -> float:
    text = (row.get(name) or "").strip()
    if not text and default is not None:
        return default
    try:
        v = float(text)
    except ValueError:
        v = math.nan
    if not (math.isfinite(v) and v >= 0):
        raise MeasuredDataError(f"{path} line {line}: field {name!r} = {text!r} is not a number "
                                ">= 0; fix the row or re-run codecarbon")
    return v


def read_codecarbon_csv(path: Path, *, tz: str = "UTC", zone: str = "",
                        region: str = "") -> list[Measurement]:
    """Every run of a codecarbon ``emissions.csv`` (module docstring)."""
    path = Path(path)
    try:
        zi = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise MeasuredDataError(f"--tz {tz!r} is not an IANA time zone; give e.g. UTC or "
                                "Europe/Paris") from None
    if not path.is_file():
        raise MeasuredDataError(f"{path}: no such file; give the path of codecarbon's "
                                "emissions.csv")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or ())]
        if missing:
            raise MeasuredDataError(f"{path}: not a codecarbon emissions.csv (missing column(s) "
                                    f"{', '.join(missing)}); give the file codecarbon wrote")
        rows = list(reader)
    if not rows:
        raise MeasuredDataError(f"{path}: no runs in the file")
    out: list[Measurement] = []
    for line, r in enumerate(rows, start=2):
        try:
            ended = datetime.fromisoformat(r["timestamp"].strip())
        except ValueError:
            raise MeasuredDataError(f"{path} line {line}: field 'timestamp' = {r['timestamp']!r}"
                                    " is not an ISO time; fix the row") from None
        notes = []
        if ended.tzinfo is None:
            ended = ended.replace(tzinfo=zi)
            notes.append(f"codecarbon timestamp has no zone; read as {tz}")
        duration = _num(path, line, r, "duration")
        version = r.get("codecarbon_version") or "?"
        mode = r.get("tracking_mode") or "?"
        cloud = "/".join(x for x in (r.get("cloud_provider"), r.get("cloud_region")) if x)
        out.append(Measurement(
            run_id=r["run_id"], project=r.get("project_name", ""),
            started_at=ended - timedelta(seconds=duration), duration_s=duration,
            energy=Energy(_num(path, line, r, "energy_consumed")),
            emissions=Emissions(kg_co2e=_num(path, line, r, "emissions")),
            source=f"codecarbon {version} emissions.csv ({mode} tracking, "
                   f"{r.get('country_iso_code') or '?'}"
                   f"{'/' + r['region'] if r.get('region') else ''})",
            region=region or cloud, zone=zone, country_iso3=r.get("country_iso_code", ""),
            pue=_num(path, line, r, "pue", 1.0), cpu_kwh=_num(path, line, r, "cpu_energy", 0.0),
            gpu_kwh=_num(path, line, r, "gpu_energy", 0.0),
            ram_kwh=_num(path, line, r, "ram_energy", 0.0), notes=tuple(notes)))
    return out


def summarise(ms: Sequence[Measurement]) -> dict[str, float]:
    """Totals of several measurements (kWh, kg CO2e, seconds)."""
    return {"runs": len(ms), "energy_kwh": math.fsum(m.energy.kwh for m in ms),
            "emissions_kg_co2e": math.fsum(m.emissions.kg_co2e for m in ms),
            "duration_s": math.fsum(m.duration_s for m in ms)}
