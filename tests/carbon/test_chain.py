"""The fallback chain and the disk cache, over real loopback HTTP sources."""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial

import pytest

from carbon.forecast import forecast_series
from carbon.intensity import IntensityKind, IntensitySeries, embedded_default
from carbon.sources import (
    ChainPolicy,
    DiskCache,
    ElectricityMapsSource,
    EmbeddedDefaultSource,
    IntensityChain,
    IntensityQuery,
    NoIntensityError,
    Secret,
    TraceFile,
    TraceSource,
    UKGridSource,
)
from tests.carbon.conftest import NOW
from tests.carbon.vendor_server import Reply, em_forecast, uk_periods, uk_regional

H = timedelta(hours=1)
T0 = NOW.replace(minute=0)
TOKEN = "em-chain-SECRET-777"
Q = IntensityQuery(zone="GB", start=T0, hours=3)


class Clock:
    def __init__(self, t):
        self.t = t

    def __call__(self):
        return self.t


@pytest.fixture
def clock():
    return Clock(NOW)


@pytest.fixture
def chain_parts(vendor, session, fast, sleeps, tmp_path, clock):
    em = ElectricityMapsSource(session, token=Secret(TOKEN), base_url=vendor.url + "/v3",
                               policy=fast, clock=clock, sleep=sleeps)
    uk = UKGridSource(session, base_url=vendor.url, policy=fast, clock=clock, sleep=sleeps)
    cache = DiskCache(tmp_path / "cache", clock=clock)
    return em, uk, cache


def _chain(chain_parts, clock, **kw):
    em, uk, cache = chain_parts
    return IntensityChain([em, uk, EmbeddedDefaultSource()], cache=cache, clock=clock, **kw)


def test_first_source_answers_and_is_cached_then_served_from_cache(vendor, chain_parts, clock):
    vendor.add("/v3/carbon-intensity/forecast", Reply(json=em_forecast("GB", T0, [10, 20, 30])))
    chain = _chain(chain_parts, clock)
    s = chain.series(Q)
    assert s.g_per_kwh == (10, 20, 30) and "Electricity Maps" in s.source and not s.notes
    clock.t = NOW + timedelta(minutes=20)
    again = chain.series(Q)
    assert again.g_per_kwh == (10, 20, 30) and len(vendor.seen) == 1
    assert again.fetched_at == NOW and "from disk cache" in again.notes[0]


def test_failure_falls_back_to_the_stale_cache_and_says_so(vendor, chain_parts, clock):
    vendor.add("/v3/carbon-intensity/forecast", Reply(json=em_forecast("GB", T0, [10, 20, 30])),
               Reply(503))
    chain = _chain(chain_parts, clock)
    chain.series(Q)
    clock.t = NOW + timedelta(hours=2)  # older than fresh_for: fetch again, which fails
    s = chain.series(Q)
    assert s.g_per_kwh == (10, 20, 30) and s.fetched_at == NOW
    assert any("HTTP 503" in n for n in s.notes)
    assert s.notes[-1] == "electricitymaps: fell back to its cache"
    assert any("2.0 h old" in n for n in s.notes)


def test_stale_cache_beyond_the_limit_is_not_used(vendor, chain_parts, clock):
    vendor.add("/v3/carbon-intensity/forecast", Reply(json=em_forecast("GB", T0, [10, 20, 30])),
               Reply(503))
    vendor.add("/intensity/2026-03-10T12:00Z/fw48h", Reply(json={"data": uk_periods(T0, [5] * 6)}))
    chain = _chain(chain_parts, clock, policy=ChainPolicy(stale_limit=timedelta(hours=1)))
    chain.series(Q)
    clock.t = NOW + timedelta(hours=2)
    s = chain.series(Q)
    assert s.g_per_kwh == (5, 5, 5) and "NGESO" in s.source


@pytest.mark.parametrize(("reply", "why"), [
    (Reply(503), "HTTP 503"),
    (Reply(429, headers={"Retry-After": "600"}), "HTTP 429"),
    (Reply(json={"zone": "GB", "forecast": []}), "empty payload"),
    (Reply(json={"zone": "GB", "fore": []}), "malformed payload"),
    (Reply(401), "HTTP 401"),
    (Reply(json=em_forecast("GB", T0, [1]), delay_s=1.2), "no answer within"),
])
def test_each_failure_moves_to_the_next_source_and_is_noted(vendor, chain_parts, clock, sleeps,
                                                            reply, why):
    vendor.add("/v3/carbon-intensity/forecast", reply)
    vendor.add("/intensity/2026-03-10T12:00Z/fw48h", Reply(json={"data": uk_periods(T0, [5] * 6)}))
    s = _chain(chain_parts, clock).series(Q)
    assert s.g_per_kwh == (5, 5, 5) and s.kind is IntensityKind.FORECAST
    assert "NGESO" in s.source
    assert len(s.notes) == 1 and s.notes[0].startswith("electricitymaps: ") and why in s.notes[0]
    assert all(w <= 5 for w in sleeps)  # Retry-After 600 s was not waited for


