"""Azure Retail Prices API -> GPU VM offers (no key; OData ``$filter``; paged).

    GET https://prices.azure.com/api/retail/prices?currencyCode=USD&$filter=<OData>
    -> {"BillingCurrency": "USD", "Items": [...], "NextPageLink": <url or null>, "Count": n}

Each item is one meter: ``armSkuName`` (Standard_ND96asr_v4), ``armRegionName``
(eastus), ``retailPrice`` per ``unitOfMeasure`` (``1 Hour``), ``currencyCode``,
``type`` (Consumption | Reservation | DevTestConsumption), ``skuName`` /``meterName``
(a ``Spot`` or ``Low Priority`` suffix marks those purchase options), ``productName``
(``... Windows`` for Windows licences) and ``effectiveStartDate``.

The query asks for the GPU SKUs gridshift knows (those of the bundled catalog's Azure
rows, which give each SKU's accelerator, GPU count, vCPUs and memory), a few SKUs per
request to keep URLs short, and follows ``NextPageLink`` until it is null (at most
``max_pages`` pages per query).

Kept: Linux consumption meters billed per hour. On-demand = the non-spot meter, spot =
the ``Spot`` meter (bucket ``10-15%``, basis ``assumed``: Azure publishes no per-offer
eviction rate) when it is at least 1 % cheaper. Where a meter appears with several
``effectiveStartDate`` values the latest wins.

Bad input: an item that is not an object with the fields above, a ``currencyCode``
other than USD, a negative price, or two items for the same meter, date and price
option with different prices raise ``CatalogError`` naming the page and item; an
answer with no usable GPU price is an error too (``empty``). Nothing is returned
partially.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import pydantic
import requests

from pricing.catalog import Catalog, CatalogError, Offer, Purchase
from pricing.sources.http import FetchError, get_json
from pricing.sources.skypilot import usable_spot

__all__ = [
    "AZURE_RETAIL_URL",
    "AzureSku",
    "fetch_azure_pages",
    "parse_azure_pages",
    "sku_filters",
    "sku_table",
]

AZURE_RETAIL_URL = "https://prices.azure.com/api/retail/prices"
SOURCE = "Azure Retail Prices API"
SKUS_PER_QUERY = 10


@dataclass(frozen=True, slots=True, kw_only=True)
class AzureSku:
    accelerator: str
    gpus: int
    vcpus: float | None
    memory_gib: float | None


def sku_table(catalog: Catalog) -> dict[str, AzureSku]:
    """armSkuName -> what it holds, from a catalog's Azure offers."""
    return {o.instance_type: AzureSku(accelerator=o.accelerator, gpus=o.gpus_per_instance,
                                      vcpus=o.vcpus, memory_gib=o.memory_gib)
            for o in catalog.offers if o.provider == "azure"}


def sku_filters(skus: Iterable[str]) -> list[str]:
    """OData filters, ``SKUS_PER_QUERY`` SKUs each."""
    names = sorted(set(skus))
    out = []
    for i in range(0, len(names), SKUS_PER_QUERY):
        chunk = " or ".join(f"armSkuName eq '{n}'" for n in names[i:i + SKUS_PER_QUERY])
        out.append(f"serviceName eq 'Virtual Machines' and priceType eq 'Consumption' "
                   f"and ({chunk})")
    return out


class _Item(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="ignore")

    currencyCode: str
    retailPrice: float = pydantic.Field(allow_inf_nan=False)
    armRegionName: str
    armSkuName: str
    skuName: str
    meterName: str = ""
    productName: str = ""
    unitOfMeasure: str
    type: str
    effectiveStartDate: str = ""


class _Page(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="ignore")

    Items: list[dict]
    NextPageLink: str | None = None


def fetch_azure_pages(session: requests.Session, filters: Sequence[str], *,
                      base_url: str = AZURE_RETAIL_URL, max_pages: int = 50,
                      **http_options) -> list[object]:
    """Every page of every query, as decoded JSON (``FetchError`` on any failure)."""
    pages: list[object] = []
    for odata in filters:
        url: str | None = base_url
        params: dict[str, str] | None = {"currencyCode": "USD", "$filter": odata}
        for _ in range(max_pages):
            assert url is not None
            page = get_json(session, url, params=params, **http_options)
            pages.append(page)
            link = page.get("NextPageLink") if isinstance(page, dict) else None
            if not link:
                break
            url, params = link, None  # the link carries the query
        else:
            raise FetchError(base_url, f"more than {max_pages} pages for one query; "
                                       "narrow the $filter")
    return pages


