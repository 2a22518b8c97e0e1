"""Typed energy maths and the location- vs market-based footprint."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from carbon import energy
from carbon.footprint import Footprint, FootprintKind, MarketInstruments, footprint
from carbon.intensity import IntensityKind, IntensitySeries
from carbon.units import Basis, BasisMismatchError, Emissions, Energy, Intensity, Power

T0 = datetime(2026, 5, 1, tzinfo=UTC)
SERIES = IntensitySeries(zone="Z", start=T0, g_per_kwh=(100, 200, 300), source="test",
                         kind=IntensityKind.FORECAST)


def test_float_api_equals_the_typed_maths():
    kw = {"accelerator": "A100-80GB", "gpus": 8, "hours": 3, "utilisation": 0.7, "pue": 1.1}
    typed = energy.facility_energy(**kw)
    assert isinstance(typed, Energy) and energy.energy_kwh(**kw) == pytest.approx(typed.kwh)
    by_hand = ((energy.gpu_draw_w("A100-80GB", 0.7) + 171.8) * 8 * 3 * 1.1) / 1000
    assert typed.kwh == pytest.approx(by_hand)
    assert energy.embodied(accelerator="H100", gpu_hours=10).basis is Basis.EMBODIED


def test_mig_fraction_and_slice_power():
    assert energy.mig_fraction("3g.40gb") == pytest.approx(3 / 7)
    assert energy.mig_fraction("1g.10gb") == pytest.approx(1 / 7)
    assert energy.mig_fraction("7g.80gb") == 1.0
    with pytest.raises(ValueError, match="'<N>g.<M>gb'"):
        energy.mig_fraction("MIG-big")
    with pytest.raises(ValueError, match="outside 1..7"):
        energy.mig_fraction("9g.90gb")
    whole = energy.it_power(accelerator="H100", utilisation=0.5)
    part = energy.it_power(accelerator="H100", utilisation=0.5, gpu_fraction=3 / 7)
    assert isinstance(whole, Power) and part.w == pytest.approx(whole.w * 3 / 7)


def test_operational_typed_sum():
    e = [Energy(1), Energy(2)]
    got = energy.operational(energy_by_hour=e, intensity_by_hour=[Intensity(g_per_kwh=100),
                                                                 Intensity(g_per_kwh=50)])
    assert got.kg_co2e == pytest.approx(0.2)


def test_location_based_is_the_hourly_sum():
    fp = footprint(energy_by_hour=[Energy(1), Energy(2), Energy(3)], series=SERIES, start=T0)
    assert fp.location_based.kg_co2e == pytest.approx((100 + 400 + 900) / 1000)
    assert fp.market_based.kg_co2e == fp.location_based.kg_co2e
    assert "no contractual instruments" in fp.market_basis
    assert fp.energy == Energy(6) and fp.kind is FootprintKind.PLANNED
    assert "test [forecast]" in fp.intensity_source


def test_market_based_with_clean_share_and_residual_mix():
    inst = MarketInstruments(clean_share=0.6, residual_mix=Intensity(g_per_kwh=500),
                             source="PPA 2026 + AIB residual mix 2024")
    fp = footprint(energy_by_hour=[Energy(1), Energy(2), Energy(3)], series=SERIES, start=T0,
                   instruments=inst, embodied=Emissions(kg_co2e=0.1, basis=Basis.EMBODIED))
    assert fp.market_based.kg_co2e == pytest.approx(6 * 0.4 * 500 / 1000)
    assert fp.location_based.kg_co2e == pytest.approx(1.4)
    assert fp.total("market").kg_co2e == pytest.approx(1.2 + 0.1)
    assert fp.total("location").kg_co2e == pytest.approx(1.4 + 0.1)
    assert "60% contracted clean energy, rest at residual mix 500 g/kWh" in fp.market_basis


def test_market_based_without_residual_mix_uses_the_grid_average_for_the_rest():
    inst = MarketInstruments(clean_share=0.5)
    fp = footprint(energy_by_hour=[Energy(2)], series=SERIES, start=T0 + timedelta(hours=1),
                   instruments=inst)
    assert fp.market_based.kg_co2e == pytest.approx(2 * 0.5 * 200 / 1000)
    assert "grid average (no residual mix declared)" in fp.market_basis


def test_the_two_bases_are_never_summed_and_kinds_never_mixed():
    fp = footprint(energy_by_hour=[Energy(1)], series=SERIES, start=T0)
    with pytest.raises(BasisMismatchError):
        fp.location_based + fp.market_based
    with pytest.raises(BasisMismatchError, match="Footprint.market_based has basis location"):
        Footprint(kind="planned", energy=Energy(1), location_based=fp.location_based,
                  market_based=fp.location_based, embodied=fp.embodied)
    both = fp + fp
    assert both.location_based.kg_co2e == pytest.approx(0.2)
    measured = footprint(energy_by_hour=[Energy(1)], series=SERIES, start=T0,
                         kind=FootprintKind.MEASURED)
    with pytest.raises(TypeError, match="planned and measured"):
        fp + measured
    assert set(fp.as_dict()) >= {"location_based_kg_co2e", "market_based_kg_co2e", "kind"}


def test_marginal_series_are_refused_for_a_footprint():
    marginal = IntensitySeries(zone="Z", start=T0, g_per_kwh=(500,), source="WattTime",
                               kind="forecast", signal="marginal")
    with pytest.raises(ValueError, match="marginal signal"):
        footprint(energy_by_hour=[Energy(1)], series=marginal, start=T0)


@pytest.mark.parametrize("share", [-0.1, 1.5, float("nan")])
def test_clean_share_must_be_a_fraction(share):
    with pytest.raises(ValueError, match="clean_share"):
        MarketInstruments(clean_share=share)


def test_market_instruments_from_a_fleet_mapping():
    m = MarketInstruments.from_mapping({"clean_share": 0.8, "residual_mix_g_per_kwh": 420,
                                        "source": "PPA"}, where="fleet.yaml region r1")
    assert m.clean_share == 0.8 and m.residual_mix.g_per_kwh == 420
    assert m.residual_mix.basis is Basis.MARKET
    with pytest.raises(ValueError, match="fleet.yaml region r1: unknown field.*clean_shar"):
        MarketInstruments.from_mapping({"clean_shar": 0.8}, where="fleet.yaml region r1")
    with pytest.raises(ValueError, match="fleet.yaml region r1: clean_share"):
        MarketInstruments.from_mapping({"clean_share": 80}, where="fleet.yaml region r1")
