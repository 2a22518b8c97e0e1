"""gridshift's planner against a time-indexed MILP (PuLP/CBC, HiGHS), in one process.

    python benchmarks/planner_milp_compare.py N [N ...] [--time-limit 60] [--threads 2]
        [--seed 7] [--build-limit S] [--kill-after S] [--solvers gridshift,highs,cbc]
        [--log-dir DIR] [--milp-time-factor F]

For each N: generates the instance of benchmarks/generated.py (N training jobs,
20 regions, 4 accelerators, 48 hourly slots), builds the options once with
``planner.options.build_options`` and from them the MILP of
benchmarks/milp_models.py (the formulation of planner/model.py: one column per
workload x option x start, integer for non-gang units, the same capacity rows,
no dominance pruning). Then solves, one after the other on the same data:

- gridshift: ``planner.solve.plan`` (objective balanced, default carbon price),
  time limit T, 2 CP-SAT workers. Its wall time is the whole call: options,
  baselines, greedy, LP column generation, CP-SAT, explanations, checker.
- HiGHS (highspy): the MILP passed as arrays, time limit F x T, threads 2,
  relative gap 0.
- PuLP/CBC: the MILP as PuLP objects, solved by PuLP's bundled CBC (time limit
  F x T, elapsed time, threads 2). Building stops at --build-limit (default 5 T);
  the CBC process is killed by pid when PuLP's solve call (MPS write, CBC) runs
  past --kill-after (default 2 F T + 60 s): CBC then did not honour its limit;
  its address space is capped at --cbc-memory-gib (default 12).

With --milp-time-factor F the MILPs get F x T (gridshift keeps T). "At least 10x
faster at equal or better objective" is then shown by a MILP that ran 10x as long
and still has no better plan; one that ends better says nothing about when it
passed gridshift's objective, and the target is reported as not met.

The MILPs' times exclude ``build_options`` (shown once) but include the MILP
arrays built from it (shared, shown once, charged to both) and their own model
build. Each solver's plan is checked with the same independent rules
(``violations`` here: allowed start, units per workload, GPUs per
resource-slot, limits) and its objective recomputed with
``planner.model.objective_of`` in score units (planner/objective.py weights,
penalty_of per unplaced unit). Bounds are each solver's own proven lower
bound, in the same units; gap = (objective - own bound) / objective. cpu_s is
the CPU time of this process and its children (CBC) over each solver's run:
the machine is shared, so wall and CPU seconds are both printed. Figures only,
never assertions; a solver that fails, runs out of memory or cannot build in
time is reported as such.
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import time
import traceback
from collections import defaultdict
from importlib import metadata
from pathlib import Path
from typing import Self

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generated import generated_problem
from milp_models import MilpResult, capacity_at, milp_data, solve_highs, solve_pulp_cbc

import planner.joint as planner_joint
import planner.solve as planner_solve
from planner.capacity import Resource, capacity_table
from planner.domain import HOUR, Objective
from planner.limits import Limit, within
from planner.model import objective_of
from planner.objective import weights
from planner.options import WorkloadOptions, build_options
from planner.placement import Placement
from planner.problem import DEFAULT_CARBON_PRICE_USD_PER_T


class _Phases:
    """Times the phases of one ``plan`` call by wrapping names in planner.solve's and
    planner.joint's namespaces for the duration (this process only; restored afterwards)."""

    WRAPPED = ((planner_solve, "build_options"), (planner_joint, "solve"),
               (planner_solve, "assert_valid"))

    def __init__(self) -> None:
        self.spans: dict[str, list[float]] = {}

    def __enter__(self) -> Self:
        self.saved = {(module, name): getattr(module, name) for module, name in self.WRAPPED}
        for (module, name), fn in self.saved.items():
            setattr(module, name, self._timed(name, fn))
        return self

    def __exit__(self, *exc) -> None:
        for (module, name), fn in self.saved.items():
            setattr(module, name, fn)

    def _timed(self, name, fn):
        def wrapper(*a, **k):
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                self.spans[name] = [t0, time.perf_counter()]
        return wrapper


