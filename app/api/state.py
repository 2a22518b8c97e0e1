"""What one server holds: store, plan cache, fleet, catalog, settings, metrics, API token.

Side effects of a decision are wired here: placing an arrival (``placer``, one
at a time, recorded unless dry-run) and counting a serving Pod in the store's
live-Pod tally (``part_taker``: choose-and-count in one locked transaction,
read-only on dry-run). Both claim the request's ``Ticket`` before they commit,
so a decision that finished after its answer (fail open) records nothing.
"""

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
from app.api.serving_parts import Part, choose
from app.problem_io import build_problem
from app.store import Store
from app.store.store import ServingTake
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

    def part_taker(self, *, dry_run: bool, ticket: Ticket, token: str, object_ref: str):
        """take_part(workload, parts, plan id) for decide.mutate: the serving Pod ``token``."""
        budget_s = self.settings.decision_budget_ms / 1000

        def take(workload: str, parts: tuple[Part, ...], plan_id: str) -> ServingTake:
            def pick(counts) -> str:
                return choose(parts, counts)[0].key

            if dry_run:
                counts = self.store.serving_pod_counts(workload)
                return ServingTake(part=pick(counts), counts=counts, taken=True)

            def claim() -> None:
                if not ticket.claim():
                    raise Abandoned("answered unchanged before the serving Pod was counted")

            return self.store.take_serving_slot(workload, token[:64], pick, plan_id=plan_id,
                                                object_ref=object_ref, before_commit=claim,
                                                lock_timeout_s=budget_s)

        return take
