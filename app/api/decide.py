"""Admission decisions for one AdmissionReview request (no I/O; the webhook wires them).

mutate(request):
    not CREATE, not a Pod or batch/v1 Job, not opted in    -> admitted unchanged
    already carries gridshift.io/decision (re-sent, or a Pod of a decided Job) -> unchanged
    a Pod of a serving workload in the current plan       -> patched with the part of the
                                                             service it takes (the most
                                                             missing Pods now; serving_parts.py),
                                                             counted in the store's tally
                                                             (``take_part``) and annotated
                                                             gridshift.io/serving-part / -token
    workload in the current plan                          -> patch with its assignment
                                                             (a split training workload: its
                                                             largest part; a Job that Kueue or
                                                             its owner holds suspended keeps
                                                             that hold: no gridshift deferral)
    not in the plan, annotations describe it              -> placed on arrival against the
                                                             plan's remaining capacity
                                                             (``place``), then patched
    otherwise                                             -> unchanged, with a warning saying why

forget(request): a Pod DELETE; when its oldObject carries gridshift.io/serving-token,
the Pod leaves the tally (``release``; not on dry-run). Always allowed.

validate(request): a team's planned USD / kgCO2e in the current plan (arrivals
included; this object's own figures added when it is not yet counted) must stay
within its budget, else the request is denied with the figures in the message.
Pods of a decided Job are not checked again (the Job was).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.api.config import WebhookSettings
from app.api.objects import (
    PREFIX,
    ObjectInfo,
    can_describe_workload,
    describe,
    opted_in,
    workload_from_object,
)
from app.api.patch import (
    ANN_SERVING_PART,
    ANN_SERVING_TOKEN,
    ANN_SERVING_WORKLOAD,
    annotation_ops,
    placement_ops,
)
from app.api.plan_cache import PlanView
from app.api.serving_parts import Part, choose, window
from app.errors import InputError
from app.store.store import ServingTake
from planner.domain import Assignment, Fleet, Region, TrainingWorkload, Unplaced

KINDS = {("", "Pod"), ("batch", "Job")}
KUEUE_QUEUE = "kueue.x-k8s.io/queue-name"


class Outcome(enum.StrEnum):
    PLANNED = "planned"
    PLACED = "placed-on-arrival"
    UNPLACED = "unplaced"
    NOT_MANAGED = "not-managed"
    ALREADY_DECIDED = "already-decided"
    UNCHANGED = "unchanged"  # managed, but nothing to apply (reason in the warning)
    RELEASED = "released"  # a counted serving Pod was deleted: its slot is free again
    ALLOWED = "allowed"
    DENIED = "denied"


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    outcome: Outcome
    reason: str
    patch: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    allowed: bool = True
    workload: str | None = None
    plan_id: str | None = None


# place(workload, info) -> (assignment or unplaced, plan id it was placed against)
Placer = Callable[[TrainingWorkload, ObjectInfo], tuple[Assignment | Unplaced, str]]
# take_part(workload, parts, plan id) -> the part a new serving Pod takes, counted atomically
PartTaker = Callable[[str, tuple[Part, ...], str], ServingTake]


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    fleet: Fleet
    settings: WebhookSettings
    regions: Mapping[str, Region]

    @staticmethod
    def of(fleet: Fleet, settings: WebhookSettings) -> Context:
        return Context(fleet=fleet, settings=settings, regions={r.name: r for r in fleet.regions})


def _unchanged(reason: str, *, outcome: Outcome = Outcome.UNCHANGED, warn: bool = True,
               workload: str | None = None) -> Decision:
    return Decision(outcome=outcome, reason=reason,
                    warnings=[f"gridshift: {reason}; admitted unchanged"] if warn else [],
                    workload=workload)


def _object(request: Mapping[str, Any]) -> tuple[ObjectInfo | None, Decision | None]:
    """The managed object of a request, or the decision to leave it alone."""
    if request.get("operation") != "CREATE":
        return None, _unchanged(f"operation {request.get('operation')!r} is not handled",
                                outcome=Outcome.NOT_MANAGED, warn=False)
    kind = request.get("kind") if isinstance(request.get("kind"), dict) else {}
    if (kind.get("group", ""), kind.get("kind")) not in KINDS:
        return None, _unchanged(f"kind {kind.get('kind')!r} is not a Pod or batch/v1 Job",
                                outcome=Outcome.NOT_MANAGED, warn=False)
    obj = request.get("object")
    if not isinstance(obj, dict):
        return None, _unchanged("the request has no object")
    try:
        info = describe(obj, kind=str(kind["kind"]), namespace=str(request.get("namespace") or ""))
    except InputError as exc:
        return None, _unchanged(str(exc))
    return info, None


def mutate(request: Mapping[str, Any], view: PlanView | None, ctx: Context, *, now: datetime,
           place: Placer, take_part: PartTaker, namespace_opted_in: bool = False) -> Decision:
    info, early = _object(request)
    if early is not None:
        return early
    assert info is not None
    if not opted_in(info, ctx.settings.opt_in_namespaces, namespace_opted_in=namespace_opted_in):
        return _unchanged("not opted in", outcome=Outcome.NOT_MANAGED, warn=False)
    if info.decided:
        return _unchanged("already carries a gridshift decision", warn=False,
                          outcome=Outcome.ALREADY_DECIDED, workload=info.workload)
    if view is None:
        return _unchanged("no plan is stored yet (run `gridshift plan --store`)",
                          workload=info.workload)
    obj = request["object"]
    serving = view.serving.get(info.workload) if info.kind == "Pod" else None
    if serving:
        return _serving_pod(request, info, serving, view, ctx, now=now, take_part=take_part)
    assignment = view.by_workload.get(info.workload)
    warnings: list[str] = []
    if assignment is not None:
        outcome, plan_id = Outcome.PLANNED, view.plan_id
        if view.parts.get(info.workload, 1) > 1:
            warnings.append(f"gridshift: the plan splits workload {info.workload!r} into "
                            f"{view.parts[info.workload]} parts; this object follows the largest")
    elif not can_describe_workload(info):
        return _unchanged(f"workload {info.workload!r} is not in plan {view.plan_id} and has no "
                          "gridshift.io/accelerators, duration and deadline annotations to "
                          "place it on arrival", workload=info.workload)
    else:
        try:
            workload = workload_from_object(info, ctx.fleet, now=now)
        except InputError as exc:
            return _unchanged(str(exc), workload=info.workload)
        result, plan_id = place(workload, info)
        if isinstance(result, Unplaced):
            ops = annotation_ops(obj, {PREFIX + "decision": str(Outcome.UNPLACED),
                                       PREFIX + "reason": result.reason[:1000],
                                       PREFIX + "plan-id": plan_id}, template=info.kind == "Job")
            return Decision(outcome=Outcome.UNPLACED, reason=result.reason, patch=ops,
                            warnings=[(f"gridshift: could not place {info.workload!r}: "
                                       f"{result.reason}; admitted without a placement")],
                            workload=info.workload, plan_id=plan_id)
        assignment, outcome = result, Outcome.PLACED
    region = ctx.regions.get(assignment.region)
    if region is None:
        return _unchanged(f"plan {plan_id} places {info.workload!r} in region "
                          f"{assignment.region!r}, which the served fleet does not have",
                          workload=info.workload)
    may_defer = True
    if info.kind == "Job" and (KUEUE_QUEUE in info.labels or obj["spec"].get("suspend") is True):
        # Kueue (or the owner) holds this Job's start; the releaser must not unsuspend it
        may_defer = False
        if (assignment.start - now).total_seconds() > ctx.settings.defer_threshold_s:
            warnings.append("gridshift: this Job's start is held by Kueue or its owner "
                            "(spec.suspend); the planned start is recorded in annotations only")
    ops = placement_ops(obj, info, assignment, region, decision=str(outcome), plan_id=plan_id,
                        settings=ctx.settings, now=now, may_defer=may_defer)
    return Decision(outcome=outcome, reason=assignment.reason, patch=ops, warnings=warnings,
                    workload=info.workload, plan_id=plan_id)


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def _serving_pod(request: Mapping[str, Any], info: ObjectInfo,
                 assignments: tuple[Assignment, ...], view: PlanView, ctx: Context, *,
                 now: datetime, take_part: PartTaker) -> Decision:
    """A Pod of a serving workload: the part with the most missing Pods, counted in the tally."""
    w = info.workload
    win = window(assignments, now)
    if win is None:
        return _unchanged(f"plan {view.plan_id} gives serving workload {w!r} no replicas",
                          workload=w)
    missing = [p.assignment.region for p in win.parts if p.assignment.region not in ctx.regions]
    if missing:
        return _unchanged(f"plan {view.plan_id} places serving workload {w!r} in region "
                          f"{missing[0]!r}, which the served fleet does not have", workload=w)
    taken = take_part(w, win.parts, view.plan_id)
    part = next((p for p in win.parts if p.key == taken.part), None)
    warnings: list[str] = []
    if not win.in_plan:
        warnings.append(f"gridshift: {_iso(now)} is outside every part of serving workload "
                        f"{w!r} in plan {view.plan_id}; this Pod follows the parts planned "
                        f"for {_iso(win.at)}")
    if part is None:  # a re-sent CREATE, counted under a part this plan no longer has
        part, _ = choose(win.parts, taken.counts)
    elif taken.taken and choose(win.parts, taken.counts)[1]:
        planned = sum(p.replicas for p in win.parts)
        live = sum(taken.counts.get(p.key, 0) for p in win.parts)
        warnings.append(f"gridshift: every part of serving workload {w!r} already has its "
                        f"planned Pods ({live} live, {planned} planned); this Pod goes to the "
                        f"largest part {part.key} (a rolling-update surge, or more replicas "
                        "than the plan)")
    a = part.assignment
    token = str(request.get("uid") or "")
    ops = placement_ops(request["object"], info, a, ctx.regions[a.region],
                        decision=str(Outcome.PLANNED), plan_id=view.plan_id,
                        settings=ctx.settings, now=now,
                        extra_annotations={ANN_SERVING_PART: part.key, ANN_SERVING_TOKEN: token,
                                           ANN_SERVING_WORKLOAD: w})
    return Decision(outcome=Outcome.PLANNED, patch=ops, warnings=warnings, workload=w,
                    plan_id=view.plan_id,
                    reason=f"serving part {part.key} ({taken.counts.get(part.key, 0)} of "
                           f"{part.replicas} planned Pods live before this one): {a.reason}")


def forget(request: Mapping[str, Any], *, release: Callable[[str], bool],
           dry_run: bool) -> Decision:
    """A DELETE: a counted serving Pod leaves the tally. Always allowed, whatever it carries."""
    kind = request.get("kind") if isinstance(request.get("kind"), dict) else {}
    old = request.get("oldObject")
    meta = old.get("metadata") if isinstance(old, dict) else None
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    token = annotations.get(ANN_SERVING_TOKEN) if isinstance(annotations, dict) else None
    if (kind.get("group", ""), kind.get("kind")) != ("", "Pod") or not isinstance(token, str) \
            or not token:
        return _unchanged("not a counted serving Pod", outcome=Outcome.NOT_MANAGED, warn=False)
    labels = meta.get("labels") if isinstance(meta.get("labels"), dict) else {}
    workload = str(labels.get(PREFIX + "workload") or "")[:253] or None
    part = str(annotations.get(ANN_SERVING_PART, "?"))[:400]
    if dry_run:
        return Decision(outcome=Outcome.ALLOWED, workload=workload,
                        reason=f"dry-run delete of a Pod of part {part}: tally unchanged")
    if release(token[:64]):
        return Decision(outcome=Outcome.RELEASED, workload=workload,
                        reason=f"a Pod of part {part} left; its slot is free")
    return Decision(outcome=Outcome.ALLOWED, workload=workload,
                    reason=f"a Pod of part {part} was not counted (deleted twice, or admitted "
                           "while the store was unreachable)")


def _annotated(info: ObjectInfo, key: str) -> float:
    try:
        return max(0.0, float(info.annotations.get(PREFIX + key, "0")))
    except ValueError:
        return 0.0


def validate(request: Mapping[str, Any], view: PlanView | None, ctx: Context, *,
             namespace_opted_in: bool = False) -> Decision:
    info, early = _object(request)
    if early is not None:
        return Decision(outcome=Outcome.ALLOWED if early.outcome != Outcome.NOT_MANAGED
                        else Outcome.NOT_MANAGED, reason=early.reason, warnings=early.warnings)
    assert info is not None
    if not opted_in(info, ctx.settings.opt_in_namespaces, namespace_opted_in=namespace_opted_in):
        return Decision(outcome=Outcome.NOT_MANAGED, reason="not opted in")
    if info.kind == "Pod" and info.owner_job and info.decided:
        return Decision(outcome=Outcome.ALLOWED, reason="its Job was checked",
                        workload=info.workload)
    counted = view is not None and info.workload in view.by_workload
    team = view.by_workload[info.workload].team if counted else info.team
    budget = ctx.settings.budgets.get(team)
    if budget is None:
        return Decision(outcome=Outcome.ALLOWED, reason=f"team {team!r} has no budget",
                        workload=info.workload)
    usd = (view.team_usd.get(team, 0.0) if view else 0.0)
    kg = (view.team_kg.get(team, 0.0) if view else 0.0)
    own_usd, own_kg = (0.0, 0.0) if counted else (_annotated(info, "cost-usd"),
                                                   _annotated(info, "kg-co2e"))
    where = f"plan {view.plan_id}" if view else "no stored plan"
    for name, total, own, limit, unit in (("USD", usd + own_usd, own_usd, budget.usd, "USD"),
                                          ("kgCO2e", kg + own_kg, own_kg, budget.kg_co2e, "kg")):
        if limit is not None and total > limit + 1e-9:
            message = (f"gridshift: team {team!r} would plan {total:,.2f} {unit} "
                       f"{'of CO2e ' if unit == 'kg' else ''}in {where} with "
                       f"{info.kind} {info.namespace}/{info.name} (workload {info.workload!r}, "
                       f"{own:,.2f} {unit} not yet counted), over its {name} budget of "
                       f"{limit:,.2f}; fix: ask the platform team to raise the budget, or free "
                       "budget by cancelling or shrinking other work")
            return Decision(outcome=Outcome.DENIED, reason=message, allowed=False,
                            workload=info.workload, plan_id=view.plan_id if view else None)
    return Decision(outcome=Outcome.ALLOWED, reason=f"team {team!r} within budget",
                    workload=info.workload)
