"""A readable summary of a Plan for the terminal."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from planner.domain import Plan, Totals


def _pct(new: float, old: float) -> str:
    return "n/a" if old == 0 else f"{100.0 * (new - old) / old:+.1f} %"


def print_summary(plan: Plan, console: Console | None = None, *, max_rows: int = 60) -> None:
    console = console or Console(width=max(120, Console().width))
    table = Table(title=f"gridshift plan: {len(plan.assignments)} assignments, "
                        f"horizon {plan.horizon_start:%Y-%m-%d %H:%MZ} + {plan.horizon_hours} h, "
                        f"objective {plan.objective}")
    for col in ("#", "workload", "team", "region", "GPUs", "purchase", "start (UTC)", "hours", "USD",
                "kgCO2e"):
        table.add_column(col, justify="right" if col in ("#", "hours", "USD", "kgCO2e") else "left",
                         no_wrap=True)
    shown = plan.assignments[:max_rows]
    for i, a in enumerate(shown, 1):
        table.add_row(str(i), a.workload, a.team, a.region, f"{a.gpus}x{a.accelerator}",
                      str(a.purchase), f"{a.start:%m-%d %H:%M}", f"{a.hours:.1f}",
                      f"{a.cost_usd:,.0f}", f"{a.emissions_kg:,.1f}")
    console.print(table)
    console.print("why:")
    for i, a in enumerate(shown, 1):
        console.print(f"  {i:>3}. {a.workload}: {a.reason}", highlight=False)
    if len(plan.assignments) > max_rows:
        console.print(f"... {len(plan.assignments) - max_rows} more assignments in the plan file")

    totals = Table(title="totals against the baselines (same inputs)")
    for col in ("strategy", "USD", "kWh", "kgCO2e", "USD vs now", "CO2e vs now", "late",
                "unplaced", "overbooked GPU-h"):
        totals.add_column(col, justify="left" if col == "strategy" else "right", no_wrap=True)
    run_now = plan.baselines["run_now"].totals if "run_now" in plan.baselines else None

    def row(name: str, t: Totals, misses: int, unplaced: int, over: str) -> None:
        totals.add_row(name, f"{t.cost_usd:,.0f}", f"{t.energy_kwh:,.0f}", f"{t.emissions_kg:,.1f}",
                       _pct(t.cost_usd, run_now.cost_usd) if run_now else "",
                       _pct(t.emissions_kg, run_now.emissions_kg) if run_now else "",
                       str(misses), str(unplaced), over)

    if plan.unplaced:  # totals that leave work out are not comparable with run_now's
        run_now = None
    row("gridshift", plan.totals, 0, len(plan.unplaced), "0")
    for name, b in plan.baselines.items():
        row(name, b.totals, b.deadline_misses, b.unplaced,
            str(b.overbooked_gpu_h))
    console.print(totals)
    if plan.unplaced:
        console.print(f"{len(plan.unplaced)} workload(s) unplaced: the totals leave them out, so "
                      "no saving against run_now is shown.", style="bold")
    console.print("now = run_now; late = deadline misses; overbooked GPU-h = what the same per-job "
                  "choices would overbook if each job ignored the others.", style="dim")
    s = plan.solver
    console.print(f"solver: {s.status}, objective {s.objective:,.2f}, bound {s.bound:,.2f}, "
                  f"gap {100 * s.gap:.3f} %, {s.wall_s:.2f} s, {s.num_variables:,} variables, "
                  f"{s.workers} workers", highlight=False)
    for u in plan.unplaced:
        console.print(f"[bold red]unplaced[/] {u.workload}: {u.reason}", highlight=False)
    if plan.changes:
        counts: dict[str, int] = {}
        for c in plan.changes:
            counts[str(c.kind)] = counts.get(str(c.kind), 0) + 1
        console.print("since the last plan: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
        for c in plan.changes:
            if c.detail and str(c.kind) in ("moved", "retimed", "dropped"):
                console.print(f"  {c.kind} {c.workload}: {c.detail}", highlight=False)


def print_pareto(front, console: Console | None = None) -> None:
    console = console or Console(width=max(120, Console().width))
    table = Table(title="cost vs emissions: the Pareto front (epsilon-constraint on kgCO2e)")
    for col in ("point", "kgCO2e cap", "USD", "kgCO2e", "unplaced", "solver", "gap"):
        table.add_column(col, justify="right")
    for i, pt in enumerate(front, 1):
        cap = "-" if pt.emissions_cap_kg is None else f"{pt.emissions_cap_kg:,.1f}"
        table.add_row(str(i), cap, f"{pt.cost_usd:,.0f}", f"{pt.emissions_kg:,.1f}",
                      str(len(pt.plan.unplaced)), str(pt.plan.solver.status),
                      f"{100 * pt.plan.solver.gap:.2f} %")
    console.print(table)
