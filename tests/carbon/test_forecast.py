"""carbon.forecast: forecasting intensity from history (forecasting/ or seasonal-naive)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from carbon.forecast import forecast_series, seasonal_naive
from carbon.intensity import IntensityKind, IntensitySeries, IntensitySignal

H = timedelta(hours=1)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _history(days: int = 3, signal=IntensitySignal.AVERAGE) -> IntensitySeries:
    return IntensitySeries(zone="Z", start=T0, g_per_kwh=tuple(100 + h % 24 + 50 * (h // 24)
                                                               for h in range(24 * days)),
                           source="test history", kind=IntensityKind.ACTUAL,
                           fetched_at=T0, signal=signal)


def test_seasonal_naive_repeats_the_last_day():
    h = _history()
    assert seasonal_naive(h, 30) == [200 + i % 24 for i in range(30)]
    short = IntensitySeries(zone="Z", start=T0, g_per_kwh=(5, 6), source="s", kind="actual")
    assert seasonal_naive(short, 3) == [6, 6, 6]


def test_forecast_window_after_a_lead_and_labelled():
    h = _history()
    s = forecast_series(h, start=h.end + 5 * H, hours=4, engine="seasonal-naive")
    assert s.kind is IntensityKind.FORECAST and s.start == h.end + 5 * H
    assert s.g_per_kwh == (205, 206, 207, 208)
    assert "seasonal-naive (last day of history repeated) on 72 h of history" in s.source
    assert "forecast lead 5-9 h" in s.notes[0]


def test_forecast_keeps_the_marginal_signal():
    s = forecast_series(_history(signal="marginal"), start=T0 + 72 * H, hours=2,
                        engine="seasonal-naive")
    assert s.signal is IntensitySignal.MARGINAL


def test_no_peeking_and_bad_arguments():
    h = _history()
    with pytest.raises(ValueError, match="inside the history"):
        forecast_series(h, start=h.end - H, hours=2)
    with pytest.raises(ValueError, match="engine"):
        forecast_series(h, start=h.end, hours=2, engine="crystal-ball")
    with pytest.raises(ValueError, match="hours"):
        forecast_series(h, start=h.end, hours=0)


def test_auto_always_answers_and_says_which_engine():
    h = _history(days=8)
    s = forecast_series(h, start=h.end, hours=24)
    assert len(s.g_per_kwh) == 24 and all(v >= 0 for v in s.g_per_kwh)
    assert s.source.startswith(("forecasting.forecast (", "seasonal-naive"))
    if s.source.startswith("seasonal-naive"):  # only when forecasting failed: it says why
        assert any("seasonal-naive fallback" in n for n in s.notes)


def test_forecasting_engine_on_real_gb_data_is_labelled_and_sane(shared_data):
    from carbon.sources.trace import TraceFile, read_trace

    f = shared_data / "carbon_intensity/electricitymaps_hourly/GB_2023_hourly.csv"
    actual, _ = read_trace(TraceFile(zone="GB", paths=(f,)))
    origin = datetime(2023, 6, 1, tzinfo=UTC)
    hist = actual.window(origin - 28 * 24 * H, 28 * 24)
    s = forecast_series(hist, start=origin, hours=24, engine="forecasting")
    truth = actual.window(origin, 24).g_per_kwh
    mape = sum(abs(a - b) / a for a, b in zip(truth, s.g_per_kwh)) / 24
    assert s.source.startswith("forecasting.forecast (") and "GB_2023_hourly.csv" in s.source
    assert any("80 % interval" in n for n in s.notes)
    assert mape < 0.6


def test_a_history_forecasting_refuses_falls_back_to_seasonal_naive_and_says_why():
    tiny = IntensitySeries(zone="Z", start=T0, g_per_kwh=(100, 120), source="s", kind="actual")
    s = forecast_series(tiny, start=tiny.end, hours=3)
    assert s.g_per_kwh == (120, 120, 120) and s.source.startswith("seasonal-naive")
    assert any("forecasting failed" in n and "seasonal-naive fallback" in n for n in s.notes)
    with pytest.raises(ValueError, match="at least 3 are needed"):  # forecasting.InputDataError
        forecast_series(tiny, start=tiny.end, hours=3, engine="forecasting")
