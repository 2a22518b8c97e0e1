"""Caps on a plan's totals: team budgets (USD, kgCO2e) and emission caps for Pareto points.

A limit is a linear side constraint of the model:

    sum_{j in team, o, s} v_jos * x_jos <= cap

with v_jos the USD (or kgCO2e) of one unit of j on option o starting at s.
In the CP-SAT model coefficients are rounded *up* and the cap *down* to
solver units (planner/objective.py SCALE), so a plan the solver accepts
never exceeds the cap in exact arithmetic either.
"""

from __future__ import annotations

import enum
import math
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from planner.domain import TrainingWorkload
from planner.objective import SCALE

if TYPE_CHECKING:
    from planner.options import Option


class LimitKind(enum.StrEnum):
    USD = "usd"
    KG_CO2E = "kg_co2e"


@dataclass(frozen=True, slots=True, kw_only=True)
class Limit:
    kind: LimitKind
    cap: float  # USD or kgCO2e over the plan
    team: str | None = None  # None: the whole plan

    def __post_init__(self) -> None:
        if not (math.isfinite(self.cap) and self.cap >= 0):
            raise ValueError(f"{self.label}: cap must be a finite number >= 0, got {self.cap!r}")

    @property
    def label(self) -> str:
        unit = "USD" if self.kind is LimitKind.USD else "kgCO2e"
        return f"team {self.team!r} {unit} budget" if self.team else f"{unit} cap"

    def applies(self, workload: TrainingWorkload) -> bool:
        return self.team is None or workload.team == self.team

    def unit_values(self, o: Option) -> np.ndarray:
        """USD or kgCO2e of one unit of the option, per start."""
        if self.kind is LimitKind.USD:
            return np.full(len(o.operational_kg), o.cost_usd)
        return o.operational_kg + o.embodied_kg

    def unit_coefficients(self, o: Option) -> np.ndarray:
        return np.ceil(self.unit_values(o) * SCALE - 1e-9).astype(np.int64)

    def int_cap(self) -> int:
        return math.floor(self.cap * SCALE + 1e-9)

    def value(self, *, cost_usd: float, emissions_kg: float) -> float:
        return cost_usd if self.kind is LimitKind.USD else emissions_kg


class LimitLedger:
    """What each limit has used so far; answers 'may these units go there?'."""

    def __init__(self, limits: tuple[Limit, ...]) -> None:
        self.limits = limits
        self.used: dict[int, int] = defaultdict(int)  # limit index -> solver units

    def room(self, workload: TrainingWorkload, o: Option, start: int) -> int | None:
        """How many units still fit all limits (None: no limit applies)."""
        most = None
        for i, limit in enumerate(self.limits):
            if not limit.applies(workload):
                continue
            coef = int(limit.unit_coefficients(o)[start - o.first_start])
            left = limit.int_cap() - self.used[i]
            fit = left // coef if coef > 0 else None
            if fit is not None:
                most = fit if most is None else min(most, fit)
        return most

    def take(self, workload: TrainingWorkload, o: Option, start: int, units: int) -> None:
        for i, limit in enumerate(self.limits):
            if limit.applies(workload):
                self.used[i] += units * int(limit.unit_coefficients(o)[start - o.first_start])


def within(limits: tuple[Limit, ...], placements, workloads) -> bool:
    """Do these placements respect every limit (in the model's rounded units)?"""
    ledger = LimitLedger(limits)
    for p in placements:
        w = workloads[p.workload]
        room = ledger.room(w, p.option, p.start)
        if room is not None and room < p.units:
            return False
        ledger.take(w, p.option, p.start, p.units)
    return True
