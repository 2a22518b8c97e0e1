"""Initial schema: plans, their provenance, workloads, assignments and unplaced workloads.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _plan_fk() -> sa.ForeignKey:
    return sa.ForeignKey("gridshift_plans.id", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "gridshift_plans",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("stored_at", sa.DateTime, nullable=False),
        sa.Column("horizon_start", sa.DateTime, nullable=False),
        sa.Column("horizon_hours", sa.Integer, nullable=False),
        sa.Column("objective", sa.String(16), nullable=False),
        sa.Column("carbon_price_usd_per_t", sa.Float, nullable=False),
        sa.Column("solver_status", sa.String(16), nullable=False),
        sa.Column("cost_usd", sa.Float, nullable=False),
        sa.Column("energy_kwh", sa.Float, nullable=False),
        sa.Column("operational_kg", sa.Float, nullable=False),
        sa.Column("embodied_kg", sa.Float, nullable=False),
        sa.Column("content_digest", sa.String(64), nullable=False),
        sa.Column("inputs_digest", sa.String(64)),
        sa.Column("plan_json", sa.Text, nullable=False),
    )
    op.create_table(
        "gridshift_provenance",
        sa.Column("plan_id", sa.String(32), _plan_fk(), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("fetched_at", sa.DateTime),
    )
    op.create_table(
        "gridshift_workloads",
        sa.Column("plan_id", sa.String(32), _plan_fk(), primary_key=True),
        sa.Column("name", sa.String(253), primary_key=True),
        sa.Column("team", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("spec_json", sa.Text, nullable=False),
    )
    op.create_table(
        "gridshift_assignments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("plan_id", sa.String(32), _plan_fk(), nullable=False),
        sa.Column("workload", sa.String(253), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("team", sa.String(128), nullable=False),
        sa.Column("region", sa.String(128), nullable=False),
        sa.Column("cluster", sa.String(128), nullable=False),
        sa.Column("accelerator", sa.String(64), nullable=False),
        sa.Column("partition", sa.String(32), nullable=False),
        sa.Column("purchase", sa.String(16), nullable=False),
        sa.Column("start", sa.DateTime, nullable=False),
        sa.Column("end", sa.DateTime, nullable=False),
        sa.Column("gpus", sa.Integer, nullable=False),
        sa.Column("replicas", sa.Integer, nullable=False),
        sa.Column("cost_usd", sa.Float, nullable=False),
        sa.Column("energy_kwh", sa.Float, nullable=False),
        sa.Column("operational_kg", sa.Float, nullable=False),
        sa.Column("embodied_kg", sa.Float, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("extra_json", sa.Text),
    )
    op.create_index("ix_gridshift_assignments_plan_workload", "gridshift_assignments",
                    ["plan_id", "workload"])
    op.create_table(
        "gridshift_unplaced",
        sa.Column("plan_id", sa.String(32), _plan_fk(), primary_key=True),
        sa.Column("workload", sa.String(253), primary_key=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("extra_json", sa.Text),
    )


def downgrade() -> None:
    for table in ("gridshift_unplaced", "gridshift_assignments", "gridshift_workloads",
                  "gridshift_provenance", "gridshift_plans"):
        op.drop_table(table)
