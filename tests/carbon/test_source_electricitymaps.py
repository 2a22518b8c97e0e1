"""Electricity Maps v3 source against a loopback server replaying vendor-shaped answers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from carbon.intensity import IntensityKind
from carbon.sources import (
    AuthError,
    BadResponse,
    ElectricityMapsSource,
    IntensityQuery,
    NotCovered,
    RateLimited,
    Secret,
    SourceUnavailable,
)
from tests.carbon.conftest import NOW
from tests.carbon.vendor_server import Reply, em_forecast, em_history, em_range

TOKEN = "em-tok-SECRET-123"
H = timedelta(hours=1)
T0 = NOW.replace(minute=0)


def _src(vendor, session, fast, sleeps, token=TOKEN):
    return ElectricityMapsSource(session, token=Secret(token) if token else None,
                                 base_url=vendor.url + "/v3", policy=fast, clock=lambda: NOW,
                                 sleep=sleeps)


def test_forecast_sends_token_header_and_reads_the_forecast(vendor, session, fast, sleeps):
    vendor.add("/v3/carbon-intensity/forecast",
               Reply(json=em_forecast("DE", T0 + H, [300, 310, 320, 330, 340])))
    s = _src(vendor, session, fast, sleeps).forecast(
        IntensityQuery(zone="DE", start=T0 + H, hours=4))
    assert s.g_per_kwh == (300, 310, 320, 330)
    assert s.kind is IntensityKind.FORECAST and s.fetched_at == NOW
    assert "Electricity Maps v3 forecast (direct)" in s.source
    seen = vendor.seen[0]
    assert seen.headers["auth-token"] == TOKEN
    assert seen.query == {"zone": "DE", "horizonHours": "6", "emissionFactorType": "direct"}


def test_forecast_starting_an_hour_late_holds_the_first_value_and_says_so(vendor, session, fast,
                                                                          sleeps):
    vendor.add("/v3/carbon-intensity/forecast",
               Reply(json=em_forecast("DE", T0 + H, [300, 310, 320])))
    s = _src(vendor, session, fast, sleeps).forecast(IntensityQuery(zone="DE", start=T0, hours=3))
    assert s.g_per_kwh == (300, 300, 310)
    assert any("held the first value for 1 h" in n for n in s.notes)


def test_recent_actuals_come_from_history_older_from_past_range_in_10_day_chunks(
        vendor, session, fast, sleeps):
    vendor.add("/v3/carbon-intensity/history",
               Reply(json=em_history("DE", T0 - 24 * H, list(range(100, 124)))))
    src = _src(vendor, session, fast, sleeps)
    s = src.actual(IntensityQuery(zone="DE", start=T0 - 5 * H, hours=3))
    assert s.g_per_kwh == (119, 120, 121) and s.kind is IntensityKind.ACTUAL
    start = T0 - timedelta(days=30)
    vendor.add("/v3/carbon-intensity/past-range",
               Reply(json=em_range("DE", start, [50.0] * 240)),
               Reply(json=em_range("DE", start + timedelta(days=10), [60.0] * 120)))
    old = src.actual(IntensityQuery(zone="DE", start=start, hours=360))
    assert old.g_per_kwh == (50.0,) * 240 + (60.0,) * 120
    ranges = [x.query for x in vendor.seen if x.path.endswith("past-range")]
    assert [r["start"] for r in ranges] == ["2026-02-08T12:00:00Z", "2026-02-18T12:00:00Z"]
    assert ranges[1]["end"] == "2026-02-23T12:00:00Z"


def test_latest(vendor, session, fast, sleeps):
    p = em_history("DE", T0, [123])["history"][0]
    vendor.add("/v3/carbon-intensity/latest", Reply(json=p))
    s = _src(vendor, session, fast, sleeps).latest("DE")
    assert s.g_per_kwh == (123,) and s.start == T0


def test_null_values_are_interpolated_with_a_note(vendor, session, fast, sleeps):
    vendor.add("/v3/carbon-intensity/forecast",
               Reply(json=em_forecast("DE", T0, [100, None, 300, 400])))
    with pytest.warns(UserWarning, match="interpolated 1 missing hours"):
        s = _src(vendor, session, fast, sleeps).forecast(
            IntensityQuery(zone="DE", start=T0, hours=4))
    assert s.g_per_kwh == (100, 200, 300, 400)


def test_no_token_is_an_auth_error_without_a_request(vendor, session, fast, sleeps):
    with pytest.raises(AuthError, match="ELECTRICITYMAPS_API_TOKEN"):
        _src(vendor, session, fast, sleeps, token=None).forecast(
            IntensityQuery(zone="DE", start=T0, hours=2))
    assert vendor.seen == []


@pytest.mark.parametrize(("reply", "error", "match"), [
    (Reply(401, json={"message": f"bad token {TOKEN}"}), AuthError, "HTTP 401"),
    (Reply(403, body="Access denied"), AuthError, "HTTP 403"),
    (Reply(404, json={"error": "Zone 'XX' does not exist"}), BadResponse, "HTTP 404"),
    (Reply(503, body="upstream down"), SourceUnavailable, "HTTP 503"),
    (Reply(200, body="<html>not json</html>"), BadResponse, "not JSON"),
    (Reply(200, json={"zone": "DE"}), BadResponse, "malformed payload.*forecast"),
    (Reply(200, json={"zone": "DE", "forecast": []}), BadResponse, "empty payload"),
    (Reply(200, json={"zone": "FR", "forecast": []}), BadResponse, "asked for zone 'DE'"),
    (Reply(200, json=em_forecast("DE", T0, [100, -5, 3000, 4000, 5000, 200])), BadResponse,
     "unusable data"),
])
def test_failures_become_source_errors_without_the_token(vendor, session, fast, sleeps, reply,
                                                         error, match):
    vendor.add("/v3/carbon-intensity/forecast", reply)
    with pytest.raises(error, match=match) as err:
        _src(vendor, session, fast, sleeps).forecast(IntensityQuery(zone="DE", start=T0, hours=2))
    assert TOKEN not in str(err.value) and TOKEN not in repr(err.value)
    assert str(err.value).startswith("electricitymaps: ")


def test_5xx_is_retried_then_succeeds(vendor, session, fast, sleeps):
    vendor.add("/v3/carbon-intensity/forecast", Reply(502),
               Reply(json=em_forecast("DE", T0, [1, 2])))
    s = _src(vendor, session, fast, sleeps).forecast(IntensityQuery(zone="DE", start=T0, hours=2))
    assert s.g_per_kwh == (1, 2) and len(vendor.seen) == 2 and sleeps == [0.0]


def test_timeout_is_unavailable(vendor, session, fast, sleeps):
    vendor.add("/v3/carbon-intensity/forecast",
               Reply(json=em_forecast("DE", T0, [1, 2]), delay_s=1.2))
    with pytest.raises(SourceUnavailable, match="no answer within 0.5 s"):
        _src(vendor, session, fast, sleeps).forecast(IntensityQuery(zone="DE", start=T0, hours=2))


def test_429_honours_retry_after_within_the_bound(vendor, session, fast, sleeps):
    vendor.add("/v3/carbon-intensity/forecast", Reply(429, headers={"Retry-After": "2"}),
               Reply(json=em_forecast("DE", T0, [7, 8])))
    s = _src(vendor, session, fast, sleeps).forecast(IntensityQuery(zone="DE", start=T0, hours=2))
    assert s.g_per_kwh == (7, 8) and sleeps == [2.0]


def test_429_beyond_the_bound_fails_at_once_with_the_wait_asked(vendor, session, fast, sleeps):
    vendor.add("/v3/carbon-intensity/forecast", Reply(429, headers={"Retry-After": "3600"}))
    with pytest.raises(RateLimited, match="Retry-After 3600 s") as err:
        _src(vendor, session, fast, sleeps).forecast(IntensityQuery(zone="DE", start=T0, hours=2))
    assert err.value.retry_after_s == 3600 and sleeps == [] and len(vendor.seen) == 1


def test_forecast_too_short_for_the_window_is_not_covered(vendor, session, fast, sleeps):
    vendor.add("/v3/carbon-intensity/forecast", Reply(json=em_forecast("DE", T0, [1, 2, 3])))
    with pytest.raises(NotCovered, match="covers"):
        _src(vendor, session, fast, sleeps).forecast(IntensityQuery(zone="DE", start=T0, hours=8))
