"""``/v1``: plans (create, list, latest, by id), forecasts, footprint, measurements.

Every route needs ``Authorization: Bearer <token>`` (auth.py). Bad input is a
422 whose ``detail`` names the input, the field and the fix; nothing is stored
half-way (a plan is stored in one transaction, or not at all).
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from app import plan_json
from app.api.auth import bearer
from app.api.state import ServerState
from app.errors import InputError
from app.inputs import check_fleet_prices, fleet_from_data, workloads_from_data
from app.problem_io import build_problem, hour_floor
from app.store import StoredPlan, StoreError
from app.store.footprint import MeasuredRow
from app.timeparse import parse_time
from planner.domain import Objective
from planner.problem import DEFAULT_CARBON_PRICE_USD_PER_T
from planner.solve import plan as solve_plan


class PlanRequest(BaseModel):
    """Fleet and workloads as in the YAML files (app/inputs.py), as JSON objects."""

    model_config = ConfigDict(extra="forbid")
    fleet: dict[str, Any]
    workloads: dict[str, Any]
    start: str | None = Field(default=None, description="ISO 8601 UTC; default: now, floored "
                                                        "to the hour")
    horizon_hours: int = Field(default=48, ge=1, le=336)
    objective: Objective = Objective.BALANCED
    carbon_price_usd_per_t: float = Field(default=DEFAULT_CARBON_PRICE_USD_PER_T, ge=0, le=1e5)
    time_limit_s: float = Field(default=10.0, gt=0, le=300)
    workers: int | None = Field(default=None, ge=1, le=8)


class MeasurementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    region: str = Field(min_length=1, max_length=128)
    started_at: datetime
    ended_at: datetime
    energy_kwh: float = Field(ge=0, le=1e9)
    kg_co2e: float = Field(ge=0, le=1e9)
    source: str = Field(min_length=1, max_length=200)
    workload: str | None = Field(default=None, max_length=253)
    team: str | None = Field(default=None, max_length=128)
    run_id: str | None = Field(default=None, max_length=200)


class MeasurementsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    measurements: list[MeasurementIn] = Field(min_length=1, max_length=10_000)


class Observation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unique_id: str = Field(min_length=1, max_length=200)
    ds: datetime
    y: float | None

    @field_validator("ds")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("needs a time zone; send ISO 8601 with 'Z' or an offset")
        if not 1970 <= value.year <= 2200:
            raise ValueError(f"year {value.year} is outside 1970..2200")
        return value.astimezone(UTC)


class ForecastRequest(BaseModel):
    """History in forecasting's frame contract (unique_id, ds, y), regular frequency, UTC."""

    model_config = ConfigDict(extra="forbid")
    history: list[Observation] = Field(min_length=1, max_length=200_000)
    horizon: int = Field(ge=1, le=24 * 14)
    levels: list[int] = Field(default=[80], min_length=1, max_length=5)
    freq: str = Field(default="h", pattern=r"^[0-9]*(min|h|D)$")
    # seasons in steps; None: a day and a week in steps of freq ((24, 168) for "h")
    season_lengths: list[int] | None = Field(default=None, max_length=4)
    models: str = Field(default="auto", max_length=200)
    # backtest windows; None: as many as forecasting's budget allows (8 for a few series)
    n_windows: int | None = Field(default=None, ge=0, le=10)
    # robust: the median ensemble unless another model beats it clearly; lowest: the
    # model of least backtest MASE (forecasting.backtest)
    choice: Literal["robust", "lowest"] = "robust"


def _forecast(module: Any, body: ForecastRequest) -> dict[str, Any]:
    frame = pd.DataFrame({"unique_id": [o.unique_id for o in body.history],
                          "ds": pd.to_datetime([o.ds for o in body.history], utc=True),
                          "y": [o.y for o in body.history]})
    fc = module.forecast(frame, horizon=body.horizon, levels=tuple(body.levels), freq=body.freq,
                         season_lengths=(None if body.season_lengths is None
                                         else tuple(body.season_lengths)), models=body.models,
                         n_windows=body.n_windows, choice=body.choice)
    values = fc.values.copy()
    values["ds"] = values["ds"].map(_iso)
    rows = json.loads(values.to_json(orient="records"))
    # the backtest behind each choice: MASE, MAE, coverage of each model's own intervals,
    # windows, and the width factor applied (NaN -> null)
    scores = json.loads(fc.scores.to_json(orient="records"))
    return {"levels": list(fc.levels), "chosen": dict(fc.chosen), "repairs": list(fc.repairs),
            "intervals": "central: lo-L / hi-L are the (50 -/+ L/2) % quantiles",
            "scores": scores, "forecasts": rows}


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def summary_dict(s) -> dict[str, Any]:
    return {"id": s.id, "seq": s.seq, "created_at": _iso(s.created_at),
            "stored_at": _iso(s.stored_at), "horizon_start": _iso(s.horizon_start),
            "horizon_hours": s.horizon_hours, "objective": s.objective,
            "solver_status": s.solver_status, "totals": plan_json.totals_dict(s.totals)}


def stored_dict(stored: StoredPlan) -> dict[str, Any]:
    return {**summary_dict(stored.summary), "provenance": list(stored.provenance),
            "admissions": [plan_json.assignment_dict(a) for a in stored.admissions],
            "plan": stored.plan_json}


