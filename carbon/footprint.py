"""Footprint of GPU work: energy, location-based and market-based emissions, embodied.

Scope 2 dual reporting (GHG Protocol Scope 2 Guidance, 2015, ch. 6-7) asks for two
figures side by side, never added together:

- **location-based**: energy x the grid-average intensity where and when it is drawn::

      location_kg = sum_h kwh[h] * g_loc[h] / 1000

- **market-based**: energy x the intensity of what the fleet bought. A region may declare
  ``MarketInstruments``: a share ``clean_share`` of consumption covered by contracted
  zero-emission energy (PPAs, EACs with matching claims) and the ``residual_mix`` factor
  for the rest (the grid mix after others' claims are removed, e.g. AIB European
  Residual Mixes). Then::

      g_mkt[h]   = (1 - clean_share) * residual_g_per_kwh
      market_kg  = sum_h kwh[h] * g_mkt[h] / 1000

  With no residual mix declared, the uncovered share takes the hourly grid average
  (the Scope 2 hierarchy's last resort) and the footprint says so. With no instruments
  at all the market-based figure equals the location-based one, labelled as such.

Embodied (manufacturing) emissions are reported beside both (basis ``EMBODIED``);
``Footprint.total(basis)`` adds them to the chosen operational figure, which is the
only total offered. ``kind`` keeps planned and measured footprints apart: adding one
to the other raises.

Marginal series (WattTime ``co2_moer``) are refused: they estimate the effect of a
change in load, not an inventory.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from carbon.intensity import IntensitySeries, IntensitySignal
from carbon.units import Basis, BasisMismatchError, Emissions, Energy, Intensity

__all__ = ["Footprint", "FootprintKind", "MarketInstruments", "footprint", "operational_by_hour"]

HOUR = timedelta(hours=1)


class FootprintKind(enum.StrEnum):
    PLANNED = "planned"
    MEASURED = "measured"


@dataclass(frozen=True, slots=True, kw_only=True)
class MarketInstruments:
    """What a fleet declares for one region's market-based figure."""

    clean_share: float = 0.0
    residual_mix: Intensity | None = None
    source: str = ""

    def __post_init__(self) -> None:
        c = float(self.clean_share)
        if not (math.isfinite(c) and 0.0 <= c <= 1.0):
            raise ValueError(f"clean_share = {self.clean_share!r} must be in [0, 1]: the share of "
                             "the region's consumption covered by contracted clean energy")
        object.__setattr__(self, "clean_share", c)
        rm = self.residual_mix
        if isinstance(rm, int | float) and not isinstance(rm, bool):
            rm = Intensity(g_per_kwh=float(rm), basis=Basis.MARKET)
        if rm is not None:
            if rm.g_per_kwh < 0 or rm.marginal:
                raise ValueError(f"residual_mix = {rm.g_per_kwh!r} g/kWh must be an average "
                                 "intensity >= 0")
            rm = Intensity(g_per_kwh=rm.g_per_kwh, basis=Basis.MARKET)
        object.__setattr__(self, "residual_mix", rm)

    @classmethod
    def from_mapping(cls, data: Mapping[str, object], *, where: str) -> MarketInstruments:
        """From a fleet file's ``market: {clean_share, residual_mix_g_per_kwh, source}``."""
        unknown = set(data) - {"clean_share", "residual_mix_g_per_kwh", "source"}
        if unknown:
            raise ValueError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}; use "
                             "clean_share (0-1), residual_mix_g_per_kwh, source")
        rm = data.get("residual_mix_g_per_kwh")
        try:
            return cls(clean_share=float(data.get("clean_share", 0.0)),
                       residual_mix=None if rm is None else Intensity(
                           g_per_kwh=float(rm), basis=Basis.MARKET),
                       source=str(data.get("source", "")))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}: {exc}") from None

    def intensity(self, location: Intensity) -> Intensity:
        """Market-based intensity of one hour whose grid average is ``location``."""
        g = self.residual_mix.g_per_kwh if self.residual_mix else location.g_per_kwh
        return Intensity(g_per_kwh=(1.0 - self.clean_share) * g, basis=Basis.MARKET)

    def describe(self) -> str:
        rest = (f"residual mix {self.residual_mix.g_per_kwh:g} g/kWh" if self.residual_mix
                else "grid average (no residual mix declared)")
        src = f"; {self.source}" if self.source else ""
        return f"{self.clean_share:.0%} contracted clean energy, rest at {rest}{src}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Footprint:
    """One piece of work's footprint, both Scope 2 figures kept apart."""

    kind: FootprintKind
    energy: Energy
    location_based: Emissions
    market_based: Emissions
    embodied: Emissions
    intensity_source: str = ""
    market_basis: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", FootprintKind(self.kind))
        for name, want in (("location_based", Basis.LOCATION), ("market_based", Basis.MARKET),
                           ("embodied", Basis.EMBODIED)):
            if getattr(self, name).basis is not want:
                raise BasisMismatchError(f"Footprint.{name} has basis "
                                         f"{getattr(self, name).basis}, expected {want}")

    def total(self, basis: Basis | str) -> Emissions:
        """Operational emissions on ``basis`` (location or market) plus embodied."""
        b = Basis(basis)
        if b is Basis.LOCATION:
            return self.location_based + self.embodied
        if b is Basis.MARKET:
            return self.market_based + self.embodied
        raise ValueError("total(basis): basis must be 'location' or 'market'")

    def __add__(self, other: object) -> Footprint:
        if not isinstance(other, Footprint):
            return NotImplemented
        if other.kind is not self.kind:
            raise TypeError(f"cannot add a {other.kind} footprint to a {self.kind} one: planned "
                            "and measured figures are reported side by side, not summed")
        srcs = "; ".join(dict.fromkeys(s for s in (self.intensity_source,
                                                   other.intensity_source) if s))
        basis = "; ".join(dict.fromkeys(s for s in (self.market_basis, other.market_basis) if s))
        return Footprint(kind=self.kind, energy=self.energy + other.energy,
                         location_based=self.location_based + other.location_based,
                         market_based=self.market_based + other.market_based,
                         embodied=self.embodied + other.embodied, intensity_source=srcs,
                         market_basis=basis)

    def as_dict(self) -> dict[str, object]:
        return {"kind": str(self.kind), "energy_kwh": self.energy.kwh,
                "location_based_kg_co2e": self.location_based.kg_co2e,
                "market_based_kg_co2e": self.market_based.kg_co2e,
                "embodied_kg_co2e": self.embodied.kg_co2e,
                "intensity_source": self.intensity_source, "market_basis": self.market_basis}


