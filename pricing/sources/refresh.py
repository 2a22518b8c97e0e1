"""Refresh a catalog from live sources: live -> cache -> bundled, and say which.

For each source the chain is

    1. live    fetch (``requests.Session``, retries: ``pricing.sources.http``), validate,
               apply; only a payload that validated is written to the cache;
    2. cache   if the live step failed for any reason, the last cached payload, applied
               the same way, dated by its fetch time;
    3. bundled if there is no usable cached payload, the catalog is returned unchanged.

Every result names its origin, its fetch time (None for bundled) and, when it fell
back, why (``RefreshResult.notes``); ``describe(now)`` renders that with the age.

Applying refreshed offers overlays them: an offer with the same (provider, region,
instance type, purchase) replaces the catalog's, new ones are added, the rest stay with
their own source and date. The spot advisor rewrites AWS spot buckets only.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import requests

from pricing.catalog import Catalog, CatalogError, Offer, offer_key
from pricing.sources.aws_spot_advisor import SPOT_ADVISOR_URL, apply_advisor, parse_spot_advisor
from pricing.sources.azure_retail import (
    AZURE_RETAIL_URL,
    fetch_azure_pages,
    parse_azure_pages,
    sku_filters,
    sku_table,
)
from pricing.sources.cache import CacheError, PriceCache
from pricing.sources.http import FetchError, get_json, get_text
from pricing.sources.skypilot import import_skypilot_catalog

__all__ = ["Origin", "RefreshResult", "overlay", "refresh_azure", "refresh_skypilot",
           "refresh_spot_advisor"]


class Origin(enum.StrEnum):
    LIVE = "live"
    CACHE = "cache"
    BUNDLED = "bundled"


@dataclass(frozen=True, slots=True, kw_only=True)
class RefreshResult:
    source: str
    origin: Origin
    catalog: Catalog
    fetched_at: dt.datetime | None       # None when the bundled catalog was kept
    detail: str = ""                     # what was applied, e.g. "412 offers"
    notes: tuple[str, ...] = field(default=())

    def age(self, now: dt.datetime) -> dt.timedelta | None:
        return None if self.fetched_at is None else now - self.fetched_at

    def describe(self, now: dt.datetime) -> str:
        if self.origin is Origin.BUNDLED:
            head = f"{self.source}: using the bundled catalog ({self.catalog.version})"
        else:
            age = self.age(now)
            assert age is not None and self.fetched_at is not None
            head = (f"{self.source}: {self.origin} data fetched "
                    f"{self.fetched_at.isoformat(timespec='seconds')} "
                    f"({_human(age)} old){': ' + self.detail if self.detail else ''}")
        return head + "".join(f"; {n}" for n in self.notes)


def _human(age: dt.timedelta) -> str:
    seconds = max(0, int(age.total_seconds()))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def overlay(catalog: Catalog, offers: Iterable[Offer], *, label: str) -> Catalog:
    """Replace same-key offers, add new ones (module docstring)."""
    new = {offer_key(o): o for o in offers}
    kept = tuple(o for o in catalog.offers if offer_key(o) not in new)
    return Catalog(offers=kept + tuple(new.values()), version=f"{catalog.version}+{label}")


Apply = Callable[[object, dt.datetime], tuple[Catalog, str]]


def _chain(*, source: str, key: str, url: str, catalog: Catalog, cache: PriceCache,
           now: dt.datetime, fetch: Callable[[], object], apply: Apply) -> RefreshResult:
    notes: list[str] = []
    try:
        payload = fetch()
        refreshed, detail = apply(payload, now)
    except (FetchError, CatalogError) as exc:
        notes.append(f"live fetch failed: {exc}")
    else:
        try:
            cache.put(key, payload, url=url, fetched_at=now)
        except OSError as exc:
            notes.append(f"could not write the cache ({exc})")
        return RefreshResult(source=source, origin=Origin.LIVE, catalog=refreshed,
                             fetched_at=now, detail=detail, notes=tuple(notes))
    try:
        cached = cache.get(key)
        if cached is None:
            notes.append("no cached copy")
        else:
            refreshed, detail = apply(cached.payload, cached.fetched_at)
            return RefreshResult(source=source, origin=Origin.CACHE, catalog=refreshed,
                                 fetched_at=cached.fetched_at, detail=detail,
                                 notes=tuple(notes))
    except (CacheError, CatalogError) as exc:
        notes.append(f"cached copy unusable: {exc}")
    return RefreshResult(source=source, origin=Origin.BUNDLED, catalog=catalog,
                         fetched_at=None, notes=tuple(notes))


def refresh_azure(catalog: Catalog, session: requests.Session, cache: PriceCache, *,
                  now: dt.datetime, base_url: str = AZURE_RETAIL_URL,
                  **http_options) -> RefreshResult:
    """Azure GPU VM prices from the Retail Prices API, overlaid on ``catalog``."""
    skus = sku_table(catalog)
    if not skus:
        raise CatalogError(catalog.version, "has no Azure offers, so no GPU SKU to ask for",
                           fix="refresh Azure against a catalog with Azure rows")

    def fetch() -> object:
        return fetch_azure_pages(session, sku_filters(skus), base_url=base_url, **http_options)

    def apply(payload: object, when: dt.datetime) -> tuple[Catalog, str]:
        if not isinstance(payload, list):
            raise CatalogError("azure-retail", "payload is not a list of pages",
                               fix="delete the cache entry")
        offers = parse_azure_pages(payload, skus, fetched=when.date())
        return overlay(catalog, offers, label=f"azure-retail@{when.date()}"), \
            f"{len(offers)} offers"

    return _chain(source="azure-retail", key="azure-retail", url=base_url, catalog=catalog,
                  cache=cache, now=now, fetch=fetch, apply=apply)


def refresh_spot_advisor(catalog: Catalog, session: requests.Session, cache: PriceCache, *,
                         now: dt.datetime, url: str = SPOT_ADVISOR_URL,
                         **http_options) -> RefreshResult:
    """AWS spot buckets from the Spot Instance Advisor feed, applied to ``catalog``."""

    def apply(payload: object, when: dt.datetime) -> tuple[Catalog, str]:
        advisor = parse_spot_advisor(payload, basis=f"aws-spot-advisor-{when.date()}")
        updated, changed = apply_advisor(catalog, advisor)
        return updated, f"{changed} AWS spot offers re-bucketed"

    return _chain(source="aws-spot-advisor", key="aws-spot-advisor", url=url,
                  catalog=catalog, cache=cache, now=now,
                  fetch=lambda: get_json(session, url, **http_options), apply=apply)


def refresh_skypilot(catalog: Catalog, session: requests.Session, cache: PriceCache, *,
                     provider: str, url: str, now: dt.datetime,
                     **http_options) -> RefreshResult:
    """A provider's offers from a SkyPilot-format ``vms.csv`` at ``url``, overlaid."""

    def apply(payload: object, when: dt.datetime) -> tuple[Catalog, str]:
        if not isinstance(payload, str):
            raise CatalogError(f"skypilot-{provider}", "payload is not CSV text",
                               fix="delete the cache entry")
        result = import_skypilot_catalog(payload, provider=provider, label=url,
                                         source=f"SkyPilot catalog {url}", as_of=when.date())
        return (overlay(catalog, result.offers, label=f"skypilot-{provider}@{when.date()}"),
                result.summary())

    return _chain(source=f"skypilot-{provider}", key=f"skypilot-{provider}", url=url,
                  catalog=catalog, cache=cache, now=now,
                  fetch=lambda: get_text(session, url, **http_options), apply=apply)
