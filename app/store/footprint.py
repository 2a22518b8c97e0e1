"""Measured emissions and the footprint report: planned and measured, side by side.

    MeasuredRow                     a stored measured-emissions row (e.g. one codecarbon run)
    from_measurement(m, ...)        a row from a ``carbon.measured.Measurement``
    add_measurements(engine, rows)  insert rows into the ``emissions`` table; returns how many
    read_measurements(engine, ...)  the rows that overlap a window, oldest first
    planned_section(...)            a plan's cost, kWh and kg CO2e by team and region
    no_plan_section()               the planned section when there is no plan
    measured_section(rows, ...)     the readings' kWh and kg CO2e by team, region
    report(planned, measured)       the two sections, never summed together

``Store.add_measurements``, ``Store.measurements`` and ``Store.footprint`` are
the entry points on a database. Sums are rounded once, at the end: cost to the
cent (``cost_usd``), energy and emissions to 3 places (``energy_kwh``, ``kg_co2e``).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select

from app.store import schema as t
from planner.domain import Assignment, Plan

NOTE = ("planned = the plan's location-based estimate; measured = readings "
        "recorded with their source (e.g. codecarbon); never summed together")

# (team, region, cost_usd, energy_kwh, kg_co2e): one planned assignment or one reading
_Row = tuple[str, str, float, float, float]


@dataclass(frozen=True, slots=True, kw_only=True)
class MeasuredRow:
    """A stored measured-emissions row (one run, e.g. a codecarbon reading); never planned.

    ``carbon.measured.Measurement`` is the domain type; ``from_measurement`` maps it here,
    adding what the store groups by (team, workload).
    """

    region: str
    started_at: datetime
    ended_at: datetime
    energy_kwh: float
    kg_co2e: float
    source: str
    workload: str | None = None
    team: str | None = None
    run_id: str | None = None
    kind: str = "measured"

    def __post_init__(self) -> None:
        for name in ("started_at", "ended_at"):
            value = getattr(self, name)
            if value.tzinfo is None:
                raise ValueError(f"measurement: {name} must be tz-aware UTC, got {value!r}")
            try:  # 0001-01-01T00:00+00:01 has no UTC time: it would fail in the database
                year = value.astimezone(UTC).year
            except OverflowError:
                year = 0
            if not 1970 <= year <= 2200:
                raise ValueError(f"measurement: {name} {value.isoformat()} is outside "
                                 "1970..2200 UTC; send the run's real start and end")
        if self.ended_at < self.started_at:
            raise ValueError("measurement: ended_at is before started_at; swap them")
        if self.energy_kwh < 0 or self.kg_co2e < 0:
            raise ValueError("measurement: energy_kwh and kg_co2e must be >= 0")


def from_measurement(m: Any, *, team: str | None = None, workload: str | None = None,
                     region: str | None = None) -> MeasuredRow:
    """A row from a ``carbon.measured.Measurement`` (codecarbon's emissions.csv, JSONL)."""
    return MeasuredRow(region=region or m.region or m.zone or "unknown",
                       started_at=m.started_at, ended_at=m.ended_at, energy_kwh=m.energy.kwh,
                       kg_co2e=m.emissions.kg_co2e, source=m.source,
                       workload=workload or m.project or None, team=team, run_id=m.run_id)


# ---- the emissions table ----------------------------------------------------
def add_measurements(engine: Engine, rows: Iterable[MeasuredRow]) -> int:
    """Insert ``rows`` in one transaction, stamped with the time now; how many were inserted."""
    now = datetime.now(UTC)
    values = [{f.name: getattr(m, f.name) for f in dataclasses.fields(m)} | {"recorded_at": now}
              for m in rows]
    if values:
        with engine.begin() as conn:
            conn.execute(insert(t.emissions), values)
    return len(values)


def read_measurements(engine: Engine, *, since: datetime | None = None,
                      until: datetime | None = None) -> list[MeasuredRow]:
    """Rows that end after ``since`` and start before ``until`` (each if given), oldest first."""
    query = select(t.emissions).order_by(t.emissions.c.started_at, t.emissions.c.id)
    if since is not None:
        query = query.where(t.emissions.c.ended_at > since)
    if until is not None:
        query = query.where(t.emissions.c.started_at < until)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [MeasuredRow(region=r.region, started_at=r.started_at, ended_at=r.ended_at,
                        energy_kwh=r.energy_kwh, kg_co2e=r.kg_co2e, source=r.source,
                        workload=r.workload, team=r.team, run_id=r.run_id, kind=r.kind)
            for r in rows]


# ---- the report: pure, from values ------------------------------------------
def planned_section(plan_id: str, plan: Plan, assignments: Iterable[Assignment]) -> dict[str, Any]:
    """A plan's totals by team and region, cost included (``assignments``: arrivals too)."""
    rows = [(a.team, a.region, a.cost_usd, a.energy_kwh, a.emissions_kg) for a in assignments]
    return {"plan_id": plan_id,
            "horizon": {"start": utc_iso(plan.horizon_start), "end": utc_iso(plan.horizon_end)},
            **_grouped(rows, with_cost=True)}


def no_plan_section() -> dict[str, Any]:
    """The planned section when the store holds no plan: all zero."""
    return {"plan_id": None, "by_team": [], "by_region": [], "total": _zero()}


def measured_section(measured: Iterable[MeasuredRow], *, since: datetime | None,
                     until: datetime | None) -> dict[str, Any]:
    """Readings' totals by team (``unknown`` if none) and region; no cost."""
    rows = [(m.team or "unknown", m.region, 0.0, m.energy_kwh, m.kg_co2e) for m in measured]
    return {"window": {"since": utc_iso(since), "until": utc_iso(until)},
            "readings": len(rows), **_grouped(rows, with_cost=False)}


def report(planned: dict[str, Any], measured: dict[str, Any]) -> dict[str, Any]:
    return {"planned": planned, "measured": measured, "note": NOTE}


def utc_iso(value: datetime | None) -> str | None:
    """``value`` in UTC as ISO 8601 with a ``Z``; None stays None."""
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _grouped(rows: list[_Row], *, with_cost: bool) -> dict[str, Any]:
    def group(index: int) -> list[dict[str, Any]]:
        acc: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
        for row in rows:
            for i, value in enumerate(row[2:]):
                acc[row[index]][i] += value
        key = "team" if index == 0 else "region"
        return [{key: name, **_totals(v, with_cost)} for name, v in sorted(acc.items())]

    total = [float(sum(r[i] for r in rows)) for i in (2, 3, 4)]
    return {"by_team": group(0), "by_region": group(1), "total": _totals(total, with_cost)}


def _totals(v: list[float], with_cost: bool) -> dict[str, float]:
    """[cost_usd, energy_kwh, kg_co2e] sums, rounded; cost only if ``with_cost``."""
    out = {"energy_kwh": round(v[1], 3), "kg_co2e": round(v[2], 3)}
    if with_cost:
        out = {"cost_usd": round(v[0], 2)} | out
    return out


def _zero() -> dict[str, float]:
    return {"cost_usd": 0.0, "energy_kwh": 0.0, "kg_co2e": 0.0}
