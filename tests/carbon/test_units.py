"""carbon.units: dimensions, conversions, and location/market never summed."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbon.units import KG_PER_LB, Basis, BasisMismatchError, Emissions, Energy, Intensity, Power

pos = st.floats(0, 1e6, allow_nan=False)


def test_power_over_hours_is_energy():
    assert Power(500).over(2) == Energy(1.0)
    assert Power(1500).kw == 1.5


def test_energy_times_intensity_is_emissions_in_kg():
    e = Energy(10) * Intensity(g_per_kwh=250)
    assert e == Emissions(kg_co2e=2.5) and e.basis is Basis.LOCATION
    assert Intensity(g_per_kwh=250) * Energy(10) == e
    assert e.g == 2500 and e.t == 0.0025


def test_conversions():
    assert Intensity.from_lbs_per_mwh(1000).g_per_kwh == pytest.approx(453.59237)
    assert Intensity.from_lbs_per_mwh(1).lbs_per_mwh == pytest.approx(1.0)
    assert KG_PER_LB == 0.45359237
    assert Intensity.from_t_per_kwh(0.000415755).g_per_kwh == pytest.approx(415.755)
    assert Energy.from_joules(3.6e6) == Energy(1.0) and Energy.from_wh(500).kwh == 0.5


def test_nonsense_arithmetic_is_a_type_error():
    with pytest.raises(TypeError):
        Energy(1) + Power(1)  # type: ignore[operator]
    with pytest.raises(TypeError):
        Energy(1) * Energy(1)  # type: ignore[operator]
    with pytest.raises(TypeError):
        Emissions(kg_co2e=1) + 1.0  # type: ignore[operator]
    with pytest.raises(TypeError):
        Power(1) + True  # type: ignore[operator]


def test_location_and_market_never_add_embodied_joins_either():
    loc = Emissions(kg_co2e=1, basis=Basis.LOCATION)
    mkt = Emissions(kg_co2e=2, basis=Basis.MARKET)
    emb = Emissions(kg_co2e=3, basis=Basis.EMBODIED)
    with pytest.raises(BasisMismatchError, match="location-based to market-based"):
        loc + mkt
    assert (loc + emb).basis is Basis.LOCATION and (emb + mkt).basis is Basis.MARKET
    assert (loc + emb).kg_co2e == 4


def test_marginal_never_adds_to_average():
    m = Energy(1) * Intensity(g_per_kwh=500, marginal=True)
    assert m.marginal
    with pytest.raises(BasisMismatchError, match="marginal"):
        m + Emissions(kg_co2e=1)


def test_intensity_cannot_be_embodied_and_values_must_be_finite():
    with pytest.raises(ValueError, match="embodied"):
        Intensity(g_per_kwh=1, basis=Basis.EMBODIED)
    with pytest.raises(ValueError, match="finite"):
        Energy(float("inf"))


@settings(deadline=None)  # the CI machine is shared: no wall-clock limits
@given(st.lists(pos, max_size=30), pos)
def test_sum_of_hourly_emissions_equals_total_energy_times_flat_intensity(kwhs, g):
    i = Intensity(g_per_kwh=g)
    per_hour = sum((Energy(k) * i for k in kwhs), Emissions.zero())
    total = sum((Energy(k) for k in kwhs), Energy(0)) * i
    assert per_hour.kg_co2e == pytest.approx(total.kg_co2e, rel=1e-9, abs=1e-9)
    if kwhs:  # plain sum() starts from int 0, which Energy accepts
        assert sum(Energy(k) for k in kwhs) == sum((Energy(k) for k in kwhs), Energy(0))
