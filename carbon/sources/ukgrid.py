"""National Grid ESO Carbon Intensity API (Great Britain; no key): national and regional.

Endpoints (base ``https://api.carbonintensity.org.uk``; times ``YYYY-MM-DDThh:mmZ``)::

    GET /intensity/{from}/{to}              national, <= 14 days per call
    GET /intensity/{from}/fw48h             national, 48 h forecast
        -> {"data": [{"from", "to", "intensity": {"forecast", "actual", "index"}}]}
    GET /regional/intensity/{from}/fw48h/regionid/{id}
        -> {"data": {"regionid", "dnoregion", "shortname",
                     "data": [{"from", "to", "intensity": {"forecast", "index"}},
                              "generationmix": [...]]}}
           (some regional endpoints wrap the region object in a one-element list;
           both shapes are read)

Half-hourly settlement periods are averaged to UTC hours. ``actual`` is null for future
periods (a gap). Regional series are forecast-only (the API publishes no regional
actuals), so ``actual`` covers only the national series. The values are operational
CO2 (gCO2/kWh) as computed by NGESO, including imports.

The zone is ``GB``; a query whose ``region`` (``provider:cloud_region``) is in
``regional`` uses that DNO region id (defaults: London 13 for the London cloud regions,
South Wales 7 for Azure UK West).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

import requests
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from carbon.intensity import IntensityKind, IntensitySeries
from carbon.repair import RepairPolicy
from carbon.sources.base import BadResponse, IntensityQuery, NotCovered, series_from_points
from carbon.sources.http import DEFAULT_POLICY, HttpPolicy, get_json

__all__ = ["UK_REGION_IDS", "UKGridSource"]

DEFAULT_BASE = "https://api.carbonintensity.org.uk"
CHUNK = timedelta(days=14)
UK_REGION_IDS: dict[str, int] = {"aws:eu-west-2": 13, "gcp:europe-west2": 13,
                                 "azure:uksouth": 13, "azure:ukwest": 7}


class _Intensity(BaseModel):
    model_config = ConfigDict(extra="ignore")
    forecast: float | None = None
    actual: float | None = None


class _Period(BaseModel):
    model_config = ConfigDict(extra="ignore")
    start: str = Field(alias="from")
    intensity: _Intensity


class _National(BaseModel):
    model_config = ConfigDict(extra="ignore")
    data: list[_Period]


class _Region(BaseModel):
    model_config = ConfigDict(extra="ignore")
    regionid: int
    shortname: str | None = None
    data: list[_Period]


class _Regional(BaseModel):
    model_config = ConfigDict(extra="ignore")
    data: _Region | list[_Region]


def _t(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


class UKGridSource:
    name = "ukgrid"

    def __init__(self, session: requests.Session, *, base_url: str = DEFAULT_BASE,
                 regional: Mapping[str, int] | None = None, policy: HttpPolicy = DEFAULT_POLICY,
                 repair: RepairPolicy | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.session, self.base = session, base_url.rstrip("/")
        self.regional = dict(UK_REGION_IDS if regional is None else regional)
        self.policy, self.repair = policy, repair or RepairPolicy()
        self.clock, self.sleep = clock, sleep

    def _region_id(self, query: IntensityQuery) -> int | None:
        if query.zone != "GB":
            raise NotCovered(self.name, f"zone {query.zone!r} is not Great Britain (GB)")
        return self.regional.get(query.region or "")

    def _get(self, path: str, model: type[BaseModel]):
        body = get_json(self.session, self.base + path, source=self.name, policy=self.policy,
                        sleep=self.sleep)
        try:
            return model.model_validate(body)
        except ValidationError as exc:
            fields = ", ".join(".".join(map(str, e["loc"])) or "body" for e in exc.errors()[:3])
            raise BadResponse(self.name, f"GET {path}: malformed payload (bad or missing "
                                         f"{fields})") from None

    def actual(self, query: IntensityQuery) -> IntensitySeries:
        if self._region_id(query) is not None:
            raise NotCovered(self.name, f"regional series ({query.region}) are forecast-only; "
                                        "no actuals are published")
        now, periods, t = self.clock(), [], query.start
        while t < query.end:
            stop = min(t + CHUNK, query.end)
            periods.extend(self._get(f"/intensity/{_t(t)}/{_t(stop)}", _National).data)
            t = stop
        return series_from_points([(p.start, p.intensity.actual) for p in periods],
                                  source=self.name, label="NGESO Carbon Intensity API national "
                                  "actual", query=query, kind=IntensityKind.ACTUAL,
                                  fetched_at=now, policy=self.repair, subhourly=True)

    def forecast(self, query: IntensityQuery) -> IntensitySeries:
        region = self._region_id(query)
        now = self.clock()
        if region is None:
            periods = self._get(f"/intensity/{_t(query.start)}/fw48h", _National).data
            label = "NGESO Carbon Intensity API national 48 h forecast"
        else:
            r = self._get(f"/regional/intensity/{_t(query.start)}/fw48h/regionid/{region}",
                          _Regional).data
            r = r[0] if isinstance(r, list) and r else r
            if isinstance(r, list):
                raise BadResponse(self.name, "regional forecast: empty region list")
            if r.regionid != region:
                raise BadResponse(self.name, f"asked for region id {region}, got {r.regionid}")
            periods = r.data
            label = (f"NGESO Carbon Intensity API regional 48 h forecast, region {region} "
                     f"({r.shortname or '?'})")
        return series_from_points([(p.start, p.intensity.forecast) for p in periods],
                                  source=self.name, label=label, query=query,
                                  kind=IntensityKind.FORECAST, fetched_at=now,
                                  policy=self.repair, subhourly=True, max_edge_hours=1)