def test_everything_down_ends_at_the_embedded_default(vendor, chain_parts, clock):
    vendor.add("/v3/carbon-intensity/forecast", Reply(500))
    vendor.add("/intensity/2026-03-10T12:00Z/fw48h", Reply(500))
    s = _chain(chain_parts, clock).series(Q)
    assert s.kind is IntensityKind.DEFAULT
    assert s.g_per_kwh == embedded_default("GB", start=T0, hours=3).g_per_kwh
    assert [n.split(":")[0] for n in s.notes] == ["electricitymaps", "ukgrid"]


def test_no_source_for_the_zone_is_a_clear_error(vendor, chain_parts, clock):
    vendor.add("/v3/carbon-intensity/forecast", Reply(404, json={"error": "unknown zone"}))
    with pytest.raises(NoIntensityError, match="no carbon intensity for zone 'XX-NOWHERE'") as e:
        _chain(chain_parts, clock).series(IntensityQuery(zone="XX-NOWHERE", start=T0, hours=2))
    text = str(e.value)
    assert "HTTP 404" in text and "not Great Britain" in text and "embedded default" in text


def test_a_source_without_forecast_is_forecast_from_its_history(tmp_path, clock):
    hist_start = T0 - 60 * 24 * H
    lines = ["time,ci"] + [f"{(hist_start + i * H):%Y-%m-%dT%H:%M:%SZ},{100 + (i % 24)}"
                           for i in range(60 * 24)]
    f = tmp_path / "trace.csv"
    f.write_text("\n".join(lines) + "\n")
    from carbon.sources.trace import TraceFormat
    trace = TraceSource([TraceFile(zone="GB", paths=(f,), format=TraceFormat(
        time_column="time", value_column="ci"))])
    chain = IntensityChain([trace], clock=clock,
                           forecaster=partial(forecast_series, engine="seasonal-naive"))
    s = chain.series(IntensityQuery(zone="GB", start=T0 + 2 * H, hours=3))
    assert s.kind is IntensityKind.FORECAST
    assert s.g_per_kwh == (102, 103, 104)  # the pattern is 100 + hours since 12:00 UTC
    assert "seasonal-naive" in s.source and "trace trace.csv" in s.source
    assert any("has no forecast" in n for n in s.notes)


def test_past_windows_ask_for_actuals(vendor, chain_parts, clock):
    start = T0 - 30 * H
    vendor.add("/v3/carbon-intensity/past-range",
               Reply(json={"zone": "GB", "data": em_forecast("GB", start, [1, 2])["forecast"]}))
    s = _chain(chain_parts, clock).series(IntensityQuery(zone="GB", start=start, hours=2))
    assert s.kind is IntensityKind.ACTUAL and s.g_per_kwh == (1, 2)


def test_the_token_never_reaches_logs_notes_or_the_cache(vendor, chain_parts, clock, caplog,
                                                          tmp_path):
    vendor.add("/v3/carbon-intensity/forecast",
               Reply(400, json={"error": f"bad request for token {TOKEN}"}))
    vendor.add("/intensity/2026-03-10T12:00Z/fw48h", Reply(json={"data": uk_periods(T0, [5] * 6)}))
    caplog.set_level(logging.DEBUG)
    s = _chain(chain_parts, clock).series(Q)
    assert "***" in s.notes[0]  # the server echoed the token: redacted
    assert TOKEN not in caplog.text and TOKEN not in repr(s)
    for f in (tmp_path / "cache").rglob("*"):
        if f.is_file():
            assert TOKEN not in f.read_text()
    assert "electricitymaps" in caplog.text


def test_cache_ignores_corrupt_entries(tmp_path, clock):
    cache = DiskCache(tmp_path, clock=clock)
    s = IntensitySeries(zone="GB", start=T0, g_per_kwh=(1, 2), source="x",
                        kind=IntensityKind.FORECAST, fetched_at=NOW)
    path = cache.put(s, source="em")
    (path.parent / "20260310T120000Z_2h_20260310T130000Z.json").write_text("{not json")
    got = cache.get(source="em", zone="GB", kind="forecast", start=T0, hours=2)
    assert got.g_per_kwh == (1, 2) and any("skipped unreadable" in n for n in got.notes)
    assert cache.get(source="em", zone="GB", kind="forecast", start=T0, hours=3) is None
    assert cache.get(source="em", zone="GB", kind="forecast", start=T0, hours=2,
                     max_age=timedelta(0)) is None or clock.t == NOW


def test_regional_and_national_answers_are_cached_apart(vendor, chain_parts, clock):
    _em, uk, cache = chain_parts
    vendor.add("/intensity/2026-03-10T12:00Z/fw48h", Reply(json={"data": uk_periods(T0, [5] * 6)}))
    vendor.add("/regional/intensity/2026-03-10T12:00Z/fw48h/regionid/13",
               Reply(json=uk_regional(T0, [9] * 6)))
    chain = IntensityChain([uk], cache=cache, clock=clock)
    assert chain.series(Q).g_per_kwh == (5, 5, 5)
    london = IntensityQuery(zone="GB", start=T0, hours=3, region="aws:eu-west-2")
    assert chain.series(london).g_per_kwh == (9, 9, 9)
    assert chain.series(Q).g_per_kwh == (5, 5, 5) and len(vendor.seen) == 2
