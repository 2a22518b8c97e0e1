"""The cost-vs-emissions Pareto front by the epsilon-constraint method.

    1. min cost                    -> (C_min, E_hi)   the cheapest plan and its emissions
    2. min emissions               -> (C_hi, E_min)   the cleanest plan
    3. for eps_i = E_min + (E_hi - E_min) * i / (k - 1), i = 0 .. k-1:
           min cost  s.t.  total emissions <= eps_i   (a Limit on kgCO2e)

The k solves of step 3 are independent and run in parallel threads (CP-SAT
releases the GIL while it searches). Each point is a full Plan, checked like
any other; points a time limit left unproven say so through their gap.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from planner.domain import Objective, Plan
from planner.limits import Limit, LimitKind
from planner.problem import PlanningProblem


@dataclass(frozen=True, slots=True, kw_only=True)
class ParetoPoint:
    emissions_cap_kg: float | None  # None for the two end points
    plan: Plan

    @property
    def cost_usd(self) -> float:
        return self.plan.totals.cost_usd

    @property
    def emissions_kg(self) -> float:
        return self.plan.totals.emissions_kg


def pareto_front(problem: PlanningProblem, *, points: int, time_limit_s: float,
                 workers: int = 1, parallel: int = 2, solve=None) -> tuple[ParetoPoint, ...]:
    """``points`` >= 2 plans from cleanest to cheapest; ``solve`` is planner.solve.plan."""
    if points < 2:
        raise ValueError("a Pareto front needs at least 2 points")
    if solve is None:
        from planner.solve import plan as solve
    cheapest = solve(problem, objective=Objective.COST, time_limit_s=time_limit_s, workers=workers)
    cleanest = solve(problem, objective=Objective.CARBON, time_limit_s=time_limit_s,
                     workers=workers)
    low, high = cleanest.totals.emissions_kg, cheapest.totals.emissions_kg
    caps = [low + (high - low) * i / (points - 1) for i in range(1, points - 1)]

    def point(cap: float) -> ParetoPoint:
        capped = dataclasses.replace(
            problem, limits=problem.limits + (Limit(kind=LimitKind.KG_CO2E, cap=cap),))
        return ParetoPoint(emissions_cap_kg=cap,
                           plan=solve(capped, objective=Objective.COST,
                                      time_limit_s=time_limit_s, workers=workers))

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        middle = list(pool.map(point, caps))
    return (ParetoPoint(emissions_cap_kg=None, plan=cleanest), *middle,
            ParetoPoint(emissions_cap_kg=None, plan=cheapest))
