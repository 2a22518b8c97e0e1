"""The tally of live serving Pods per (workload, part) that webhook replicas share.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gridshift_serving_pods",
        sa.Column("token", sa.String(64), primary_key=True),
        sa.Column("workload", sa.String(253), nullable=False),
        sa.Column("part", sa.String(400), nullable=False),
        sa.Column("plan_id", sa.String(32)),
        sa.Column("object_ref", sa.String(600)),
        sa.Column("admitted_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_gridshift_serving_pods_workload_part", "gridshift_serving_pods",
                    ["workload", "part"])


def downgrade() -> None:
    op.drop_index("ix_gridshift_serving_pods_workload_part", "gridshift_serving_pods")
    op.drop_table("gridshift_serving_pods")