def _is_windows(item: _Item) -> bool:
    return "windows" in item.productName.lower()


def parse_azure_pages(pages: Sequence[object], skus: Mapping[str, AzureSku], *,
                      fetched: datetime.date, label: str = SOURCE) -> tuple[Offer, ...]:
    """Offers from decoded pages (rules and errors: module docstring)."""
    best: dict[tuple[str, str, Purchase], tuple[str, float, str]] = {}
    for p_no, raw_page in enumerate(pages, start=1):
        try:
            page = _Page.model_validate(raw_page)
        except pydantic.ValidationError as exc:
            raise CatalogError(label, f"page {p_no} is not a price page ({_first(exc)})",
                               fix="check the API URL; the answer needs Items and "
                                   "NextPageLink") from None
        for i_no, raw_item in enumerate(page.Items, start=1):
            where = f"page {p_no} item {i_no}"
            try:
                item = _Item.model_validate(raw_item)
            except pydantic.ValidationError as exc:
                raise CatalogError(label, f"{where}: {_first(exc)}",
                                   fix="the API changed shape or the answer is corrupt; "
                                       "retry later or pin the cached copy") from None
            what = f"{item.armSkuName} {item.armRegionName}"
            if item.currencyCode.upper() != "USD":
                raise CatalogError(label, f"{where} ({what}): currencyCode is "
                                          f"{item.currencyCode!r}, not USD",
                                   fix="query with currencyCode=USD")
            if item.retailPrice < 0:
                raise CatalogError(label, f"{where} ({what}): retailPrice is negative",
                                   fix="report the meter; it cannot be used")
            text = f"{item.skuName} {item.meterName}".lower()
            if (item.armSkuName not in skus or item.type != "Consumption"
                    or item.unitOfMeasure != "1 Hour" or _is_windows(item)
                    or "low priority" in text or item.retailPrice == 0):
                continue
            purchase = Purchase.SPOT if "spot" in text else Purchase.ON_DEMAND
            key = (item.armRegionName, item.armSkuName, purchase)
            seen = best.get(key)
            if seen is not None and seen[0] == item.effectiveStartDate \
                    and seen[1] != item.retailPrice:
                raise CatalogError(label, f"{where} ({what} {purchase}): duplicates {seen[2]} "
                                          f"with another price ({seen[1]} vs "
                                          f"{item.retailPrice})",
                                   fix="the API answer is inconsistent; retry later")
            if seen is None or item.effectiveStartDate > seen[0]:
                best[key] = (item.effectiveStartDate, item.retailPrice, where)
    offers: list[Offer] = []
    for (region, sku, purchase), (start, price, _where) in sorted(best.items()):
        if purchase is Purchase.SPOT:
            continue
        info = skus[sku]
        common: dict = {"provider": "azure", "region": region, "accelerator": info.accelerator,
                      "instance_type": sku, "gpus_per_instance": info.gpus, "vcpus": info.vcpus,
                      "memory_gib": info.memory_gib, "as_of": fetched,
                      "source": f"{SOURCE} (Linux consumption, effective {start[:10]})"}
        offers.append(Offer(purchase=Purchase.ON_DEMAND, usd_per_hour=price,
                            interruption_bucket=None, bucket_basis=None, **common))
        spot_entry = best.get((region, sku, Purchase.SPOT))
        spot = usable_spot(price, spot_entry[1] if spot_entry else None)
        if spot is not None:
            offers.append(Offer(purchase=Purchase.SPOT, usd_per_hour=spot,
                                interruption_bucket="10-15%", bucket_basis="assumed",
                                **common))
    if not offers:
        raise CatalogError(label, "empty: the answer holds no Linux on-demand price for "
                                  "any known GPU SKU",
                           fix="check the $filter and region names; using the fallback")
    return tuple(offers)


def _first(exc: pydantic.ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(x) for x in err["loc"]) or "value"
    return f"{loc}: {err['msg']}"
