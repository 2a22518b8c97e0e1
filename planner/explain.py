"""One line per assignment: why it is where and when it is.

Each placement is compared with what the same workload does under
``run_now`` (home region, on-demand, start at submission): the wait, the move,
the accelerator swap, spot, and the resulting deltas in USD and kgCO2e.
"""

from __future__ import annotations

from planner.domain import Purchase
from planner.options import SPOT_FINISH_PROBABILITY
from planner.placement import Placement
from planner.problem import PlanningProblem


def average_g_per_kwh(p: Placement) -> float:
    return 1000.0 * p.option.operational_kg_at(p.start) / p.option.energy_kwh


def explain(p: Placement, run_now: Placement | None, problem: PlanningProblem) -> str:
    o = p.option
    parts: list[str] = []
    if run_now is None:
        home = problem.workloads[o.workload].home_region
        parts.append(f"home region {home} cannot run it on-demand; placed in {o.region.name}")
        if o.purchase is Purchase.SPOT:
            parts.append(_spot_text(p, problem))
        return "; ".join(parts)
    r = run_now.option
    wait_h = p.start - run_now.start
    if wait_h > 0:
        parts.append(f"waited {wait_h} h")
    elif wait_h < 0:
        parts.append(f"starts {-wait_h} h before the home queue would let it")
    if o.region.name != r.region.name:
        parts.append(f"moved {r.region.name} -> {o.region.name}")
    if wait_h or o.region.name != r.region.name:
        parts.append(f"grid {average_g_per_kwh(p):.0f} g/kWh (run-now {average_g_per_kwh(run_now):.0f})")
    if o.accelerator != r.accelerator:
        parts.append(f"{o.accelerator} instead of {r.accelerator}")
    if o.purchase is Purchase.SPOT:
        parts.append(_spot_text(p, problem))
    if not parts:
        parts.append("runs as submitted: nothing better within its window")
    share = p.units / run_now.units if run_now.units else 1.0
    d_usd = p.cost_usd - run_now.cost_usd * share
    d_kg = p.emissions_kg - run_now.emissions_kg * share
    return (f"{', '.join(parts)}: {_signed(d_usd, '$')} ({_pct(d_usd, run_now.cost_usd * share)}), "
            f"{_signed(d_kg)} kgCO2e ({_pct(d_kg, run_now.emissions_kg * share)}) vs run-now")


def _spot_text(p: Placement, problem: PlanningProblem) -> str:
    o = p.option
    work_h = problem.workloads[o.workload].runtime_h(o.accelerator)
    rework_min = 60.0 * (o.runtime_h - work_h)
    basis = " assumed" if o.offer.bucket_basis == "assumed" else ""
    return (f"spot (interruptions {o.interruption_bucket}/month{basis}, "
            f"+{rework_min:.1f} min expected rework, "
            f"{100 * SPOT_FINISH_PROBABILITY:.0f} % sure to meet the deadline)")


def _signed(value: float, unit: str = "") -> str:
    sign = "-" if value < 0 else "+"
    return f"{sign}{unit}{abs(value):,.1f}"


def _pct(delta: float, base: float) -> str:
    if base == 0:
        return "n/a"
    return f"{100.0 * delta / base:+.0f} %"
