"""Scale of the CP-SAT planner on a generated fleet: figures, never assertions.

    python benchmarks/planner_scale.py N [--time-limit S] [--workers W] [--seed K]
                                         [--serving-share 0.2] [--phases]

Generates N workloads on 20 regions x 4 accelerators x 48 hourly slots: training jobs
(6 candidate regions per job, spot for checkpointing jobs) and, with --serving-share,
that share of serving workloads (latency SLO, on-demand floor, failover, MIG profiles on
H100/A100). Prints one line: N, model variables, constraints, status, objective, bound,
gap %, wall time of the whole plan (options, baselines, model, solve, check), and the
peak resident memory of the process. Where training goes through the neighbourhood
search (planner/lns.py), "variables" are the literals the LP kept and "constraints" 0:
the search's CP-SAT models are small and many. ``--phases`` also prints the wall seconds of each
phase of the plan (planner/solve.py logs them at DEBUG), as ``# plan phase ...`` lines.
"""

from __future__ import annotations

import argparse
import logging
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generated import generated_problem

from planner.domain import Objective
from planner.solve import plan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, help="number of training jobs")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--serving-share", type=float, default=0.0)
    parser.add_argument("--phases", action="store_true",
                        help="print the wall seconds of each phase of the plan")
    args = parser.parse_args()
    if args.phases:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("# %(message)s"))
        logger = logging.getLogger("gridshift.planner")
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)

    t0 = time.perf_counter()
    problem = generated_problem(args.n, seed=args.seed, serving_share=args.serving_share)
    generated_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    result = plan(problem, objective=Objective.BALANCED, time_limit_s=args.time_limit,
                  workers=args.workers)
    wall_s = time.perf_counter() - t1
    s = result.solver
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("N,serving,variables,constraints,status,objective,bound,gap_pct,solve_s,"
          "plan_wall_s,unplaced,mig_gpus,peak_rss_mib,generate_s")
    print(f"{args.n},{len(problem.serving)},{s.num_variables},{s.num_constraints},{s.status},{s.objective:.2f},"
          f"{s.bound:.2f},{100 * s.gap:.3f},{s.wall_s:.1f},{wall_s:.1f},{len(result.unplaced)},"
          f"{sum(m.gpus for m in result.mig_layouts)},"
          f"{peak_mib:.0f},{generated_s:.1f}")
    for u in result.unplaced[:5]:
        print(f"# unplaced {u.workload}: {u.reason[:160]}")
    run_now = result.baselines["run_now"].totals
    print(f"# vs run_now: cost {100 * (result.totals.cost_usd / run_now.cost_usd - 1):+.1f} %, "
          f"emissions {100 * (result.totals.emissions_kg / run_now.emissions_kg - 1):+.1f} %")


if __name__ == "__main__":
    main()
