"""Objective weights and the one place where floats become solver integers.

    score(USD, kg) = w_usd * USD + w_kg * kg

    cost      w_usd = 1,      w_kg = 0.001          (1 USD/t: breaks ties toward cleaner)
    balanced  w_usd = 1,      w_kg = price / 1000   (price in USD per tonne CO2e)
    carbon    w_usd = 0.001,  w_kg = 1              (score in kg; 0.1 cent per USD breaks ties)

CP-SAT needs integer coefficients: ``to_int`` multiplies a score by
``SCALE`` (milli-USD, or grams for ``carbon``) and rounds; ``from_int``
converts back. Nothing else in the planner scales.
"""

from __future__ import annotations

from dataclasses import dataclass

from planner.domain import Objective

SCALE = 1000


@dataclass(frozen=True, slots=True, kw_only=True)
class Weights:
    usd: float
    kg: float

    def score(self, *, cost_usd: float, emissions_kg: float) -> float:
        return self.usd * cost_usd + self.kg * emissions_kg


def weights(objective: Objective, carbon_price_usd_per_t: float) -> Weights:
    if carbon_price_usd_per_t < 0:
        raise ValueError("carbon price must be >= 0 USD/t")
    match objective:
        case Objective.COST:
            return Weights(usd=1.0, kg=0.001)
        case Objective.BALANCED:
            return Weights(usd=1.0, kg=carbon_price_usd_per_t / 1000.0)
        case Objective.CARBON:
            return Weights(usd=0.001, kg=1.0)
    raise ValueError(f"unknown objective {objective!r}")


def to_int(score: float) -> int:
    return round(score * SCALE)


def from_int(value: float) -> float:
    return value / SCALE
