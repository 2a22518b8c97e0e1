"""The planner's fast paths outside the solver give what the plain computations give.

Options share weighted intensity and rentals between workloads, the greedy reads each
job's own best choice off its ranking, the serving baselines size all hours of a service
at once, and the explanations score every alternative in one pass. Each is compared here
with the straightforward computation it replaced, on a generated fleet.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

from planner.capacity import Ledger, capacity_table
from planner.domain import HOUR, Objective, Purchase
from planner.explain import next_best
from planner.greedy import by_submission, carbon_key, cost_key, greedy_and_wishes, score_key
from planner.objective import weights
from planner.options import build_options, hourly_shares, intensity_arrays
from planner.placement import Placement
from planner.serving import build_serving_options, great_circle_km
from planner.serving_baseline import baseline
from planner.serving_model import ServingPlacement, demand_milli, thr_milli


@pytest.fixture(scope="module")
def generated():
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from generated import generated_problem
    p = generated_problem(150, seed=11, serving_share=0.3, horizon_hours=24)
    intensity = intensity_arrays(p)
    serving = build_serving_options(p.serving, p.fleet, p.catalog, p.horizon_hours, intensity)
    return p, build_options(p), serving


def test_each_options_emissions_equal_its_own_sliding_window(generated):
    p, workload_options, _ = generated
    intensity = intensity_arrays(p)
    checked = 0
    for wo in workload_options:
        for o in wo.options:
            g = intensity[o.region.grid_zone]
            window = np.lib.stride_tricks.sliding_window_view(
                g[o.first_start:o.last_start + o.slots], o.slots)
            alone = window @ hourly_shares(o.runtime_h) * o.energy_kwh / 1000.0
            assert np.array_equal(o.operational_kg, alone)  # bit for bit
            checked += 1
    assert checked > 500


@pytest.mark.parametrize("key", [cost_key, carbon_key])
def test_each_jobs_wish_is_its_own_best_option_and_start(generated, key):
    p, workload_options, _ = generated
    _, wishes = greedy_and_wishes(workload_options, capacity_table(p.fleet), key=key,
                                  order=by_submission)
    assert set(wishes) == {j for j, wo in enumerate(workload_options) if wo.options}
    for j, wo in enumerate(workload_options):
        best = None
        for o in wo.options:  # the option's best start, then the first best option
            keys = key(o)
            k = int(np.lexsort(keys[::-1])[0])
            candidate = (tuple(float(a[k]) for a in keys), o, o.first_start + k)
            if best is None or candidate[0] < best[0]:
                best = candidate
        if best is not None:
            assert wishes[j][0] is best[1] and wishes[j][1] == best[2]


def _hour_by_hour(serving_options, capacity, key):
    """The serving baseline sized one service and hour at a time on a Ledger."""
    ledger, out = Ledger(capacity), []
    for so in serving_options:
        w = so.workload
        candidates = [o for o in so.options
                      if o.purchase is Purchase.ON_DEMAND and o.profile is None]
        home = next((o.region for o in candidates if o.region.name == w.home_region), None)
        for t in range(len(so.demand_rps)):
            d = demand_milli(so, t)
            if not candidates or d <= 0:
                continue
            if key is None:
                ranked = sorted(candidates, key=lambda o: (
                    o.region.name != w.home_region, 0.0 if home is None else great_circle_km(
                        home.latitude, home.longitude, o.region.latitude, o.region.longitude)))
            else:
                ranked = sorted(candidates, key=lambda o: float(key(o)[t]))
            sites = list(dict.fromkeys(o.region.name for o in ranked))
            if key is None and sites[0] != w.home_region:
                continue
            need = math.ceil(w.failover_fraction * d)
            steps = ([([o for o in ranked if o.region.name == sites[1]], need),
                      ([o for o in ranked if o.region.name == sites[0]], None)]
                     if w.failover_fraction > 0 and len(sites) >= 2 else [(ranked, d)])
            served = 0
            for options, want in steps:
                want = max(d - served, need) if want is None else want
                for o in options:
                    n = math.ceil(want / thr_milli(o))
                    if ledger.fits(o.resource, t, 1, n * o.gpus_per_replica):
                        ledger.take(o.resource, t, 1, n * o.gpus_per_replica)
                        out.append(ServingPlacement(option=o, slot=t, replicas=n))
                        served += n * thr_milli(o)
                        break
    return out


@pytest.mark.parametrize("name, key", [
    ("run_now", None),
    ("cost_greedy", lambda o: np.full(len(o.operational_kg), o.usd_per_hour / o.throughput_rps)),
    ("carbon_greedy", lambda o: (o.operational_kg + o.embodied_kg_per_hour) / o.throughput_rps),
])
def test_serving_baseline_sizes_all_hours_as_one_by_one(generated, name, key):
    p, _, serving_options = generated
    # a sixth of the GPUs, so that services compete and later ones fall back to other options
    capacity = capacity_table(p.fleet)
    tight = type(capacity)(base={r: g // 6 for r, g in capacity.base.items()})
    fast = baseline(serving_options, tight, key)
    assert fast and fast == _hour_by_hour(serving_options, tight, key)
    used: dict = {}
    for q in fast:
        used[(q.option.resource, q.slot)] = (used.get((q.option.resource, q.slot), 0)
                                             + q.replicas * q.option.gpus_per_replica)
    assert all(gpus <= tight.base[resource] for (resource, _), gpus in used.items())


def test_next_best_names_the_best_scoring_other_option(generated):
    p, workload_options, _ = generated
    w = weights(Objective.BALANCED, 190.0)
    ledger = Ledger(capacity_table(p.fleet))
    compared = 0
    for wo in workload_options:
        if len(wo.options) < 2:
            continue
        placed = Placement(option=wo.options[0], start=wo.options[0].first_start, units=1)
        best = None
        for o in wo.options[1:]:
            k = score_key(w)(o)[0]
            i = int(np.argmin(k))
            if best is None or k[i] < best[0]:
                best = (float(k[i]), o, o.first_start + i)
        line = next_best(placed, wo, ledger, w, horizon_start=p.horizon_start)
        when = p.horizon_start + best[2] * HOUR
        where = f"{best[1].region.name}/{best[1].accelerator}/{best[1].purchase} at {when:%m-%dT%H:%MZ}"
        assert line.startswith(f"next best {where}:")
        compared += 1
    assert compared > 50
