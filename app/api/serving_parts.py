"""Which part of a serving workload's plan a new Pod takes (pure; the store keeps the tally).

A serving workload's plan is a set of assignments (kind SERVING), each an
option - region x accelerator x partition (MIG profile or "whole") x purchase -
with ``replicas`` over [start, end). A **part** is what a Pod can land on::

    key(a) = "<region>/<accelerator>/<partition>/<purchase>"

The live-Pod tally (``Store.take_serving_slot``) counts Pods by
(workload, key), **not** by plan id or cluster: a re-plan that keeps an option
keeps its count, so Pods admitted under an older plan still fill the new
plan's matching part; Pods on an option the new plan dropped count for nothing
until they are deleted. Assignments active at the same time with the same key
(two clusters of one region) form one part: replicas summed, the larger one
patched onto the Pod (its cluster's zones).

For a Pod created at ``now``:

    parts      the parts active at now (start <= now < end); none -> the parts active
               at the nearest planned instant (the first slot before the plan window,
               the last after it), with a warning
    deficit(p) = planned replicas(p) - live Pods counted in key(p)
    choice     max deficit > 0: the part with the largest deficit, ties -> the larger
               part (more planned replicas), then the smaller key;
               every part full (a rolling-update surge, or more Pods than planned):
               the part with the most planned replicas (then the smaller key), warned

Training Jobs and Pods do not come here: a split non-gang training workload
still follows its largest part (plan_cache.PlanView.by_workload).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from planner.domain import Assignment

_JUST_BEFORE = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class Part:
    key: str
    replicas: int  # planned, summed over the assignments that share the key
    assignment: Assignment  # the one the Pod is patched with (most replicas)


@dataclass(frozen=True, slots=True, kw_only=True)
class Window:
    parts: tuple[Part, ...]  # sorted by key
    at: datetime  # the instant they are active at (now, or the nearest planned instant)
    in_plan: bool  # False: now is outside every part; ``at`` is the nearest instant


def key(a: Assignment) -> str:
    return f"{a.region}/{a.accelerator}/{a.partition}/{a.purchase}"


def _grouped(active: Iterable[Assignment]) -> tuple[Part, ...]:
    by_key: dict[str, list[Assignment]] = {}
    for a in active:
        by_key.setdefault(key(a), []).append(a)
    return tuple(Part(key=k, replicas=sum(a.replicas for a in group),
                      assignment=max(group, key=lambda a: (a.replicas, a.gpus, a.cluster)))
                 for k, group in sorted(by_key.items()))


def _distance(a: Assignment, now: datetime) -> timedelta:
    if now < a.start:
        return a.start - now
    return now - a.end + _JUST_BEFORE if now >= a.end else timedelta(0)


def window(assignments: Iterable[Assignment], now: datetime) -> Window | None:
    """The parts a Pod created at ``now`` chooses from (None: no assignments at all)."""
    planned = [a for a in assignments if a.replicas > 0]
    if not planned:
        return None
    active = [a for a in planned if a.start <= now < a.end]
    if active:
        return Window(parts=_grouped(active), at=now, in_plan=True)
    nearest = min(planned, key=lambda a: (_distance(a, now), a.start))
    at = nearest.start if now < nearest.start else nearest.end - _JUST_BEFORE
    return Window(parts=_grouped(a for a in planned if a.start <= at < a.end), at=at,
                  in_plan=False)


def choose(parts: tuple[Part, ...], counts: Mapping[str, int]) -> tuple[Part, bool]:
    """(the part a new Pod takes, whether every part was already full)."""
    if not parts:
        raise ValueError("choose: no parts to choose from; fix: call window() first")
    order = {p.key: i for i, p in enumerate(sorted(parts, key=lambda p: p.key))}
    best = max(parts, key=lambda p: (p.replicas - counts.get(p.key, 0), p.replicas,
                                     -order[p.key]))
    if best.replicas - counts.get(best.key, 0) > 0:
        return best, False
    return max(parts, key=lambda p: (p.replicas, -order[p.key])), True
