"""Re-solving a stored plan: its inputs, a re-solve at another setting, the Pareto front.

A stored plan can be re-solved when its inputs can be read back as they were:

    fleet      the file named by provenance ``input:fleet`` (the store keeps no fleet)
    workloads  the file named by ``input:workloads``, read with the plan's horizon start
               (relative times count from it) and checked against the workload specs the
               store kept with the plan; a file that changed since is refused
    prices     the bundled catalog; intensity: the offline chain (traces, embedded default)

The demo's inputs are the bundled examples, so the demo can always be re-solved. Plans
posted to the API (``input:source = POST /v1/plans``) carry no paths: not re-solvable.

Results are also kept on disk (JSON, keyed by plan id and setting) so a restarted dashboard
answers at once; a plan id never changes content, so the key is enough.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from app import plan_json
from app.dashboard import env
from app.dashboard.demo_store import cache_dir, is_demo
from app.errors import InputError
from app.inputs import load_fleet
from app.problem_io import load_problem
from app.store import StoredPlan
from planner.domain import Fleet, Objective, TrainingWorkload
from planner.pareto import pareto_front
from planner.problem import PlanningProblem
from planner.solve import plan as solve_plan
from pricing.catalog import CatalogError

DEFAULT_TIME_LIMIT_S = 5.0  # per re-solve and per Pareto point: interactive, gap shown


def time_limit_s(environ: Mapping[str, str] = os.environ) -> float:
    """The solver time limit of re-solves (``--solve-time-limit``, env.SOLVE_S)."""
    try:
        value = float(environ.get(env.SOLVE_S) or DEFAULT_TIME_LIMIT_S)
    except ValueError:
        return DEFAULT_TIME_LIMIT_S
    return value if value > 0 else DEFAULT_TIME_LIMIT_S


@dataclass(frozen=True, slots=True, kw_only=True)
class Inputs:
    """What a stored plan can be re-planned from; ``problem`` None says why in ``reason``."""

    fleet: Fleet | None
    problem: PlanningProblem | None
    reason: str = ""
    notes: tuple[str, ...] = ()
    demo: bool = False


def _spec(w: TrainingWorkload) -> dict[str, Any]:
    """A workload as the store keeps it (spec_json), for comparison."""
    data = {f.name: getattr(w, f.name) for f in dataclasses.fields(w)}
    text = json.dumps(data, sort_keys=True,
                      default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v))
    return json.loads(text)


def _path(provenance: Mapping[str, str], key: str) -> Path | None:
    value = provenance.get(key)
    return Path(value) if value else None


def inputs_of(stored: StoredPlan, specs: Mapping[str, Mapping[str, Any]]) -> Inputs:
    """The fleet and PlanningProblem of ``stored`` (``specs``: the workloads the store kept)."""
    prov = stored.plan.provenance
    demo = is_demo(prov)
    fleet_path, wl_path = _path(prov, "input:fleet"), _path(prov, "input:workloads")
    fleet = None
    if fleet_path is None:
        return Inputs(fleet=None, problem=None, demo=demo, reason=(
            f"this plan was stored without its fleet file ({_origin(prov)}), so it cannot be "
            "re-solved here; plans made with `gridshift plan ... --store URL` can be"))
    if not fleet_path.is_file():
        return Inputs(fleet=None, problem=None, demo=demo, reason=(
            f"the plan's fleet file {fleet_path} is not readable from here, so it cannot be "
            "re-solved; run the dashboard where the plan's input files are"))
    try:
        fleet = load_fleet(fleet_path)
    except InputError as exc:
        return Inputs(fleet=None, problem=None, demo=demo,
                      reason=f"the plan's fleet file no longer loads: {exc}")
    if wl_path is None or not wl_path.is_file():
        return Inputs(fleet=fleet, problem=None, demo=demo, reason=(
            f"the plan's workloads file {wl_path or '(not recorded)'} is not readable from "
            "here, so it cannot be re-solved"))
    try:
        problem = load_problem(wl_path, fleet_path, horizon_hours=stored.plan.horizon_hours,
                               start=stored.plan.horizon_start)
    except (InputError, CatalogError, ValueError) as exc:
        return Inputs(fleet=fleet, problem=None, demo=demo,
                      reason=f"the plan's inputs no longer load: {str(exc).splitlines()[0]}")
    notes = []
    if specs:
        now = {w.name: _spec(w) for w in problem.workloads}
        changed = sorted(n for n in set(now) | set(specs) if now.get(n) != specs.get(n))
        if changed:
            return Inputs(fleet=fleet, problem=None, demo=demo, reason=(
                f"{wl_path} changed since the plan was stored ({len(changed)} workload(s) "
                f"differ, e.g. {changed[0]!r}); re-solving it would not be this plan's inputs"))
    else:
        notes.append("the store kept no workload specs with this plan; the workloads file "
                     "was read as it is now")
    if prov.get("catalog") and prov["catalog"] != problem.catalog.version:
        notes.append(f"prices: the plan used catalog {prov['catalog']}, the re-solve uses "
                     f"{problem.catalog.version}")
    live = sorted(k.split(":", 1)[1] for k, v in prov.items()
                  if k.startswith("carbon:") and not v.startswith("embedded-default"))
    if live:
        notes.append(f"intensity: the plan used live or trace data for {', '.join(live)}; the "
                     "re-solve uses the offline chain (embedded defaults)")
    return Inputs(fleet=fleet, problem=problem, demo=demo, notes=tuple(notes))


def _origin(prov: Mapping[str, str]) -> str:
    source = prov.get("input:source")
    return f"input:source = {source}" if source else "no input paths in its provenance"


def with_slack(problem: PlanningProblem, slack_h: int) -> PlanningProblem:
    """Every deadline moved by ``slack_h`` hours (negative: tighter)."""
    if not slack_h:
        return problem
    later = tuple(dataclasses.replace(w, deadline=w.deadline + timedelta(hours=slack_h))
                  for w in problem.workloads)
    return dataclasses.replace(problem, workloads=later)


def _memo(key: str, compute: Callable[[], Any]) -> Any:
    """``compute()`` once per key, kept as JSON under the dashboard cache directory."""
    root = cache_dir() / "replan"
    path = root / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        pass
    value = compute()
    root.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(value, allow_nan=False))
    tmp.replace(path)
    return value


def resolve(plan_id: str, problem: PlanningProblem, *, objective: Objective,
            carbon_price_usd_per_t: float, slack_h: int,
            time_limit_s: float = DEFAULT_TIME_LIMIT_S) -> dict[str, Any]:
    """The Plan JSON (app/plan_json.py) of ``problem`` re-solved at this setting."""
    key = f"resolve|{plan_id}|{objective}|{carbon_price_usd_per_t:.3f}|{slack_h}|{time_limit_s}"
    return _memo(key, lambda: plan_json.plan_dict(solve_plan(
        with_slack(problem, slack_h), objective=objective,
        carbon_price_usd_per_t=carbon_price_usd_per_t, time_limit_s=time_limit_s)))


def front(plan_id: str, problem: PlanningProblem, *, points: int, slack_h: int = 0,
          time_limit_s: float = DEFAULT_TIME_LIMIT_S) -> list[dict[str, Any]]:
    """The cost-vs-emissions Pareto front, cleanest first (plan_json.pareto_dicts rows)."""
    key = f"pareto|{plan_id}|{points}|{slack_h}|{time_limit_s}"
    return _memo(key, lambda: plan_json.pareto_dicts(pareto_front(
        with_slack(problem, slack_h), points=points, time_limit_s=time_limit_s, workers=1,
        parallel=2)))


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """What a re-solve changed against a Plan JSON: totals and workloads moved."""
    def placed(doc: Mapping[str, Any]) -> dict[str, tuple]:
        out: dict[str, list] = {}
        for a in doc.get("assignments", []):
            out.setdefault(a["workload"], []).append(
                (a["region"], a["accelerator"], a["purchase"], a["start"]))
        return {k: tuple(sorted(v)) for k, v in out.items()}

    old, new = placed(before), placed(after)
    moved = sorted(w for w in set(old) & set(new) if old[w] != new[w])
    t0, t1 = before.get("totals", {}), after.get("totals", {})
    return {"cost_usd": (t1.get("cost_usd") or 0.0) - (t0.get("cost_usd") or 0.0),
            "emissions_kg": (t1.get("emissions_kg") or 0.0) - (t0.get("emissions_kg") or 0.0),
            "moved": moved, "newly_unplaced": sorted(set(old) - set(new)),
            "unplaced": [u["workload"] for u in after.get("unplaced", [])]}


def dominated(rows: list[Mapping[str, Any]], others: list[Mapping[str, Any]] = ()) -> list[bool]:
    """For each front point: is another point (of the front or ``others``) at most as costly
    and as emitting, and better in one? A time-limited solve can leave such points."""
    pool = [(float(r["cost_usd"]), float(r["emissions_kg"])) for r in [*rows, *others]]
    out = []
    for r in rows:
        c, e = float(r["cost_usd"]), float(r["emissions_kg"])
        out.append(any(c2 <= c + 1e-6 and e2 <= e + 1e-6 and (c2 < c - 0.5 or e2 < e - 0.05)
                       for c2, e2 in pool))
    return out
