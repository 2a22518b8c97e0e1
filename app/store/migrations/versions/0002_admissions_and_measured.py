"""Arrivals placed by the webhook (assignment origin) and measured emissions.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("gridshift_assignments") as batch:
        batch.add_column(sa.Column("origin", sa.String(16), nullable=False,
                                   server_default="plan"))
        batch.add_column(sa.Column("object_ref", sa.String(600)))
        batch.add_column(sa.Column("admitted_at", sa.DateTime))
    op.create_table(
        "gridshift_emissions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False, server_default="measured"),
        sa.Column("workload", sa.String(253)),
        sa.Column("team", sa.String(128)),
        sa.Column("region", sa.String(128), nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("ended_at", sa.DateTime, nullable=False),
        sa.Column("energy_kwh", sa.Float, nullable=False),
        sa.Column("kg_co2e", sa.Float, nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("run_id", sa.String(200)),
        sa.Column("recorded_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_gridshift_emissions_window", "gridshift_emissions", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_gridshift_emissions_window", "gridshift_emissions")
    op.drop_table("gridshift_emissions")
    with op.batch_alter_table("gridshift_assignments") as batch:
        batch.drop_column("admitted_at")
        batch.drop_column("object_ref")
        batch.drop_column("origin")
