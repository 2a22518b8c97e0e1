"""A planned decision -> RFC 6902 JSON Patch operations on a Pod or Job (pure).

For an assignment in region R (cloud region id r, provider p), cluster C,
purchase option o, partition m and start s, the patch makes the object:

* require nodes with ``topology.kubernetes.io/region In [r]`` (and
  ``topology.kubernetes.io/zone In zones(C)`` when configured) and the
  capacity-type label of p's style for o (config.py): added to every
  ``nodeSelectorTerm`` (terms are ORed, so each must carry it); expressions and
  ``nodeSelector`` entries on the same keys are replaced, never contradicted;
* use ``nvidia.com/mig-<m>`` instead of ``nvidia.com/gpu`` when m != "whole";
* when s is later than now + threshold: a Pod gets the scheduling gate
  ``gridshift.io/planned-start``, a Job ``spec.suspend: true``, and either the
  label ``gridshift.io/deferred: "true"`` the releaser looks for;
* carry ``gridshift.io/*`` annotations: decision, reason, plan id, planned
  start/end, region, purchase, accelerator, partition, cost and emissions
  (a Job's pod template too, with the ``gridshift.io/workload`` label, so its
  Pods are recognised as decided and left alone); a Pod of a serving workload
  also carries ``gridshift.io/serving-part`` (the part it took) and
  ``gridshift.io/serving-token`` (its entry in the live-Pod tally, which its
  DELETE removes) and the label ``gridshift.io/serving: "true"``, by which the
  releaser lists the counted Pods to reconcile the tally (a selector cannot
  select on annotations).

Operations are ``add`` (which replaces an existing member) and ``remove``.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from app.api.config import CapacityLabels, WebhookSettings
from app.api.objects import (
    ANN_DECISION,
    ANN_PLANNED_START,
    GATE,
    GPU,
    LABEL_DEFERRED,
    LABEL_WORKLOAD,
    PREFIX,
    ObjectInfo,
)
from planner.domain import Assignment, Region
from pricing.catalog import Purchase

REGION_LABEL = "topology.kubernetes.io/region"
ZONE_LABEL = "topology.kubernetes.io/zone"
MAX_REASON = 1000
ANN_SERVING_PART = PREFIX + "serving-part"
ANN_SERVING_TOKEN = PREFIX + "serving-token"
ANN_SERVING_WORKLOAD = PREFIX + "serving-workload"  # the tally's workload (a label may lack it)
LABEL_SERVING = PREFIX + "serving"  # "true" on every Pod that carries a serving token


def escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def capacity_requirement(style: CapacityLabels, purchase: Purchase
                         ) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(node selector expression, toleration or None) for a purchase option in a label style."""
    spot = purchase == Purchase.SPOT
    if style == CapacityLabels.EKS:
        return {"key": "eks.amazonaws.com/capacityType", "operator": "In",
                "values": ["SPOT" if spot else "ON_DEMAND"]}, None
    if style == CapacityLabels.GKE:
        key = "cloud.google.com/gke-spot"
        return ({"key": key, "operator": "In", "values": ["true"]} if spot
                else {"key": key, "operator": "DoesNotExist"}), None
    if style == CapacityLabels.AKS:
        key = "kubernetes.azure.com/scalesetpriority"
        if spot:
            return ({"key": key, "operator": "In", "values": ["spot"]},
                    {"key": key, "operator": "Equal", "value": "spot", "effect": "NoSchedule"})
        return {"key": key, "operator": "DoesNotExist"}, None
    return {"key": "karpenter.sh/capacity-type", "operator": "In",
            "values": ["spot" if spot else "on-demand"]}, None


def decision_annotations(a: Assignment, *, decision: str, plan_id: str) -> dict[str, str]:
    return {
        ANN_DECISION: decision,
        PREFIX + "reason": a.reason[:MAX_REASON],
        PREFIX + "plan-id": plan_id,
        ANN_PLANNED_START: _iso(a.start),
        PREFIX + "planned-end": _iso(a.end),
        PREFIX + "region": a.region,
        PREFIX + "purchase": str(a.purchase),
        PREFIX + "accelerator": a.accelerator,
        PREFIX + "partition": a.partition,
        PREFIX + "cost-usd": f"{a.cost_usd:.2f}",
        PREFIX + "kg-co2e": f"{a.emissions_kg:.3f}",
    }


def _map_ops(container: dict[str, Any] | None, path: str, values: dict[str, str]) -> list[dict]:
    """Set keys of a string map (labels, annotations) that may not exist yet."""
    if not isinstance(container, dict):
        return [{"op": "add", "path": path, "value": dict(values)}]
    return [{"op": "add", "path": f"{path}/{escape(k)}", "value": v} for k, v in values.items()]


def annotation_ops(obj: dict[str, Any], values: dict[str, str], *, template: bool) -> list[dict]:
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else None
    ops = ([{"op": "add", "path": "/metadata", "value": {}}] if meta is None else [])
    ops += _map_ops((meta or {}).get("annotations"), "/metadata/annotations", values)
    if template:
        tmeta = obj["spec"]["template"].get("metadata")
        if not isinstance(tmeta, dict):
            ops.append({"op": "add", "path": "/spec/template/metadata", "value": {}})
            tmeta = {}
        ops += _map_ops(tmeta.get("annotations"), "/spec/template/metadata/annotations", values)
    return ops


