"""Plan rows: how a Plan's assignments, provenance and workloads are stored, and read back.

    content_digest(plan, ...)   what makes two plans "the same" (``Store.save_plan`` idempotence)
    assignment_row(plan_id, a)  an ``assignments`` row; ``assignment_from_row`` reads one back
    provenance_kind(key)        the kind a provenance key is stored under
    fetched_at(value)           the fetch time a provenance value names, if any
    workload_json(w)            a workload's spec as stored

Pure: values in, values out; ``app.store.store`` runs the queries.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from app import plan_json
from planner.domain import Assignment, Plan, TrainingWorkload, WorkloadKind
from pricing.catalog import Purchase

_FETCHED = re.compile(r"fetched (\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d)?Z)")


def provenance_kind(key: str) -> str:
    """The kind a provenance key is stored under: price, carbon, input or other."""
    if key == "catalog" or key.startswith(("price", "pricing")):
        return "price"
    if key.startswith("carbon"):
        return "carbon"
    if key.startswith("input"):
        return "input"
    return "other"


def fetched_at(value: str) -> datetime | None:
    """The time in a provenance value's ``fetched <ISO time>Z``, if it has one."""
    match = _FETCHED.search(value)
    if not match:
        return None
    return datetime.fromisoformat(match.group(1))


def workload_json(w: TrainingWorkload) -> str:
    """A workload's spec as stored: its fields as sorted JSON, times in ISO 8601."""
    data = {f.name: getattr(w, f.name) for f in dataclasses.fields(w)}
    return json.dumps(data, default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v),
                      sort_keys=True)


_COLUMNS = ("workload", "kind", "team", "region", "cluster", "accelerator", "partition",
            "purchase", "start", "end", "gpus", "replicas", "cost_usd", "energy_kwh",
            "operational_kg", "embodied_kg", "reason")
_FIELDS = {f.name: f for f in dataclasses.fields(Assignment)}


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def assignment_row(plan_id: str, a: Assignment) -> dict[str, Any]:
    """An ``assignments`` row: the columns, and every other field in ``extra_json``."""
    row = {name: getattr(a, name) for name in _COLUMNS}
    row["kind"], row["purchase"] = str(a.kind), str(a.purchase)
    extra = {name: _jsonable(getattr(a, name)) for name in _FIELDS if name not in _COLUMNS}
    return {"plan_id": plan_id, **row, "extra_json": json.dumps(extra, sort_keys=True)}


def assignment_from_row(row: Any) -> Assignment:
    """The Assignment an ``assignments`` row holds (the inverse of ``assignment_row``)."""
    values: dict[str, Any] = {name: getattr(row, name) for name in _COLUMNS}
    values["kind"], values["purchase"] = WorkloadKind(row.kind), Purchase(row.purchase)
    extra = json.loads(row.extra_json) if row.extra_json else {}
    for name, f in _FIELDS.items():
        if name in values or not f.init:
            continue
        if name in extra:
            values[name] = extra[name]
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            # a field newer than the row: an empty value rather than an unreadable plan
            values[name] = "" if f.type in ("str", str) else None
    return Assignment(**values)


def content_digest(plan: Plan, provenance: Mapping[str, str], inputs_digest: str | None) -> str:
    """SHA-256 of the Plan JSON less its volatile fields, with provenance and inputs."""
    data = plan_json.plan_dict(plan)
    data.pop("created_at", None)
    data.get("solver", {}).pop("wall_s", None)
    data["provenance"] = dict(sorted(provenance.items()))
    data["inputs_digest"] = inputs_digest
    text = json.dumps(data, sort_keys=True, allow_nan=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
