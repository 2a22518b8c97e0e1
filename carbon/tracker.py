"""Run a command under codecarbon's offline tracker and return a ``Measurement``.

``measure_command(argv, region=zone_for("aws", "us-east-1"))`` starts
``codecarbon.OfflineEmissionsTracker`` with the region's country (ISO 3166 alpha-3)
and, where codecarbon has sub-national data, its region: the US state (eGRID) or the
Canadian province from the region table, or the Nordic bidding zone (SE1-4, NO1-5)
from the grid zone. The offline tracker makes no network calls.

What it measures (codecarbon 3.x): CPU power from RAPL where the kernel exposes it,
else the CPU's TDP scaled by load; RAM power from installed memory; GPU power from
NVML when NVIDIA GPUs are present. Tracking is ``machine`` mode: a command's child
processes are invisible to ``process`` mode, so the whole machine is measured, and on
a shared host other work is included (the measurement says so). Energy is multiplied
by ``pue`` (default: the provider's PUE from ``carbon/data/pue.csv``) so that measured
kWh compare with planned kWh, which include PUE.
"""

from __future__ import annotations

import logging
import subprocess
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from carbon.energy import pue_for
from carbon.measured import Measurement
from carbon.units import Emissions, Energy
from carbon.zones import RegionZone

__all__ = ["MeasureError", "MeasuredRun", "codecarbon_region", "measure_command"]

NORDIC = {"SE", "NO"}


class MeasureError(RuntimeError):
    """The command or the tracker could not run; the message says why."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MeasuredRun:
    measurement: Measurement
    exit_code: int


def codecarbon_region(region: RegionZone) -> str | None:
    """The sub-national ``region`` codecarbon understands for this cloud region, if any."""
    if region.country_iso2 == "US" and region.subdivision:
        return region.subdivision.lower()
    if region.country_iso2 == "CA":
        return {"CA-QC": "quebec", "CA-ON": "ontario"}.get(region.zone)
    if region.country_iso2 in NORDIC and "-" in region.zone:
        return region.zone.split("-", 1)[1]  # SE-SE3 -> SE3
    return None


def measure_command(argv: Sequence[str], *, region: RegionZone, pue: float | None = None,
                    measure_power_secs: float = 1.0, project: str = "gridshift-measure",
                    ) -> MeasuredRun:
    """Run ``argv`` (no shell) under the offline tracker; return the measurement and exit code."""
    if not argv:
        raise MeasureError("no command given; put it after --, e.g. gridshift measure "
                           "--region aws:us-east-1 -- python train.py")
    if not region.country_iso3:
        raise MeasureError(f"region {region.key} has no country; give a RegionZone with "
                           "country_iso3 (codecarbon needs it offline)")
    try:
        from codecarbon import OfflineEmissionsTracker
    except ImportError:
        raise MeasureError("codecarbon is not installed; pip install codecarbon") from None
    logging.getLogger("codecarbon").setLevel(logging.ERROR)
    pue_used = pue if pue is not None else pue_for(region.provider)
    cc_region = codecarbon_region(region)
    with tempfile.TemporaryDirectory(prefix="gridshift-cc-") as tmp:
        kwargs = {"country_iso_code": region.country_iso3, "output_dir": tmp,
                  "log_level": "error",
                  "measure_power_secs": measure_power_secs, "project_name": project,
                  "allow_multiple_runs": True, "tracking_mode": "machine", "pue": pue_used}
        if cc_region:
            kwargs["region"] = cc_region
        tracker = OfflineEmissionsTracker(**kwargs)
        started = datetime.now(UTC)
        tracker.start()
        try:
            proc = subprocess.run(list(argv), check=False)
        except FileNotFoundError:
            tracker.stop()
            raise MeasureError(f"command {argv[0]!r} not found; check the spelling or give the "
                               "full path") from None
        except BaseException:
            tracker.stop()
            raise
        tracker.stop()
        d = tracker.final_emissions_data
    if d is None:
        raise MeasureError("codecarbon returned no data; re-run with a longer command")
    where = region.country_iso3 + (f"/{cc_region}" if cc_region else "")
    m = Measurement(
        run_id=str(getattr(d, "run_id", "") or uuid.uuid4()), project=project,
        started_at=started, duration_s=float(d.duration), energy=Energy(float(d.energy_consumed)),
        emissions=Emissions(kg_co2e=float(d.emissions)),
        source=(f"codecarbon {d.codecarbon_version} OfflineEmissionsTracker (machine tracking, "
                f"{where}, PUE {pue_used:g})"),
        region=region.key, zone=region.zone, country_iso3=region.country_iso3, pue=pue_used,
        cpu_kwh=float(d.cpu_energy), gpu_kwh=float(d.gpu_energy), ram_kwh=float(d.ram_energy),
        command=tuple(argv), exit_code=proc.returncode,
        notes=("machine-wide measurement: other work on the host during the run is included",
               f"CPU model {d.cpu_model}, {int(d.gpu_count or 0)} GPU(s) seen"))
    return MeasuredRun(measurement=m, exit_code=proc.returncode)
