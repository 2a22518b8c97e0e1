"""Serving baselines: what each service does today, or what a per-service advisory tool
picks, sized hour by hour to its demand and SLOs on the capacity that is still free.

All replicas are on-demand and on whole GPUs. Services are sized one at a time, in the
order given; within a service each hour is sized on its own (one hour's replicas never
use another hour's GPUs), so the hours of a service are sized together, as arrays, with
the same choices and the same GPUs left as sizing them one by one.

Per service and hour t with demand d_t (milli-requests/s, planner/serving_model.py):

- rank the service's on-demand options: ``key`` None (today) puts the home region first
  and the other regions by distance from home (the same in every hour); otherwise by
  ``key`` (an option's value per request/s in each hour, smallest first, ties in the
  options' order);
- today, an hour whose best region is not home runs nothing (the home region cannot
  serve the service);
- without a failover share (or with fewer than two regions): d_t on the first option
  that still has the GPUs for ceil(d_t / throughput) replicas;
- with a failover share f: ceil(f d_t) on the first option of the second-ranked region
  that has room, then max(d_t - served, ceil(f d_t)) on the first of the best region.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from planner.capacity import Capacity, Resource
from planner.domain import Purchase
from planner.serving import ServingOption, ServingOptions, great_circle_km
from planner.serving_model import ServingPlacement, demand_milli, thr_milli

Key = Callable[[ServingOption], np.ndarray]  # rank value by slot, smallest first


def baseline(serving_options: tuple[ServingOptions, ...], capacity: Capacity,
             key: Key | None) -> list[ServingPlacement]:
    """Replicas of every service (module docstring), in the order of services, then hours,
    then the failover site before the best one."""
    horizon = max((len(so.demand_rps) for so in serving_options), default=0)
    free = _Free(capacity, horizon)
    out: list[ServingPlacement] = []
    for so in serving_options:
        out.extend(_service(so, free, key))
    return out


class _Free:
    """GPUs left per resource and slot (what capacity.Ledger would report), as arrays."""

    def __init__(self, capacity: Capacity, horizon: int) -> None:
        self.capacity, self.horizon = capacity, horizon
        self.by_resource: dict[Resource, np.ndarray] = {}

    def __getitem__(self, resource: Resource) -> np.ndarray:
        if resource not in self.by_resource:
            base = self.capacity.get(resource, 0)
            self.by_resource[resource] = np.asarray(
                [base - self.capacity.reserved.get((resource, t), 0)
                 for t in range(self.horizon)], dtype=np.int64)
        return self.by_resource[resource]


def _service(so: ServingOptions, free: _Free, key: Key | None) -> list[ServingPlacement]:
    w = so.workload
    candidates = [o for o in so.options
                  if o.purchase is Purchase.ON_DEMAND and o.profile is None]
    if not candidates:
        return []
    hours = len(so.demand_rps)
    if key is None:  # today's choice does not depend on the hour
        home = next((o.region for o in candidates if o.region.name == w.home_region), None)
        rankings = [sorted(range(len(candidates)), key=lambda i: (
            candidates[i].region.name != w.home_region,
            0.0 if home is None else great_circle_km(
                home.latitude, home.longitude, candidates[i].region.latitude,
                candidates[i].region.longitude)))]
        ranking_at = np.zeros(hours, dtype=np.int64)
    else:  # one ranking per distinct order of the options over the hours
        values = np.vstack([key(o)[:hours] for o in candidates])
        index: dict[tuple[int, ...], int] = {}
        ranking_at = np.asarray([index.setdefault(tuple(ranked), len(index)) for ranked
                                 in np.argsort(values, axis=0, kind="stable").T.tolist()],
                                dtype=np.int64)
        rankings = [list(ranked) for ranked in index]
    demand = np.asarray([demand_milli(so, t) for t in range(hours)], dtype=np.int64)
    fill = _Fill(candidates, free)
    for r, ranked in enumerate(rankings):
        hours_r = np.flatnonzero((ranking_at == r) & (demand > 0))
        sites = list(dict.fromkeys(candidates[i].region.name for i in ranked))
        if not hours_r.size or (key is None and not (sites and sites[0] == w.home_region)):
            continue  # today: the home region cannot serve it, nothing runs
        d = demand[hours_r]
        if w.failover_fraction > 0 and len(sites) >= 2:
            need = np.ceil(w.failover_fraction * d).astype(np.int64)
            served = fill(hours_r, [i for i in ranked if candidates[i].region.name == sites[1]],
                          need, step=0)
            fill(hours_r, [i for i in ranked if candidates[i].region.name == sites[0]],
                 np.maximum(d - served, need), step=1)
        else:
            fill(hours_r, ranked, d, step=0)
    return [ServingPlacement(option=candidates[i], slot=t, replicas=n)
            for t, _, i, n in sorted(fill.placed)]


class _Fill:
    """Places ``want`` milli-rps per hour on the first option of ``order`` with room."""

    def __init__(self, candidates: list[ServingOption], free: _Free) -> None:
        self.candidates = candidates
        self.thr = [thr_milli(o) for o in candidates]
        self.free = free
        self.placed: list[tuple[int, int, int, int]] = []  # (hour, step, option, replicas)

    def __call__(self, hours: np.ndarray, order: list[int], want: np.ndarray, *,
                 step: int) -> np.ndarray:
        """Milli-rps served in each of ``hours``."""
        served = np.zeros(len(hours), dtype=np.int64)
        pending = np.ones(len(hours), dtype=bool)
        for i in order:
            ix = np.flatnonzero(pending)
            if not ix.size:
                break
            o, room = self.candidates[i], self.free[self.candidates[i].resource]
            t = hours[ix]
            # the same float division and ceiling as math.ceil(want / thr) per hour
            replicas = np.ceil(want[ix] / self.thr[i]).astype(np.int64)
            gpus = replicas * o.gpus_per_replica
            fits = room[t] >= gpus
            if not fits.any():
                continue
            ix, t, replicas = ix[fits], t[fits], replicas[fits]
            room[t] -= gpus[fits]  # hours are distinct: one subtraction each
            served[ix] = replicas * self.thr[i]
            pending[ix] = False
            self.placed.extend((h, step, i, n) for h, n in zip(t.tolist(), replicas.tolist(),
                                                              strict=True))
        return served
