"""Alembic migrations of the gridshift store (run by app.store.Store on open)."""
