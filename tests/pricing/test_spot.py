"""pricing.spot: hazard, expected runtime with checkpoints, and finish probability."""

from __future__ import annotations

import itertools
import math
import random

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pricing.spot import (
    BUCKET_MONTHLY_RATE,
    BUCKETS,
    HOURS_PER_MONTH,
    allows_spot,
    expected_runtime_h,
    hazard_per_hour,
    spot_risk,
)

work = st.floats(min_value=0.1, max_value=500.0, allow_nan=False)
interval = st.floats(min_value=0.05, max_value=48.0, allow_nan=False)
overhead = st.floats(min_value=0.0, max_value=2.0, allow_nan=False)
hazard = st.floats(min_value=0.0, max_value=0.5, allow_nan=False)
bucket = st.sampled_from(BUCKETS)


# --- hazard -------------------------------------------------------------------------

@pytest.mark.parametrize("name", BUCKETS)
def test_hazard_reproduces_the_monthly_bucket_rate(name: str) -> None:
    lam = hazard_per_hour(name)
    assert 1.0 - math.exp(-lam * HOURS_PER_MONTH) == pytest.approx(BUCKET_MONTHLY_RATE[name])


def test_riskier_buckets_have_higher_hazard() -> None:
    hazards = [hazard_per_hour(b) for b in BUCKETS]
    assert hazards == sorted(hazards) and len(set(hazards)) == len(hazards)


@given(bucket, st.integers(min_value=1, max_value=63))
def test_gang_hazard_grows_with_instances(name: str, k: int) -> None:
    one = hazard_per_hour(name)
    assert hazard_per_hour(name, instances=k + 1) > hazard_per_hour(name, instances=k)
    assert hazard_per_hour(name, instances=k) == pytest.approx(k * one)


# --- expected runtime -----------------------------------------------------------------

@given(work, interval, overhead, hazard)
@settings(max_examples=300)
def test_runtime_is_at_least_the_work(w: float, c: float, r: float, lam: float) -> None:
    assert expected_runtime_h(work_h=w, checkpoint_interval_h=c, restart_overhead_h=r,
                              hazard_per_hour=lam) >= w


@given(work, interval, overhead, hazard, hazard)
@settings(max_examples=300)
def test_more_hazard_means_longer_expected_runtime(w: float, c: float, r: float,
                                                  lam1: float, lam2: float) -> None:
    lo, hi = sorted((lam1, lam2))
    assume(hi - lo > 1e-6)
    t_lo = expected_runtime_h(work_h=w, checkpoint_interval_h=c, restart_overhead_h=r,
                              hazard_per_hour=lo)
    t_hi = expected_runtime_h(work_h=w, checkpoint_interval_h=c, restart_overhead_h=r,
                              hazard_per_hour=hi)
    assert t_hi > t_lo


@given(work, interval, overhead)
def test_zero_hazard_runtime_is_exactly_the_work(w: float, c: float, r: float) -> None:
    assert expected_runtime_h(work_h=w, checkpoint_interval_h=c, restart_overhead_h=r,
                              hazard_per_hour=0.0) == w


@given(st.integers(min_value=1, max_value=50), interval, overhead,
       st.floats(min_value=1e-9, max_value=1e-7))
def test_small_hazard_limit(segments: int, c: float, r: float, lam: float) -> None:
    w = segments * c
    t = expected_runtime_h(work_h=w, checkpoint_interval_h=c, restart_overhead_h=r,
                           hazard_per_hour=lam)
    first_order = w * (1.0 + lam * (c / 2.0 + r))
    assert t == pytest.approx(first_order, rel=1e-9)
    assert (t - w) == pytest.approx(w * lam * (c / 2.0 + r), rel=1e-3)


def test_partial_last_segment_matches_the_closed_form() -> None:
    lam, c, r, w = 0.05, 3.0, 0.5, 10.0  # segments 3 + 3 + 3 + 1

    def seg(s: float) -> float:
        return (1 / lam + r) * math.expm1(lam * s)

    expected = 3 * seg(3.0) + seg(1.0)
    assert expected_runtime_h(work_h=w, checkpoint_interval_h=c, restart_overhead_h=r,
                              hazard_per_hour=lam) == pytest.approx(expected, rel=1e-12)
    # A checkpoint interval longer than the work is one segment of the whole work.
    assert expected_runtime_h(work_h=2.0, checkpoint_interval_h=5.0, restart_overhead_h=r,
                              hazard_per_hour=lam) == pytest.approx(seg(2.0), rel=1e-12)


def _simulate(w: float, c: float, r: float, lam: float, rng: random.Random) -> tuple[float, int]:
    """One run: wall hours and interruptions, by direct simulation of the model."""
    wall, done, interruptions = 0.0, 0.0, 0
    while done < w - 1e-12:
        s = min(c, w - done)
        x = rng.expovariate(lam)
        if x >= s:
            wall += s
            done += s
        else:
            wall += x + r
            interruptions += 1
    return wall, interruptions


def test_runtime_and_interruptions_agree_with_simulation() -> None:
    rng = random.Random(20260428)
    w, c, r = 12.0, 2.5, 0.4  # segments 2.5 x 4 + 2.0
    risk = spot_risk(work_h=w, checkpoint_interval_h=c, restart_overhead_h=r, bucket=">20%",
                     instances=300)  # a big gang: hazard ~0.12/h, so the effect is visible
    assert risk is not None and 0.1 < risk.hazard_per_hour < 0.15
    runs = [_simulate(w, c, r, risk.hazard_per_hour, rng) for _ in range(40_000)]
    mean_wall = sum(t for t, _ in runs) / len(runs)
    mean_n = sum(n for _, n in runs) / len(runs)
    assert risk.expected_runtime_h > w * 1.1
    assert mean_wall == pytest.approx(risk.expected_runtime_h, rel=0.01)
    assert mean_n == pytest.approx(risk.expected_interruptions, rel=0.03)


# --- SpotRisk ---------------------------------------------------------------------------

def test_no_checkpoint_means_no_spot() -> None:
    assert spot_risk(work_h=10.0, checkpoint_interval_h=None, restart_overhead_h=0.2,
                     bucket="<5%") is None


@given(work, interval, overhead, bucket, st.integers(min_value=1, max_value=16))
def test_spot_risk_fields_are_consistent(w: float, c: float, r: float, name: str,
                                         k: int) -> None:
    risk = spot_risk(work_h=w, checkpoint_interval_h=c, restart_overhead_h=r, bucket=name,
                     instances=k)
    assert risk is not None
    assert risk.hazard_per_hour == pytest.approx(hazard_per_hour(name, instances=k))
    assert risk.expected_runtime_h == expected_runtime_h(
        work_h=w, checkpoint_interval_h=c, restart_overhead_h=r,
        hazard_per_hour=risk.hazard_per_hour)
    assert risk.inflation == pytest.approx(risk.expected_runtime_h / w)
    assert risk.inflation >= 1.0
    assert risk.expected_interruptions >= 0.0


@given(work, interval, overhead, st.integers(min_value=1, max_value=8),
       st.floats(min_value=0.0, max_value=3.0))
@settings(max_examples=300)
def test_more_hazard_means_lower_finish_probability(w: float, c: float, r: float, k: int,
                                                    slack: float) -> None:
    hours = w * (1.0 + slack)
    probs = []
    for name in BUCKETS:  # ascending hazard
        risk = spot_risk(work_h=w, checkpoint_interval_h=c, restart_overhead_h=r,
                         bucket=name, instances=k)
        assert risk is not None
        p = risk.p_finish_within(hours)
        assert 0.0 <= p <= 1.0
        probs.append(p)
    # non-increasing in hazard (up to float rounding of the Poisson sums)
    assert all(a >= b - 1e-12 for a, b in itertools.pairwise(probs))
    gang = spot_risk(work_h=w, checkpoint_interval_h=c, restart_overhead_h=r,
                     bucket=">20%", instances=k + 8)
    assert gang is not None and gang.p_finish_within(hours) <= probs[-1] + 1e-12


def test_finish_probability_edges_and_growth_with_time() -> None:
    risk = spot_risk(work_h=40.0, checkpoint_interval_h=1.0, restart_overhead_h=0.25,
                     bucket=">20%", instances=64)
    assert risk is not None
    assert risk.p_finish_within(39.9) == 0.0
    ps = [risk.p_finish_within(h) for h in (40.0, 41.0, 43.0, 48.0, 80.0)]
    assert ps == sorted(ps) and ps[0] < 0.5 < ps[-1]
    assert ps[-1] == pytest.approx(1.0, abs=1e-6)


def test_finish_probability_is_a_lower_bound_on_simulation() -> None:
    rng = random.Random(7)
    w, c, r, k = 20.0, 2.0, 0.5, 32
    risk = spot_risk(work_h=w, checkpoint_interval_h=c, restart_overhead_h=r,
                     bucket="15-20%", instances=k)
    assert risk is not None
    walls = [_simulate(w, c, r, risk.hazard_per_hour, rng)[0] for _ in range(20_000)]
    for hours in (20.0, 21.0, 22.5, 25.0, 30.0):
        simulated = sum(t <= hours for t in walls) / len(walls)
        assert risk.p_finish_within(hours) <= simulated + 0.01


# --- input errors ---------------------------------------------------------------------

