"""Prometheus HTTP API ``query_range`` -> the frame ``unique_id, ds, y``.

One range query returns, per series, the values at ``start + k * step`` for ``k = 0..K`` with
``K = floor((end - start) / step)``. Prometheus refuses a query whose ``K + 1`` exceeds 11,000
points per series ("exceeded maximum resolution of 11,000 points per timeseries"), so a long
range is split into consecutive sub-ranges of at most ``max_points`` evaluation points on the
same step grid (each starts one step after the previous one ended) and the pieces are joined
per series. Requests are POSTed form-encoded (long PromQL does not fit in a URL).

Series ids: with ``id_labels`` the values of those labels joined by '/', e.g.
``("cluster", "gpu") -> "eu-1/A100"``; otherwise the whole label set in PromQL notation,
``name{a="x",b="y"}``, or the query itself for a label-less result such as ``sum(...)``.

Errors: bad PromQL and server-side limits arrive as ``status: error`` (HTTP 400/422/503) and
become ``PromQLError`` with Prometheus's own message; a valid query without data becomes
``EmptyResultError``; transport problems and non-JSON answers become ``SourceError``.
Authentication: pass ``auth=BearerAuth(token)`` or ``auth=("user", "password")`` (basic), or
configure the injected ``requests.Session`` yourself.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import requests

from forecasting.errors import EmptyResultError, PromQLError, SourceError

MAX_POINTS = 11_000   # Prometheus's hard limit of points per series in one query_range


class BearerAuth(requests.auth.AuthBase):
    """``Authorization: Bearer <token>`` (e.g. a Kubernetes service-account token)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


def _epoch(value: datetime | pd.Timestamp, name: str) -> float:
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        raise SourceError("prometheus", f"{name} {value!r} has no time zone", field=name,
                          fix="pass a tz-aware UTC time")
    return ts.timestamp()


def split_range(start_s: float, end_s: float, step_s: float, max_points: int = MAX_POINTS
                ) -> list[tuple[float, float]]:
    """Sub-ranges on the grid ``start + k step`` with at most ``max_points`` points each."""
    if max_points < 1:
        raise ValueError("max_points must be >= 1")
    total = math.floor((end_s - start_s) / step_s + 1e-9) + 1
    out = []
    for first in range(0, total, max_points):
        last = min(first + max_points, total) - 1
        out.append((start_s + first * step_s, start_s + last * step_s))
    return out


def _series_id(metric: dict[str, str], id_labels: Sequence[str] | None, query: str) -> str:
    if id_labels:
        return "/".join(metric.get(label, "") for label in id_labels)
    name = metric.get("__name__", "")
    labels = ",".join(f'{k}="{v}"' for k, v in sorted(metric.items()) if k != "__name__")
    if not name and not labels:
        return query
    return f"{name}{{{labels}}}"


def _post(session: requests.Session, url: str, form: dict[str, str], *, auth: Any,
          timeout_s: float, query: str) -> list[dict[str, Any]]:
    try:
        resp = session.post(url, data=form, auth=auth, timeout=timeout_s)
    except requests.RequestException as exc:
        raise SourceError(url, f"request failed: {type(exc).__name__}: {exc}",
                          fix="check the Prometheus URL and that the server is reachable") from None
    if resp.status_code in (401, 403):
        raise SourceError(url, f"HTTP {resp.status_code}: not authorised",
                          fix="pass the right bearer token or user/password")
    try:
        body = resp.json()
    except ValueError:
        snippet = resp.text[:120].replace("\n", " ")
        raise SourceError(url, f"HTTP {resp.status_code}, not a Prometheus JSON answer: "
                          f"{snippet!r}", fix="point the URL at the Prometheus server root "
                          "(the one that serves /api/v1/query_range)") from None
    if not isinstance(body, dict) or body.get("status") != "success":
        kind = body.get("errorType", "error") if isinstance(body, dict) else "error"
        msg = body.get("error", str(body)[:200]) if isinstance(body, dict) else str(body)[:200]
        fix = ("lower the resolution (larger step) or the range" if "resolution" in msg
               else "check the PromQL in the Prometheus UI")
        raise PromQLError(url, f"query {query!r} rejected (HTTP {resp.status_code}, {kind}): "
                          f"{msg}", field="query", fix=fix)
    data = body.get("data") or {}
    if data.get("resultType") != "matrix":
        raise PromQLError(url, f"query {query!r} returned {data.get('resultType')!r}, not a "
                          "range vector", field="query", fix="query an instant-vector expression")
    return list(data.get("result") or [])


def query_range(session: requests.Session, base_url: str, query: str, *,
                start: datetime | pd.Timestamp, end: datetime | pd.Timestamp,
                step: timedelta | float, auth: Any = None, id_labels: Sequence[str] | None = None,
                max_points: int = MAX_POINTS, timeout_s: float = 30.0) -> pd.DataFrame:
    """Evaluate ``query`` over [start, end] every ``step``; return ``unique_id, ds, y``."""
    step_s = step.total_seconds() if isinstance(step, timedelta) else float(step)
    if not step_s > 0:
        raise SourceError("prometheus", f"step {step!r} is not positive", field="step",
                          fix="use e.g. 3600 s for hourly history")
    start_s, end_s = _epoch(start, "start"), _epoch(end, "end")
    if end_s < start_s:
        raise SourceError("prometheus", f"end {end} is before start {start}", field="end",
                          fix="swap them")
    url = base_url.rstrip("/") + "/api/v1/query_range"
    points: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for lo, hi in split_range(start_s, end_s, step_s, max_points):
        form = {"query": query, "start": repr(lo), "end": repr(hi), "step": repr(step_s)}
        for series in _post(session, url, form, auth=auth, timeout_s=timeout_s, query=query):
            values = np.asarray(series.get("values") or [], dtype=object).reshape(-1, 2)
            if not len(values):
                continue
            uid = _series_id(series.get("metric") or {}, id_labels, query)
            points.setdefault(uid, []).append(
                (values[:, 0].astype(float), np.array([float(v) for v in values[:, 1]])))
    if not points:
        raise EmptyResultError(url, f"query {query!r} returned no samples between "
                               f"{pd.Timestamp(start_s, unit='s', tz='UTC')} and "
                               f"{pd.Timestamp(end_s, unit='s', tz='UTC')}", field="query",
                               fix="check the metric name and labels, and the time range")
    frames = []
    for uid, parts in sorted(points.items()):
        ts = np.concatenate([p[0] for p in parts])
        ys = np.concatenate([p[1] for p in parts])
        frame = pd.DataFrame({"unique_id": uid, "ds": pd.to_datetime(ts, unit="s", utc=True),
                              "y": ys})
        frames.append(frame.drop_duplicates("ds", keep="last"))
    return pd.concat(frames, ignore_index=True).sort_values(["unique_id", "ds"], ignore_index=True)