def _time(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_time(value, now=datetime.now(UTC))
    except ValueError as exc:
        raise HTTPException(422, f"query parameter {name!r}: {exc}") from None


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {
        "type": "object", "properties": {"detail": {}}, "required": ["detail"]}}}}


AUTH = {401: _error("Missing or wrong bearer token.")}
NOT_FOUND = {404: _error("No such plan, or none stored yet.")}
BAD = {422: _error("Bad input: names the input, the field and the fix.")}
BODY = {**BAD, 400: _error("The body is not JSON.")}


def router(state: ServerState) -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["v1"], dependencies=[Depends(bearer(state))],
                  responses=AUTH)

    def load(plan_id: str | None) -> StoredPlan:
        try:
            stored = state.store.load_plan(plan_id)
        except StoreError as exc:
            raise HTTPException(404, str(exc)) from None
        if stored is None:
            raise HTTPException(404, "no plan is stored yet; fix: POST /v1/plans or run "
                                     "`gridshift plan ... --store URL`")
        return stored

    @r.post("/plans", status_code=201, summary="Plan posted fleet + workloads and store it",
            responses={**BODY, 200: {"description": "Same inputs and plan as the latest: "
                                                   "nothing new stored, its id returned."}})
    async def create_plan(body: PlanRequest) -> JSONResponse:
        def run() -> tuple[str, bool, dict[str, Any]]:
            start = hour_floor(parse_time(body.start, now=datetime.now(UTC)) if body.start
                               else datetime.now(UTC))
            fleet = fleet_from_data(body.fleet, "request body: fleet")
            check_fleet_prices("request body: fleet", fleet, state.catalog)
            workloads = workloads_from_data(body.workloads, "request body: workloads", fleet,
                                            now=start)
            problem = build_problem(fleet, workloads, start=start,
                                    horizon_hours=body.horizon_hours, catalog=state.catalog)
            result = solve_plan(problem, objective=body.objective,
                                carbon_price_usd_per_t=body.carbon_price_usd_per_t,
                                time_limit_s=body.time_limit_s, workers=body.workers)
            digest = hashlib.sha256(json.dumps(body.model_dump(mode="json"), sort_keys=True)
                                    .encode()).hexdigest()
            saved = state.store.save_plan(result, workloads=workloads, inputs_digest=digest,
                                          provenance={"input:source": "POST /v1/plans"})
            state.cache.refresh()
            return saved.plan_id, saved.created, plan_json.plan_dict(result)

        try:
            plan_id, created, doc = await asyncio.to_thread(run)
        except (InputError, ValueError) as exc:
            raise HTTPException(422, str(exc)) from None
        return JSONResponse(status_code=201 if created else 200,
                            content={"id": plan_id, "created": created, "plan": doc})

    @r.get("/plans", summary="Stored plans, newest first", responses=BAD)
    def list_plans(limit: Annotated[int, Query(ge=1, le=500)] = 50,
                   offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> dict[str, Any]:
        return {"plans": [summary_dict(s) for s in state.store.list_plans(limit=limit,
                                                                          offset=offset)]}

    @r.get("/plans/latest", summary="The latest plan, with provenance and arrivals",
           responses=NOT_FOUND)
    def latest_plan() -> dict[str, Any]:
        return stored_dict(load(None))

    @r.get("/plans/{plan_id}", summary="One plan by id", responses={**NOT_FOUND, **BAD})
    def get_plan(plan_id: Annotated[str, Path(max_length=64)]) -> dict[str, Any]:
        return stored_dict(load(plan_id))

    @r.post("/forecasts", summary="Forecast usage series with prediction intervals",
            responses={**BODY, 501: _error("This build has no forecasting.")})
    async def forecasts(body: ForecastRequest) -> JSONResponse:
        module = importlib.import_module("forecasting")
        if not hasattr(module, "forecast"):
            return JSONResponse(status_code=501, content={
                "detail": "forecasts are not available in this build: the forecasting package "
                          "has no forecast(); plans use declared capacity meanwhile"})
        try:
            result = await asyncio.to_thread(_forecast, module, body)
        except ValueError as exc:  # forecasting.errors.InputDataError is a ValueError
            raise HTTPException(422, f"request body: {exc}") from None
        return JSONResponse(result)

    @r.get("/footprint", summary="Totals by team and region: planned and measured, kept apart",
           responses={**NOT_FOUND, **BAD})
    def footprint(plan_id: str | None = None, since: str | None = None,
                  until: str | None = None) -> dict[str, Any]:
        try:
            return state.store.footprint(plan_id=plan_id, since=_time(since, "since"),
                                         until=_time(until, "until"))
        except StoreError as exc:
            raise HTTPException(404, str(exc)) from None

    @r.post("/measurements", status_code=201, summary="Record measured emissions",
            responses=BODY)
    def add_measurements(body: MeasurementsIn) -> dict[str, Any]:
        try:
            rows = [MeasuredRow(**m.model_dump()) for m in body.measurements]
        except ValueError as exc:
            raise HTTPException(422, f"request body: measurements: {exc}") from None
        return {"stored": state.store.add_measurements(rows)}

    return r
