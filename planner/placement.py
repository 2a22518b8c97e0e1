"""A placement: some units of one workload on one option at one start slot.

The common currency of the model, the greedy heuristic and the baselines;
planner/solve.py turns placements into dated :class:`Assignment` values.
"""

from __future__ import annotations

from dataclasses import dataclass

from planner.objective import Weights
from planner.options import Option


def market_kg(market, location_kg: float, energy_kwh: float) -> float:
    """(1 - clean share) x (residual mix, else the grid average) x energy."""
    if market is None:
        return location_kg
    if market.residual_mix is not None:
        return (1.0 - market.clean_share) * market.residual_mix.g_per_kwh * energy_kwh / 1000.0
    return (1.0 - market.clean_share) * location_kg


@dataclass(frozen=True, slots=True, kw_only=True)
class Placement:
    option: Option
    start: int  # slot index
    units: int  # 1 for a gang; number of one-GPU tasks otherwise

    @property
    def workload(self) -> int:
        return self.option.workload

    @property
    def end_slot(self) -> int:
        return self.start + self.option.slots

    @property
    def cost_usd(self) -> float:
        return self.option.cost_usd * self.units

    @property
    def energy_kwh(self) -> float:
        return self.option.energy_kwh * self.units

    @property
    def operational_kg(self) -> float:
        return self.option.operational_kg_at(self.start) * self.units

    @property
    def embodied_kg(self) -> float:
        return self.option.embodied_kg * self.units

    @property
    def market_kg(self) -> float:
        """Market-based operational kgCO2e (Scope 2), from the region's declared instruments."""
        return market_kg(self.option.region.market, self.operational_kg, self.energy_kwh)

    @property
    def emissions_kg(self) -> float:
        return self.operational_kg + self.embodied_kg

    def score(self, weights: Weights) -> float:
        """Objective score, including any penalty for leaving the announced decision."""
        return (weights.score(cost_usd=self.cost_usd, emissions_kg=self.emissions_kg)
                + self.option.penalty_at(self.start) * self.units)
