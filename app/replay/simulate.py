"""The rolling replay: jobs arrive, a strategy decides, jobs run on the real grid.

Time is hourly slots from the replay start (slot 0). A job becomes known at the first
slot at or after its submit time (``a_j = ceil(submit)``); nothing decides before that,
and its deadline moves by the same ``a_j - submit`` (< 1 h), so that no strategy -- run
now included -- misses a deadline only because starts are on the hour.

Strategies
----------
- ``run_now``: at ``a_j`` the job starts in its home region, on-demand, on the first
  accelerator it asks for that the home region has; a full cluster makes it wait
  (first come, first served), as ``planner.baselines.run_now``.
- ``carbon_greedy``: at ``a_j`` the job takes, on its own, the (option, start) with the
  least *forecast* kgCO2e in its window among what is still free, and keeps it
  (``planner.greedy.greedy`` with ``carbon_key`` in submission order): a per-job
  advisory tool.
- ``gridshift``: every ``replan_every`` hours the scheduled job re-plans all jobs that
  are known and not started, against the *forecast* intensity; decisions that start
  before the next re-plan are committed, the others are planned again next time.
  ``path=fast`` (default): the options of ``planner.options`` (app/replay/options.py)
  placed by ``planner.greedy.greedy_placements`` -- the planner's own capacity-aware
  greedy on the objective score, i.e. the hint and fallback ``planner.solve.plan``
  starts CP-SAT from; with capacity to spare it places each job at its best-scoring
  option, which is the optimum. ``path=solve``: ``planner.solve.plan`` itself (LP +
  CP-SAT, baselines, explanations, independent check) with ``time_limit_s`` per re-plan.
  A job that arrives between re-plans and must start before the next one is planned on
  arrival, alone, against what is committed (as ``planner.incremental.place_one``).
- ``gridshift-oracle``: ``gridshift`` shown the actual intensity (perfect foresight).

Committed runs and spot interruptions
-------------------------------------
A committed run holds its GPUs from its start. On-demand it runs ``runtime_h``. On
spot the offer's hazard ``lambda = pricing.spot.hazard_per_hour(bucket, instances)``
draws the time to the next reclaim X ~ Exp(lambda) from one ``numpy`` generator seeded
with ``seed``: if X >= the work left, the run ends; otherwise it ran X hours, keeps the
progress up to its last checkpoint (floor(X / c) c) and comes back as a job with the
rest of its work plus the restart overhead, known from ceil(start + X), same deadline,
to be decided again by the same strategy. With ``spot_recovery`` (default) a spot start
must also leave room for one reclaim -- the progress since the last checkpoint, the
restart and the wait to the next hour -- and the rest on-demand before the deadline;
the planner's own rule (P95 finish within the window, planner.options) alone let a few
jobs miss (see the benchmark notes). ``path=solve`` keeps the planner's rule only. A job whose window has closed without a
decision (no option fits) runs as ``run_now`` would from then on and counts as a
deadline miss if it ends late.
"""

from __future__ import annotations

import dataclasses
import enum
import heapq
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from app.replay.forecasters import Forecaster
from app.replay.grid import HOUR, Grid
from app.replay.options import OptionBook, cumulative, last_start_slot, timed
from carbon.intensity import IntensityKind
from planner.capacity import Capacity
from planner.domain import Fleet, Objective, Purchase, TrainingWorkload
from planner.greedy import by_submission, carbon_key, greedy, greedy_placements
from planner.objective import weights
from planner.options import Option, WorkloadOptions
from planner.problem import DEFAULT_CARBON_PRICE_USD_PER_T, PlanningProblem, lookahead_hours
from planner.solve import plan as solve_plan
from pricing import spot
from pricing.catalog import Catalog


class Strategy(enum.StrEnum):
    RUN_NOW = "run_now"
    CARBON_GREEDY = "carbon_greedy"
    GRIDSHIFT = "gridshift"
    GRIDSHIFT_ORACLE = "gridshift-oracle"


