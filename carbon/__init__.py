"""carbon: energy and emissions maths for GPU work, and hourly grid carbon intensity.

- ``carbon.energy``: GPU power by utilisation, host overhead, PUE, kWh, operational
  and embodied kg CO2e (figures in ``carbon/data/*.csv``, each row with its source).
- ``carbon.intensity``: ``IntensitySeries`` (hourly g CO2e/kWh of a grid zone) and the
  embedded default "typical day per month" profiles derived from real hourly traces.

This package imports nothing from pricing/, planner/ or app/.
"""

from carbon.energy import (
    GpuPower,
    UnknownAcceleratorError,
    embodied_kg_co2e,
    energy_kwh,
    gpu_draw_w,
    gpu_power,
    known_accelerators,
    operational_kg_co2e,
    pue_for,
)
from carbon.intensity import (
    IntensityKind,
    IntensitySeries,
    OutsideSeriesError,
    UnknownZoneError,
    default_zones,
    embedded_default,
)

__all__ = [
    "GpuPower",
    "IntensityKind",
    "IntensitySeries",
    "OutsideSeriesError",
    "UnknownAcceleratorError",
    "UnknownZoneError",
    "default_zones",
    "embedded_default",
    "embodied_kg_co2e",
    "energy_kwh",
    "gpu_draw_w",
    "gpu_power",
    "known_accelerators",
    "operational_kg_co2e",
    "pue_for",
]
