"""WattTime API v3: marginal emissions (``co2_moer``) forecast and history.

Endpoints (base ``https://api.watttime.org``)::

    GET /login                     HTTP basic auth -> {"token": "..."}   (valid ~30 min)
    GET /v3/region-from-loc?latitude=&longitude=&signal_type=co2_moer
                                   -> {"region": "CAISO_NORTH", "region_full_name", ...}
    GET /v3/forecast?region=R&signal_type=co2_moer&horizon_hours=H
                                   -> {"data": [{"point_time", "value"}], "meta": {...}}
    GET /v3/historical?region=R&signal_type=co2_moer&start=&end=
                                   -> {"data": [{"point_time", "value"}], "meta": {...}}

Data points are 5-minute values (``meta.data_point_period_seconds``); they are averaged
to UTC hours. ``meta.units`` is ``lbs_co2_per_mwh``: x 0.45359237 gives g/kWh
(``carbon.units.KG_PER_LB``). **The signal is marginal, not average**: the emissions
rate of the generators that respond to one more kWh of load. It is the right signal to
*steer* load and the wrong one for an inventory footprint, so every series from here is
``signal=MARGINAL`` and ``carbon.footprint`` refuses it.

The WattTime region comes from ``regions`` (keyed by ``provider:cloud_region`` or by zone),
else from the query's coordinates via ``region-from-loc`` (remembered per location),
else the source does not cover the query. The token is re-fetched once on HTTP 401.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from pydantic import BaseModel, ConfigDict, ValidationError

from carbon.intensity import IntensityKind, IntensitySeries, IntensitySignal
from carbon.repair import RepairPolicy
from carbon.sources.base import (
    AuthError,
    BadResponse,
    IntensityQuery,
    NotCovered,
    series_from_points,
)
from carbon.sources.credentials import Secret
from carbon.sources.http import DEFAULT_POLICY, HttpPolicy, get_json
from carbon.units import KG_PER_LB

__all__ = ["WattTimeSource"]

DEFAULT_BASE = "https://api.watttime.org"
TOKEN_LIFE = timedelta(minutes=25)  # WattTime tokens last 30 min; refresh a little early
CHUNK = timedelta(days=30)
UNITS = {"lbs_co2_per_mwh": KG_PER_LB, "g_co2_per_kwh": 1.0}


class _Point(BaseModel):
    model_config = ConfigDict(extra="ignore")
    point_time: str
    value: float | None = None


class _Meta(BaseModel):
    model_config = ConfigDict(extra="ignore")
    units: str
    region: str | None = None
    generated_at: str | None = None


class _Data(BaseModel):
    model_config = ConfigDict(extra="ignore")
    data: list[_Point]
    meta: _Meta


class _Login(BaseModel):
    token: str


class _Region(BaseModel):
    model_config = ConfigDict(extra="ignore")
    region: str


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class WattTimeSource:
    name = "watttime"

    def __init__(self, session: requests.Session, *, username: str | None,
                 password: Secret | None, base_url: str = DEFAULT_BASE,
                 regions: Mapping[str, str] | None = None, signal_type: str = "co2_moer",
                 policy: HttpPolicy = DEFAULT_POLICY, repair: RepairPolicy | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.session, self.username, self.password = session, username, password
        self.base, self.regions = base_url.rstrip("/"), dict(regions or {})
        self.signal_type, self.policy = signal_type, policy
        self.repair = repair or RepairPolicy()
        self.clock, self.sleep = clock, sleep
        self._token: tuple[str, datetime] | None = None
        self._located: dict[tuple[float, float], str] = {}

    def _secrets(self) -> tuple[str, ...]:
        out = [self.password.reveal()] if self.password else []
        return tuple(out + ([self._token[0]] if self._token else []))

    def _login(self) -> str:
        if not (self.username and self.password):
            raise AuthError(self.name, "no credentials; set WATTTIME_USERNAME and "
                                       "WATTTIME_PASSWORD or [watttime] in the carbon config file")
        body = get_json(self.session, self.base + "/login", source=self.name,
                        auth=(self.username, self.password.reveal()), policy=self.policy,
                        secrets=self._secrets(), sleep=self.sleep)
        try:
            token = _Login.model_validate(body).token
        except ValidationError:
            raise BadResponse(self.name, "GET /login: no token in the answer") from None
        self._token = (token, self.clock())
        return token

    def _bearer(self) -> str:
        if self._token and self.clock() - self._token[1] < TOKEN_LIFE:
            return self._token[0]
        return self._login()

    def _get(self, path: str, params: dict[str, Any], model: type[BaseModel]) -> Any:
        for attempt in (0, 1):
            try:
                body = get_json(self.session, self.base + path, source=self.name,
                                params=params, headers={"Authorization": f"Bearer {self._bearer()}"},
                                policy=self.policy, secrets=self._secrets(), sleep=self.sleep)
                break
            except AuthError:
                if attempt:
                    raise
                self._token = None  # expired or revoked: log in again once
        try:
            return model.model_validate(body)
        except ValidationError as exc:
            fields = ", ".join(".".join(map(str, e["loc"])) or "body" for e in exc.errors()[:3])
            raise BadResponse(self.name, f"GET {path}: malformed payload (bad or missing "
                                         f"{fields})") from None

    def region_for(self, query: IntensityQuery) -> str:
        for key in (query.region, query.zone):
            if key and key in self.regions:
                return self.regions[key]
        if query.lat is None or query.lon is None:
            raise NotCovered(self.name, f"no WattTime region for zone {query.zone!r}: give the "
                                        "site's coordinates or a regions mapping")
        loc = (round(query.lat, 4), round(query.lon, 4))
        if loc not in self._located:
            r = self._get("/v3/region-from-loc", {"latitude": loc[0], "longitude": loc[1],
                                                  "signal_type": self.signal_type}, _Region)
            self._located[loc] = r.region
        return self._located[loc]

    def _series(self, points: list[_Point], meta: _Meta, query: IntensityQuery, kind,
                endpoint: str, edge: int) -> IntensitySeries:
        factor = UNITS.get(meta.units)
        if factor is None:
            raise BadResponse(self.name, f"{endpoint}: unit {meta.units!r} is not one of "
                                         f"{', '.join(UNITS)}")
        label = (f"WattTime v3 {endpoint} {self.signal_type} region {meta.region or '?'} "
                 "(MARGINAL emissions rate, not grid average; lbs/MWh x 0.45359237 = g/kWh)")
        return series_from_points([(p.point_time, p.value) for p in points], source=self.name,
                                  label=label, query=query, kind=kind, fetched_at=self.clock(),
                                  signal=IntensitySignal.MARGINAL, policy=self.repair, subhourly=True,
                                  max_edge_hours=edge, convert=lambda v: v * factor)

    def forecast(self, query: IntensityQuery) -> IntensitySeries:
        region = self.region_for(query)
        needed = int((query.end - self.clock()).total_seconds() // 3600) + 1
        d = self._get("/v3/forecast", {"region": region, "signal_type": self.signal_type,
                                       "horizon_hours": max(1, min(72, needed))}, _Data)
        return self._series(d.data, d.meta, query, IntensityKind.FORECAST, "forecast", 1)

    def actual(self, query: IntensityQuery) -> IntensitySeries:
        region = self.region_for(query)
        points: list[_Point] = []
        meta = None
        t = query.start
        while t < query.end:
            stop = min(t + CHUNK, query.end)
            d = self._get("/v3/historical", {"region": region, "signal_type": self.signal_type,
                                             "start": _iso(t), "end": _iso(stop)}, _Data)
            points.extend(d.data)
            meta = d.meta
            t = stop
        points = list({p.point_time: p for p in points}.values())  # chunk edges may repeat
        return self._series(points, meta, query, IntensityKind.ACTUAL, "historical", 0)
