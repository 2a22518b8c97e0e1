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

Each round also reconciles the store's live-Pod tally of serving workloads
(``reconcile_tally``; app/api/serving_parts.py). The webhook counts a serving
Pod on CREATE (labelled ``gridshift.io/serving: "true"``, its row's token in the
annotation ``gridshift.io/serving-token``) and forgets it on DELETE; a DELETE it
never saw (webhook down: failurePolicy Ignore; a later admission step rejected a
CREATE it had counted) would leave the row forever, and an evicted Pod counts
until it is garbage-collected. So, with the Pods listed by that label
(cluster-wide, or in ``namespace`` only, then only that namespace's rows)::

    drop   rows whose Pod is listed in phase Failed / Succeeded, or being deleted
    drop   rows no listed Pod carries, admitted before now - grace (5 min): a CREATE
           is counted before the API server persists the Pod, so a young row's Pod
           may not be listed yet
    keep   the rest
    add    a row for each listed Pod that has not ended and whose token has no row (the
           store was replaced or restored from a backup, or lost a commit after the
           webhook answered): without it the webhook would see the Pod's part as empty
           and place more Pods there than planned; the row takes the Pod's workload
           (annotation ``gridshift.io/serving-workload``, else its workload label) and
           part (``gridshift.io/serving-part``)

in one store transaction. A list that fails (API error, cut connection) drops
nothing: the round skips the reconcile and says why.
Talks to the Kubernetes API through the official ``kubernetes`` client.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from app.api.objects import ANN_PLANNED_START, GATE, LABEL_DEFERRED, LABEL_WORKLOAD, PREFIX
from app.api.patch import (
    ANN_SERVING_PART,
    ANN_SERVING_TOKEN,
    ANN_SERVING_WORKLOAD,
    LABEL_SERVING,
    escape,
)
from app.store import Store
from app.store.store import TallyDrop
from app.store.tally import LivePod

log = logging.getLogger("gridshift.release")
SELECTOR = f"{LABEL_DEFERRED}=true"
SERVING_SELECTOR = f"{LABEL_SERVING}=true"
TALLY_GRACE_S = 300.0  # rows younger than this stay even without a listed Pod
LIST_PAGE = 500  # Pods per list call (a paged list is one consistent snapshot)
ENDED_PHASES = frozenset({"Failed", "Succeeded"})
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


@dataclass(frozen=True, slots=True, kw_only=True)
class TallyReport:
    """What one reconcile of the serving-Pod tally did."""

    listed: int = 0  # serving Pods listed (with a token)
    drop: TallyDrop | None = None  # None: skipped (``skipped`` says why)
    skipped: str | None = None

    @property
    def dropped(self) -> int:
        return self.drop.dropped if self.drop else 0


def _serving_pods(core: client.CoreV1Api, namespace: str | None) -> list[Any]:
    """Every Pod labelled as counted in the tally, page by page (one snapshot)."""
    pods: list[Any] = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"label_selector": SERVING_SELECTOR, "limit": LIST_PAGE}
        if token:
            kwargs["_continue"] = token
        page = (core.list_namespaced_pod(namespace, **kwargs) if namespace
                else core.list_pod_for_all_namespaces(**kwargs))
        pods += page.items or []
        token = page.metadata._continue if page.metadata else None
        if not token:
            return pods


def _why(exc: Exception) -> str:
    if isinstance(exc, ApiException):
        return f"HTTP {exc.status} {exc.reason}"
    lines = str(exc).strip().splitlines()
    return f"{exc.__class__.__name__}: {lines[0]}" if lines else exc.__class__.__name__


def reconcile_tally(core: client.CoreV1Api, store: Store, *, now: datetime | None = None,
                    namespace: str | None = None, grace_s: float = TALLY_GRACE_S,
                    dry_run: bool = False) -> TallyReport:
    """Drop tally rows of serving Pods that are gone or ended (module docstring)."""
    now = now or datetime.now(UTC)  # before the list: a row older than now - grace is listed
    try:
        pods = _serving_pods(core, namespace)
    except Exception as exc:  # noqa: BLE001 - without the whole list, nothing may be dropped
        why = _why(exc)
        log.warning("serving tally not reconciled: listing serving Pods failed (%s); "
                    "nothing dropped, retried next round", why)
        return TallyReport(skipped=f"listing serving Pods failed: {why}")
    live: set[str] = set()
    ended: set[str] = set()
    restore: list[LivePod] = []
    for pod in pods:
        annotations = pod.metadata.annotations or {}
        token = (annotations.get(ANN_SERVING_TOKEN) or "")[:64]
        if not token:
            continue
        live.add(token)
        phase = pod.status.phase if pod.status else None
        if phase in ENDED_PHASES or pod.metadata.deletion_timestamp is not None:
            ended.add(token)
            continue
        workload = (annotations.get(ANN_SERVING_WORKLOAD)
                    or (pod.metadata.labels or {}).get(LABEL_WORKLOAD))
        part = annotations.get(ANN_SERVING_PART)
        if workload and part:  # without them the webhook could not use the row
            restore.append(LivePod(
                token=token, workload=workload, part=part,
                object_ref=f"Pod/{pod.metadata.namespace}/{pod.metadata.name}",
                created_at=pod.metadata.creation_timestamp or now))
    drop = store.reconcile_serving_pods(live=live, ended=ended, namespace=namespace,
                                        admitted_before=now - timedelta(seconds=grace_s),
                                        dry_run=dry_run, restore=restore)
    verb = "would drop" if dry_run else "dropped"
    for ref in drop.gone:
        log.info("serving tally: %s %s (no such Pod; its DELETE was not seen)", verb, ref)
    for ref in drop.ended:
        log.info("serving tally: %s %s (the Pod ended or is being deleted)", verb, ref)
    for ref in drop.restored:
        log.warning("serving tally: %s %s (a live Pod without its row: the store lost it)",
                    "would count again" if dry_run else "counted again", ref)
    if drop.dropped:
        log.info("serving tally: %s %d row(s) of %d listed serving Pod(s)", verb, drop.dropped,
                 len(live))
    return TallyReport(listed=len(live), drop=drop)
