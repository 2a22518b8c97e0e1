"""The serving-Pod tally: live (admitted, not yet deleted) Pods per (workload, part).

    ServingTally(engine)   counts / take / release / reconcile on one database

Choosing a part for a Pod and counting it (``take``) happen in ONE transaction
that holds a per-workload lock - a transaction-level advisory lock on
PostgreSQL (``pg_advisory_xact_lock``, waited for at most ``lock_timeout_s``),
``BEGIN IMMEDIATE`` on SQLite (the database's one writer lock, waited for as
long) - so webhook threads and replicas that admit Pods of the same service at
once see each other's Pods and never both take a part's last slot.
``reconcile`` (the releaser, each round) drops the rows a DELETE never removed:
Pods that are gone (older than a grace period, since a CREATE is counted before
the API server persists the Pod) and Pods that ended (phase Failed / Succeeded,
or being deleted), and counts again live Pods whose row was lost, in one
transaction.

Errors: ``StoreError`` when the database is neither SQLite nor PostgreSQL.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, text

from app.store import schema as t
from app.store.errors import StoreError

SERVING_LOCK_CLASS = 0x73727670  # 'srvp': advisory lock class of the serving-Pod tally


@dataclass(frozen=True, slots=True, kw_only=True)
class ServingTake:
    """What ``ServingTally.take`` did: the part, and the live Pods per part it saw."""

    part: str
    counts: Mapping[str, int]  # live Pods per part before this one (with it, on a retry)
    taken: bool  # False: this token was already counted (a re-sent CREATE); nothing added


@dataclass(frozen=True, slots=True, kw_only=True)
class LivePod:
    """A listed serving Pod as the webhook annotated it: what its row holds."""

    token: str
    workload: str
    part: str
    object_ref: str
    created_at: datetime  # tz-aware UTC


@dataclass(frozen=True, slots=True, kw_only=True)
class TallyDrop:
    """What ``ServingTally.reconcile`` dropped and restored (or, on a dry run, would)."""

    gone: tuple[str, ...]  # object refs of rows whose Pod no listed Pod is, past the grace
    ended: tuple[str, ...]  # object refs of rows whose Pod has ended or is being deleted
    restored: tuple[str, ...] = ()  # object refs of live Pods counted again (row lost)

    @property
    def dropped(self) -> int:
        return len(self.gone) + len(self.ended)


class ServingTally:
    """The serving-Pod tally of the database behind ``engine``. Thread-safe."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def counts(self, workload: str) -> dict[str, int]:
        """Live (admitted, not yet deleted) Pods of ``workload`` per part."""
        with self.engine.connect() as conn:
            return _counts(conn, workload)

    def take(self, workload: str, token: str, choose: Callable[[Mapping[str, int]], str], *,
             plan_id: str | None, object_ref: str,
             before_commit: Callable[[], None] | None = None,
             admitted_at: datetime | None = None, lock_timeout_s: float = 2.0) -> ServingTake:
        """Count a new Pod of ``workload`` in the part ``choose(live counts)`` names, atomically.

        ``token`` identifies the Pod (the CREATE's request uid): a token already
        counted returns its part and adds nothing. ``before_commit`` may raise to
        roll everything back (the webhook's answer has already gone out).
        """
        with self.engine.connect() as conn:
            _lock_workload(conn, workload, lock_timeout_s)
            counts = _counts(conn, workload)
            seen = conn.execute(select(t.serving_pods.c.part).where(
                t.serving_pods.c.token == token)).scalar()
            if seen is not None:
                conn.rollback()
                return ServingTake(part=seen, counts=counts, taken=False)
            part = choose(counts)
            conn.execute(insert(t.serving_pods).values(
                token=token, workload=workload, part=part, plan_id=plan_id,
                object_ref=object_ref[:600], admitted_at=admitted_at or datetime.now(UTC)))
            if before_commit is not None:
                before_commit()
            conn.commit()
        return ServingTake(part=part, counts=counts, taken=True)

    def release(self, token: str) -> bool:
        """Forget the Pod counted under ``token`` (its DELETE); False if it was not counted."""
        with self.engine.begin() as conn:
            return conn.execute(delete(t.serving_pods).where(
                t.serving_pods.c.token == token)).rowcount > 0

    def reconcile(self, *, live: Collection[str], ended: Collection[str],
                  admitted_before: datetime, namespace: str | None = None,
                  dry_run: bool = False, restore: Collection[LivePod] = ()) -> TallyDrop:
        """Drop tally rows a DELETE never removed and count again live Pods whose row
        was lost, in one transaction; what was changed.

        ``live``: the tokens of every listed serving Pod (of ``namespace``, or all);
        ``ended``: those of Pods that ended (Failed / Succeeded) or are being deleted.
        A row is dropped when its token is in ``ended``, or when it is not in ``live``
        and was admitted before ``admitted_before`` (younger rows may be Pods the API
        server has not persisted yet). ``namespace``: only rows of Pods in it.
        ``restore``: listed Pods that have not ended; one whose token has no row (a
        database restored from a backup or replaced, a commit lost after the webhook
        answered) gets its row back, so the webhook sees its part as taken.
        """
        if admitted_before.tzinfo is None:
            raise ValueError(f"reconcile_serving_pods: admitted_before {admitted_before!r} "
                             "must be tz-aware UTC")
        live_set, ended_set = set(live), set(ended)
        c = t.serving_pods.c
        query = select(c.token, c.object_ref, c.admitted_at)
        if namespace is not None:
            query = query.where(c.object_ref.like(f"Pod/{namespace}/%"))
        with self.engine.connect() as conn:
            if conn.dialect.name == "sqlite":  # the write lock now: no read-to-write upgrade
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            gone, over = [], []
            for row in conn.execute(query).all():
                if row.token in ended_set:
                    over.append(row)
                elif row.token not in live_set and row.admitted_at < admitted_before:
                    gone.append(row)
            doomed = [r.token for r in gone + over]
            missing = _missing(conn, [p for p in restore if p.token not in ended_set])
            if not dry_run:
                for i in range(0, len(doomed), 500):  # bound the bind parameters per statement
                    conn.execute(delete(t.serving_pods).where(c.token.in_(doomed[i:i + 500])))
                for i in range(0, len(missing), 500):
                    conn.execute(_insert_new(conn, [_row(p) for p in missing[i:i + 500]]))
            conn.commit()
        return TallyDrop(gone=tuple(sorted(r.object_ref or r.token for r in gone)),
                         ended=tuple(sorted(r.object_ref or r.token for r in over)),
                         restored=tuple(sorted(p.object_ref for p in missing)))


