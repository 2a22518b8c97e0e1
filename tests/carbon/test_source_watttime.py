"""WattTime v3 source (login, region-from-loc, forecast, historical) against a loopback server."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest

from carbon.intensity import IntensityKind, IntensitySignal
from carbon.sources import (
    AuthError,
    BadResponse,
    IntensityQuery,
    NotCovered,
    RateLimited,
    Secret,
    SourceUnavailable,
    WattTimeSource,
)
from carbon.units import KG_PER_LB
from tests.carbon.conftest import NOW
from tests.carbon.vendor_server import Reply, wt_data

H = timedelta(hours=1)
T0 = NOW.replace(minute=0)
PASSWORD = "wt-pass-SECRET-9"
TOKEN = "wt-token-SECRET-abc"


def _src(vendor, fast, sleeps, session, **kw):
    return WattTimeSource(session, username="alice", password=Secret(PASSWORD),
                          base_url=vendor.url, policy=fast, clock=lambda: NOW, sleep=sleeps, **kw)


def _login(vendor, *tokens):
    vendor.add("/login", *[Reply(json={"token": t}) for t in (tokens or (TOKEN,))])


def test_logs_in_with_basic_auth_finds_the_region_and_converts_lbs_per_mwh(vendor, session, fast,
                                                                           sleeps):
    _login(vendor)
    vendor.add("/v3/region-from-loc", Reply(json={"region": "CAISO_NORTH", "signal_type":
                                                  "co2_moer", "region_full_name": "CAISO North"}))
    # two hours of 5-minute points: 1000 lbs/MWh then 500 lbs/MWh
    vendor.add("/v3/forecast", Reply(json=wt_data(T0, [1000.0] * 12 + [500.0] * 12)))
    s = _src(vendor, fast, sleeps, session).forecast(
        IntensityQuery(zone="US-CAL-CISO", start=T0, hours=2, lat=37.77, lon=-122.42))
    assert s.g_per_kwh == pytest.approx((1000 * KG_PER_LB, 500 * KG_PER_LB))
    assert s.g_per_kwh[0] == pytest.approx(453.59237)
    assert s.signal is IntensitySignal.MARGINAL and s.kind is IntensityKind.FORECAST
    assert "MARGINAL emissions rate, not grid average" in s.source
    assert not s.notes  # 5-minute points are WattTime's normal step, not a repair
    login, loc, fc = vendor.seen
    user, _, pw = base64.b64decode(login.headers["authorization"].split()[1]).decode().partition(":")
    assert (user, pw) == ("alice", PASSWORD)
    assert loc.query == {"latitude": "37.77", "longitude": "-122.42", "signal_type": "co2_moer"}
    assert fc.headers["authorization"] == f"Bearer {TOKEN}"
    assert fc.query["region"] == "CAISO_NORTH" and fc.query["signal_type"] == "co2_moer"


def test_historical_uses_a_configured_region_and_reuses_the_token(vendor, session, fast, sleeps):
    _login(vendor)
    vendor.add("/v3/historical", Reply(json=wt_data(T0 - 3 * H, [100.0] * 36)))
    src = _src(vendor, fast, sleeps, session, regions={"aws:us-west-1": "CAISO_NORTH"})
    q = IntensityQuery(zone="US-CAL-CISO", start=T0 - 3 * H, hours=3, region="aws:us-west-1")
    s = src.actual(q)
    src.actual(q)
    assert s.kind is IntensityKind.ACTUAL and s.g_per_kwh == pytest.approx((100 * KG_PER_LB,) * 3)
    assert vendor.paths() == ["/login", "/v3/historical", "/v3/historical"]
    assert vendor.seen[1].query["start"] == "2026-03-10T09:00:00Z"


def test_expired_token_is_refreshed_once(vendor, session, fast, sleeps):
    _login(vendor, "old", "new")
    vendor.add("/v3/forecast", Reply(401), Reply(json=wt_data(T0, [10.0] * 12)))
    s = _src(vendor, fast, sleeps, session, regions={"X": "R"}).forecast(
        IntensityQuery(zone="X", start=T0, hours=1))
    assert s.g_per_kwh == pytest.approx((10 * KG_PER_LB,))
    assert [x.headers.get("authorization") for x in vendor.seen if x.path == "/v3/forecast"] == [
        "Bearer old", "Bearer new"]


def test_without_region_or_coordinates_it_does_not_cover_the_zone(vendor, session, fast, sleeps):
    with pytest.raises(NotCovered, match="give the site's coordinates"):
        _src(vendor, fast, sleeps, session).forecast(IntensityQuery(zone="X", start=T0, hours=1))
    assert vendor.seen == []


def test_missing_credentials(vendor, session, fast, sleeps):
    src = WattTimeSource(session, username=None, password=None, base_url=vendor.url,
                         regions={"X": "R"}, policy=fast, clock=lambda: NOW, sleep=sleeps)
    with pytest.raises(AuthError, match="WATTTIME_USERNAME"):
        src.forecast(IntensityQuery(zone="X", start=T0, hours=1))


@pytest.mark.parametrize(("login", "reply", "error", "match"), [
    (Reply(403, body="Forbidden"), None, AuthError, "/login: HTTP 403"),
    (Reply(json={"nope": 1}), None, BadResponse, "no token"),
    (None, Reply(500), SourceUnavailable, "HTTP 500"),
    (None, Reply(429), RateLimited, "HTTP 429"),
    (None, Reply(json={"data": [], "meta": {"units": "lbs_co2_per_mwh"}}), BadResponse, "empty"),
    (None, Reply(json={"data": [{"point_time": "2026-03-10T12:00:00+00:00", "value": 5}],
                       "meta": {"units": "kg_per_furlong"}}), BadResponse, "unit 'kg_per_furlong'"),
    (None, Reply(json={"meta": {"units": "lbs_co2_per_mwh"}}), BadResponse, "malformed.*data"),
    (None, Reply(body="]["), BadResponse, "not JSON"),
])
def test_failures_never_show_password_or_token(vendor, session, fast, sleeps, login, reply, error,
                                               match):
    vendor.add("/login", login or Reply(json={"token": TOKEN}))
    if reply:
        vendor.add("/v3/forecast", reply)
    with pytest.raises(error, match=match) as err:
        _src(vendor, fast, sleeps, session, regions={"X": "R"}).forecast(
            IntensityQuery(zone="X", start=T0, hours=1))
    for secret in (PASSWORD, TOKEN):
        assert secret not in str(err.value) and secret not in repr(err.value)


def test_timeout(vendor, session, fast, sleeps):
    _login(vendor)
    vendor.add("/v3/forecast", Reply(json=wt_data(T0, [1.0] * 12), delay_s=1.2))
    with pytest.raises(SourceUnavailable, match="no answer"):
        _src(vendor, fast, sleeps, session, regions={"X": "R"}).forecast(
            IntensityQuery(zone="X", start=T0, hours=1))
