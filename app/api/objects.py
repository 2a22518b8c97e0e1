"""What a Pod or batch/v1 Job in an AdmissionReview says about its gridshift workload.

Which workload an object is (first that applies):
    1. label ``gridshift.io/workload`` on the object;
    2. for a Pod, the name of the Job that owns it (ownerReferences kind Job, or the
       ``batch.kubernetes.io/job-name`` / ``job-name`` label the Job controller sets);
    3. the object's name (``metadata.name``, else ``generateName`` without its trailing '-').

Opt-in: an object is managed when it carries ``gridshift.io/workload``, or its
namespace is in ``opt_in_namespaces``, or it arrives on ``/mutate/namespace``
or ``/validate/namespace`` (the paths the webhook configuration uses for
namespaces labelled ``gridshift.io/managed: "true"``: the API server, which
sees namespace labels, has selected it). ``gridshift.io/managed: "false"`` on
an object opts it out. Everything else is admitted unchanged.

Team: label ``gridshift.io/team``, else the namespace. GPUs: the sum over
containers of ``nvidia.com/gpu`` (limits, else requests), times ``parallelism``
for a Job.

A workload that is not in the plan is placed on arrival when its object says
enough (annotations; times as in workload files: ISO 8601 UTC, 'now', '+6h')::

    gridshift.io/accelerators: "H100=2.0,A100-80GB=1.0"   # required: relative speeds
    gridshift.io/duration: "6h"                           # required: on speed 1.0
    gridshift.io/deadline: "+24h"                         # required
    gridshift.io/earliest-start: "now"                    # optional, default now
    gridshift.io/home-region: "aws-us-east-1"             # optional, default: first fleet region
    gridshift.io/allowed-regions: "aws-eu-west-3,gcp-europe-west2"   # optional
    gridshift.io/checkpoint-interval: "30m"               # optional; without it, no spot
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.errors import InputError
from app.inputs import workloads_from_data
from planner.domain import Fleet, TrainingWorkload

PREFIX = "gridshift.io/"
LABEL_WORKLOAD = PREFIX + "workload"
LABEL_MANAGED = PREFIX + "managed"
LABEL_TEAM = PREFIX + "team"
LABEL_DEFERRED = PREFIX + "deferred"
GATE = PREFIX + "planned-start"
ANN_DECISION = PREFIX + "decision"
ANN_PLANNED_START = PREFIX + "planned-start"
GPU = "nvidia.com/gpu"
MAX_GPUS = 100_000

_SPEC_ANNOTATIONS = {
    "duration": "duration", "deadline": "deadline", "earliest-start": "earliest_start",
    "home-region": "home_region", "checkpoint-interval": "checkpoint_interval",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ObjectInfo:
    kind: str  # "Pod" | "Job"
    namespace: str
    name: str
    workload: str
    team: str
    labels: dict[str, str]
    annotations: dict[str, str]
    pod_spec: dict[str, Any]
    pod_spec_path: str  # JSON pointer of the pod spec in the object
    gpus: int
    owner_job: str | None

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}"

    @property
    def decided(self) -> bool:
        """Already carries a gridshift decision (a re-sent review, or a Pod of a decided Job)."""
        return ANN_DECISION in self.annotations


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _strings(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in _dict(value).items()}


def _quantity(value: Any, where: str) -> int:
    text = str(value).strip()
    if not text.isdigit():
        raise InputError(where, f"nvidia.com/gpu = {value!r} is not a whole number of GPUs",
                         fix="request a whole number such as '8'")
    gpus = int(text)
    if gpus > MAX_GPUS:
        raise InputError(where, f"nvidia.com/gpu = {gpus} is absurd (more than {MAX_GPUS})",
                         fix="request the GPUs one Pod needs")
    return gpus


def pod_gpus(pod_spec: dict[str, Any], where: str) -> int:
    total = 0
    for c in pod_spec.get("containers") or []:
        resources = _dict(_dict(c).get("resources"))
        limits, requests = _dict(resources.get("limits")), _dict(resources.get("requests"))
        value = limits.get(GPU, requests.get(GPU))
        if value is not None:
            total += _quantity(value, where)
    return total


def describe(obj: dict[str, Any], *, kind: str, namespace: str) -> ObjectInfo:
    """Read a Pod or Job object (InputError if it is not shaped like one)."""
    meta = _dict(obj.get("metadata"))
    labels, annotations = _strings(meta.get("labels")), _strings(meta.get("annotations"))
    name = str(meta.get("name") or str(meta.get("generateName") or "").rstrip("-"))
    namespace = str(meta.get("namespace") or namespace or "default")
    where = f"{kind} {namespace}/{name or '?'}"
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        raise InputError(where, "has no spec object", field="spec", fix="send a complete object")
    owner_job = None
    for ref in meta.get("ownerReferences") or []:
        if isinstance(ref, dict) and ref.get("kind") == "Job" and ref.get("name"):
            owner_job = str(ref["name"])
    if kind == "Pod":
        owner_job = owner_job or labels.get("batch.kubernetes.io/job-name") or labels.get("job-name")
        pod_spec, path, parallelism = spec, "/spec", 1
    else:
        template = spec.get("template")
        pod_spec = _dict(template).get("spec") if isinstance(template, dict) else None
        if not isinstance(pod_spec, dict):
            raise InputError(where, "has no pod template", field="spec.template.spec",
                             fix="send a complete Job")
        path = "/spec/template/spec"
        raw = spec.get("parallelism", 1)
        parallelism = raw if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0 else 1
    if not isinstance(pod_spec.get("containers", []), list):
        raise InputError(where, "containers is not a list", field="containers")
    workload = labels.get(LABEL_WORKLOAD) or owner_job or name
    gpus = pod_gpus(pod_spec, where) * max(parallelism, 1)
    if gpus > MAX_GPUS:
        raise InputError(where, f"{gpus} GPUs in all is absurd", field="spec.parallelism")
    return ObjectInfo(kind=kind, namespace=namespace, name=name, workload=workload,
                      team=labels.get(LABEL_TEAM) or namespace, labels=labels,
                      annotations=annotations, pod_spec=pod_spec, pod_spec_path=path, gpus=gpus,
                      owner_job=owner_job)


def opted_in(info: ObjectInfo, opt_in_namespaces: frozenset[str], *,
             namespace_opted_in: bool = False) -> bool:
    if info.labels.get(LABEL_MANAGED, "").lower() == "false":
        return False
    return (namespace_opted_in or LABEL_WORKLOAD in info.labels
            or info.namespace in opt_in_namespaces)


def can_describe_workload(info: ObjectInfo) -> bool:
    return all(PREFIX + key in info.annotations for key in ("accelerators", "duration", "deadline"))


def workload_from_object(info: ObjectInfo, fleet: Fleet, *, now: datetime) -> TrainingWorkload:
    """The TrainingWorkload an object describes in its annotations (InputError if it can't)."""
    where = f"{info.kind} {info.namespace}/{info.name}"
    if info.gpus < 1:
        raise InputError(where, "requests no nvidia.com/gpu", field="resources.limits",
                         fix="request GPUs, or opt the object out with gridshift.io/managed=false")
    speeds: dict[str, float] = {}
    for part in info.annotations.get(PREFIX + "accelerators", "").split(","):
        accelerator, _, speed = part.strip().partition("=")
        if not accelerator:
            continue
        try:
            speeds[accelerator.strip()] = float(speed) if speed else 1.0
        except ValueError:
            raise InputError(where, f"accelerator speed {speed!r} is not a number",
                             field=PREFIX + "accelerators", fix="write e.g. 'H100=2.0,A100-80GB=1'"
                             ) from None
    data: dict[str, Any] = {"name": info.workload, "team": info.team, "gpus": info.gpus,
                            "accelerators": speeds,
                            "home_region": fleet.regions[0].name if fleet.regions else ""}
    for key, field_ in _SPEC_ANNOTATIONS.items():
        if PREFIX + key in info.annotations:
            data[field_] = info.annotations[PREFIX + key]
    allowed = info.annotations.get(PREFIX + "allowed-regions")
    if allowed:
        data["allowed_regions"] = [r.strip() for r in allowed.split(",") if r.strip()]
    (workload,) = workloads_from_data({"workloads": [data]}, f"{where} annotations", fleet, now=now)
    return workload
