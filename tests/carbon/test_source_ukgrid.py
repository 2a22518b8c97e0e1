"""NGESO Carbon Intensity API source (national + regional) against a loopback server."""

from __future__ import annotations

from datetime import timedelta

import pytest

from carbon.intensity import IntensityKind
from carbon.sources import (
    BadResponse,
    IntensityQuery,
    NotCovered,
    RateLimited,
    SourceUnavailable,
    UKGridSource,
)
from tests.carbon.conftest import NOW
from tests.carbon.vendor_server import Reply, uk_periods, uk_regional

H = timedelta(hours=1)
T0 = NOW.replace(minute=0)


def _src(vendor, session, fast, sleeps, **kw):
    return UKGridSource(session, base_url=vendor.url, policy=fast, clock=lambda: NOW,
                        sleep=sleeps, **kw)


def test_national_48h_forecast_half_hours_to_hours(vendor, session, fast, sleeps):
    vendor.add("/intensity/2026-03-10T12:00Z/fw48h",
               Reply(json={"data": uk_periods(T0, [100, 120] * 48)}))
    s = _src(vendor, session, fast, sleeps).forecast(IntensityQuery(zone="GB", start=T0, hours=48))
    assert len(s.g_per_kwh) == 48 and set(s.g_per_kwh) == {110.0}
    assert s.kind is IntensityKind.FORECAST and "national 48 h forecast" in s.source


def test_regional_forecast_for_a_london_cloud_region(vendor, session, fast, sleeps):
    vendor.add("/regional/intensity/2026-03-10T12:00Z/fw48h/regionid/13",
               Reply(json=uk_regional(T0, [50, 70] * 4)))
    s = _src(vendor, session, fast, sleeps).forecast(
        IntensityQuery(zone="GB", start=T0, hours=4, region="gcp:europe-west2"))
    assert s.g_per_kwh == (60.0,) * 4 and "region 13 (London)" in s.source


def test_regional_answer_wrapped_in_a_list_is_read_too(vendor, session, fast, sleeps):
    vendor.add("/regional/intensity/2026-03-10T12:00Z/fw48h/regionid/7",
               Reply(json=uk_regional(T0, [80, 80], regionid=7, wrap_list=True)))
    s = _src(vendor, session, fast, sleeps).forecast(
        IntensityQuery(zone="GB", start=T0, hours=1, region="azure:ukwest"))
    assert s.g_per_kwh == (80.0,)


def test_national_actuals_with_a_null_are_interpolated(vendor, session, fast, sleeps):
    start = T0 - 3 * H
    actual = [200, 200, None, None, 240, 240]
    vendor.add("/intensity/2026-03-10T09:00Z/2026-03-10T12:00Z",
               Reply(json={"data": uk_periods(start, [1] * 6, actual)}))
    with pytest.warns(UserWarning, match="interpolated"):
        s = _src(vendor, session, fast, sleeps).actual(
            IntensityQuery(zone="GB", start=start, hours=3))
    assert s.g_per_kwh == (200.0, 220.0, 240.0) and s.kind is IntensityKind.ACTUAL


def test_regional_actuals_are_not_published(vendor, session, fast, sleeps):
    with pytest.raises(NotCovered, match="forecast-only"):
        _src(vendor, session, fast, sleeps).actual(
            IntensityQuery(zone="GB", start=T0 - 5 * H, hours=2, region="aws:eu-west-2"))


def test_other_zones_are_not_covered_without_a_request(vendor, session, fast, sleeps):
    with pytest.raises(NotCovered, match="not Great Britain"):
        _src(vendor, session, fast, sleeps).forecast(IntensityQuery(zone="FR", start=T0, hours=1))
    assert vendor.seen == []


@pytest.mark.parametrize(("reply", "error", "match"), [
    (Reply(500), SourceUnavailable, "HTTP 500"),
    (Reply(429, headers={"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"}), RateLimited, "429"),
    (Reply(400, json={"error": {"code": "400 Bad Request"}}), BadResponse, "HTTP 400"),
    (Reply(json={"data": []}), BadResponse, "empty payload"),
    (Reply(json={"data": [{"to": "x"}]}), BadResponse, "malformed"),
    (Reply(body="oops"), BadResponse, "not JSON"),
    (Reply(json={"data": uk_periods(T0, [1, 1])}, delay_s=1.2), SourceUnavailable, "no answer"),
])
def test_failures(vendor, session, fast, sleeps, reply, error, match):
    vendor.add("/intensity/2026-03-10T12:00Z/fw48h", reply)
    with pytest.raises(error, match=match):
        _src(vendor, session, fast, sleeps).forecast(IntensityQuery(zone="GB", start=T0, hours=1))
