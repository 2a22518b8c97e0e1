"""Stable re-planning: what the last plan announced, what has started, what changed.

A scheduled job re-plans every hour or so. Three rules keep that calm:

- work that has started (its announced start is before the new horizon) is
  fixed: it leaves the problem and its GPUs stay reserved until it ends;
- moving an announced decision costs ``move_penalty`` score units (USD for
  cost/balanced, kg for carbon) per unit, so a plan changes only when the
  change is worth more than that; an unchanged decision costs nothing, so
  re-planning the same inputs gives the same plan;
- the new plan lists, per workload, what changed since the last one.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from planner.domain import HOUR, Assignment, Plan, Purchase, WorkloadKind
from planner.problem import PlanningProblem


@dataclass(frozen=True, slots=True, kw_only=True)
class Announced:
    """A decision of the previous plan, as the cluster was told it."""

    workload: str
    region: str
    cluster: str
    accelerator: str
    purchase: Purchase
    start: datetime
    end: datetime
    gpus: int

    @staticmethod
    def of(a: Assignment) -> Announced:
        return Announced(workload=a.workload, region=a.region, cluster=a.cluster,
                         accelerator=a.accelerator, purchase=a.purchase, start=a.start,
                         end=a.end, gpus=a.gpus)


class ChangeKind(enum.StrEnum):
    NEW = "new"
    UNCHANGED = "unchanged"
    RETIMED = "retimed"
    MOVED = "moved"
    DROPPED = "dropped"
    STARTED = "started"


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    workload: str
    kind: ChangeKind
    detail: str = ""


def with_previous(problem: PlanningProblem, previous: tuple[Announced, ...], *,
                  move_penalty: float) -> tuple[PlanningProblem, tuple[Announced, ...]]:
    """The problem without started work (reserved instead), announcing the rest.

    Returns the new problem and the started decisions, which stand unchanged.
    """
    started = tuple(a for a in previous
                    if a.start < problem.horizon_start < a.end
                    and any(w.name == a.workload for w in problem.workloads))
    started_names = {a.workload for a in started}
    reserved = dict(problem.reserved_gpus)
    for a in started:
        slots = math.ceil((a.end - problem.horizon_start) / HOUR - 1e-9)
        for t in range(slots):
            key = ((a.cluster, a.accelerator), t)
            reserved[key] = reserved.get(key, 0) + a.gpus
    announced: dict[str, tuple[Announced, ...]] = {}
    for a in previous:
        if a.start >= problem.horizon_start and a.workload not in started_names:
            announced[a.workload] = announced.get(a.workload, ()) + (a,)
    return dataclasses.replace(
        problem, workloads=tuple(w for w in problem.workloads if w.name not in started_names),
        reserved_gpus=reserved, announced=announced, move_penalty=move_penalty), started


def changes(previous: tuple[Announced, ...], plan: Plan,
            started: tuple[Announced, ...]) -> tuple[Change, ...]:
    before: Mapping[str, list[Announced]] = {}
    for a in previous:
        before.setdefault(a.workload, []).append(a)
    after: dict[str, list[Assignment]] = {}
    for a in plan.assignments:
        after.setdefault(a.workload, []).append(a)
    out = [Change(workload=a.workload, kind=ChangeKind.STARTED,
                  detail=f"running since {a.start:%m-%dT%H:%MZ}, fixed") for a in started]
    started_names = {a.workload for a in started}
    always_on = {a.workload for a in plan.assignments if a.kind is not WorkloadKind.TRAINING}
    for name in sorted(set(before) | set(after)):
        if name in started_names:
            continue
        old, new = before.get(name, []), after.get(name, [])
        if not old:
            out.append(Change(workload=name, kind=ChangeKind.NEW))
        elif name in always_on and new:
            # serving follows demand hour by hour: what counts is where it runs
            where_o = sorted({f"{a.region}/{a.accelerator}/{a.purchase}" for a in old})
            where_n = sorted({f"{a.region}/{a.accelerator}/{a.purchase}" for a in new})
            added = sorted(set(where_n) - set(where_o))
            out.append(Change(workload=name, kind=ChangeKind.MOVED,
                              detail=f"now also on {', '.join(added)}") if added
                       else Change(workload=name, kind=ChangeKind.UNCHANGED))
        elif not new:
            out.append(Change(workload=name, kind=ChangeKind.DROPPED,
                              detail="no longer in the plan (unplaced or withdrawn)"))
        else:
            o, n = old[0], new[0]
            where_o = (o.region, o.cluster, o.accelerator, o.purchase)
            where_n = (n.region, n.cluster, n.accelerator, n.purchase)
            if where_o != where_n:
                out.append(Change(workload=name, kind=ChangeKind.MOVED,
                                  detail=f"{o.region}/{o.accelerator}/{o.purchase} -> "
                                         f"{n.region}/{n.accelerator}/{n.purchase}"))
            elif o.start != n.start:
                out.append(Change(workload=name, kind=ChangeKind.RETIMED,
                                  detail=f"{o.start:%m-%dT%H:%MZ} -> {n.start:%m-%dT%H:%MZ}"))
            else:
                out.append(Change(workload=name, kind=ChangeKind.UNCHANGED))
    return tuple(out)
