"""What one server holds: store, plan cache, fleet, catalog, settings, metrics, API token."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from app.api.config import WebhookSettings
from app.api.decide import Context
from app.api.metrics import Metrics
from app.api.objects import ObjectInfo
from app.api.plan_cache import PlanCache
from app.problem_io import build_problem
from app.store import Store
from planner.domain import Assignment, Fleet, TrainingWorkload, Unplaced
from planner.incremental import place_one
from pricing.catalog import Catalog


class Abandoned(Exception):
    """The request this placement was for has already been answered (it took too long)."""


class Ticket:
    """Decides, once, whether a slow decision still records its side effect or is abandoned."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: str | None = None

    def claim(self) -> bool:
        with self._lock:
            self._state = self._state or "claimed"
            return self._state == "claimed"

    def cancel(self) -> bool:
        with self._lock:
            self._state = self._state or "cancelled"
            return self._state == "cancelled"


@dataclass(kw_only=True)
class ServerState:
    store: Store
    fleet: Fleet
    catalog: Catalog
    settings: WebhookSettings
    api_token: str | None  # None: /v1 without auth (only with --no-auth)
    cache: PlanCache = field(init=False)
    ctx: Context = field(init=False)
    metrics: Metrics = field(default_factory=Metrics)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def __post_init__(self) -> None:
        self.cache = PlanCache(self.store)
        self.ctx = Context.of(self.fleet, self.settings)

    def placer(self, *, dry_run: bool, ticket: Ticket, object_ref: str):
        """place(workload, info) for decide.mutate: one arrival at a time, recorded unless dry-run."""
        budget_s = self.settings.decision_budget_ms / 1000

        def place(workload: TrainingWorkload, info: ObjectInfo
                  ) -> tuple[Assignment | Unplaced, str]:
            lock = self.cache.arrival_lock
            if not lock.acquire(timeout=budget_s):
                raise Abandoned("another arrival held the placement lock for the whole budget")
            try:
                view = self.cache.view
                if view is None:
                    raise Abandoned("the plan went away while placing")
                problem = build_problem(self.fleet, (workload,), start=view.plan.horizon_start,
                                        horizon_hours=view.plan.horizon_hours,
                                        catalog=self.catalog)
                result = place_one(problem, view.plan, workload, objective=view.plan.objective,
                                   carbon_price_usd_per_t=view.plan.carbon_price_usd_per_t)
                if isinstance(result, Assignment) and not dry_run:
                    if not ticket.claim():
                        raise Abandoned("answered unchanged before the placement finished")
                    self.cache.add_arrival(view.plan_id, result, object_ref=object_ref)
                return result, view.plan_id
            finally:
                lock.release()

        return place