class PlannerPath(enum.StrEnum):
    FAST = "fast"
    SOLVE = "solve"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayConfig:
    replan_every_h: int = 1
    objective: Objective = Objective.CARBON
    carbon_price_usd_per_t: float = DEFAULT_CARBON_PRICE_USD_PER_T
    seed: int = 0
    path: PlannerPath = PlannerPath.FAST
    time_limit_s: float = 2.0
    max_horizon_h: int = 14 * 24
    # spot only where one reclaim can still be recovered on-demand by the deadline
    spot_recovery: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Segment:
    """One uninterrupted run of (part of) a job."""

    job: int
    region: str
    zone: str
    accelerator: str
    purchase: Purchase
    start_slot: int
    wall_h: float
    kw: float  # facility kW while it runs
    usd_per_h: float
    embodied_kg_per_h: float
    planned_op_kg: float  # what the deciding forecast expected for the planned run (NaN: none)
    interrupted: bool


@dataclass(slots=True, kw_only=True)
class Outcome:
    strategy: Strategy
    forecast: str
    segments: list[Segment]
    submit_h: np.ndarray  # by job
    deadline_h: np.ndarray
    finish_h: np.ndarray  # NaN: never ran
    fallbacks: int  # jobs run as run_now because their window closed undecided
    replans: int
    planner_s: float
    wall_s: float


@dataclass(slots=True)
class _Entry:
    job: int
    workload: TrainingWorkload  # the work left
    known: int  # slot from which it is known / may start
    deadline_h: float


@dataclass
class _State:
    grid: Grid
    fleet: Fleet
    book: OptionBook
    cap: dict[tuple[str, str], int]
    used: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    segments: list[Segment] = field(default_factory=list)

    def ensure(self, n: int) -> None:
        for res in self.cap:
            arr = self.used.get(res)
            if arr is None:
                self.used[res] = np.zeros(max(n, 1), dtype=np.int64)
            elif len(arr) < n:
                self.used[res] = np.concatenate([arr, np.zeros(n - len(arr) + 1024, np.int64)])

    def fits(self, res, s: int, slots: int, gpus: int) -> bool:
        self.ensure(s + slots)
        return int(self.used[res][s:s + slots].max(initial=0)) + gpus <= self.cap.get(res, 0)

    def capacity(self, t: int, hours: int) -> Capacity:
        self.ensure(t + hours)
        reserved = {}
        for res, arr in self.used.items():
            window = arr[t:t + hours]
            for k in np.nonzero(window)[0].tolist():
                reserved[(res, k)] = int(window[k])
        return Capacity(base=dict(self.cap), reserved=reserved)


def job_slots(jobs: Sequence[TrainingWorkload], origin: datetime) -> tuple[np.ndarray, np.ndarray]:
    submit = np.array([(w.earliest_start - origin) / HOUR for w in jobs], dtype=float)
    deadline = np.array([(w.deadline - origin) / HOUR for w in jobs], dtype=float)
    return submit, deadline


