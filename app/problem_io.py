"""Read the inputs of a planning run into a PlanningProblem (the I/O side of planning)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from app.carbon_io import CarbonMode, intensity_for
from app.inputs import check_fleet_prices, load_budgets, load_fleet, load_workloads
from app.load_io import reserved_from_history
from app.serving_io import load_serving
from carbon.sources import TraceFile
from planner.domain import Fleet, TrainingWorkload
from planner.limits import Limit
from planner.problem import PlanningProblem, lookahead_hours
from planner.serving import ServingWorkload
from pricing.catalog import Catalog, load_catalog

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def hour_floor(t: datetime) -> datetime:
    return t.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def build_problem(fleet: Fleet, workloads: tuple[TrainingWorkload, ...], *, start: datetime,
                  horizon_hours: int, catalog: Catalog, limits: tuple[Limit, ...] = (),
                  carbon: CarbonMode = CarbonMode.OFFLINE,
                  traces: tuple[TraceFile, ...] = (),
                  load_history: Path | None = None, load_level: int = 80,
                  serving: tuple[ServingWorkload, ...] = ()) -> PlanningProblem:
    """Attach grid intensity (app/carbon_io.py) and forecast background load
    (app/load_io.py) to validated inputs."""
    start = hour_floor(start)
    hours = horizon_hours + lookahead_hours(workloads, horizon_hours)
    intensity = intensity_for(fleet, start=start, hours=hours, mode=carbon, traces=traces)
    reserved = ({} if load_history is None else
                reserved_from_history(load_history, level=load_level, fleet=fleet, start=start,
                                      slots=hours))
    return PlanningProblem(fleet=fleet, workloads=workloads, horizon_start=start,
                           horizon_hours=horizon_hours, intensity=intensity, catalog=catalog,
                           limits=limits, reserved_gpus=reserved, serving=serving)


def load_problem(workloads_path: Path, fleet_path: Path, *, horizon_hours: int,
                 start: datetime | None = None, catalog_path: Path | None = None,
                 carbon: CarbonMode = CarbonMode.OFFLINE,
                 traces: tuple[TraceFile, ...] = (),
                 load_history: Path | None = None, load_level: int = 80) -> PlanningProblem:
    start = hour_floor(start or datetime.now(UTC))
    fleet = load_fleet(fleet_path)
    catalog = load_catalog(catalog_path)
    check_fleet_prices(fleet_path, fleet, catalog)
    workloads = load_workloads(workloads_path, fleet, now=start)
    return build_problem(fleet, workloads, start=start, horizon_hours=horizon_hours,
                         catalog=catalog, limits=load_budgets(workloads_path), carbon=carbon,
                         traces=traces, load_history=load_history, load_level=load_level,
                         serving=load_serving(workloads_path, fleet, start=start,
                                              horizon_hours=horizon_hours))
