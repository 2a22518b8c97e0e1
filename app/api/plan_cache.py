"""The current plan, held in memory for fast admission decisions and refreshed from the store.

A ``PlanView`` is immutable: workload name -> assignment (a split training
workload: its part with the most GPUs), workload name -> its serving
assignments (every part: Pods of a service spread over them, serving_parts.py),
and planned totals per team (arrivals included). The cache swaps in a new view when the store's
change token (latest plan id, newest assignment row) moves, so a re-plan by the
CronJob or an arrival placed by another replica is picked up within one refresh
interval. Arrivals this process places are added to the view at once.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from app.store import Store, StoredPlan
from planner.domain import Assignment, Plan, Totals, WorkloadKind

log = logging.getLogger("gridshift.api")


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanView:
    plan_id: str
    plan: Plan  # the solver's assignments plus arrivals (what capacity is taken)
    by_workload: Mapping[str, Assignment]
    parts: Mapping[str, int]  # workload -> number of assignments (a split non-gang workload > 1)
    serving: Mapping[str, tuple[Assignment, ...]]  # serving workload -> all its assignments
    team_usd: Mapping[str, float]
    team_kg: Mapping[str, float]
    token: tuple[str | None, int]

    @staticmethod
    def of(stored: StoredPlan, token: tuple[str | None, int]) -> PlanView:
        everything = stored.all_assignments
        by_workload: dict[str, Assignment] = {}
        parts: dict[str, int] = defaultdict(int)
        usd: dict[str, float] = defaultdict(float)
        kg: dict[str, float] = defaultdict(float)
        serving: dict[str, list[Assignment]] = defaultdict(list)
        for a in everything:
            parts[a.workload] += 1
            if a.kind is WorkloadKind.SERVING:
                serving[a.workload].append(a)
            best = by_workload.get(a.workload)
            # a split non-gang workload: its Pod/Job follows the part with the most GPUs
            if best is None or (a.gpus, -a.start.timestamp()) > (best.gpus, -best.start.timestamp()):
                by_workload[a.workload] = a
            usd[a.team] += a.cost_usd
            kg[a.team] += a.emissions_kg
        plan = dataclasses.replace(stored.plan, assignments=everything,
                                   totals=Totals.of(everything))
        return PlanView(plan_id=stored.id, plan=plan, by_workload=by_workload, parts=dict(parts),
                        serving={w: tuple(rows) for w, rows in serving.items()},
                        team_usd=dict(usd), team_kg=dict(kg), token=token)

    def with_arrival(self, a: Assignment) -> PlanView:
        assignments = self.plan.assignments + (a,)
        return dataclasses.replace(
            self, plan=dataclasses.replace(self.plan, assignments=assignments,
                                           totals=Totals.of(assignments)),
            by_workload={**self.by_workload, a.workload: a},
            parts={**self.parts, a.workload: self.parts.get(a.workload, 0) + 1},
            team_usd={**self.team_usd, a.team: self.team_usd.get(a.team, 0.0) + a.cost_usd},
            team_kg={**self.team_kg, a.team: self.team_kg.get(a.team, 0.0) + a.emissions_kg})


class PlanCache:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._view: PlanView | None = None
        self._lock = threading.Lock()  # one refresh or arrival at a time
        self.loaded_at: datetime | None = None

    @property
    def view(self) -> PlanView | None:
        return self._view

    def refresh(self) -> bool:
        """Reload when the store changed; True if a new view was swapped in."""
        token = self.store.change_token()
        current = self._view
        if current is not None and current.token == token:
            return False
        stored = self.store.load_plan(token[0]) if token[0] else None
        view = PlanView.of(stored, token) if stored is not None else None
        with self._lock:  # swap only: arrivals wait for this, not for the load
            self._view = view
        log.info("plan view: %s (%d assignments)", token[0],
                 len(self._view.plan.assignments) if self._view else 0)
        return True

    def add_arrival(self, plan_id: str, a: Assignment, *, object_ref: str) -> None:
        """Record an arrival in the store, then in the view (the caller holds ``arrival_lock``)."""
        self.store.record_admission(plan_id, a, object_ref=object_ref)
        view = self._view
        if view is not None and view.plan_id == plan_id:
            self._view = view.with_arrival(a)

    @property
    def arrival_lock(self) -> threading.Lock:
        return self._lock
