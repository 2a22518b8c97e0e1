"""Electricity Maps API v3: carbon intensity history, latest and forecast.

Endpoints (base ``https://api.electricitymaps.com/v3``, header ``auth-token``)::

    GET /carbon-intensity/latest?zone=Z      {"zone", "carbonIntensity", "datetime", ...}
    GET /carbon-intensity/history?zone=Z     {"zone", "history": [point, ...]}   last 24 h
    GET /carbon-intensity/past-range?zone=Z&start=&end=
                                             {"zone", "data": [point, ...]}      <= 10 days
    GET /carbon-intensity/forecast?zone=Z&horizonHours=H      H in 6, 24, 48, 72
                                             {"zone", "forecast": [point, ...], "updatedAt"}

A point is ``{"carbonIntensity": g/kWh or null, "datetime": ISO UTC start of the hour,
"isEstimated", "emissionFactorType", ...}``. ``emissionFactorType`` is ``direct``
(operational; the basis of the embedded defaults, so the default here) or
``lifecycle`` (Electricity Maps' own default). Windows older than 24 h are read from
``past-range`` in 10-day chunks. Null values are gaps, mended or refused by
``carbon.repair``. Zone keys are the ones ``carbon.zones`` uses.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from pydantic import BaseModel, ConfigDict, ValidationError

from carbon.intensity import IntensityKind, IntensitySeries
from carbon.repair import RepairPolicy
from carbon.sources.base import (
    AuthError,
    BadResponse,
    IntensityQuery,
    series_from_points,
)
from carbon.sources.credentials import Secret
from carbon.sources.http import DEFAULT_POLICY, HttpPolicy, get_json

__all__ = ["ElectricityMapsSource"]

DEFAULT_BASE = "https://api.electricitymaps.com/v3"
CHUNK = timedelta(days=10)
HORIZONS = (6, 24, 48, 72)  # the forecast horizons the API accepts


class _Point(BaseModel):
    model_config = ConfigDict(extra="ignore")
    carbonIntensity: float | None = None
    datetime: str


class _Latest(_Point):
    zone: str


class _History(BaseModel):
    model_config = ConfigDict(extra="ignore")
    zone: str
    history: list[_Point]


class _Range(BaseModel):
    model_config = ConfigDict(extra="ignore")
    zone: str
    data: list[_Point]


class _Forecast(BaseModel):
    model_config = ConfigDict(extra="ignore")
    zone: str
    forecast: list[_Point]
    updatedAt: str | None = None


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ElectricityMapsSource:
    name = "electricitymaps"

    def __init__(self, session: requests.Session, *, token: Secret | None,
                 base_url: str = DEFAULT_BASE, emission_factor: str = "direct",
                 policy: HttpPolicy = DEFAULT_POLICY, repair: RepairPolicy | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if emission_factor not in ("direct", "lifecycle"):
            raise ValueError(f"emission_factor = {emission_factor!r}; use 'direct' or "
                             "'lifecycle'")
        self.session, self.token, self.base = session, token, base_url.rstrip("/")
        self.emission_factor, self.policy = emission_factor, policy
        self.repair = repair or RepairPolicy()
        self.clock, self.sleep = clock, sleep

    def _get(self, path: str, params: dict[str, Any], model: type[BaseModel]) -> Any:
        if not self.token:
            raise AuthError(self.name, "no API token; set ELECTRICITYMAPS_API_TOKEN or "
                                       "[electricitymaps] token in the carbon config file")
        body = get_json(self.session, self.base + path, source=self.name,
                        params=params | {"emissionFactorType": self.emission_factor},
                        headers={"auth-token": self.token.reveal()}, policy=self.policy,
                        secrets=(self.token.reveal(),), sleep=self.sleep)
        try:
            parsed = model.model_validate(body)
        except ValidationError as exc:
            fields = ", ".join(".".join(map(str, e["loc"])) or "body" for e in exc.errors()[:3])
            raise BadResponse(self.name, f"GET {path}: malformed payload (bad or missing "
                                         f"{fields})") from None
        zone = getattr(parsed, "zone", params["zone"])
        if zone != params["zone"]:
            raise BadResponse(self.name, f"GET {path}: asked for zone {params['zone']!r}, got "
                                         f"{zone!r}")
        return parsed

    def _label(self, endpoint: str) -> str:
        return f"Electricity Maps v3 {endpoint} ({self.emission_factor})"

    def latest(self, zone: str) -> IntensitySeries:
        now = self.clock()
        p = self._get("/carbon-intensity/latest", {"zone": zone}, _Latest)
        q = IntensityQuery(zone=zone, start=datetime.fromisoformat(p.datetime), hours=1)
        return series_from_points([(p.datetime, p.carbonIntensity)], source=self.name,
                                  label=self._label("latest"), query=q,
                                  kind=IntensityKind.ACTUAL, fetched_at=now, policy=self.repair)

    def actual(self, query: IntensityQuery) -> IntensitySeries:
        now = self.clock()
        if query.start >= now - timedelta(hours=24):
            p = self._get("/carbon-intensity/history", {"zone": query.zone}, _History)
            points, label = p.history, self._label("history")
        else:
            points, t = [], query.start
            while t < query.end:
                stop = min(t + CHUNK, query.end)
                p = self._get("/carbon-intensity/past-range",
                              {"zone": query.zone, "start": _iso(t), "end": _iso(stop)}, _Range)
                points.extend(p.data)
                t = stop
            # chunk edges may repeat a point (inclusive ends): keep one per time, not a repair
            points = list({x.datetime: x for x in points}.values())
            label = self._label("past-range")
        return series_from_points([(x.datetime, x.carbonIntensity) for x in points],
                                  source=self.name, label=label, query=query,
                                  kind=IntensityKind.ACTUAL, fetched_at=now, policy=self.repair)

    def forecast(self, query: IntensityQuery) -> IntensitySeries:
        now = self.clock()
        needed = int((query.end - now).total_seconds() // 3600) + 1
        horizon = next((h for h in HORIZONS if h >= needed), HORIZONS[-1])
        p = self._get("/carbon-intensity/forecast",
                      {"zone": query.zone, "horizonHours": horizon}, _Forecast)
        return series_from_points([(x.datetime, x.carbonIntensity) for x in p.forecast],
                                  source=self.name, label=self._label("forecast"), query=query,
                                  kind=IntensityKind.FORECAST, fetched_at=now,
                                  policy=self.repair, max_edge_hours=1)
