"""Durable plans and measurements: SQLite by default, PostgreSQL by URL.

    Store(url)                  open (and create or upgrade the schema of) a database
    store_plan(url, plan, ...)  what `gridshift plan --store URL` calls; returns the plan id
    tally.ServingTally          the serving-Pod tally; Store's *_serving_* methods use it
    footprint.MeasuredRow       a measured-emissions row; Store's footprint report groups them

URL resolution: the ``url`` argument, else ``$GRIDSHIFT_DB``, else
``sqlite:///gridshift.db`` (a file in the working directory). A bare path is
taken as a SQLite file. PostgreSQL: ``postgresql+psycopg://user:pass@host/db``.

Errors: ``StoreError`` (bad URL, unreachable database, unknown plan id), with
the URL (password masked) and the fix in the message.
"""

from app.store.footprint import MeasuredRow, from_measurement
from app.store.store import (
    DEFAULT_URL,
    PlanSummary,
    SaveResult,
    Store,
    StoredPlan,
    StoreError,
    resolve_url,
    store_plan,
)

__all__ = [
    "DEFAULT_URL",
    "MeasuredRow",
    "PlanSummary",
    "SaveResult",
    "Store",
    "StoreError",
    "StoredPlan",
    "from_measurement",
    "resolve_url",
    "store_plan",
]