def _affinity(pod_spec: dict[str, Any], expressions: list[dict[str, Any]]) -> dict[str, Any]:
    affinity = copy.deepcopy(pod_spec.get("affinity")) if isinstance(
        pod_spec.get("affinity"), dict) else {}
    node = affinity.setdefault("nodeAffinity", {})
    if not isinstance(node, dict):
        node = affinity["nodeAffinity"] = {}
    required = node.get("requiredDuringSchedulingIgnoredDuringExecution")
    if not isinstance(required, dict):
        required = node["requiredDuringSchedulingIgnoredDuringExecution"] = {}
    terms = [t for t in (required.get("nodeSelectorTerms") or []) if isinstance(t, dict)] or [{}]
    ours = {e["key"] for e in expressions}
    for term in terms:
        kept = [e for e in (term.get("matchExpressions") or [])
                if isinstance(e, dict) and e.get("key") not in ours]
        term["matchExpressions"] = kept + copy.deepcopy(expressions)
    required["nodeSelectorTerms"] = terms
    return affinity


def placement_ops(obj: dict[str, Any], info: ObjectInfo, a: Assignment, region: Region, *,
                  decision: str, plan_id: str, settings: WebhookSettings, now: datetime,
                  may_defer: bool = True, extra_annotations: dict[str, str] | None = None
                  ) -> list[dict[str, Any]]:
    base = info.pod_spec_path
    spec = info.pod_spec
    capacity, toleration = capacity_requirement(settings.capacity_style(region.provider),
                                                a.purchase)
    expressions = [{"key": REGION_LABEL, "operator": "In", "values": [region.cloud_region]}]
    zones = settings.zones.get(a.cluster)
    if zones:
        expressions.append({"key": ZONE_LABEL, "operator": "In", "values": list(zones)})
    expressions.append(capacity)
    ops: list[dict[str, Any]] = [{"op": "add", "path": f"{base}/affinity",
                                  "value": _affinity(spec, expressions)}]
    selector = spec.get("nodeSelector")
    if isinstance(selector, dict):
        ops += [{"op": "remove", "path": f"{base}/nodeSelector/{escape(k)}"}
                for k in selector if k in {e["key"] for e in expressions}]
    if toleration is not None:
        tolerations = spec.get("tolerations")
        if not isinstance(tolerations, list):
            ops.append({"op": "add", "path": f"{base}/tolerations", "value": [toleration]})
        elif toleration not in tolerations:
            ops.append({"op": "add", "path": f"{base}/tolerations/-", "value": toleration})
    if a.partition != "whole":
        mig = f"nvidia.com/mig-{a.partition}"
        for i, c in enumerate(spec.get("containers") or []):
            resources = c.get("resources") if isinstance(c, dict) else None
            for section in ("limits", "requests"):
                values = resources.get(section) if isinstance(resources, dict) else None
                if isinstance(values, dict) and GPU in values:
                    path = f"{base}/containers/{i}/resources/{section}"
                    ops += [{"op": "remove", "path": f"{path}/{escape(GPU)}"},
                            {"op": "add", "path": f"{path}/{escape(mig)}", "value": values[GPU]}]
    deferred = may_defer and (a.start - now).total_seconds() > settings.defer_threshold_s
    if deferred:
        if info.kind == "Pod":
            gates = spec.get("schedulingGates")
            if not isinstance(gates, list):
                ops.append({"op": "add", "path": "/spec/schedulingGates", "value": [{"name": GATE}]})
            elif all(not isinstance(g, dict) or g.get("name") != GATE for g in gates):
                ops.append({"op": "add", "path": "/spec/schedulingGates/-", "value": {"name": GATE}})
        else:
            ops.append({"op": "add", "path": "/spec/suspend", "value": True})
    annotations = {**decision_annotations(a, decision=decision, plan_id=plan_id),
                   **(extra_annotations or {})}
    labels = ({LABEL_DEFERRED: "true"} if deferred else {}) | (
        {LABEL_SERVING: "true"} if annotations.get(ANN_SERVING_TOKEN) else {})
    if labels:  # one op per key, or one map: a second whole-map add would replace the first
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        ops += _map_ops(meta.get("labels"), "/metadata/labels", labels)
    ops += annotation_ops(obj, annotations, template=info.kind == "Job")
    if info.kind == "Job":  # its Pods carry the workload too (and are seen as decided)
        tmeta = obj["spec"]["template"].get("metadata")
        ops += _map_ops(tmeta.get("labels") if isinstance(tmeta, dict) else None,
                        "/spec/template/metadata/labels", {LABEL_WORKLOAD: info.workload})
    return _metadata_first(ops)


def _metadata_first(ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An 'add /metadata' must come before ops under it; keep the rest in order."""
    first = [op for op in ops if op["path"] == "/metadata"]
    return first + [op for op in ops if op["path"] != "/metadata"]
