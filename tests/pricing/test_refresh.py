"""Vendor refreshers against a real HTTP server on loopback (no internet).

Replayed answers follow the vendors' shapes: Azure Retail Prices API pages (Items,
NextPageLink), the AWS Spot Instance Advisor feed, a SkyPilot vms.csv.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import requests

from pricing.catalog import Catalog, CatalogError, Purchase, load_catalog
from pricing.sources.aws_spot_advisor import apply_advisor, parse_spot_advisor
from pricing.sources.azure_retail import parse_azure_pages, sku_filters, sku_table
from pricing.sources.cache import PriceCache
from pricing.sources.http import FetchError, get_json, get_text
from pricing.sources.refresh import (
    Origin,
    refresh_azure,
    refresh_skypilot,
    refresh_spot_advisor,
)
from tests.pricing.replay import ReplayServer, Reply

NOW = dt.datetime(2026, 5, 2, 12, 0, tzinfo=dt.UTC)
FAST = {"backoff_s": 0.0, "attempts": 3}
PATH = "/api/retail/prices"


def item(sku: str, region: str, price: float, *, spot: bool = False, windows: bool = False,
         currency: str = "USD", start: str = "2025-03-01T00:00:00Z",
         kind: str = "Consumption") -> dict:
    """One meter as the Azure Retail Prices API returns it."""
    short = sku.removeprefix("Standard_").replace("_", " ")
    name = short + (" Spot" if spot else "")
    series = "Virtual Machines NCads A100 v4 Series" + (" Windows" if windows else "")
    return {"currencyCode": currency, "tierMinimumUnits": 0.0, "retailPrice": price,
            "unitPrice": price, "armRegionName": region, "location": "US East",
            "effectiveStartDate": start, "meterId": "00000000-0000-0000-0000-000000000000",
            "meterName": name, "productId": "DZH318Z08M6G", "skuId": "DZH318Z08M6G/00F4",
            "productName": series, "skuName": name, "serviceName": "Virtual Machines",
            "serviceId": "DZH313Z7MMC8", "serviceFamily": "Compute",
            "unitOfMeasure": "1 Hour", "type": kind, "isPrimaryMeterRegion": True,
            "armSkuName": sku}


def page(items: list[dict], next_link: str | None = None) -> str:
    return json.dumps({"BillingCurrency": "USD", "CustomerEntityId": "Default",
                       "CustomerEntityType": "Retail", "Items": items,
                       "NextPageLink": next_link, "Count": len(items)})


@pytest.fixture(scope="module")
def bundled() -> Catalog:
    return load_catalog()


@pytest.fixture()
def server():
    with ReplayServer() as s:
        yield s


@pytest.fixture()
def session():
    with requests.Session() as s:
        yield s


@pytest.fixture()
def cache(tmp_path: Path) -> PriceCache:
    return PriceCache(tmp_path / "cache")


A100 = "Standard_NC24ads_A100_v4"


def two_pages(server: ReplayServer) -> None:
    first = [item(A100, "eastus", 3.50), item(A100, "eastus", 0.70, spot=True),
             item(A100, "eastus", 5.10, windows=True)]
    second = [item(A100, "westus3", 3.60), item("Standard_Unknown_v9", "eastus", 1.0),
              item(A100, "eastus", 2.0, kind="Reservation")]
    server.script(PATH, [Reply(200, page(first, server.url(PATH) + "?$skip=100")),
                         Reply(200, page(second))])


# --- Azure Retail Prices API ------------------------------------------------------------

def test_azure_follows_next_page_link_and_overlays_offers(server, session, cache, bundled):
    two_pages(server)
    result = refresh_azure(bundled, session, cache, now=NOW, base_url=server.url(PATH), **FAST)
    assert result.origin is Origin.LIVE and result.fetched_at == NOW
    assert any("$skip=100" in r for r in server.requests)  # the second page was fetched
    assert any("currencyCode=USD" in r and "%24filter=" in r for r in server.requests)
    east = result.catalog.offers_for(provider="azure", region="eastus", accelerator="A100-80GB")
    fresh = {(o.instance_type, o.purchase): o for o in east if o.as_of == NOW.date()}
    assert fresh[(A100, Purchase.ON_DEMAND)].usd_per_hour == 3.50  # not the Windows meter
    assert fresh[(A100, Purchase.SPOT)].usd_per_hour == 0.70
    assert fresh[(A100, Purchase.SPOT)].bucket_basis == "assumed"
    assert fresh[(A100, Purchase.ON_DEMAND)].vcpus == 24  # SKU facts from the catalog
    west = result.catalog.offers_for(provider="azure", region="westus3", accelerator="A100-80GB")
    assert any(o.as_of == NOW.date() and o.usd_per_hour == 3.60 for o in west)
    # untouched offers keep their own source and date
    assert len(result.catalog.offers) == len(bundled.offers) - 2 + 2 + (
        0 if any(o.instance_type == A100 and o.region == "westus3" for o in bundled.offers)
        else 1)
    assert "live data fetched 2026-05-02T12:00:00+00:00 (0 s old): 3 offers" in \
        result.describe(NOW)
    assert cache.get("azure-retail") is not None


def test_azure_429_waits_for_retry_after_then_succeeds(server, session, cache, bundled):
    slept: list[float] = []
    server.script(PATH, [Reply(429, "{}", headers={"Retry-After": "7"}),
                         Reply(200, page([item(A100, "eastus", 3.5)]))])
    result = refresh_azure(bundled, session, cache, now=NOW, base_url=server.url(PATH),
                           backoff_s=0.0, attempts=3, sleep=slept.append)
    assert result.origin is Origin.LIVE
    assert slept == [7.0]


@pytest.mark.parametrize(("reply", "note"), [
    (Reply(503, "busy"), "gave up after 3 attempt(s): HTTP 503"),
    (Reply(200, "{not json"), "malformed JSON"),
    (Reply(200, page([])), "empty"),
    (Reply(200, page([item(A100, "eastus", 3.2, currency="EUR")])),
     "page 1 item 1 (Standard_NC24ads_A100_v4 eastus): currencyCode is 'EUR', not USD"),
    (Reply(200, json.dumps({"Items": [{"retailPrice": 1}]})), "page 1 item 1: currencyCode"),
    (Reply(404, "nope"), "HTTP 404"),
])
def test_azure_failure_falls_back_to_cache_then_bundled(server, session, cache, bundled,
                                                        reply, note):
    server.script(PATH, [reply])
    # no cache yet: the bundled catalog is kept, and the result says why
    result = refresh_azure(bundled, session, cache, now=NOW, base_url=server.url(PATH), **FAST)
    assert result.origin is Origin.BUNDLED and result.catalog is bundled
    assert result.fetched_at is None and result.age(NOW) is None
    assert any(note in n for n in result.notes), result.notes
    assert "no cached copy" in result.notes
    assert "using the bundled catalog" in result.describe(NOW)
    # a good answer earlier fills the cache; the next failure falls back to it, with age
    good_at = NOW - dt.timedelta(hours=5)
    server.script(PATH, [Reply(200, page([item(A100, "eastus", 3.33)]))])
    assert refresh_azure(bundled, session, cache, now=good_at, base_url=server.url(PATH),
                         **FAST).origin is Origin.LIVE
    server.script(PATH, [reply])
    result = refresh_azure(bundled, session, cache, now=NOW, base_url=server.url(PATH), **FAST)
    assert result.origin is Origin.CACHE and result.fetched_at == good_at
    assert result.age(NOW) == dt.timedelta(hours=5)
    assert "cache data fetched" in result.describe(NOW) and "(5 h old)" in result.describe(NOW)
    offer = result.catalog.cheapest(provider="azure", region="eastus", accelerator="A100-80GB",
                                    purchase=Purchase.ON_DEMAND)
    assert offer is not None and offer.usd_per_hour == 3.33 and offer.as_of == good_at.date()


def test_corrupt_cache_is_reported_not_used(server, session, cache, bundled, tmp_path):
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "azure-retail.json").write_text("{broken", encoding="utf-8")
    server.script(PATH, [Reply(500, "")])
    result = refresh_azure(bundled, session, cache, now=NOW, base_url=server.url(PATH), **FAST)
    assert result.origin is Origin.BUNDLED
    assert any("cached copy unusable" in n and "azure-retail.json" in n for n in result.notes)


def test_duplicate_meter_with_two_prices_is_an_error(bundled):
    skus = sku_table(bundled)
    pages = [json.loads(page([item(A100, "eastus", 3.5), item(A100, "eastus", 3.9)]))]
    with pytest.raises(CatalogError, match=r"page 1 item 2 .*duplicates page 1 item 1"):
        parse_azure_pages(pages, skus, fetched=NOW.date())
    # a later effectiveStartDate is a price change, not a duplicate: the latest wins
    pages = [json.loads(page([item(A100, "eastus", 3.5, start="2024-01-01T00:00:00Z"),
                              item(A100, "eastus", 3.9, start="2025-06-01T00:00:00Z")]))]
    offers = parse_azure_pages(pages, skus, fetched=NOW.date())
    assert [o.usd_per_hour for o in offers] == [3.9]


def test_sku_filters_are_odata_and_chunked(bundled):
    filters = sku_filters(sku_table(bundled))
    assert len(filters) >= 2
    assert all(f.startswith("serviceName eq 'Virtual Machines' and priceType eq "
                            "'Consumption' and (armSkuName eq 'Standard_") for f in filters)
    assert sum(f.count("armSkuName eq") for f in filters) == len(sku_table(bundled))


# --- AWS Spot Advisor -------------------------------------------------------------------

FEED = {"ranges": [{"index": 0, "label": "<5%", "dots": 0, "max": 5},
                   {"index": 1, "label": "5-10%", "dots": 1, "max": 11},
                   {"index": 2, "label": "10-15%", "dots": 2, "max": 16},
                   {"index": 3, "label": "15-20%", "dots": 3, "max": 22},
                   {"index": 4, "label": ">20%", "dots": 4, "max": 100}],
        "spot_advisor": {"us-east-1": {"Linux": {"g4dn.xlarge": {"s": 60, "r": 4}},
                                       "Windows": {"g4dn.xlarge": {"s": 40, "r": 0}}}},
        "instance_types": {"g4dn.xlarge": {"emr": True, "cores": 4, "ram_gb": 16.0}},
        "global_rate": "<5%"}


def test_spot_advisor_live_rebuckets_aws_spot_offers(server, session, cache, bundled):
    server.script("/spot-advisor-data.json", [Reply(200, json.dumps(FEED))])
    result = refresh_spot_advisor(bundled, session, cache, now=NOW,
                                  url=server.url("/spot-advisor-data.json"), **FAST)
    assert result.origin is Origin.LIVE
    assert result.detail == "1 AWS spot offers re-bucketed"
    xl = next(o for o in result.catalog.offers_for(provider="aws", region="us-east-1",
                                                   accelerator="T4", purchase=Purchase.SPOT)
              if o.instance_type == "g4dn.xlarge")
    assert xl.interruption_bucket == ">20%"  # Linux, not the Windows entry
    assert xl.bucket_basis == "aws-spot-advisor-2026-05-02"


@pytest.mark.parametrize(("payload", "problem"), [
    ({**FEED, "ranges": [{"index": 0, "label": "<3%"}]}, "label '<3%' is not a known bucket"),
    ({**FEED, "spot_advisor": {"us-east-1": {"Linux": {"g4dn.xlarge": {"s": 60, "r": 9}}}}},
     "r=9 names no range"),
    ({**FEED, "spot_advisor": {}}, "empty"),
    ({"ranges": "nope"}, "ranges"),
])
def test_spot_advisor_bad_feed_is_rejected(payload, problem):
    with pytest.raises(CatalogError, match=problem.replace("(", r"\(")):
        parse_spot_advisor(payload, basis="test")


def test_spot_advisor_parses_the_shared_snapshot(shared_data: Path, bundled):
    payload = json.loads((shared_data / "pricing" / "aws_spot_advisor_2025-06-28.json")
                         .read_text(encoding="utf-8"))
    advisor = parse_spot_advisor(payload, basis="aws-spot-advisor-2025-06-28")
    assert len({r for r, _ in advisor.buckets}) == 33
    updated, changed = apply_advisor(bundled, advisor)
    assert changed > 200
    # the bundled catalog was derived from the same file: applying it changes nothing
    assert {(o.instance_type, o.region, o.interruption_bucket) for o in updated.offers} == \
        {(o.instance_type, o.region, o.interruption_bucket) for o in bundled.offers}


# --- SkyPilot catalog over HTTP -----------------------------------------------------------

VMS = ("InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,"
       "SpotPrice,Region,AvailabilityZone\n"
       'g6.xlarge,L4,1.0,4.0,16.0,"{\'Gpus\': [{\'Name\': \'L4\'}]}",0.8048,0.2442,'
       "us-east-2,use2-az1\n"
       'g6.xlarge,L4,1.0,4.0,16.0,"{\'Gpus\': [{\'Name\': \'L4\'}]}",0.8048,0.2389,'
       "us-east-2,use2-az2\n")


def test_skypilot_refresh_live_then_cached(server, session, cache, bundled):
    server.script("/aws/vms.csv", [Reply(200, VMS, content_type="text/csv")])
    url = server.url("/aws/vms.csv")
    live = refresh_skypilot(bundled, session, cache, provider="aws", url=url, now=NOW, **FAST)
    assert live.origin is Origin.LIVE and live.detail == "2 offers"
    spot = next(o for o in live.catalog.offers_for(provider="aws", region="us-east-2",
                                                   accelerator="L4", purchase=Purchase.SPOT)
                if o.instance_type == "g6.xlarge")
    assert spot.usd_per_hour == pytest.approx((0.2442 + 0.2389) / 2)
    assert spot.as_of == NOW.date() and spot.source.startswith("SkyPilot catalog http://127")
    server.script("/aws/vms.csv", [Reply(502, "bad gateway")])
    later = NOW + dt.timedelta(days=2)
    cached = refresh_skypilot(bundled, session, cache, provider="aws", url=url, now=later,
                              **FAST)
    assert cached.origin is Origin.CACHE and cached.age(later) == dt.timedelta(days=2)
    assert "(2 d old)" in cached.describe(later)


# --- the HTTP helper ----------------------------------------------------------------------

def test_http_date_retry_after_and_not_retrying_4xx(server, session):
    slept: list[float] = []
    server.script("/x", [Reply(429, "", headers={"Retry-After":
                                                 "Wed, 21 Oct 2015 07:28:00 GMT"}),
                         Reply(200, '{"ok": true}')])
    assert get_json(session, server.url("/x"), sleep=slept.append, backoff_s=0) == {"ok": True}
    assert slept == [0.0]  # a date in the past means "now"
    server.script("/y", [Reply(403, "forbidden"), Reply(200, "{}")])
    with pytest.raises(FetchError, match="HTTP 403 .*not retried"):
        get_text(session, server.url("/y"), sleep=slept.append)
    assert sum(r.startswith("/y") for r in server.requests) == 1


def test_connection_refused_is_a_fetch_error(session):
    with ReplayServer() as gone:
        url = gone.url("/z")
    with pytest.raises(FetchError, match="connection failed"):
        get_text(session, url, attempts=2, backoff_s=0, timeout_s=2)
