"""carbon: grid carbon intensity in, an honest footprint out.

- ``carbon.units``: ``Power``, ``Energy``, ``Intensity``, ``Emissions`` (with their basis:
  location, market, embodied; average or marginal) and the arithmetic that makes sense.
- ``carbon.energy``: GPU power by utilisation, MIG share, host overhead, PUE, kWh,
  operational and embodied emissions (data in ``carbon/data/*.csv``, a source per row);
  float wrappers (``energy_kwh``, ``embodied_kg_co2e``, ...) for planner/ and app/.
- ``carbon.footprint``: ``Footprint`` with location- and market-based figures side by side,
  ``MarketInstruments`` (contracted clean share, residual mix) per region.
- ``carbon.intensity``: ``IntensitySeries`` (hourly g CO2e/kWh with source, kind, fetch
  time, signal and notes) and the embedded defaults.
- ``carbon.zones``: cloud region -> grid zone (``zone_for``), with sources and confidence.
- ``carbon.repair``: raw points -> a clean hourly series, saying what was repaired.
- ``carbon.sources``: Electricity Maps, WattTime, the UK Carbon Intensity API, trace files
  and the embedded default behind one interface; the fallback chain; the disk cache.
- ``carbon.forecast``: intensity forecasts from history (forecasting/, or seasonal-naive).
- ``carbon.measured`` / ``carbon.tracker``: measured footprints (codecarbon), kind "measured".

This package imports nothing from pricing/, planner/ or app/.
"""

from carbon.energy import (
    GpuPower,
    UnknownAcceleratorError,
    embodied,
    embodied_kg_co2e,
    energy_kwh,
    facility_energy,
    gpu_draw,
    gpu_draw_w,
    gpu_power,
    it_power,
    known_accelerators,
    mig_fraction,
    operational,
    operational_kg_co2e,
    pue_for,
)
from carbon.footprint import Footprint, FootprintKind, MarketInstruments, footprint
from carbon.intensity import (
    IntensityKind,
    IntensitySeries,
    IntensitySignal,
    OutsideSeriesError,
    UnknownZoneError,
    default_zones,
    embedded_default,
    known_zones,
)
from carbon.units import Basis, BasisMismatchError, Emissions, Energy, Intensity, Power
from carbon.zones import RegionZone, UnknownRegionError, find_region, region_zones, zone_for

__all__ = [
    "Basis",
    "BasisMismatchError",
    "Emissions",
    "Energy",
    "Footprint",
    "FootprintKind",
    "GpuPower",
    "Intensity",
    "IntensityKind",
    "IntensitySeries",
    "IntensitySignal",
    "MarketInstruments",
    "OutsideSeriesError",
    "Power",
    "RegionZone",
    "UnknownAcceleratorError",
    "UnknownRegionError",
    "UnknownZoneError",
    "default_zones",
    "embedded_default",
    "embodied",
    "embodied_kg_co2e",
    "energy_kwh",
    "facility_energy",
    "find_region",
    "footprint",
    "gpu_draw",
    "gpu_draw_w",
    "gpu_power",
    "it_power",
    "known_accelerators",
    "known_zones",
    "mig_fraction",
    "operational",
    "operational_kg_co2e",
    "pue_for",
    "region_zones",
    "zone_for",
]
