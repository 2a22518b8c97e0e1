"""The FastAPI app: admission webhooks, /v1, /healthz, /readyz, /metrics; and how to run it.

Background loops (in the app's lifespan): refresh the plan view from the store
every ``refresh_interval_s``; optionally run the releaser every
``release_interval_s`` (app/release.py). One uvicorn worker process: the plan
view lives in memory, so scale by replicas, which share the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route

from app.api import v1, webhook
from app.api.state import ServerState

log = logging.getLogger("gridshift.api")


async def _every(interval_s: float, what: str, fn: Callable[[], Any]) -> None:
    while True:
        try:
            await asyncio.to_thread(fn)
        except Exception:  # a loop must survive a bad round
            log.exception("%s failed; retrying in %.0f s", what, interval_s)
        await asyncio.sleep(interval_s)


def create_app(state: ServerState, *, refresh_interval_s: float = 15.0,
               release: Callable[[], Any] | None = None,
               release_interval_s: float = 60.0) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
        try:
            await asyncio.to_thread(state.cache.refresh)
        except Exception:  # serve (fail open) even if the store is down
            log.exception("initial plan load failed; admitting unchanged until it works")
        tasks = [asyncio.create_task(_every(refresh_interval_s, "plan refresh",
                                            state.cache.refresh))]
        if release is not None:
            tasks.append(asyncio.create_task(_every(release_interval_s, "release", release)))
        yield
        for task in tasks:
            task.cancel()

    app = FastAPI(title="gridshift", version="1", lifespan=lifespan,
                  description="Carbon- and cost-aware GPU planning: Kubernetes admission "
                              "webhooks and the plans API.")
    app.state.gridshift = state

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 405:  # list every method of the path, not the first route's
            methods = sorted({m for route in app.router.routes if isinstance(route, Route)
                              and route.path_regex.match(request.url.path)
                              for m in (route.methods or ())})
            exc.headers = {**(exc.headers or {}), "Allow": ", ".join(methods)}
        return await http_exception_handler(request, exc)

    app.include_router(webhook.router(state))
    app.include_router(v1.router(state))

    @app.get("/healthz", tags=["ops"], summary="Liveness")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"], summary="Readiness: the store answers",
             responses={503: {"description": "The store does not answer."}})
    def readyz() -> JSONResponse:
        try:
            plan_id, _ = state.store.change_token()
        except Exception as exc:  # noqa: BLE001 - any failure means unready
            return JSONResponse(status_code=503, content={
                "status": "unready", "detail": f"store unreachable: {exc.__class__.__name__}"})
        view = state.cache.view
        return JSONResponse({"status": "ready", "latest_plan": plan_id,
                             "serving_plan": view.plan_id if view else None})

    @app.get("/metrics", tags=["ops"], summary="Prometheus metrics",
             response_class=PlainTextResponse)
    def metrics() -> Response:
        view = state.cache.view
        state.metrics.plan_assignments.set(len(view.plan.assignments) if view else 0)
        if view is not None:
            state.metrics.plan_created.set(view.plan.created_at.timestamp())
        return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app


def uvicorn_server(app: FastAPI, *, tls_cert: Path | None, tls_key: Path | None,
                   log_level: str = "info") -> uvicorn.Server:
    config = uvicorn.Config(app, ssl_certfile=str(tls_cert) if tls_cert else None,
                            ssl_keyfile=str(tls_key) if tls_key else None,
                            ssl_version=ssl.PROTOCOL_TLS_SERVER, log_level=log_level,
                            access_log=False, timeout_keep_alive=30)
    return uvicorn.Server(config)


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY on accepted connections only when the
    # socket says it is TCP; without it Nagle + delayed ACK add ~40 ms per keep-alive request
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock
