"""Spot risk: how much longer a checkpointed job runs when instances are reclaimed.

Hazard from an interruption bucket
----------------------------------
AWS's Spot Instance Advisor defines a bucket as the share of instances of a type
reclaimed over the trailing month (730 h). We take a representative monthly
probability ``p`` per bucket (``BUCKET_MONTHLY_RATE``: the midpoint of the band; the
open band ``>20%`` is *assumed* to be 25 %) and treat reclaims as a Poisson process with
a constant hazard per instance-hour

    lambda_1 = -ln(1 - p) / 730            so that  P(reclaimed within 730 h) = p.

A gang job spread over ``k`` instances stops when any one of them is reclaimed, so
its hazard is ``lambda = k * lambda_1`` (minimum of k independent exponentials).

Expected wall time with checkpoints
-----------------------------------
Work ``W`` hours is checkpointed every ``c`` hours: segments of length ``c`` and a last,
shorter one. A segment of length ``s`` must run ``s`` hours without an interruption;
each interruption loses the progress since the last checkpoint and costs a restart
overhead ``r`` (no interruptions during the restart). With T the segment's wall time
and X ~ Exp(lambda) the time to the next interruption,

    E[T] = E[min(X, s)] + P(X < s) (r + E[T])
         = (1 - e^{-lambda s}) / lambda + (1 - e^{-lambda s}) (r + E[T])
    =>  E[T] = (1/lambda + r) (e^{lambda s} - 1)

and the expected number of interruptions in the segment is e^{lambda s} - 1
(geometric). Summed over segments. As lambda -> 0, E[T] -> s + lambda (s^2/2 + r s), so
for W a multiple of c the total tends to W (1 + lambda (c/2 + r)). The result is
>= W, increasing in lambda, c and r. Checkpoint writing time is not modelled (fold it
into W or r).

Expected cost and extra energy
------------------------------
Spot capacity is billed for every wall hour the job holds it, lost work and restarts
included (the replacement instance is billed while it reloads the checkpoint), so with
a spot price ``p`` USD per instance-hour for each of the ``k`` instances

    E[cost] = k p E[T]            (``SpotRisk.expected_cost_usd(p)``, k = ``instances``)

and, with the GPUs drawing the same power while they redo lost work or restart as while
they make progress (conservative: restarts often draw less), the energy beyond the
uninterrupted run is a share of it

    extra energy share = (E[T] - W) / W = inflation - 1.

Who gets spot
-------------
A training job without checkpoints loses all progress at every reclaim; its runtime is
unbounded in expectation at any positive hazard over a long run, so ``spot_risk``
returns None for it and the planner offers it no spot capacity (``allows_spot``).

Probability of finishing by a deadline (conservative)
-----------------------------------------------------
Each reclaim costs at most ``d = min(c, W) + r`` hours (progress lost since the last
checkpoint, plus the restart). Let N(h) ~ Poisson(lambda h) count the reclaims a Poisson
process produces in a window of h wall hours -- an over-count of the job's reclaims,
which only happen while it runs. If ``N(W + k d) <= k`` the job has finished by
``W + k d`` (it lost at most k d hours there). So for every k with ``W + k d <= H``

    P(finish within H) >= P(N(W + k d) <= k),

and ``SpotRisk.p_finish_within(H)`` returns the best of these bounds over
k = 0 .. floor((H - W) / d) (capped at 10 000 terms): a lower bound, never optimistic,
non-decreasing in H and non-increasing in lambda.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "BUCKETS",
    "BUCKET_MONTHLY_RATE",
    "HOURS_PER_MONTH",
    "SpotRisk",
    "allows_spot",
    "expected_runtime_h",
    "hazard_per_hour",
    "spot_risk",
]

HOURS_PER_MONTH = 730.0

#: bucket label -> representative probability that an instance is reclaimed within a
#: month. Band midpoints; ``>20%`` has no upper edge, 0.25 is an assumption.
BUCKET_MONTHLY_RATE = MappingProxyType({
    "<5%": 0.025,
    "5-10%": 0.075,
    "10-15%": 0.125,
    "15-20%": 0.175,
    ">20%": 0.25,
})
BUCKETS: tuple[str, ...] = tuple(BUCKET_MONTHLY_RATE)


def _check_number(name: str, value: float, *, allow_zero: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number, got {value!r}")  # noqa: TRY004 (one error type for callers)
    value = float(value)
    if math.isnan(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound}, got {value!r}")
    return value


def hazard_per_hour(bucket: str, *, instances: int = 1) -> float:
    """Reclaim hazard (1/h) of a job spread over ``instances`` spot instances."""
    if bucket not in BUCKET_MONTHLY_RATE:
        raise ValueError(f"unknown interruption bucket {bucket!r}; "
                         f"expected one of {', '.join(BUCKETS)}")
    if isinstance(instances, bool) or not isinstance(instances, int) or instances < 1:
        raise ValueError(f"instances must be an integer >= 1, got {instances!r}")
    p = BUCKET_MONTHLY_RATE[bucket]
    return instances * -math.log1p(-p) / HOURS_PER_MONTH


def _segments(work_h: float, checkpoint_interval_h: float) -> tuple[int, float]:
    """(number of full segments of length c, length of the last partial one or 0)."""
    full = int(work_h // checkpoint_interval_h)
    rest = work_h - full * checkpoint_interval_h
    if rest <= 1e-12 * work_h:
        rest = 0.0
    return full, rest


def _segment_wall_h(s: float, lam: float, r: float) -> float:
    if s == 0.0:
        return 0.0
    if lam == 0.0:
        return s
    x = lam * s
    if x < 1e-9:  # series form: (e^x - 1)/lam = s (1 + x/2 + ...) stays exact where a
        return s * (1.0 + x / 2.0) + r * x  # subnormal lam would make grow / lam round badly
    try:
        grow = math.expm1(x)
    except OverflowError:
        return math.inf
    return grow / lam + r * grow


def _segment_interruptions(s: float, lam: float) -> float:
    try:
        return math.expm1(lam * s)
    except OverflowError:
        return math.inf


def expected_runtime_h(*, work_h: float, checkpoint_interval_h: float,
                       restart_overhead_h: float, hazard_per_hour: float) -> float:
    """Expected wall hours to finish ``work_h`` of work (module docstring, exact)."""
    w = _check_number("work_h", work_h, allow_zero=False)
    c = _check_number("checkpoint_interval_h", checkpoint_interval_h, allow_zero=False)
    r = _check_number("restart_overhead_h", restart_overhead_h, allow_zero=True)
    lam = _check_number("hazard_per_hour", hazard_per_hour, allow_zero=True)
    full, rest = _segments(w, c)
    total = full * _segment_wall_h(c, lam, r) + _segment_wall_h(rest, lam, r)
    return max(total, w)  # guard the last ulp: never below the work itself


def _expected_interruptions(w: float, c: float, lam: float) -> float:
    full, rest = _segments(w, c)
    return full * _segment_interruptions(c, lam) + _segment_interruptions(rest, lam)


def _poisson_cdf(k: int, mu: float) -> float:
    """P(N <= k) for N ~ Poisson(mu), from the terms near k (log space, no SciPy)."""
    if k < 0:
        return 0.0
    if mu == 0.0:
        return 1.0
    term = math.exp(k * math.log(mu) - mu - math.lgamma(k + 1))  # P(N = k)
    if k >= mu:  # terms fall above k: 1 - upper tail
        tail, i, t = 0.0, k, term
        while True:
            i += 1
            t *= mu / i
            tail += t
            if t <= 1e-18 * max(tail, 1e-300):
                return max(0.0, 1.0 - tail)
    total, t = term, term  # terms fall below k: sum downwards
    for i in range(k, 0, -1):
        t *= i / mu
        total += t
        if t <= 1e-18 * total:
            break
    return min(1.0, total)


_MAX_BOUND_TERMS = 10_000


@dataclass(frozen=True, slots=True, kw_only=True)
class SpotRisk:
    """Interruption risk of one job on spot capacity (maths: module docstring)."""

    work_h: float
    checkpoint_interval_h: float
    restart_overhead_h: float
    hazard_per_hour: float          # per hour, whole gang
    expected_runtime_h: float       # expected wall hours
    inflation: float                # expected_runtime_h / work_h  (>= 1)
    expected_interruptions: float   # expected reclaims before the job finishes
    instances: int = 1              # spot instances the job holds (hazard is per gang)

    @property
    def expected_extra_runtime_h(self) -> float:
        """Expected wall hours beyond the work itself (lost work + restarts)."""
        return self.expected_runtime_h - self.work_h

    @property
    def expected_extra_energy_share(self) -> float:
        """Energy beyond an uninterrupted run, as a share of it (= inflation - 1)."""
        return self.inflation - 1.0

    def expected_cost_usd(self, usd_per_instance_hour: float) -> float:
        """E[cost] of holding the job's spot instances at ``usd_per_instance_hour`` each."""
        price = _check_number("usd_per_instance_hour", usd_per_instance_hour,
                              allow_zero=True)
        return self.instances * price * self.expected_runtime_h

    def p_finish_within(self, hours: float) -> float:
        """Lower bound on P(the job finishes within ``hours`` wall hours)."""
        h = _check_number("hours", hours, allow_zero=True)
        if h < self.work_h:
            return 0.0
        if self.hazard_per_hour == 0.0:
            return 1.0
        d = min(self.checkpoint_interval_h, self.work_h) + self.restart_overhead_h
        allowed = min(math.floor((h - self.work_h) / d + 1e-12), _MAX_BOUND_TERMS)
        best = 0.0
        for k in range(allowed + 1):
            best = max(best, _poisson_cdf(k, self.hazard_per_hour * (self.work_h + k * d)))
            if best >= 1.0 - 1e-15:
                break
        return best


def allows_spot(*, checkpoint_interval_h: float | None) -> bool:
    """Whether a job may run on spot at all: only with checkpoints (module docstring)."""
    return checkpoint_interval_h is not None


def spot_risk(*, work_h: float, checkpoint_interval_h: float | None,
              restart_overhead_h: float, bucket: str, instances: int = 1) -> SpotRisk | None:
    """Spot risk of a job, or None when it has no checkpoints (it gets no spot offer)."""
    if not allows_spot(checkpoint_interval_h=checkpoint_interval_h):
        return None
    lam = hazard_per_hour(bucket, instances=instances)
    w = _check_number("work_h", work_h, allow_zero=False)
    c = _check_number("checkpoint_interval_h", checkpoint_interval_h, allow_zero=False)
    r = _check_number("restart_overhead_h", restart_overhead_h, allow_zero=True)
    runtime = expected_runtime_h(work_h=w, checkpoint_interval_h=c, restart_overhead_h=r,
                                 hazard_per_hour=lam)
    return SpotRisk(work_h=w, checkpoint_interval_h=c, restart_overhead_h=r,
                    hazard_per_hour=lam, expected_runtime_h=runtime, inflation=runtime / w,
                    expected_interruptions=_expected_interruptions(w, c, lam),
                    instances=instances)
