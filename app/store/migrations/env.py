"""Alembic environment for the gridshift store: always run from ``Store`` with a live connection.

``app.store.Store`` puts its connection in ``config.attributes["connection"]``;
on PostgreSQL a transaction-level advisory lock serialises concurrent upgrades
(two webhook replicas starting at once).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

ADVISORY_LOCK_ID = 0x67726964  # 'grid'

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through app.store.Store(url), which passes a connection")

context.configure(connection=connection, target_metadata=None, render_as_batch=True,
                  version_table="gridshift_schema_version")
with context.begin_transaction():
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK_ID})"))
    context.run_migrations()