@pytest.mark.parametrize(("kwargs", "match"), [
    ({"work_h": 0.0}, "work_h must be > 0"),
    ({"work_h": -1.0}, "work_h must be > 0"),
    ({"checkpoint_interval_h": 0.0}, "checkpoint_interval_h must be > 0"),
    ({"restart_overhead_h": -0.1}, "restart_overhead_h must be >= 0"),
    ({"bucket": "25%"}, "unknown interruption bucket '25%'"),
    ({"instances": 0}, "instances must be an integer >= 1"),
    ({"work_h": float("nan")}, "work_h must be > 0"),
])
def test_bad_inputs_raise_value_error(kwargs: dict, match: str) -> None:
    args = {"work_h": 10.0, "checkpoint_interval_h": 1.0, "restart_overhead_h": 0.1,
                "bucket": "5-10%", "instances": 1} | kwargs
    with pytest.raises(ValueError, match=match):
        spot_risk(**args)


def test_negative_hazard_and_hours_are_rejected() -> None:
    with pytest.raises(ValueError, match="hazard_per_hour must be >= 0"):
        expected_runtime_h(work_h=1.0, checkpoint_interval_h=1.0, restart_overhead_h=0.0,
                           hazard_per_hour=-0.1)
    risk = spot_risk(work_h=1.0, checkpoint_interval_h=1.0, restart_overhead_h=0.0,
                     bucket="<5%")
    assert risk is not None
    with pytest.raises(ValueError, match="hours must be >= 0"):
        risk.p_finish_within(-1.0)


@given(work, interval, overhead, bucket, st.integers(min_value=1, max_value=64),
       st.floats(min_value=0.0, max_value=2.0), st.floats(min_value=0.0, max_value=2.0))
@settings(max_examples=300)
def test_finish_probability_never_falls_with_more_time(w: float, c: float, r: float,
                                                      name: str, k: int, a: float,
                                                      b: float) -> None:
    risk = spot_risk(work_h=w, checkpoint_interval_h=c, restart_overhead_h=r, bucket=name,
                     instances=k)
    assert risk is not None
    short, long = sorted((w * (1 + a), w * (1 + b)))
    assert risk.p_finish_within(short) <= risk.p_finish_within(long) + 1e-12


@given(work, interval, overhead, bucket, st.integers(min_value=1, max_value=64))
def test_finish_probability_at_the_work_itself_is_no_interruption(
        w: float, c: float, r: float, name: str, k: int) -> None:
    risk = spot_risk(work_h=w, checkpoint_interval_h=c, restart_overhead_h=r, bucket=name,
                     instances=k)
    assert risk is not None
    # Finishing in exactly W hours needs zero reclaims in W hours: e^{-lambda W} exactly.
    assert risk.p_finish_within(w) == pytest.approx(math.exp(-risk.hazard_per_hour * w),
                                                    rel=1e-12)


# --- expected cost, extra energy, who gets spot -------------------------------------------

def test_allows_spot_only_with_checkpoints() -> None:
    assert not allows_spot(checkpoint_interval_h=None)
    assert allows_spot(checkpoint_interval_h=2.0)
    assert spot_risk(work_h=10.0, checkpoint_interval_h=None, restart_overhead_h=0.1,
                     bucket="<5%") is None


@given(work, interval, overhead, st.integers(min_value=1, max_value=16),
       st.floats(min_value=0.01, max_value=100.0))
@settings(max_examples=200, deadline=None)
def test_more_hazard_means_more_expected_cost_and_energy(w, c, r, k, price) -> None:
    risks = [spot_risk(work_h=w, checkpoint_interval_h=c, restart_overhead_h=r, bucket=b,
                       instances=k) for b in BUCKETS]
    assert all(x is not None for x in risks)
    costs = [x.expected_cost_usd(price) for x in risks if x is not None]
    extra = [x.expected_extra_energy_share for x in risks if x is not None]
    assert costs == sorted(costs) and extra == sorted(extra)
    first = risks[0]
    assert first is not None
    assert costs[0] >= k * price * w * (1 - 1e-12)  # never below the uninterrupted run
    assert first.expected_extra_energy_share == pytest.approx(first.inflation - 1)
    assert first.expected_extra_runtime_h == pytest.approx(first.expected_runtime_h - w)
    assert extra[0] >= 0


def test_expected_cost_counts_every_instance_and_wall_hour() -> None:
    risk = spot_risk(work_h=24.0, checkpoint_interval_h=1.0, restart_overhead_h=0.25,
                     bucket=">20%", instances=8)
    assert risk is not None and risk.instances == 8
    assert risk.expected_cost_usd(2.5) == pytest.approx(8 * 2.5 * risk.expected_runtime_h)
    with pytest.raises(ValueError, match="usd_per_instance_hour must be >= 0"):
        risk.expected_cost_usd(-1.0)
