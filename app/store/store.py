"""The Store: plans (with provenance, workloads, assignments), arrivals, measured emissions.

Atomicity: ``save_plan`` writes the plan row and every child row in ONE
transaction, so a process killed mid-write leaves the previous plan as the
latest, intact (SQLite rolls the journal back on next open; PostgreSQL aborts
the dead session's transaction). Readers only ever see whole plans.

Idempotence: a plan's ``content_digest`` is the SHA-256 of its Plan JSON
without the volatile fields (``created_at``, ``solver.wall_s``) plus the
caller's ``inputs_digest`` and provenance. Saving a plan whose digest equals the
latest plan's stores nothing and returns the latest plan's id.

Schema: alembic revisions in ``migrations/`` run on open (``upgrade=True``).

Serving Pods: the live tally per (workload, part) is ``app.store.tally``; the
``*_serving_*`` methods here are its entry points on this database.

Measured emissions and the footprint report: ``app.store.footprint``; the
``add_measurements``, ``measurements`` and ``footprint`` methods here call it.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, event, func, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, NoSuchModuleError

from app import plan_json
from app.store import footprint as fp
from app.store import schema as t
from app.store.errors import StoreError
from app.store.footprint import MeasuredRow, utc_iso
from app.store.plan_rows import (
    assignment_from_row,
    assignment_row,
    content_digest,
    fetched_at,
    provenance_kind,
    workload_json,
)
from app.store.tally import LivePod, ServingTake, ServingTally, TallyDrop
from planner.domain import (
    Assignment,
    Objective,
    Plan,
    SolverReport,
    SolverStatus,
    Totals,
    TrainingWorkload,
    Unplaced,
)

DEFAULT_URL = "sqlite:///gridshift.db"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def resolve_url(url: str | None = None) -> str:
    url = url or os.environ.get("GRIDSHIFT_DB") or DEFAULT_URL
    if "://" not in url:  # a bare path: a SQLite file
        url = f"sqlite:///{Path(url).expanduser()}"
    return url


def _masked(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanSummary:
    id: str
    seq: int
    created_at: datetime
    stored_at: datetime
    horizon_start: datetime
    horizon_hours: int
    objective: str
    solver_status: str
    totals: Totals


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredPlan:
    """A stored plan: its summary, the domain Plan, provenance and arrivals placed since."""

    summary: PlanSummary
    plan: Plan  # as the solver made it (origin 'plan'); baselines are not reconstructed
    admissions: tuple[Assignment, ...]  # placed on arrival by the webhook (origin 'admission')
    provenance: tuple[dict[str, Any], ...]
    plan_json: dict[str, Any]  # the Plan JSON contract as stored

    @property
    def id(self) -> str:
        return self.summary.id

    @property
    def all_assignments(self) -> tuple[Assignment, ...]:
        return self.plan.assignments + self.admissions


@dataclass(frozen=True, slots=True, kw_only=True)
class SaveResult:
    plan_id: str
    created: bool  # False: same content as the latest plan, nothing written


def _summary(row: Any) -> PlanSummary:
    return PlanSummary(
        id=row.id, seq=row.seq, created_at=row.created_at, stored_at=row.stored_at,
        horizon_start=row.horizon_start, horizon_hours=row.horizon_hours,
        objective=row.objective, solver_status=row.solver_status,
        totals=Totals(cost_usd=row.cost_usd, energy_kwh=row.energy_kwh,
                      operational_kg=row.operational_kg, embodied_kg=row.embodied_kg))


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class Store:
    """A gridshift database. Thread-safe (one SQLAlchemy engine, pooled connections)."""

    def __init__(self, url: str | None = None, *, upgrade: bool = True) -> None:
        self.url = resolve_url(url)
        try:
            parsed = make_url(self.url)
            kwargs: dict[str, Any] = {"pool_pre_ping": True}
            if parsed.get_backend_name() == "sqlite":
                kwargs["connect_args"] = {"check_same_thread": False, "timeout": 10}
                if parsed.database and parsed.database != ":memory:":
                    Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = create_engine(self.url, **kwargs)
        except (ArgumentError, NoSuchModuleError) as exc:
            raise StoreError(f"--db {_masked(self.url)}: not a database URL ({exc}); fix: use "
                             "sqlite:///path/to/gridshift.db or postgresql+psycopg://user@host/db"
                             ) from None
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.tally = ServingTally(self.engine)
        if upgrade:
            self.upgrade()

    # ---- schema -------------------------------------------------------------
    def _alembic(self, connection) -> Config:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection"] = connection
        return cfg

    def upgrade(self, revision: str = "head") -> None:
        """Create the schema or bring it to ``revision`` (alembic), in one transaction."""
        try:
            with self.engine.begin() as connection:
                command.upgrade(self._alembic(connection), revision)
        except DBAPIError as exc:
            raise StoreError(f"database {_masked(self.url)}: cannot open or upgrade the schema: "
                             f"{str(exc.orig).strip().splitlines()[0]}; fix: check the URL, that "
                             "the server is up and the user may create tables") from None

    def schema_revision(self) -> str | None:
        with self.engine.connect() as connection:
            ctx = MigrationContext.configure(
                connection, opts={"version_table": "gridshift_schema_version"})
            return ctx.get_current_revision()

    def close(self) -> None:
        self.engine.dispose()

    # ---- plans --------------------------------------------------------------
    def save_plan(self, plan: Plan, *, provenance: Mapping[str, str] | None = None,
                  workloads: Iterable[TrainingWorkload] = (), inputs_digest: str | None = None,
                  stored_at: datetime | None = None) -> SaveResult:
        """Store ``plan`` atomically; a plan equal to the latest one is not stored twice."""
        prov = {**plan.provenance, **(provenance or {})}
        digest = content_digest(plan, prov, inputs_digest)
        doc = plan_json.dumps(plan)
        workload_rows = list(workloads)
        for attempt in range(3):
            try:
                with self.engine.begin() as conn:
                    latest = conn.execute(select(t.plans.c.id, t.plans.c.content_digest)
                                          .order_by(t.plans.c.seq.desc()).limit(1)).first()
                    if latest is not None and latest.content_digest == digest:
                        return SaveResult(plan_id=latest.id, created=False)
                    seq = (conn.execute(select(func.max(t.plans.c.seq))).scalar() or 0) + 1
                    plan_id = uuid.uuid4().hex
                    conn.execute(insert(t.plans).values(
                        id=plan_id, seq=seq, created_at=plan.created_at,
                        stored_at=stored_at or datetime.now(UTC),
                        horizon_start=plan.horizon_start, horizon_hours=plan.horizon_hours,
                        objective=str(plan.objective),
                        carbon_price_usd_per_t=plan.carbon_price_usd_per_t,
                        solver_status=str(plan.solver.status), cost_usd=plan.totals.cost_usd,
                        energy_kwh=plan.totals.energy_kwh,
                        operational_kg=plan.totals.operational_kg,
                        embodied_kg=plan.totals.embodied_kg, content_digest=digest,
                        inputs_digest=inputs_digest, plan_json=doc))
                    if prov:
                        conn.execute(insert(t.provenance), [
                            {"plan_id": plan_id, "key": k, "kind": provenance_kind(k),
                             "value": v, "fetched_at": fetched_at(v)}
                            for k, v in sorted(prov.items())])
                    if workload_rows:
                        conn.execute(insert(t.workloads), [
                            {"plan_id": plan_id, "name": w.name, "team": w.team,
                             "kind": str(w.kind), "spec_json": workload_json(w)}
                            for w in workload_rows])
                    if plan.assignments:
                        conn.execute(insert(t.assignments),
                                     [assignment_row(plan_id, a) for a in plan.assignments])
                    if plan.unplaced:
                        conn.execute(insert(t.unplaced), [
                            {"plan_id": plan_id, "workload": u.workload, "reason": u.reason}
                            for u in plan.unplaced])
                return SaveResult(plan_id=plan_id, created=True)
            except IntegrityError:
                if attempt == 2:  # another writer took the same seq three times running
                    raise
        raise AssertionError("unreachable")

    def latest_plan_id(self) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(select(t.plans.c.id).order_by(t.plans.c.seq.desc())
                                .limit(1)).scalar()

    def change_token(self) -> tuple[str | None, int]:
        """(latest plan id, newest assignment row id in it): changes when either changes."""
        with self.engine.connect() as conn:
            plan_id = conn.execute(select(t.plans.c.id).order_by(t.plans.c.seq.desc())
                                   .limit(1)).scalar()
            if plan_id is None:
                return None, 0
            newest = conn.execute(select(func.max(t.assignments.c.id))
                                  .where(t.assignments.c.plan_id == plan_id)).scalar()
            return plan_id, newest or 0

    def list_plans(self, *, limit: int = 50, offset: int = 0) -> list[PlanSummary]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.plans).order_by(t.plans.c.seq.desc())
                                .limit(limit).offset(offset)).all()
        return [_summary(r) for r in rows]

    def load_plan(self, plan_id: str | None = None) -> StoredPlan | None:
        """The plan ``plan_id`` (StoreError if unknown), or the latest (None if none)."""
        with self.engine.connect() as conn:
            if plan_id is None:
                plan_id = conn.execute(select(t.plans.c.id).order_by(t.plans.c.seq.desc())
                                       .limit(1)).scalar()
                if plan_id is None:
                    return None
            row = conn.execute(select(t.plans).where(t.plans.c.id == plan_id)).first()
            if row is None:
                raise StoreError(f"plan {plan_id!r} is not in {_masked(self.url)}; fix: list "
                                 "the stored plans (GET /v1/plans) and use one of their ids")
            arows = conn.execute(select(t.assignments).where(t.assignments.c.plan_id == plan_id)
                                 .order_by(t.assignments.c.id)).all()
            urows = conn.execute(select(t.unplaced).where(t.unplaced.c.plan_id == plan_id)).all()
            prows = conn.execute(select(t.provenance).where(t.provenance.c.plan_id == plan_id)
                                 .order_by(t.provenance.c.key)).all()
        doc = json.loads(row.plan_json)
        planned = tuple(assignment_from_row(r) for r in arows if r.origin == "plan")
        arrivals = tuple(assignment_from_row(r) for r in arows if r.origin != "plan")
        solver = doc.get("solver", {})
        plan = Plan(
            created_at=row.created_at, horizon_start=row.horizon_start,
            horizon_hours=row.horizon_hours, objective=Objective(row.objective),
            carbon_price_usd_per_t=row.carbon_price_usd_per_t, assignments=planned,
            unplaced=tuple(Unplaced(workload=u.workload, reason=u.reason) for u in urows),
            totals=Totals.of(planned), baselines={},
            solver=SolverReport(
                status=SolverStatus(row.solver_status),
                objective=_float(solver.get("objective")), bound=_float(solver.get("bound")),
                gap=_float(solver.get("gap")), wall_s=_float(solver.get("wall_s")),
                num_variables=int(solver.get("variables") or 0),
                num_constraints=int(solver.get("constraints") or 0),
                workers=int(solver.get("workers") or 0),
                time_limit_s=_float(solver.get("time_limit_s"))),
            provenance={p.key: p.value for p in prows},
            mig_layouts=plan_json.mig_layouts_from_dict(doc, f"plan {plan_id}"))
        provenance = tuple({"key": p.key, "kind": p.kind, "value": p.value,
                            "fetched_at": utc_iso(p.fetched_at)} for p in prows)
        return StoredPlan(summary=_summary(row), plan=plan, admissions=arrivals,
                          provenance=provenance, plan_json=doc)

    def record_admission(self, plan_id: str, assignment: Assignment, *, object_ref: str,
                         admitted_at: datetime | None = None) -> bool:
        """Keep a workload placed on arrival; False if this object was already recorded."""
        with self.engine.begin() as conn:
            seen = conn.execute(select(t.assignments.c.id).where(
                t.assignments.c.plan_id == plan_id, t.assignments.c.object_ref == object_ref)
            ).first()
            if seen is not None:
                return False
            conn.execute(insert(t.assignments).values(
                **assignment_row(plan_id, assignment), origin="admission",
                object_ref=object_ref, admitted_at=admitted_at or datetime.now(UTC)))
        return True

    # ---- serving Pods: the live tally per (workload, part), see app.store.tally --------
    def serving_pod_counts(self, workload: str) -> dict[str, int]:
        """Live (admitted, not yet deleted) Pods of ``workload`` per part."""
        return self.tally.counts(workload)

    def take_serving_slot(self, workload: str, token: str,
                          choose: Callable[[Mapping[str, int]], str], *, plan_id: str | None,
                          object_ref: str, before_commit: Callable[[], None] | None = None,
                          admitted_at: datetime | None = None,
                          lock_timeout_s: float = 2.0) -> ServingTake:
        """Count a new Pod of ``workload`` atomically: ``ServingTally.take``."""
        return self.tally.take(workload, token, choose, plan_id=plan_id, object_ref=object_ref,
                               before_commit=before_commit, admitted_at=admitted_at,
                               lock_timeout_s=lock_timeout_s)

    def release_serving_pod(self, token: str) -> bool:
        """Forget the Pod counted under ``token`` (its DELETE); False if it was not counted."""
        return self.tally.release(token)

    def reconcile_serving_pods(self, *, live: Collection[str], ended: Collection[str],
                               admitted_before: datetime, namespace: str | None = None,
                               dry_run: bool = False,
                               restore: Collection[LivePod] = ()) -> TallyDrop:
        """Drop tally rows a DELETE never removed, count again live Pods whose row was
        lost: ``ServingTally.reconcile``."""
        return self.tally.reconcile(live=live, ended=ended, admitted_before=admitted_before,
                                    namespace=namespace, dry_run=dry_run, restore=restore)

    # ---- measurements and footprint ----------------------------------------
    def add_measurements(self, rows: Iterable[MeasuredRow]) -> int:
        """Store measured-emissions rows in one transaction; how many were stored."""
        return fp.add_measurements(self.engine, rows)

    def measurements(self, *, since: datetime | None = None,
                     until: datetime | None = None) -> list[MeasuredRow]:
        """Rows that overlap [``since``, ``until``) (each bound if given), oldest first."""
        return fp.read_measurements(self.engine, since=since, until=until)

    def footprint(self, *, plan_id: str | None = None, since: datetime | None = None,
                  until: datetime | None = None) -> dict[str, Any]:
        """Totals by team and region: planned (a plan, arrivals included) and measured, apart."""
        stored = self.load_plan(plan_id)
        planned = (fp.no_plan_section() if stored is None else
                   fp.planned_section(stored.id, stored.plan, stored.all_assignments))
        measured = fp.measured_section(self.measurements(since=since, until=until),
                                       since=since, until=until)
        return fp.report(planned, measured)


def _float(value: Any) -> float:
    return float("nan") if value is None else float(value)


def store_plan(url: str | None, plan: Plan, provenance: Mapping[str, str] | None = None, *,
               workloads: Iterable[TrainingWorkload] = (), inputs_digest: str | None = None) -> str:
    """Store ``plan`` in the database at ``url`` (see ``resolve_url``); return its plan id.

    For `gridshift plan --store URL`: raises StoreError (exit 4 there) when the
    database cannot be used; storing the same plan again returns the same id.
    """
    store = Store(url)
    try:
        return store.save_plan(plan, provenance=provenance, workloads=workloads,
                               inputs_digest=inputs_digest).plan_id
    except DBAPIError as exc:
        raise StoreError(f"database {_masked(store.url)}: cannot store the plan: "
                         f"{str(exc.orig).strip().splitlines()[0]}") from None
    finally:
        store.close()
