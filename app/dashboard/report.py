"""The footprint CSV for sustainability reports: units and method in a '#' header.

Columns (one row per team, or per team and workload)::

    energy_kwh                    facility energy, kWh
    location_based_kg_co2e        operational, location-based (GHG Protocol Scope 2 Guidance)
    market_based_kg_co2e          operational, market-based (same guidance); never added to the
                                  location-based figure
    embodied_kg_co2e              manufacturing share of the GPUs, reported apart
    cost_usd, gpu_hours

Only planned (estimated) figures; measured readings go in their own file.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import UTC, datetime

import pandas as pd

from app.dashboard import queries
from app.store import StoredPlan

COLUMNS = {"energy_kwh": "energy_kwh", "location_kg": "location_based_kg_co2e",
           "market_kg": "market_based_kg_co2e", "embodied_kg": "embodied_kg_co2e",
           "cost_usd": "cost_usd", "gpu_hours": "gpu_hours"}

METHOD = (
    ("units: energy_kwh = kilowatt-hours of facility energy; *_kg_co2e = kilograms of CO2 "
     "equivalent; cost_usd = US dollars at the plan's offer prices; gpu_hours = GPU-hours"),
    ("location_based_kg_co2e: GHG Protocol Scope 2 Guidance (2015) location-based method, "
     "operational only: sum over hours of kWh x the hourly grid-average intensity (g/kWh) of "
     "the region's grid zone / 1000"),
    ("market_based_kg_co2e: GHG Protocol Scope 2 Guidance market-based method, operational "
     "only: kWh x the intensity of contracted clean energy and the residual mix the fleet "
     "declares; equal to location-based where a region declares no instruments; reported "
     "beside the location-based figure, never added to it"),
    ("for rented cloud capacity these Scope 2 methods describe the provider's electricity "
     "(your Scope 3 category 1)"),
    ("embodied_kg_co2e: manufacturing share per GPU-hour (Luccioni et al. 2022, scaled by board "
     "power), reported apart; the Software Carbon Intensity total is location-based + embodied"),
    ("energy model: gridshift carbon/energy.py: (GPU board power x power curve at the job's "
     "utilisation + host watts per GPU) x GPUs x hours x PUE of the region / 1000"),
    ("planned figures (estimated before running); measured readings (e.g. codecarbon) are "
     "reported separately and never summed with these"),
)


def header(stored: StoredPlan, level: str, now: datetime | None = None) -> list[str]:
    plan = stored.plan
    now = now or datetime.now(UTC)
    lines = [f"gridshift planned footprint by {level}",
             (f"plan {stored.id}, horizon {plan.horizon_start:%Y-%m-%dT%H:%MZ} to "
              f"{plan.horizon_end:%Y-%m-%dT%H:%MZ}, objective {plan.objective}, "
              f"stored {stored.summary.stored_at:%Y-%m-%dT%H:%MZ}; "
              f"generated {now:%Y-%m-%dT%H:%MZ}"), *METHOD]
    carbon = [f"{k.split(':', 1)[1]}: {v}" for k, v in sorted(plan.provenance.items())
              if k.startswith("carbon:")]
    if carbon:
        lines.append("carbon intensity data: " + " | ".join(carbon))
    if plan.provenance.get("catalog"):
        lines.append(f"prices: catalog {plan.provenance['catalog']}")
    return lines


def _write(lines: Iterable[str], table: pd.DataFrame) -> str:
    buf = io.StringIO()
    for line in lines:
        buf.write(f"# {line}\n")
    table.to_csv(buf, index=False, float_format="%.3f", lineterminator="\n")
    return buf.getvalue()


def footprint_csv(stored: StoredPlan, assignments: pd.DataFrame, *, by_workload: bool,
                  now: datetime | None = None) -> str:
    keys = ["team", "workload"] if by_workload else ["team"]
    table = queries.by(assignments, keys)[keys + list(COLUMNS)].rename(columns=COLUMNS)
    return _write(header(stored, " and ".join(keys), now), table)


def measured_csv(measured: pd.DataFrame, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    lines = ["gridshift measured footprint by team (readings as recorded, e.g. codecarbon)",
             f"generated {now:%Y-%m-%dT%H:%MZ}",
             ("units: energy_kwh = kilowatt-hours as measured; kg_co2e = kilograms of CO2 "
              "equivalent as the measuring tool computed it (location-based); never summed "
              "with planned figures")]
    table = (measured.groupby(["team", "source"], as_index=False)[["energy_kwh", "kg_co2e"]]
             .sum().sort_values(["team", "source"]))
    return _write(lines, table)
