"""The releaser: lift gridshift's hold on deferred Pods and Jobs at their planned start.

The webhook defers a start by gating a Pod (``spec.schedulingGates`` entry
``gridshift.io/planned-start``) or suspending a Job (``spec.suspend: true``),
and labels either ``gridshift.io/deferred: "true"`` with the planned start in
the annotation ``gridshift.io/planned-start``. Each round, for every object with
that label whose planned start is due (<= now):

    Pod: JSON Patch  test  /spec/schedulingGates/i/name == gridshift.io/planned-start
                     remove /spec/schedulingGates/i          (other gates are kept)
    Job: JSON Patch  add /spec/suspend false
    both:            remove the label, add annotation gridshift.io/released-at

Idempotent: a released object no longer has the label, so it is not listed
again; a gate already gone only loses its label; the ``test`` op makes a patch
that raced with another change fail (422) instead of removing the wrong gate,
and the next round retries. An object with the label but no readable planned
start is released at once (the hold is gridshift's and must not be forever).
Talks to the Kubernetes API through the official ``kubernetes`` client.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from app.api.objects import ANN_PLANNED_START, GATE, LABEL_DEFERRED, PREFIX
from app.api.patch import escape

log = logging.getLogger("gridshift.release")
SELECTOR = f"{LABEL_DEFERRED}=true"
ANN_RELEASED = PREFIX + "released-at"
JSON_PATCH = "application/json-patch+json"


@dataclass(kw_only=True)
class ReleaseReport:
    released: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # "kind/ns/name: why"


def api_clients(*, kubeconfig: Path | None = None, host: str | None = None
                ) -> tuple[client.CoreV1Api, client.BatchV1Api]:
    """Clients from ``host`` (tests), a kubeconfig file, or the in-cluster service account."""
    if host is not None:
        configuration = client.Configuration(host=host)
        api = client.ApiClient(configuration)
    elif kubeconfig is not None:
        api = config.new_client_from_config(config_file=str(kubeconfig))
    else:
        try:
            config.load_incluster_config()
        except config.ConfigException:
            config.load_kube_config()
        api = client.ApiClient()
    return client.CoreV1Api(api), client.BatchV1Api(api)


def _due(meta: Any, now: datetime) -> tuple[bool, str]:
    raw = (meta.annotations or {}).get(ANN_PLANNED_START)
    if not raw:
        return True, "no planned start recorded"
    try:
        start = datetime.fromisoformat(raw)
    except ValueError:
        return True, f"unreadable planned start {raw!r}"
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    return start <= now, f"planned start {raw}"


def _bookkeeping(meta: Any, now: datetime) -> list[dict[str, Any]]:
    ops: list[dict[str, Any]] = []
    if LABEL_DEFERRED in (meta.labels or {}):
        ops.append({"op": "remove", "path": f"/metadata/labels/{escape(LABEL_DEFERRED)}"})
    stamp = now.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if meta.annotations:
        ops.append({"op": "add", "path": f"/metadata/annotations/{escape(ANN_RELEASED)}",
                    "value": stamp})
    else:
        ops.append({"op": "add", "path": "/metadata/annotations", "value": {ANN_RELEASED: stamp}})
    return ops


def pod_release_ops(pod: Any, now: datetime) -> list[dict[str, Any]]:
    ops: list[dict[str, Any]] = []
    gates = (pod.spec.scheduling_gates or []) if pod.spec else []
    for i, gate in enumerate(gates):
        if gate.name == GATE:
            ops += [{"op": "test", "path": f"/spec/schedulingGates/{i}/name", "value": GATE},
                    {"op": "remove", "path": f"/spec/schedulingGates/{i}"}]
            break
    return ops + _bookkeeping(pod.metadata, now)


def job_release_ops(job: Any, now: datetime) -> list[dict[str, Any]]:
    return [{"op": "add", "path": "/spec/suspend", "value": False}] + _bookkeeping(job.metadata, now)


def release_due(core: client.CoreV1Api, batch: client.BatchV1Api, *, now: datetime | None = None,
                namespace: str | None = None, dry_run: bool = False) -> ReleaseReport:
    """One round: release every deferred Pod and Job whose planned start has come."""
    now = now or datetime.now(UTC)
    report = ReleaseReport()
    if namespace:
        pods = core.list_namespaced_pod(namespace, label_selector=SELECTOR).items
        jobs = batch.list_namespaced_job(namespace, label_selector=SELECTOR).items
    else:
        pods = core.list_pod_for_all_namespaces(label_selector=SELECTOR).items
        jobs = batch.list_job_for_all_namespaces(label_selector=SELECTOR).items
    work = [("Pod", p, pod_release_ops, core.patch_namespaced_pod) for p in pods]
    work += [("Job", j, job_release_ops, batch.patch_namespaced_job) for j in jobs]
    for kind, obj, make_ops, patch in work:
        ref = f"{kind}/{obj.metadata.namespace}/{obj.metadata.name}"
        due, why = _due(obj.metadata, now)
        if not due:
            report.waiting.append(ref)
            continue
        if dry_run:
            report.released.append(ref)
            continue
        try:
            patch(obj.metadata.name, obj.metadata.namespace, make_ops(obj, now),
                  _content_type=JSON_PATCH)
        except ApiException as exc:
            if exc.status == 404:
                continue  # deleted meanwhile: nothing to release
            report.failed.append(f"{ref}: HTTP {exc.status} {exc.reason}")
            log.warning("release %s failed: HTTP %s %s (retried next round)", ref, exc.status,
                        exc.reason)
            continue
        log.info("released %s (%s)", ref, why)
        report.released.append(ref)
    return report
