"""``/mutate`` and ``/validate``: admission.k8s.io/v1 AdmissionReview in, AdmissionReview out.

Wire rules:
* a body with a ``request`` object always gets HTTP 200 and a well-formed
  AdmissionReview response echoing ``request.uid``; a body that is not JSON or
  has no ``request`` object gets HTTP 400 (it is not a review);
* a mutation is a base64 RFC 6902 JSON Patch with ``patchType: JSONPatch``;
  a denial is ``allowed: false`` with the reason in ``status.message``;
* fail open: an internal error, or a decision slower than
  ``decision_budget_ms``, admits unchanged with a warning, a log line and a
  ``gridshift_admission_fail_open`` count; a slow placement that finishes later
  records nothing (``Ticket``);
* ``request.dryRun: true`` records nothing (a placement is computed, not kept);
* a Pod DELETE on ``/mutate`` is always allowed; a serving Pod leaves the live-Pod
  tally (decide.forget), and any failure still allows it (fail open).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.requests import ClientDisconnect

from app.api import decide
from app.api.state import Abandoned, ServerState, Ticket

log = logging.getLogger("gridshift.admission")
API_VERSION = "admission.k8s.io/v1"
MAX_WARNING = 400

_REVIEW_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {
            "type": "object", "required": ["request"],
            "description": "An admission.k8s.io/v1 AdmissionReview. Any body with a `request` "
                           "object is answered with HTTP 200 and an AdmissionReview (fail "
                           "open: odd fields get a warning, never an error).",
            "properties": {
                "apiVersion": {"description": "admission.k8s.io/v1", "example": API_VERSION},
                "kind": {"description": "AdmissionReview", "example": "AdmissionReview"},
                "request": {"type": "object",
                            "description": "uid, kind, operation, namespace, object, dryRun"},
            }}}},
    },
    "responses": {
        "200": {"description": "An AdmissionReview with `response` (always, for a review).",
                "content": {"application/json": {"schema": {
                    "type": "object", "required": ["apiVersion", "kind", "response"]}}}},
        "400": {"description": "The body is not an AdmissionReview.",
                "content": {"application/json": {"schema": {
                    "type": "object", "required": ["detail"]}}}},
    },
}


def review_response(uid: str, *, allowed: bool = True, patch: list[dict] | None = None,
                    warnings: list[str] | None = None, message: str | None = None,
                    audit: dict[str, str] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"uid": uid, "allowed": allowed}
    if patch:
        response["patchType"] = "JSONPatch"
        response["patch"] = base64.b64encode(json.dumps(patch).encode()).decode()
    if not allowed:
        response["status"] = {"code": 403, "reason": "Forbidden", "message": message or "denied"}
    if warnings:
        response["warnings"] = [w[:MAX_WARNING] for w in warnings]
    if audit:
        response["auditAnnotations"] = audit
    return {"apiVersion": API_VERSION, "kind": "AdmissionReview", "response": response}


def _bad_request(state: ServerState, webhook: str, detail: str) -> JSONResponse:
    state.metrics.bad_requests.labels(webhook).inc()
    return JSONResponse(status_code=400, content={"detail": f"not an AdmissionReview: {detail}"})


def router(state: ServerState) -> APIRouter:
    r = APIRouter(tags=["admission"])

    async def handle(http: Request, webhook: str, namespace_opted_in: bool = False
                     ) -> JSONResponse:
        started = time.perf_counter()
        try:
            review = json.loads(await http.body())
        except ClientDisconnect:  # the API server gave up (its timeout): nobody to answer
            return JSONResponse(status_code=400, content={"detail": "client disconnected"})
        except (ValueError, UnicodeDecodeError) as exc:
            return _bad_request(state, webhook, f"body is not JSON ({exc.__class__.__name__})")
        if not isinstance(review, dict) or not isinstance(review.get("request"), dict):
            return _bad_request(state, webhook, "no 'request' object")
        request = review["request"]
        uid = request.get("uid") if isinstance(request.get("uid"), str) else ""
        if (review.get("apiVersion"), review.get("kind")) != (API_VERSION, "AdmissionReview"):
            body = review_response(uid, warnings=[(
                f"gridshift: expected {API_VERSION} AdmissionReview, got "
                f"{str(review.get('apiVersion'))[:60]} {str(review.get('kind'))[:60]}; "
                "admitted unchanged")])
            return _answer(state, webhook, body, "malformed", started)
        if not uid:
            body = review_response("", warnings=[
                "gridshift: request.uid is missing; admitted unchanged"])
            return _answer(state, webhook, body, "malformed", started)
        dry_run = request.get("dryRun") is True
        ticket = Ticket()
        budget_s = state.settings.decision_budget_ms / 1000
        try:
            decision = await asyncio.wait_for(
                asyncio.to_thread(_decide, state, webhook, request, dry_run, ticket,
                                  namespace_opted_in),
                timeout=budget_s)
        except TimeoutError:
            if ticket.cancel():
                return _fail_open(state, webhook, uid, "slow",
                                  f"no decision within {state.settings.decision_budget_ms:g} ms",
                                  started)
            # claimed just in time: the arrival is recorded, but this answer is already late
            return _fail_open(state, webhook, uid, "slow", "decision finished after its budget",
                              started)
        except Abandoned as exc:
            return _fail_open(state, webhook, uid, "slow", str(exc), started)
        except Exception as exc:  # fail open on anything
            log.exception("admission %s uid=%s failed", webhook, uid)
            return _fail_open(state, webhook, uid, "error",
                              f"internal error ({exc.__class__.__name__})", started)
        body = review_response(
            uid, allowed=decision.allowed, patch=decision.patch if webhook == "mutate" else None,
            warnings=decision.warnings, message=decision.reason if not decision.allowed else None,
            audit={"decision": str(decision.outcome), **({"workload": decision.workload[:200]}
                                                         if decision.workload else {})})
        if decision.outcome not in (decide.Outcome.NOT_MANAGED,):
            log.info("%s uid=%s workload=%s outcome=%s dry_run=%s: %s", webhook, uid,
                     decision.workload, decision.outcome, dry_run, decision.reason[:300])
        return _answer(state, webhook, body, str(decision.outcome), started)

    @r.post("/mutate", openapi_extra=_REVIEW_SCHEMA, summary="Mutating admission webhook")
    async def mutate(http: Request) -> JSONResponse:
        return await handle(http, "mutate")

    @r.post("/validate", openapi_extra=_REVIEW_SCHEMA, summary="Validating admission webhook")
    async def validate(http: Request) -> JSONResponse:
        return await handle(http, "validate")

    @r.post("/mutate/namespace", openapi_extra=_REVIEW_SCHEMA,
            summary="Mutating webhook for namespaces that opted in by label")
    async def mutate_namespace(http: Request) -> JSONResponse:
        return await handle(http, "mutate", namespace_opted_in=True)

    @r.post("/validate/namespace", openapi_extra=_REVIEW_SCHEMA,
            summary="Validating webhook for namespaces that opted in by label")
    async def validate_namespace(http: Request) -> JSONResponse:
        return await handle(http, "validate", namespace_opted_in=True)

    return r


def _decide(state: ServerState, webhook: str, request: dict[str, Any], dry_run: bool,
            ticket: Ticket, namespace_opted_in: bool) -> decide.Decision:
    view = state.cache.view
    if webhook == "validate":
        return decide.validate(request, view, state.ctx, namespace_opted_in=namespace_opted_in)
    if request.get("operation") == "DELETE":
        return decide.forget(request, release=state.store.release_serving_pod, dry_run=dry_run)
    kind = request.get("kind") if isinstance(request.get("kind"), dict) else {}
    ref = f"{kind.get('kind')}/{request.get('namespace')}/{request.get('name') or ''}@{request['uid']}"
    place = state.placer(dry_run=dry_run, ticket=ticket, object_ref=ref[:600])
    take_part = state.part_taker(dry_run=dry_run, ticket=ticket, token=request["uid"],
                                 object_ref=ref[:600])
    return decide.mutate(request, view, state.ctx, now=state.clock(), place=place,
                         take_part=take_part, namespace_opted_in=namespace_opted_in)


def _answer(state: ServerState, webhook: str, body: dict, outcome: str,
            started: float) -> JSONResponse:
    state.metrics.decisions.labels(webhook, outcome).inc()
    state.metrics.latency.labels(webhook).observe(time.perf_counter() - started)
    return JSONResponse(body)


def _fail_open(state: ServerState, webhook: str, uid: str, cause: str, reason: str,
               started: float) -> JSONResponse:
    log.warning("%s uid=%s: fail open (%s): %s", webhook, uid, cause, reason)
    state.metrics.fail_open.labels(webhook, cause).inc()
    body = review_response(uid, warnings=[f"gridshift: {reason}; admitted unchanged (fail open)"],
                           audit={"decision": "fail-open"})
    return _answer(state, webhook, body, "fail-open", started)