def _missing(conn: Any, pods: list[LivePod]) -> list[LivePod]:
    """The Pods of ``pods`` whose token has no row."""
    present: set[str] = set()
    tokens = [p.token for p in pods]
    for i in range(0, len(tokens), 500):
        present.update(conn.execute(select(t.serving_pods.c.token).where(
            t.serving_pods.c.token.in_(tokens[i:i + 500]))).scalars())
    return [p for p in pods if p.token not in present]


def _row(p: LivePod) -> dict[str, Any]:
    return {"token": p.token[:64], "workload": p.workload[:253], "part": p.part[:400],
            "plan_id": None, "object_ref": p.object_ref[:600], "admitted_at": p.created_at}


def _insert_new(conn: Any, rows: list[dict[str, Any]]):
    """INSERT that skips tokens another writer (a second releaser) counted meanwhile."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert(t.serving_pods).values(rows).on_conflict_do_nothing(
        index_elements=["token"])


def _counts(conn: Any, workload: str) -> dict[str, int]:
    rows = conn.execute(select(t.serving_pods.c.part, func.count()).where(
        t.serving_pods.c.workload == workload).group_by(t.serving_pods.c.part)).all()
    return {part: int(n) for part, n in rows}


def _lock_workload(conn: Any, workload: str, timeout_s: float) -> None:
    """Begin ``conn``'s transaction holding the lock that serialises one workload's tally."""
    timeout_ms = max(1, int(timeout_s * 1000))
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"PRAGMA busy_timeout={timeout_ms}")
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        finally:
            conn.exec_driver_sql("PRAGMA busy_timeout=10000")
    elif conn.dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(workload.encode()).digest()[:4], "big",
                             signed=True)
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{timeout_ms}ms'")
        conn.execute(text("SELECT pg_advisory_xact_lock(:cls, :key)"),
                     {"cls": SERVING_LOCK_CLASS, "key": key})
    else:
        url = conn.engine.url.render_as_string(hide_password=True)
        raise StoreError(f"database {url}: the serving-Pod tally needs "
                         "SQLite or PostgreSQL; fix: use one of them")
