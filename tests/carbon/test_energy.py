"""carbon.energy: power curve, energy, embodied and operational emissions."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbon import energy
from carbon.energy import (
    GpuPower,
    UnknownAcceleratorError,
    embodied_kg_co2e,
    energy_kwh,
    gpu_draw_w,
    gpu_power,
    known_accelerators,
    operational_kg_co2e,
    pue_for,
)

EXPECTED = {"H100", "A100-80GB", "A100-40GB", "L40S", "L4", "A10G", "T4"}
utils = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
accels = st.sampled_from(sorted(EXPECTED))


def test_known_accelerators_are_exactly_the_seven():
    assert known_accelerators() == EXPECTED


@pytest.mark.parametrize(("acc", "watts"), [("H100", 700), ("A100-80GB", 400), ("A100-40GB", 400),
                                            ("L40S", 350), ("L4", 72), ("A10G", 150), ("T4", 70)])
def test_datasheet_board_power(acc, watts):
    g = gpu_power(acc)
    assert isinstance(g, GpuPower)
    assert g.max_power_w == watts
    assert "datasheet" in g.source


def test_every_row_names_its_sources_and_flags_assumptions():
    for acc in EXPECTED:
        g = gpu_power(acc)
        assert "max power:" in g.source and "host:" in g.source and "embodied:" in g.source
    for acc in ("H100", "L40S", "L4", "A10G"):
        assert "host: ASSUMPTION" in gpu_power(acc).source
    for acc in ("A100-80GB", "A100-40GB", "T4"):
        assert "host: measured" in gpu_power(acc).source


def test_curve_hits_one_at_full_load_and_matches_the_teads_points():
    curve = energy.power_curve()
    assert [u for u, _ in curve] == [0.0, 0.1, 0.5, 1.0]
    assert curve[-1][1] == 1.0
    for acc in EXPECTED:
        assert gpu_draw_w(acc, 1.0) == pytest.approx(gpu_power(acc).max_power_w)
    # Teads p4d.24xlarge GPU watts: idle 371.6, 50 % 2407.2, 100 % 3259.3 (8 x A100)
    assert gpu_draw_w("A100-80GB", 0.0) / 400 == pytest.approx(371.6 / 3259.3, abs=2e-4)
    assert gpu_draw_w("A100-80GB", 0.5) / 400 == pytest.approx(2407.2 / 3259.3, abs=2e-4)


def test_linear_between_points():
    (u0, f0), (u1, f1) = energy.power_curve()[1:3]
    mid = (u0 + u1) / 2
    assert gpu_draw_w("T4", mid) == pytest.approx(70 * (f0 + f1) / 2)


@settings(deadline=None)  # the CI machine is shared: no wall-clock limits
@given(accels, utils, utils)
def test_curve_is_monotone(acc, a, b):
    lo, hi = min(a, b), max(a, b)
    assert gpu_draw_w(acc, lo) <= gpu_draw_w(acc, hi) + 1e-9
    assert 0 < gpu_draw_w(acc, lo) <= gpu_power(acc).max_power_w + 1e-9


@pytest.mark.parametrize("u", [-0.01, 1.01, math.nan])
def test_utilisation_outside_unit_interval_is_rejected(u):
    with pytest.raises(ValueError, match="utilisation"):
        gpu_draw_w("A100-80GB", u)


@settings(deadline=None)  # the CI machine is shared: no wall-clock limits
@given(accels, utils, st.floats(0.1, 64), st.floats(0.1, 1000), st.floats(1.0, 2.0),
       st.sampled_from([2.0, 3.0, 0.5]))
def test_energy_is_linear_in_gpus_hours_and_pue(acc, u, gpus, hours, pue, k):
    base = energy_kwh(accelerator=acc, gpus=gpus, hours=hours, utilisation=u, pue=pue)
    assert energy_kwh(accelerator=acc, gpus=gpus * k, hours=hours, utilisation=u,
                      pue=pue) == pytest.approx(base * k)
    assert energy_kwh(accelerator=acc, gpus=gpus, hours=hours * k, utilisation=u,
                      pue=pue) == pytest.approx(base * k)
    if pue * k >= 1.0:
        assert energy_kwh(accelerator=acc, gpus=gpus, hours=hours, utilisation=u,
                          pue=pue * k) == pytest.approx(base * k)


def test_energy_hand_computation():
    g = gpu_power("A100-80GB")
    expected = (gpu_draw_w("A100-80GB", 0.8) + g.host_w_per_gpu) * 8 * 10 * 1.135 / 1000
    got = energy_kwh(accelerator="A100-80GB", gpus=8, hours=10, utilisation=0.8, pue=pue_for("aws"))
    assert got == pytest.approx(expected)
    # one A100 at full load for an hour with no PUE overhead: 400 W GPU + 171.8 W host
    assert energy_kwh(accelerator="A100-80GB", gpus=1, hours=1, utilisation=1.0,
                      pue=1.0) == pytest.approx(0.5718, abs=1e-4)


def test_mig_fraction_half_halves_energy_and_embodied():
    whole = energy_kwh(accelerator="A100-40GB", gpus=4, hours=3, utilisation=0.7, pue=1.1)
    half = energy_kwh(accelerator="A100-40GB", gpus=4, hours=3, utilisation=0.7, pue=1.1,
                      gpu_fraction=0.5)
    assert half == pytest.approx(whole / 2)
    assert embodied_kg_co2e(accelerator="H100", gpu_hours=10, gpu_fraction=0.5) == pytest.approx(
        embodied_kg_co2e(accelerator="H100", gpu_hours=10) / 2)


@pytest.mark.parametrize(("field", "kwargs"), [
    ("gpus", {"gpus": -1}), ("hours", {"hours": math.inf}), ("pue", {"pue": 0.9}),
    ("gpu_fraction", {"gpu_fraction": 0.0}), ("gpu_fraction", {"gpu_fraction": 1.5}),
])
def test_energy_rejects_bad_inputs_naming_the_field(field, kwargs):
    args = {"accelerator": "T4", "gpus": 1, "hours": 1, "utilisation": 0.5, "pue": 1.2} | kwargs
    with pytest.raises(ValueError, match=field):
        energy_kwh(**args)


def test_unknown_accelerator_error_names_it_and_lists_known():
    with pytest.raises(UnknownAcceleratorError) as err:
        gpu_power("B200")
    msg = str(err.value)
    assert "'B200'" in msg
    for acc in EXPECTED:
        assert acc in msg
    assert isinstance(err.value, ValueError)
    with pytest.raises(UnknownAcceleratorError, match="did you mean 'A100-80GB'"):
        energy_kwh(accelerator="a100-80gb", gpus=1, hours=1, utilisation=0.5, pue=1.1)


def test_pue_by_provider_with_default_fallback():
    assert pue_for("aws") == 1.135
    assert pue_for("GCP") == 1.1
    assert pue_for("azure") == 1.185
    assert pue_for("onprem") == 1.56
    assert pue_for("some-neocloud") == 1.56


def test_embodied_a100_is_luccioni_figure():
    expected_g = (150 + 2500 / 8) * 1000 / (6 * 8760 * 0.85)  # 10.35 g per GPU-hour
    assert expected_g == pytest.approx(10.4, abs=0.06)
    for acc in ("A100-80GB", "A100-40GB"):
        assert gpu_power(acc).embodied_g_per_gpu_hour == pytest.approx(expected_g, abs=0.005)
    assert embodied_kg_co2e(accelerator="A100-80GB", gpu_hours=1000) == pytest.approx(10.35)


def test_embodied_of_other_models_scales_with_board_power():
    a100 = gpu_power("A100-80GB").embodied_g_per_gpu_hour
    for acc in EXPECTED - {"A100-80GB", "A100-40GB"}:
        g = gpu_power(acc)
        assert g.embodied_g_per_gpu_hour == pytest.approx(a100 * g.max_power_w / 400, abs=0.01)
        assert "embodied: ASSUMPTION" in g.source


def test_operational_sum_equals_hand_computation():
    kwh = [1.5, 2.0, 0.0, 4.25]
    g = [100.0, 250.0, 999.0, 40.0]
    hand = (1.5 * 100 + 2.0 * 250 + 0 + 4.25 * 40) / 1000  # 0.82 kg
    assert operational_kg_co2e(kwh_by_hour=kwh, g_per_kwh_by_hour=g) == pytest.approx(hand)
    assert hand == pytest.approx(0.82)
    assert operational_kg_co2e(kwh_by_hour=[], g_per_kwh_by_hour=[]) == 0.0


def test_operational_lengths_must_match():
    with pytest.raises(ValueError, match="kwh_by_hour has 2 values but g_per_kwh_by_hour has 3"):
        operational_kg_co2e(kwh_by_hour=[1, 2], g_per_kwh_by_hour=[1, 2, 3])
    with pytest.raises(ValueError, match=r"g_per_kwh_by_hour\[1\]"):
        operational_kg_co2e(kwh_by_hour=[1, 2], g_per_kwh_by_hour=[1, -2])


def test_gpu_power_is_frozen():
    g = gpu_power("T4")
    with pytest.raises(AttributeError):
        g.max_power_w = 1  # type: ignore[misc]