def _gridshift(problem, workload_options, *, time_limit_s: float, threads: int) -> MilpResult:
    out = MilpResult(solver="gridshift", status="not run")
    t0 = time.perf_counter()
    with _Phases() as phases:
        result = planner_solve.plan(problem, objective=Objective.BALANCED,
                                    time_limit_s=time_limit_s, workers=threads)
    t_end = time.perf_counter()
    sp = phases.spans
    solve = sp["solve"]
    # build_s: options; solve_s: baselines + greedy hint + (LP) + CP-SAT; the rest apart
    out.build_s = sp["build_options"][1] - sp["build_options"][0]
    out.solve_s = solve[1] - sp["build_options"][1]
    out.after_s = t_end - solve[1]
    out.total_s = t_end - t0
    s = result.solver
    out.status = str(s.status)
    out.solver_objective, out.bound = s.objective, s.bound
    path = "LP restriction + CP-SAT (planner/joint.py)"
    out.notes.append(
        f"plan() wall {out.total_s:.1f} s = options {out.build_s:.1f} + baselines/greedy "
        f"{solve[0] - sp['build_options'][1]:.1f} + {path} {solve[1] - solve[0]:.1f} "
        f"(CP-SAT model build+solve {s.wall_s:.1f}) + explain/check {out.after_s:.1f}; "
        f"{s.num_variables:,} CP-SAT variables, {s.num_constraints:,} constraints")
    # back to placements on the same options, for the same check and objective
    index = {w.name: j for j, w in enumerate(problem.workloads)}
    for a in result.assignments:
        j = index[a.workload]
        option = next(o for o in workload_options[j].options
                      if (o.cluster, o.accelerator, o.purchase)
                      == (a.cluster, a.accelerator, a.purchase))
        start = round((a.start - problem.horizon_start) / HOUR)
        out.placements.append(Placement(option=option, start=start, units=a.replicas))
    return out


def _gap(objective: float, bound: float, n_placements: int) -> float:
    """(objective - bound) / objective; 0 when the objective is below the bound by no
    more than the models' rounding of scores to 0.001 (objective_of does not round)."""
    diff = objective - bound
    if -0.0005 * (n_placements + 1) <= diff < 0:
        diff = 0.0
    return diff / max(abs(objective), 1e-9)


def _finish(r: MilpResult, workload_options, capacity, w, limits) -> None:
    """Verify a solver's plan; only then give it an objective (and a gap)."""
    if not math.isfinite(r.bound):
        r.bound = math.nan
    r.gap = math.nan
    if not r.placements and math.isnan(r.solver_objective):
        return
    found = violations(r.placements, workload_options, capacity, limits)
    if found:
        r.notes.append("REJECTED by the check: " + "; ".join(found[:3]))
        r.objective = math.nan
        return
    r.objective = objective_of(r.placements, workload_options, w)
    r.notes.append("plan verified")
    if not math.isnan(r.bound):
        r.gap = _gap(r.objective, r.bound, len(r.placements))


def violations(placements: list[Placement], workload_options: tuple[WorkloadOptions, ...],
               capacity, limits: tuple[Limit, ...] = ()) -> list[str]:
    """Independent rules: allowed start, at most u_j units per workload (the rest is
    unplaced and pays M_j), GPUs per resource-slot within capacity, limits."""
    found = []
    placed: dict[int, int] = defaultdict(int)
    used: dict[tuple[Resource, int], int] = defaultdict(int)
    for p in placements:
        o = p.option
        if p.start not in o.starts or p.units < 1:
            found.append(f"workload {p.workload}: start {p.start} / units {p.units} not allowed")
        placed[p.workload] += p.units
        for t in range(p.start, p.start + o.slots):
            used[(o.resource, t)] += p.units * workload_options[p.workload].gpus_per_unit
    for j, n in placed.items():
        if n > workload_options[j].units:
            found.append(f"workload {j}: {n} units placed, has {workload_options[j].units}")
    over = sum(max(0, gpus - capacity_at(capacity, r, t)) for (r, t), gpus in used.items())
    if over:
        found.append(f"capacity exceeded by {over} GPU-hours")
    if limits and not within(limits, placements, [wo.workload for wo in workload_options]):
        found.append("a team budget or emission cap is exceeded")
    return found


