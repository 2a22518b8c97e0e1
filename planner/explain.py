"""One line per assignment: why it is where and when it is.

Each placement is compared with what the same workload does under
``run_now`` (home region, on-demand, start at submission): the wait, the move,
the accelerator swap, spot, and the resulting deltas in USD and kgCO2e; then
with the next best option of its own window, and what ruled that one out
(it scores worse, or capacity, budgets, the time limit).
"""

from __future__ import annotations

import numpy as np

from planner.capacity import Ledger
from planner.domain import HOUR, Purchase
from planner.limits import LimitLedger
from planner.objective import Weights
from planner.options import SPOT_FINISH_PROBABILITY, WorkloadOptions
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


def next_best(p: Placement, wo: WorkloadOptions, ledger: Ledger, weights: Weights,
              spent: LimitLedger | None = None, *, horizon_start=None) -> str:
    """The best other option (place, accelerator, purchase) of the workload at its best
    start, its deltas, and what ruled it out.

    ``ledger`` holds the whole plan; the placement's own GPUs are taken out
    while the alternative is tried, so 'capacity' means other work holds it.
    """
    others = [o for o in wo.options if o is not p.option]
    if not others:
        return "no other option within its window"
    # the smallest score over every (other option, start), the earlier option and start on
    # ties: score_key's sum, computed over all of them at once
    lengths = [o.last_start - o.first_start + 1 for o in others]
    scores = (np.repeat([weights.usd * o.cost_usd for o in others], lengths)
              + weights.kg * (np.concatenate([o.operational_kg for o in others])
                              + np.repeat([o.embodied_kg for o in others], lengths))
              + np.concatenate([np.zeros(n) if o.penalty is None else o.penalty
                                for o, n in zip(others, lengths, strict=True)]))
    row = int(np.argmin(scores))
    oi = int(np.searchsorted(np.cumsum(lengths), row, side="right"))
    start = others[oi].first_start + row - (sum(lengths[:oi]))
    alt = Placement(option=others[oi], start=start, units=p.units)
    d_usd = alt.cost_usd - p.cost_usd
    d_kg = alt.emissions_kg - p.emissions_kg
    when = (f"{horizon_start + alt.start * HOUR:%m-%dT%H:%MZ}" if horizon_start is not None
            else f"slot {alt.start}")
    where = f"{alt.option.region.name}/{alt.option.accelerator}/{alt.option.purchase} at {when}"
    if alt.score(weights) >= p.score(weights):
        why = "costs more on the objective"
    else:
        o = p.option
        ledger.take(o.resources, p.start, o.slots, -p.units * wo.gpus_per_unit)
        fits = ledger.fits(alt.option.resources, alt.start, alt.option.slots,
                           p.units * wo.gpus_per_unit)
        ledger.take(o.resources, p.start, o.slots, p.units * wo.gpus_per_unit)
        if not fits:
            why = f"ruled out by capacity ({alt.option.cluster}/{alt.option.accelerator} is full)"
        elif spent is not None and spent.limits:
            why = "ruled out by a budget or emission cap, or not reached in the time limit"
        else:
            why = "not reached within the solver's time limit"
    return (f"next best {where}: {_signed(d_usd, '$')}, {_signed(d_kg)} kgCO2e; {why}")