def replay(jobs: Sequence[TrainingWorkload], *, fleet: Fleet, catalog: Catalog, grid: Grid,
           strategy: Strategy, forecaster: Forecaster | None, config: ReplayConfig,
           book: OptionBook | None = None,
           progress: Callable[[int], None] | None = None) -> Outcome:
    """Replay ``jobs`` under ``strategy`` (module docstring); ``progress(slot)`` is called
    as simulated time advances."""
    t_wall = time.perf_counter()
    book = book or OptionBook(fleet, catalog, grid.origin)
    cap = {(c.name, a): g for c in fleet.clusters for a, g in c.capacity_gpus.items()}
    st = _State(grid=grid, fleet=fleet, book=book, cap=cap)
    submit_h, deadline_h = job_slots(jobs, grid.origin)
    finish = np.full(len(jobs), np.nan)
    rng = np.random.default_rng(config.seed)
    arrivals: list[tuple[int, int, int]] = []  # (known slot, seq, entry id)
    entries: list[_Entry] = []

    def add(entry: _Entry) -> None:
        entries.append(entry)
        heapq.heappush(arrivals, (entry.known, len(entries) - 1, len(entries) - 1))

    # hourly slots: a job submitted mid-hour is known from the next hour, and its deadline
    # moves by the same amount, so that no strategy pays for the rounding
    known = np.maximum(0, np.ceil(submit_h - 1e-9)).astype(int)
    deadline_h = deadline_h + (known - submit_h)
    for j, w in enumerate(jobs):
        add(_Entry(job=j, workload=w, known=int(known[j]), deadline_h=float(deadline_h[j])))
    w_obj = weights(config.objective, config.carbon_price_usd_per_t)
    pending: list[int] = []
    counters = {"fallbacks": 0, "replans": 0, "planner_s": 0.0}

    def commit(eid: int, option: Option, start: int, planned_kg: float) -> None:
        e = entries[eid]
        w = e.workload
        speed = w.accelerators[option.accelerator]
        work = w.duration_h / speed
        wall, rest = work, None
        if option.purchase is Purchase.SPOT:
            lam = spot.hazard_per_hour(option.interruption_bucket, instances=option.instances)
            x = rng.exponential(1.0 / lam) if lam > 0 else math.inf
            if x < work:
                c = w.checkpoint_interval_h or work
                saved = math.floor(x / c) * c
                wall = x
                rest = (work - saved + w.restart_overhead_h) * speed
        slots = math.ceil(wall - 1e-9)
        st.ensure(start + slots)
        st.used[option.resource][start:start + slots] += w.gpus
        runtime = option.runtime_h
        st.segments.append(Segment(
            job=e.job, region=option.region.name, zone=option.region.grid_zone,
            accelerator=option.accelerator, purchase=option.purchase, start_slot=start,
            wall_h=wall, kw=option.energy_kwh / runtime, usd_per_h=option.cost_usd / runtime,
            embodied_kg_per_h=option.embodied_kg / runtime, planned_op_kg=planned_kg,
            interrupted=rest is not None))
        if rest is None:
            finish[e.job] = start + wall
        else:
            add(_Entry(job=e.job, workload=dataclasses.replace(w, duration_h=rest),
                       known=math.ceil(start + wall - 1e-9), deadline_h=e.deadline_h))

    def run_now(eid: int, t: int) -> bool:
        e = entries[eid]
        w = e.workload
        home = fleet.region(w.home_region)
        options = book.options(w)
        ranked = sorted((o for o in options if o.purchase is Purchase.ON_DEMAND),
                        key=lambda o: (o.region.name != home.name,
                                       list(w.accelerators).index(o.accelerator)))
        if not ranked:
            return False
        o = ranked[0]
        if w.gpus > st.cap.get(o.resource, 0):
            return False
        s = t
        while not st.fits(o.resource, s, o.slots, w.gpus):
            s += 1
        commit(eid, o, s, math.nan)
        return True

    def window_of(eid: int, t: int) -> list[tuple[Option, int, int]]:
        e = entries[eid]
        first = max(t, e.known)
        out = []
        w = e.workload
        for o in book.options(w):
            last = min(last_start_slot(o, e.deadline_h), t + config.max_horizon_h - 1)
            if o.purchase is Purchase.SPOT and config.spot_recovery:
                # room for one reclaim: lost progress + restart + the wait to the next hour,
                # then the rest on-demand
                work = w.runtime_h(o.accelerator)
                margin = min(w.checkpoint_interval_h or work, work) + w.restart_overhead_h + 1
                last = min(last, math.floor(e.deadline_h - work - margin + 1e-9))
            if last >= first:
                out.append((o, first, last))
        return out

    def decide(eids: list[int], t: int, *, commit_before: int | None, view_of) -> list[int]:
        """Plan ``eids`` at ``t``; commit placements starting before ``commit_before``
        (None: all). Returns the entries left undecided."""
        windows = {eid: window_of(eid, t) for eid in eids}
        closed = [eid for eid, win in windows.items() if not win]
        for eid in closed:
            counters["fallbacks"] += 1
            run_now(eid, t)
        live = [eid for eid in eids if windows[eid]]
        if not live:
            return []
        horizon = max(last - t + o.slots for eid in live for o, _, last in windows[eid])
        t0 = time.perf_counter()
        if config.path is PlannerPath.SOLVE and strategy is not Strategy.CARBON_GREEDY:
            decided = _solve(live, windows, t, horizon, view_of)
        else:
            views = {r.grid_zone: view_of(r.grid_zone, t, horizon) for r in fleet.regions}
            sums = {z: cumulative(v) for z, v in views.items()}
            wos = tuple(
                WorkloadOptions(workload=entries[eid].workload, units=1,
                                gpus_per_unit=entries[eid].workload.gpus,
                                options=tuple(timed(o, workload_index=i, t=t, first=f, last=last,
                                                    view=views[o.region.grid_zone],
                                                    csum=sums[o.region.grid_zone])
                                              for o, f, last in windows[eid]))
                for i, eid in enumerate(live))
            capacity = st.capacity(t, horizon)
            if strategy is Strategy.CARBON_GREEDY:
                placements = greedy(wos, capacity, key=carbon_key, order=by_submission)
            else:
                placements = greedy_placements(wos, capacity, w_obj)
            decided = {live[p.workload]: (p.option, t + p.start, p.operational_kg)
                       for p in placements}
        counters["planner_s"] += time.perf_counter() - t0
        counters["replans"] += 1
        left = []
        for eid in live:
            d = decided.get(eid)
            if d is None or (commit_before is not None and d[1] >= commit_before):
                left.append(eid)
                continue
            base = {(o.cluster, o.accelerator, o.purchase): o
                    for o in book.options(entries[eid].workload)}
            o = d[0]
            commit(eid, base[(o.cluster, o.accelerator, o.purchase)], d[1], d[2])
        return left

    def _solve(live, windows, t, horizon, view_of):
        start = grid.origin + t * HOUR
        names = {}
        workloads = []
        for eid in live:
            e = entries[eid]
            name = f"{e.workload.name}#{eid}"
            names[name] = eid
            workloads.append(dataclasses.replace(
                e.workload, name=name, gang=True,
                earliest_start=grid.origin + max(t, e.known) * HOUR,
                deadline=grid.origin + e.deadline_h * HOUR))
        hours = horizon + lookahead_hours(tuple(workloads), horizon)
        intensity = {r.grid_zone: grid.zone(r.grid_zone).series(
            grid.origin, t, view_of(r.grid_zone, t, hours), kind=IntensityKind.FORECAST,
            source=f"replay view ({strategy})") for r in fleet.regions}
        capacity = st.capacity(t, hours)
        problem = PlanningProblem(fleet=fleet, workloads=tuple(workloads), horizon_start=start,
                                  horizon_hours=horizon, intensity=intensity, catalog=catalog,
                                  reserved_gpus=dict(capacity.reserved))
        result = solve_plan(problem, objective=config.objective,
                            carbon_price_usd_per_t=config.carbon_price_usd_per_t,
                            time_limit_s=config.time_limit_s, workers=1, created_at=start)
        out = {}
        for a in result.assignments:
            eid = names[a.workload]
            o = next(o for o in book.options(entries[eid].workload)
                     if (o.cluster, o.accelerator, o.purchase)
                     == (a.cluster, a.accelerator, a.purchase))
            out[eid] = (o, round((a.start - grid.origin) / HOUR), a.operational_kg)
        return out

    view_of = (forecaster.view if forecaster is not None else None)
    r_every = max(1, config.replan_every_h)
    t = 0
    while arrivals or pending:
        if not pending and arrivals and arrivals[0][0] > t:
            t = arrivals[0][0]
        new = []
        while arrivals and arrivals[0][0] <= t:
            new.append(heapq.heappop(arrivals)[2])
        if progress is not None:
            progress(t)
        if strategy is Strategy.RUN_NOW:
            for eid in new:
                if not run_now(eid, t):
                    counters["fallbacks"] += 1
        elif strategy is Strategy.CARBON_GREEDY:
            pending = decide(pending + new, t, commit_before=None, view_of=view_of)
        elif t % r_every == 0:
            pending = decide(pending + new, t, commit_before=t + r_every, view_of=view_of)
        else:
            nxt = t + r_every - t % r_every
            urgent = [eid for eid in new
                      if all(last < nxt for _, _, last in window_of(eid, t))]
            later = [eid for eid in new if eid not in urgent]
            left = decide(urgent, t, commit_before=None, view_of=view_of) if urgent else []
            pending = pending + later + left
        t += 1
    return Outcome(strategy=strategy, forecast=getattr(forecaster, "label", "none"),
                   segments=st.segments, submit_h=submit_h, deadline_h=deadline_h,
                   finish_h=finish, fallbacks=counters["fallbacks"],
                   replans=counters["replans"], planner_s=counters["planner_s"],
                   wall_s=time.perf_counter() - t_wall)