def peak_rss_mib() -> float:
    """Peak resident memory of this process since the last reset_peak_rss()."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return math.nan


def reset_peak_rss() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def _cpu_s() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _log(args, name: str) -> str | None:
    if not args.log_dir:
        return None
    Path(args.log_dir).mkdir(parents=True, exist_ok=True)
    return str(Path(args.log_dir) / name)


def _fmt(x: float, spec: str) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


def run(n: int, args) -> None:
    print(f"\n=== N = {n:,} jobs, seed {args.seed}, time limit {args.time_limit:g} s, "
          f"{args.threads} threads ===", flush=True)
    problem = generated_problem(n, seed=args.seed)
    w = weights(Objective.BALANCED, DEFAULT_CARBON_PRICE_USD_PER_T)
    t0 = time.perf_counter()
    workload_options = build_options(problem)
    options_s = time.perf_counter() - t0
    capacity = capacity_table(problem.fleet, getattr(problem, "reserved_gpus", None))
    data = milp_data(workload_options, capacity, w, problem.limits)
    print(f"options (build_options): {options_s:.1f} s, shared by the MILPs, "
          "inside gridshift's plan()")
    print(f"MILP: {data.n_cols:,} columns ({data.n_x:,} x, {data.n_cols - data.n_x:,} y), "
          f"{data.n_rows:,} rows ({data.n_workload_rows:,} assignment, {data.n_capacity_rows:,} "
          f"capacity, {data.n_limit_rows} limit), {data.nnz:,} nonzeros; "
          f"arrays built in {data.build_s:.1f} s (charged to both MILPs)", flush=True)

    results: list[MilpResult] = []
    wanted = [s.strip() for s in args.solvers.split(",")]
    for name in wanted:
        reset_peak_rss()
        cpu0 = _cpu_s()
        milp_limit = args.time_limit * args.milp_time_factor
        try:
            if name == "gridshift":
                r = _gridshift(problem, workload_options, time_limit_s=args.time_limit,
                               threads=args.threads)
            elif name == "highs":
                r = solve_highs(data, time_limit_s=milp_limit, threads=args.threads,
                                log_file=_log(args, f"highs-{n}.log"))
                r.build_s += data.build_s
            elif name == "cbc":
                r = solve_pulp_cbc(data, time_limit_s=milp_limit, threads=args.threads,
                                   build_limit_s=args.build_limit or 5 * args.time_limit,
                                   kill_after_s=args.kill_after or 2 * milp_limit + 60,
                                   memory_limit_gib=args.cbc_memory_gib,
                                   log_file=_log(args, f"cbc-{n}.log"))
                r.build_s += data.build_s
            else:
                print(f"unknown solver {name!r}: use gridshift, highs, cbc")
                continue
        except Exception as e:  # noqa: BLE001 - report, keep going with the next solver
            r = MilpResult(solver=name, status=f"error: {type(e).__name__}: {str(e)[:100]}")
            traceback.print_exc(limit=3)
        r.peak_rss_mib = peak_rss_mib()
        r.cpu_s = _cpu_s() - cpu0
        _finish(r, workload_options, capacity, w, problem.limits)
        if r.solver != "gridshift" and "nfeasible" in r.status:
            r.notes.append("the MILP is feasible by construction (x = 0, y = u places nothing "
                           "and meets every row): an 'infeasible' answer is a solver failure")
        if math.isnan(r.total_s):
            r.total_s = sum(x for x in (r.build_s, r.solve_s) if not math.isnan(x))
        results.append(r)
        print(f"  done {r.solver}: {r.status}, {r.total_s:.1f} s", flush=True)

    print("# build_s: MILPs = shared arrays + own model build; gridshift = build_options inside "
          "plan(). solve_s: MILPs = solver run; gridshift = baselines + greedy hint + LP + CP-SAT. "
          "total_s: MILPs = build + solve; gridshift = the whole plan() call. "
          "peak_rss_mib: this process during the run (CBC's own process: in its note)")
    print("solver,status,objective,bound,gap_pct,build_s,solve_s,total_s,cpu_s,peak_rss_mib")
    for r in results:
        print(f"{r.solver},{r.status},{_fmt(r.objective, '.2f')},{_fmt(r.bound, '.2f')},"
              f"{_fmt(100 * r.gap if not math.isnan(r.gap) else math.nan, '.3f')},"
              f"{_fmt(r.build_s, '.1f')},{_fmt(r.solve_s, '.1f')},{r.total_s:.1f},{r.cpu_s:.1f},"
              f"{_fmt(r.peak_rss_mib, '.0f')}")
    bounds = [r.bound for r in results if not math.isnan(r.bound)]
    best_bound = max(bounds) if bounds else math.nan
    for r in results:
        extra = (f"gap to best bound of all ({best_bound:.2f}): "
                 f"{100 * _gap(r.objective, best_bound, len(r.placements)):.3f} %"
                 if r.found and not math.isnan(best_bound) else "")
        print(f"# {r.solver}: " + "; ".join(r.notes + ([extra] if extra else [])))
    gs = next((r for r in results if r.solver == "gridshift"), None)
    if gs is None:
        return
    for r in results:
        if r is gs:
            continue
        whole = r.total_s / gs.total_s if gs.total_s else math.nan
        core = r.total_s / gs.solve_s if gs.solve_s else math.nan
        cpu = r.cpu_s / gs.cpu_s if gs.cpu_s else math.nan
        if gs.found and r.found:
            better = gs.objective <= r.objective
            obj = (f"objective gridshift/{r.solver} = {gs.objective / r.objective:.4f} "
                   f"({'gridshift better or equal' if better else 'gridshift worse'})")
        else:
            better = gs.found
            obj = ("objective: " + (f"no verified plan from {r.solver}" if gs.found
                                    else "gridshift has no plan"))
        met = "met" if better and whole >= 10 else "NOT met"
        print(f"ratio vs {r.solver}: time {r.solver}/gridshift = {whole:.2f}x (whole plan()), "
              f"{core:.2f}x (vs gridshift solve_s only), CPU {cpu:.2f}x; {obj}; "
              f"target >=10x faster at equal or better objective: {met}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="+", help="numbers of training jobs")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--build-limit", type=float, default=None,
                        help="seconds PuLP may spend building its objects "
                             "(default: 5 x time limit)")
    parser.add_argument("--kill-after", type=float, default=None,
                        help="seconds after which PuLP's solve call (MPS write, CBC) is cut by "
                             "killing CBC (default: 5 x time limit)")
    parser.add_argument("--solvers", default="gridshift,highs,cbc")
    parser.add_argument("--cbc-memory-gib", type=float, default=12.0,
                        help="address-space cap of the CBC process")
    parser.add_argument("--log-dir", default=None, help="keep the HiGHS and CBC logs here")
    parser.add_argument("--milp-time-factor", type=float, default=1.0,
                        help="the MILPs get this many times gridshift's time limit: with 10, "
                             "a MILP that still has no better plan shows gridshift >= 10x "
                             "faster to that objective")
    args = parser.parse_args()
    versions = ", ".join(f"{p} {metadata.version(p)}" for p in ("ortools", "highspy", "PuLP"))
    print(f"versions: {versions} (CBC: PuLP's bundled binary)")
    for n in args.n:
        run(n, args)


if __name__ == "__main__":
    main()
