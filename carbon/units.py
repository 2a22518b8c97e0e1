"""Unit types for energy and emissions maths: Power, Energy, Intensity, Emissions.

Each type holds one float in the unit in its field name and offers only the
arithmetic that keeps the dimensions right::

    Power(w) .over(hours)                 -> Energy(kwh)       kwh = w * h / 1000
    Energy(kwh) * Intensity(g_per_kwh)    -> Emissions(kg_co2e) kg = kwh * g/kWh / 1000
    Energy + Energy, Emissions + Emissions, x * float, x / float, x / x -> float

Everything else (Energy + Power, Energy * Energy, ...) is a TypeError. Conversions
in and out happen here, once:

- ``Intensity.from_lbs_per_mwh``: 1 lb = 0.45359237 kg exactly (US Code 15 USC 205c /
  the international yard and pound agreement, 1959), so 1 lb/MWh = 453.59237 g per
  1000 kWh = 0.45359237 g/kWh. WattTime's ``co2_moer`` and eGRID come in lbs/MWh.
- ``Intensity.from_t_per_kwh``: metric tonnes per kWh (Cloud Carbon Footprint grid
  factors) x 1e6.
- ``Energy.from_joules``: 1 kWh = 3.6e6 J.

Emissions carry the **accounting basis** they were computed on (GHG Protocol Scope 2
guidance, 2015): ``LOCATION`` (grid average of where the power is drawn),
``MARKET`` (after contractual instruments: clean-energy contracts, residual mix) or
``EMBODIED`` (manufacturing, amortised; it does not depend on how electricity is
accounted). An ``Intensity`` carries the basis it produces. Adding LOCATION to
MARKET raises ``BasisMismatchError``: the two are alternative answers to the same
question and must never be summed. EMBODIED joins either (the result keeps the
other's basis), which is how SCI-style totals (operational + embodied) are built.
Intensities also say whether they are ``average`` or ``marginal`` (WattTime's MOER):
multiplying energy by a marginal intensity gives an avoided/induced-emissions
figure, not an inventory figure, so the result is tagged ``marginal=True`` and
cannot be added to average-based emissions.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

__all__ = [
    "KG_PER_LB",
    "Basis",
    "BasisMismatchError",
    "Emissions",
    "Energy",
    "Intensity",
    "Power",
]

KG_PER_LB = 0.45359237


class Basis(enum.StrEnum):
    LOCATION = "location"
    MARKET = "market"
    EMBODIED = "embodied"


class BasisMismatchError(TypeError):
    """Location-based and market-based (or marginal and average) figures were combined."""


def _finite(name: str, value: float) -> float:
    if isinstance(value, bool):
        raise TypeError(f"{name} = {value!r} is a bool; give a number")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} = {value!r} must be finite")
    return v


def _is_int_zero(other: object) -> bool:
    return type(other) is int and other == 0


def _scalar(other: object) -> float | None:
    if isinstance(other, bool) or not isinstance(other, int | float):
        return None
    return float(other)


@dataclass(frozen=True, slots=True, order=True)
class Power:
    """Electrical power in watts."""

    w: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "w", _finite("Power.w", self.w))

    @property
    def kw(self) -> float:
        return self.w / 1000.0

    def over(self, hours: float) -> Energy:
        """Energy drawn at this power for ``hours`` hours."""
        h = _finite("hours", hours)
        if h < 0:
            raise ValueError(f"hours = {hours!r} must be >= 0")
        return Energy(self.w * h / 1000.0)

    def __add__(self, other: object) -> Power:
        if isinstance(other, Power):
            return Power(self.w + other.w)
        if _is_int_zero(other):
            return self
        return NotImplemented

    __radd__ = __add__

    def __sub__(self, other: object) -> Power:
        if isinstance(other, Power):
            return Power(self.w - other.w)
        return NotImplemented

    def __mul__(self, other: object) -> Power:
        k = _scalar(other)
        return NotImplemented if k is None else Power(self.w * k)

    __rmul__ = __mul__

    def __truediv__(self, other: object) -> Power | float:
        if isinstance(other, Power):
            return self.w / other.w
        k = _scalar(other)
        return NotImplemented if k is None else Power(self.w / k)


@dataclass(frozen=True, slots=True, order=True)
class Energy:
    """Electrical energy in kWh."""

    kwh: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "kwh", _finite("Energy.kwh", self.kwh))

    @classmethod
    def from_joules(cls, joules: float) -> Energy:
        return cls(_finite("joules", joules) / 3.6e6)

    @classmethod
    def from_wh(cls, wh: float) -> Energy:
        return cls(_finite("wh", wh) / 1000.0)

    @property
    def wh(self) -> float:
        return self.kwh * 1000.0

    @property
    def mwh(self) -> float:
        return self.kwh / 1000.0

    def __add__(self, other: object) -> Energy:
        if isinstance(other, Energy):
            return Energy(self.kwh + other.kwh)
        if _is_int_zero(other):
            return self  # lets sum() start from 0
        return NotImplemented

    __radd__ = __add__

    def __sub__(self, other: object) -> Energy:
        if isinstance(other, Energy):
            return Energy(self.kwh - other.kwh)
        return NotImplemented

    def __mul__(self, other: object) -> Energy | Emissions:
        if isinstance(other, Intensity):
            return other._emissions(self)
        k = _scalar(other)
        return NotImplemented if k is None else Energy(self.kwh * k)

    __rmul__ = __mul__

    def __truediv__(self, other: object) -> Energy | float:
        if isinstance(other, Energy):
            return self.kwh / other.kwh
        k = _scalar(other)
        return NotImplemented if k is None else Energy(self.kwh / k)


@dataclass(frozen=True, slots=True, kw_only=True)
class Intensity:
    """Carbon intensity of electricity in g CO2e per kWh, with its basis."""

    g_per_kwh: float
    basis: Basis = Basis.LOCATION
    marginal: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "g_per_kwh", _finite("Intensity.g_per_kwh", self.g_per_kwh))
        object.__setattr__(self, "basis", Basis(self.basis))
        if self.basis is Basis.EMBODIED:
            raise ValueError("Intensity.basis cannot be 'embodied'; embodied emissions are not "
                             "a per-kWh grid figure")

    @classmethod
    def from_lbs_per_mwh(cls, lbs_per_mwh: float, *, basis: Basis = Basis.LOCATION,
                         marginal: bool = False) -> Intensity:
        """lbs/MWh (WattTime, eGRID) -> g/kWh: x 0.45359237."""
        return cls(g_per_kwh=_finite("lbs_per_mwh", lbs_per_mwh) * KG_PER_LB,
                   basis=basis, marginal=marginal)

    @classmethod
    def from_t_per_kwh(cls, t_per_kwh: float, *, basis: Basis = Basis.LOCATION) -> Intensity:
        """Metric tonnes CO2e per kWh (Cloud Carbon Footprint) -> g/kWh: x 1e6."""
        return cls(g_per_kwh=_finite("t_per_kwh", t_per_kwh) * 1e6, basis=basis)

    @property
    def lbs_per_mwh(self) -> float:
        return self.g_per_kwh / KG_PER_LB

    @property
    def kg_per_kwh(self) -> float:
        return self.g_per_kwh / 1000.0

    def _emissions(self, energy: Energy) -> Emissions:
        return Emissions(kg_co2e=energy.kwh * self.g_per_kwh / 1000.0, basis=self.basis,
                         marginal=self.marginal)

    def __mul__(self, other: object) -> Emissions | Intensity:
        if isinstance(other, Energy):
            return self._emissions(other)
        k = _scalar(other)
        if k is None:
            return NotImplemented
        return Intensity(g_per_kwh=self.g_per_kwh * k, basis=self.basis, marginal=self.marginal)

    __rmul__ = __mul__


@dataclass(frozen=True, slots=True, kw_only=True)
class Emissions:
    """Greenhouse-gas emissions in kg CO2e, with the accounting basis they were computed on."""

    kg_co2e: float
    basis: Basis = Basis.LOCATION
    marginal: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "kg_co2e", _finite("Emissions.kg_co2e", self.kg_co2e))
        object.__setattr__(self, "basis", Basis(self.basis))

    @classmethod
    def zero(cls, basis: Basis = Basis.LOCATION) -> Emissions:
        return cls(kg_co2e=0.0, basis=basis)

    @property
    def g(self) -> float:
        return self.kg_co2e * 1000.0

    @property
    def t(self) -> float:
        return self.kg_co2e / 1000.0

    def _combined_basis(self, other: Emissions) -> Basis:
        if self.marginal != other.marginal:
            raise BasisMismatchError(
                "cannot add marginal-intensity emissions to average-intensity emissions: "
                "marginal figures (e.g. WattTime co2_moer) estimate induced/avoided emissions, "
                "not an inventory; keep them in separate totals")
        if self.basis is other.basis or other.basis is Basis.EMBODIED:
            return self.basis
        if self.basis is Basis.EMBODIED:
            return other.basis
        raise BasisMismatchError(
            f"cannot add {self.basis}-based to {other.basis}-based emissions: they are two "
            "answers to the same question (GHG Protocol Scope 2 dual reporting); report them "
            "side by side, e.g. with carbon.footprint.Footprint")

    def __add__(self, other: object) -> Emissions:
        if isinstance(other, Emissions):
            return Emissions(kg_co2e=self.kg_co2e + other.kg_co2e,
                             basis=self._combined_basis(other), marginal=self.marginal)
        if _is_int_zero(other):
            return self
        return NotImplemented

    __radd__ = __add__

    def __sub__(self, other: object) -> Emissions:
        if isinstance(other, Emissions):
            return Emissions(kg_co2e=self.kg_co2e - other.kg_co2e,
                             basis=self._combined_basis(other), marginal=self.marginal)
        return NotImplemented

    def __mul__(self, other: object) -> Emissions:
        k = _scalar(other)
        if k is None:
            return NotImplemented
        return Emissions(kg_co2e=self.kg_co2e * k, basis=self.basis, marginal=self.marginal)

    __rmul__ = __mul__

    def __truediv__(self, other: object) -> Emissions | float:
        if isinstance(other, Emissions):
            self._combined_basis(other)
            return self.kg_co2e / other.kg_co2e
        k = _scalar(other)
        if k is None:
            return NotImplemented
        return Emissions(kg_co2e=self.kg_co2e / k, basis=self.basis, marginal=self.marginal)