def _hourly_intensity(series: IntensitySeries, start: datetime, n: int) -> list[Intensity]:
    if series.signal is IntensitySignal.MARGINAL:
        raise ValueError(f"zone {series.zone!r}: {series.source} is a marginal signal; a "
                         "footprint needs grid-average intensity (use it to steer, not to report)")
    return [Intensity(g_per_kwh=series.at(start + i * HOUR)) for i in range(n)]


def operational_by_hour(energy_by_hour: Sequence[Energy], series: IntensitySeries,
                        start: datetime) -> tuple[Emissions, ...]:
    """Location-based emissions of each hour from ``start``."""
    intens = _hourly_intensity(series, start, len(energy_by_hour))
    return tuple(e * i for e, i in zip(energy_by_hour, intens))


def footprint(*, energy_by_hour: Sequence[Energy], series: IntensitySeries, start: datetime,
              embodied: Emissions | None = None, instruments: MarketInstruments | None = None,
              kind: FootprintKind = FootprintKind.PLANNED) -> Footprint:
    """Footprint of hourly energy drawn from ``start`` in the zone of ``series``."""
    intens = _hourly_intensity(series, start, len(energy_by_hour))
    loc = sum((e * i for e, i in zip(energy_by_hour, intens)), Emissions.zero(Basis.LOCATION))
    if instruments is None:
        mkt = Emissions(kg_co2e=loc.kg_co2e, basis=Basis.MARKET)
        basis = "no contractual instruments declared: market-based = location-based"
    else:
        mkt = sum((e * instruments.intensity(i) for e, i in zip(energy_by_hour, intens)),
                  Emissions.zero(Basis.MARKET))
        basis = instruments.describe()
    return Footprint(kind=kind, energy=sum(energy_by_hour, Energy(0.0)), location_based=loc,
                     market_based=mkt, embodied=embodied or Emissions.zero(Basis.EMBODIED),
                     intensity_source=series.describe(), market_basis=basis)
