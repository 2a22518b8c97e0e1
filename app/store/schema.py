"""The store's tables (SQLAlchemy Core), at the newest schema revision.

Revisions live in ``app/store/migrations/versions`` (alembic); ``Store`` runs
them on open, so nobody creates or upgrades a schema by hand. This module is
what the code reads and writes; a migration must bring an older database to
exactly these tables.

    gridshift_plans        one row per stored plan: horizon, objective, totals, solver
                           status, the full Plan JSON, and digests for idempotent re-plans
    gridshift_provenance   per plan: what data it used (kind carbon | price | input | other,
                           source text, fetch time when the source gave one)
    gridshift_workloads    per plan: the workloads it was planned from (JSON spec)
    gridshift_assignments  per plan: one row per assignment; origin 'plan' (the solver) or
                           'admission' (placed on arrival by the webhook, with the object);
                           fields without a column of their own ride in extra_json, so a new
                           Assignment field round-trips without a migration
    gridshift_unplaced     per plan: workloads the plan could not place, and why
    gridshift_emissions    measured emissions (kind 'measured'): kWh, kgCO2e, region, window,
                           source (e.g. codecarbon) - never mixed with planned figures
    gridshift_serving_pods the live Pods of serving workloads, one row per admitted Pod
                           (token = the CREATE's request uid, also in the Pod's annotations),
                           keyed by (workload, part) - part = region/accelerator/partition/
                           purchase, not a plan id, so a re-plan keeps the tally; a DELETE
                           removes the row (app/api/serving_parts.py)

Times are stored as naive UTC (SQLite has no zone type) and come back tz-aware UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in, aware UTC datetimes out; naive UTC in the database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store needs tz-aware UTC")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


metadata = MetaData()

plans = Table(
    "gridshift_plans", metadata,
    Column("id", String(32), primary_key=True),
    Column("seq", Integer, nullable=False, unique=True),  # store order: latest = max(seq)
    Column("created_at", UTCDateTime, nullable=False),
    Column("stored_at", UTCDateTime, nullable=False),
    Column("horizon_start", UTCDateTime, nullable=False),
    Column("horizon_hours", Integer, nullable=False),
    Column("objective", String(16), nullable=False),
    Column("carbon_price_usd_per_t", Float, nullable=False),
    Column("solver_status", String(16), nullable=False),
    Column("cost_usd", Float, nullable=False),
    Column("energy_kwh", Float, nullable=False),
    Column("operational_kg", Float, nullable=False),
    Column("embodied_kg", Float, nullable=False),
    Column("content_digest", String(64), nullable=False),
    Column("inputs_digest", String(64)),
    Column("plan_json", Text, nullable=False),
)

provenance = Table(
    "gridshift_provenance", metadata,
    Column("plan_id", String(32), ForeignKey("gridshift_plans.id", ondelete="CASCADE"),
           primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("value", Text, nullable=False),
    Column("fetched_at", UTCDateTime),
)

workloads = Table(
    "gridshift_workloads", metadata,
    Column("plan_id", String(32), ForeignKey("gridshift_plans.id", ondelete="CASCADE"),
           primary_key=True),
    Column("name", String(253), primary_key=True),
    Column("team", String(128), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("spec_json", Text, nullable=False),
)

assignments = Table(
    "gridshift_assignments", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("plan_id", String(32), ForeignKey("gridshift_plans.id", ondelete="CASCADE"),
           nullable=False),
    Column("workload", String(253), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("team", String(128), nullable=False),
    Column("region", String(128), nullable=False),
    Column("cluster", String(128), nullable=False),
    Column("accelerator", String(64), nullable=False),
    Column("partition", String(32), nullable=False),
    Column("purchase", String(16), nullable=False),
    Column("start", UTCDateTime, nullable=False),
    Column("end", UTCDateTime, nullable=False),
    Column("gpus", Integer, nullable=False),
    Column("replicas", Integer, nullable=False),
    Column("cost_usd", Float, nullable=False),
    Column("energy_kwh", Float, nullable=False),
    Column("operational_kg", Float, nullable=False),
    Column("embodied_kg", Float, nullable=False),
    Column("reason", Text, nullable=False),
    Column("extra_json", Text),  # every other Assignment field (instance_type, ...) as JSON
    # revision 0002
    Column("origin", String(16), nullable=False, server_default="plan"),
    Column("object_ref", String(600)),
    Column("admitted_at", UTCDateTime),
    Index("ix_gridshift_assignments_plan_workload", "plan_id", "workload"),
)

unplaced = Table(
    "gridshift_unplaced", metadata,
    Column("plan_id", String(32), ForeignKey("gridshift_plans.id", ondelete="CASCADE"),
           primary_key=True),
    Column("workload", String(253), primary_key=True),
    Column("reason", Text, nullable=False),
)

# revision 0002
emissions = Table(
    "gridshift_emissions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False, server_default="measured"),
    Column("workload", String(253)),
    Column("team", String(128)),
    Column("region", String(128), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime, nullable=False),
    Column("energy_kwh", Float, nullable=False),
    Column("kg_co2e", Float, nullable=False),
    Column("source", String(200), nullable=False),
    Column("run_id", String(200)),
    Column("recorded_at", UTCDateTime, nullable=False),
    Index("ix_gridshift_emissions_window", "started_at"),
)

# revision 0003
serving_pods = Table(
    "gridshift_serving_pods", metadata,
    Column("token", String(64), primary_key=True),
    Column("workload", String(253), nullable=False),
    Column("part", String(400), nullable=False),
    Column("plan_id", String(32)),  # the plan it was admitted under (information only)
    Column("object_ref", String(600)),
    Column("admitted_at", UTCDateTime, nullable=False),
    Index("ix_gridshift_serving_pods_workload_part", "workload", "part"),
)
