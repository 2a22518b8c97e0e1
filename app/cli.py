"""The ``gridshift`` command line.

Exit codes (cron and Kubernetes CronJob read them):
    0   plan written, every workload placed
    2   bad input: one line naming the file, the workload, the field and the fix
    3   plan written, but some workloads could not be placed (named, with why)
    4   the store (--store URL) could not be used; the plan file was still written
    70  internal error: a plan failed its independent check (a bug; please report)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from app import plan_json
from app.carbon_io import CarbonMode, parse_traces
from app.commands import carbon as carbon_commands
from app.commands import dashboard, forecast, prices, release, replay, serve
from app.errors import InputError
from app.exits import fail as _fail
from app.problem_io import EXAMPLES, load_problem
from app.store import Store, StoreError, store_plan
from app.summary import print_pareto, print_summary
from app.timeparse import parse_hours, parse_time
from planner.domain import Objective, Plan
from planner.mig_pools import with_layouts
from planner.pareto import pareto_front
from planner.problem import DEFAULT_CARBON_PRICE_USD_PER_T
from planner.solve import default_workers
from planner.solve import plan as solve_plan
from planner.stability import Announced
from pricing.catalog import CatalogError

EXIT_BAD_INPUT = 2
EXIT_UNPLACED = 3
EXIT_STORE = 4
EXIT_INTERNAL = 70

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Carbon- and cost-aware planner for AI/ML GPU fleets.")

ObjectiveOpt = Annotated[Objective, typer.Option(help="What to minimise.")]
CarbonPriceOpt = Annotated[float, typer.Option(
    "--carbon-price", min=0, help="USD per tonne CO2e for 'balanced' (default: US EPA 2023 SC-GHG).")]
TimeLimitOpt = Annotated[float, typer.Option(
    "--time-limit", min=0.1,
    help="Seconds for the whole plan (per Pareto point): the solver gets what building the "
         "model, the baselines and the checks leave, and returns its best plan when it runs out.")]
HorizonOpt = Annotated[str, typer.Option(help="Planning horizon, e.g. 48h or 2d.")]
StartOpt = Annotated[str | None, typer.Option(
    help="Horizon start (ISO 8601 UTC); default: now, floored to the hour.")]
OutOpt = Annotated[Path, typer.Option("--out", help="Where to write the plan JSON.")]
WorkersOpt = Annotated[int | None, typer.Option(min=1, help="Solver workers (default: CPU count, max 8).")]
CatalogOpt = Annotated[Path | None, typer.Option(help="Offer catalog CSV (default: the bundled one).")]




def _write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` in one step, so a crash never leaves half a plan behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _run(workloads: Path, fleet: Path, *, horizon: str, start: str | None, objective: Objective,
         carbon_price: float, time_limit: float, workers: int | None, catalog: Path | None,
         out: Path, pareto: int = 0, previous: Path | None = None,
         carbon: CarbonMode = CarbonMode.OFFLINE, carbon_traces: list[str] | None = None,
         store: str | None = None, load_history: Path | None = None,
         load_level: int = 80) -> None:
    try:
        horizon_h = parse_hours(horizon)
    except ValueError as exc:
        raise _fail(f"--horizon: {exc}", EXIT_BAD_INPUT) from None
    if horizon_h < 1 or horizon_h != int(horizon_h):
        raise _fail(f"--horizon: must be a whole number of hours >= 1, got {horizon!r}",
                    EXIT_BAD_INPUT)
    try:
        start_t = parse_time(start, now=datetime.now().astimezone()) if start else None
    except ValueError as exc:
        raise _fail(f"--start: {exc}", EXIT_BAD_INPUT) from None
    try:
        traces = parse_traces(carbon_traces or [])
        problem = load_problem(workloads, fleet, horizon_hours=int(horizon_h), start=start_t,
                               catalog_path=catalog, carbon=carbon, traces=traces,
                               load_history=load_history, load_level=load_level)
    except (InputError, CatalogError) as exc:
        raise _fail(str(exc), EXIT_BAD_INPUT) from None
    except ValueError as exc:  # a domain rule the edge did not phrase itself
        raise _fail(f"{workloads}: {str(exc).splitlines()[0]}", EXIT_BAD_INPUT) from None
    announced = None
    layouts = ()
    if previous is None and store is not None:  # scheduled re-plan: the last stored plan
        try:
            last = Store(store).load_plan()
        except StoreError as exc:
            raise _fail(str(exc).splitlines()[0], EXIT_STORE) from None
        if last is not None:
            announced = tuple(Announced.of(a) for a in last.plan.assignments + last.admissions)
            layouts = last.plan.mig_layouts
    if previous is not None:
        try:
            doc = json.loads(previous.read_text())
            announced = plan_json.announced_from_dict(doc, str(previous))
            layouts = plan_json.mig_layouts_from_dict(doc, str(previous))
        except (OSError, json.JSONDecodeError, ValueError) as exc:
            raise _fail(f"--previous {previous}: {str(exc).splitlines()[0]}",
                        EXIT_BAD_INPUT) from None
    if layouts:  # MIG GPUs run what the last plan announced: a re-plan drains only changes
        problem = dataclasses.replace(problem, fleet=with_layouts(problem.fleet, layouts))
    front = None
    try:
        result = solve_plan(problem, objective=objective, carbon_price_usd_per_t=carbon_price,
                            time_limit_s=time_limit, workers=workers, previous=announced)
        if pareto:
            front = pareto_front(problem, points=pareto, time_limit_s=time_limit,
                                 workers=1, parallel=workers or default_workers())
    except (InputError, CatalogError, ValueError) as exc:
        raise _fail(str(exc).splitlines()[0], EXIT_BAD_INPUT) from None
    except Exception as exc:  # noqa: BLE001 - a bug (PlanCheckError included): one line
        raise _fail(f"internal error, please report: {type(exc).__name__}: "
                    f"{str(exc).splitlines()[0] if str(exc) else ''}", EXIT_INTERNAL) from None
    _write_atomically(out, plan_json.dumps(result, pareto=front))
    print_summary(result)
    if front is not None:
        print_pareto(front)
    if store is not None:
        digest = hashlib.sha256(workloads.read_bytes() + fleet.read_bytes()
                                + f"{horizon}|{objective}|{carbon_price}".encode()).hexdigest()
        try:
            plan_id = store_plan(store, result, {"input:workloads": str(workloads),
                                                 "input:fleet": str(fleet)},
                                 workloads=problem.workloads, inputs_digest=digest)
        except StoreError as exc:
            raise _fail(str(exc).splitlines()[0], EXIT_STORE) from None
        Console().print(f"plan stored as {plan_id}")
    Console().print(f"plan written to {out}")
    _exit_for(result)


def _exit_for(result: Plan) -> None:
    if result.unplaced:
        names = ", ".join(u.workload for u in result.unplaced)
        raise _fail(f"{len(result.unplaced)} workload(s) could not be placed: {names} "
                    "(reasons above and in the plan's 'unplaced')", EXIT_UNPLACED)


@app.command()
def demo(
    out: OutOpt = Path("demo-plan.json"),
    objective: ObjectiveOpt = Objective.BALANCED,
    carbon_price: CarbonPriceOpt = DEFAULT_CARBON_PRICE_USD_PER_T,
    time_limit: TimeLimitOpt = 10.0,
    start: StartOpt = None,
    workers: WorkersOpt = None,
) -> None:
    """Plan the bundled example fleet and workloads (no network) and print what moved."""
    _run(EXAMPLES / "workloads.yaml", EXAMPLES / "fleet.yaml", horizon="48h", start=start,
         objective=objective, carbon_price=carbon_price, time_limit=time_limit, workers=workers,
         catalog=None, out=out)


@app.command()
def plan(
    workloads: Annotated[Path, typer.Argument(help="Workloads YAML file.")],
    fleet: Annotated[Path, typer.Option("--fleet", help="Fleet YAML file.")],
    horizon: HorizonOpt = "48h",
    objective: ObjectiveOpt = Objective.BALANCED,
    carbon_price: CarbonPriceOpt = DEFAULT_CARBON_PRICE_USD_PER_T,
    time_limit: TimeLimitOpt = 30.0,
    out: OutOpt = Path("plan.json"),
    start: StartOpt = None,
    workers: WorkersOpt = None,
    catalog: CatalogOpt = None,
    pareto: Annotated[int, typer.Option(
        min=0, help="Also solve a cost-vs-emissions Pareto front of this many points (>= 2).")] = 0,
    previous: Annotated[Path | None, typer.Option(
        help="The last plan JSON: re-plan stably (started work fixed, moves penalised).")] = None,
    carbon: Annotated[CarbonMode, typer.Option(
        help="offline: trace files then embedded defaults; live: Electricity Maps / UK API "
             "first (credentials from the environment), falling back.")] = CarbonMode.OFFLINE,
    carbon_trace: Annotated[list[str] | None, typer.Option(
        "--carbon-trace", help="ZONE=PATH of an hourly intensity trace (CSV/Parquet); "
                               "repeatable.")] = None,
    store: Annotated[str | None, typer.Option(
        "--store", help="Database URL (sqlite:///gridshift.db, postgresql+psycopg://...): "
                        "store the plan; the last stored plan is the previous one.")] = None,
    load_history: Annotated[Path | None, typer.Option(
        help="GPUs in use by unplanned work (unique_id '<cluster>/<accelerator>', ds, y): "
             "forecast and kept clear of.")] = None,
    load_level: Annotated[int, typer.Option(
        min=1, max=99, help="Prediction-interval level whose upper bound is reserved.")] = 80,
) -> None:
    """Plan WORKLOADS on FLEET; write the plan JSON and print a summary."""
    if pareto == 1:
        raise _fail("--pareto: needs at least 2 points (or 0 for none)", EXIT_BAD_INPUT)
    _run(workloads, fleet, horizon=horizon, start=start, objective=objective,
         carbon_price=carbon_price, time_limit=time_limit, workers=workers, catalog=catalog,
         out=out, pareto=pareto, previous=previous, carbon=carbon, carbon_traces=carbon_trace,
         store=store, load_history=load_history, load_level=load_level)


forecast.register(app)
prices.register(app)
carbon_commands.register(app)
serve.register(app)
release.register(app)
dashboard.register(app)
replay.register(app)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
