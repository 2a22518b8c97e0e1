"""Pods of a serving workload spread over the plan's parts; the live-Pod tally in the store.

A synthetic plan splits service 'chat' 3 / 2 over two regions for the first day
(aws-us-east-1 L4 whole on-demand / gcp-europe-west2 H100 MIG 1g.10gb spot) and
1 / 4 the next; a training workload is split in two. Pods go through the real
app (FastAPI TestClient in-process; real uvicorn servers on loopback for the
concurrency cases, two of them sharing one database like two webhook replicas),
on SQLite and on the real PostgreSQL the store tests start.
"""

from __future__ import annotations

import base64
import copy
import json
import threading
import uuid
from datetime import timedelta

import httpx
import jsonpatch
import kubernetes_validate
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.api.config import WebhookSettings
from app.api.objects import describe
from app.api.patch import ANN_SERVING_TOKEN, placement_ops
from app.api.server import create_app
from app.api.state import ServerState
from app.inputs import load_fleet
from app.problem_io import EXAMPLES
from app.store import Store
from planner.domain import Assignment, WorkloadKind
from pricing.catalog import Purchase, load_catalog
from tests.app.test_store import T0, synthetic_plan
from tests.app.test_webhook import start_server

H = timedelta(hours=1)
NOW = T0 + 2 * H
A = "aws-us-east-1/L4/whole/on-demand"
B = "gcp-europe-west2/H100/1g.10gb/spot"
K8S_VERSION = "1.30.0"


def serving(region: str, cluster: str, accelerator: str, partition: str, purchase: Purchase,
            replicas: int, start_h: int, hours: int = 24, workload: str = "chat") -> Assignment:
    return Assignment(
        workload=workload, kind=WorkloadKind.SERVING, team="assist", region=region,
        cluster=cluster, accelerator=accelerator, partition=partition, purchase=purchase,
        instance_type="x", start=T0 + start_h * H, end=T0 + (start_h + hours) * H,
        gpus=replicas, replicas=replicas, cost_usd=10.0 * replicas, energy_kwh=1.0,
        operational_kg=0.1, embodied_kg=0.01, reason=f"{region} x{replicas}")


def part_a(replicas: int, start_h: int = 0) -> Assignment:
    return serving("aws-us-east-1", "use1-gpu", "L4", "whole", Purchase.ON_DEMAND, replicas,
                   start_h)


def part_b(replicas: int, start_h: int = 0) -> Assignment:
    return serving("gcp-europe-west2", "euw2-gpu", "H100", "1g.10gb", Purchase.SPOT, replicas,
                   start_h)


def training(gpus: int, region: str, cluster: str) -> Assignment:
    return Assignment(
        workload="train-split", kind=WorkloadKind.TRAINING, team="nlp", region=region,
        cluster=cluster, accelerator="H100", partition="whole", purchase=Purchase.ON_DEMAND,
        instance_type="x", start=T0, end=T0 + 4 * H, gpus=gpus, replicas=1, cost_usd=1.0,
        energy_kwh=1.0, operational_kg=0.1, embodied_kg=0.01, reason=f"{region} {gpus}")


PLAN = (part_a(3), part_b(2), part_a(1, 24), part_b(4, 24),
        training(8, "azure-westus", "wus-gpu"), training(4, "aws-us-east-1", "use1-gpu"))


def pod(workload: str = "chat", *, gpus: str = "1") -> dict:
    """A Pod as a ReplicaSet creates it: generateName, no name yet, an owner reference."""
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {
        "generateName": f"{workload}-7d9f8-", "namespace": "ml",
        "labels": {"gridshift.io/workload": workload, "app": workload},
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                             "name": f"{workload}-7d9f8", "uid": str(uuid.uuid4()),
                             "controller": True}]},
        "spec": {"containers": [{"name": "server", "image": "vllm/vllm-openai", "resources": {
            "limits": {"nvidia.com/gpu": gpus, "memory": "16Gi"},
            "requests": {"nvidia.com/gpu": gpus, "memory": "16Gi"}}}]}}


def review(obj: dict | None, *, operation: str = "CREATE", dry_run: bool = False,
           uid: str | None = None, old: object = None) -> dict:
    gvk = {"group": "", "version": "v1", "kind": "Pod"}
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": uid or str(uuid.uuid4()), "kind": gvk, "requestKind": gvk,
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "namespace": "ml", "operation": operation, "object": obj, "oldObject": old,
        "dryRun": dry_run}}


def apply(obj: dict, body: dict) -> dict:
    response = body["response"]
    assert response["allowed"] is True
    if "patch" not in response:
        return obj
    return jsonpatch.JsonPatch(json.loads(base64.b64decode(response["patch"]))).apply(
        copy.deepcopy(obj))


def exprs(spec: dict) -> dict:
    term = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"][0]
    return {e["key"]: e for e in term["matchExpressions"]}


def part_of(obj: dict) -> str:
    return obj["metadata"]["annotations"]["gridshift.io/serving-part"]


@pytest.fixture(scope="module")
def fleet_and_catalog():
    return load_fleet(EXAMPLES / "fleet.yaml"), load_catalog(None)


def make_state(url: str, fleet_and_catalog, *, now=NOW, budget_ms: float = 200.0,
               plan: tuple[Assignment, ...] = PLAN, save: bool = True) -> ServerState:
    fleet, catalog = fleet_and_catalog
    store = Store(url)
    if save:
        store.save_plan(synthetic_plan(0, assignments=plan))
    return ServerState(store=store, fleet=fleet, catalog=catalog, api_token=None,
                       settings=WebhookSettings(decision_budget_ms=budget_ms),
                       clock=lambda: now)


@pytest.fixture
def client(tmp_path, fleet_and_catalog):
    state = make_state(f"sqlite:///{tmp_path / 'g.db'}", fleet_and_catalog)
    with TestClient(create_app(state, refresh_interval_s=3600),
                    raise_server_exceptions=False) as c:
        c.state_ = state
        yield c
    state.store.close()


def create(client, obj: dict | None = None, **kwargs) -> tuple[dict, dict]:
    obj = obj or pod()
    body = client.post("/mutate", json=review(obj, **kwargs)).json()
    return apply(obj, body), body["response"]


def delete(client, old: object, **kwargs) -> dict:
    response = client.post("/mutate", json=review(None, operation="DELETE", old=old,
                                                  **kwargs)).json()["response"]
    assert response["allowed"] is True and "patch" not in response
    return response


# ---- spreading ----------------------------------------------------------------------------

def test_five_pods_take_three_in_a_and_two_in_b_with_the_part_patches(client):
    pods = [create(client)[0] for _ in range(5)]
    assert [part_of(p) for p in pods] == [A, A, B, A, B]  # biggest deficit, ties: larger part
    for p in pods:
        kubernetes_validate.validate(p, K8S_VERSION, strict=True)
        ann = p["metadata"]["annotations"]
        assert ann["gridshift.io/decision"] == "planned"
        assert ann["gridshift.io/serving-token"]
        # the label the releaser lists counted Pods by (selectors cannot see annotations)
        assert p["metadata"]["labels"] == {"gridshift.io/workload": "chat", "app": "chat",
                                           "gridshift.io/serving": "true"}
        assert "schedulingGates" not in p["spec"]  # the part is active now
    a, b = pods[0], pods[2]
    assert exprs(a["spec"])["topology.kubernetes.io/region"]["values"] == ["us-east-1"]
    assert exprs(a["spec"])["karpenter.sh/capacity-type"]["values"] == ["on-demand"]
    assert a["spec"]["containers"][0]["resources"]["limits"] == {"nvidia.com/gpu": "1",
                                                                 "memory": "16Gi"}
    assert a["metadata"]["annotations"]["gridshift.io/region"] == "aws-us-east-1"
    assert exprs(b["spec"])["topology.kubernetes.io/region"]["values"] == ["europe-west2"]
    assert exprs(b["spec"])["cloud.google.com/gke-spot"]["values"] == ["true"]
    for section in ("limits", "requests"):
        resources = b["spec"]["containers"][0]["resources"][section]
        assert resources == {"nvidia.com/mig-1g.10gb": "1", "memory": "16Gi"}
    assert b["metadata"]["annotations"]["gridshift.io/purchase"] == "spot"
    assert client.state_.store.serving_pod_counts("chat") == {A: 3, B: 2}


def test_a_sixth_pod_goes_to_the_largest_part_with_a_warning(client):
    for _ in range(5):
        _, response = create(client)
        assert "warnings" not in response
    sixth, response = create(client)
    assert part_of(sixth) == A
    assert "already has its planned Pods (5 live, 5 planned)" in response["warnings"][0]
    assert client.state_.store.serving_pod_counts("chat") == {A: 4, B: 2}


def test_deleting_a_b_pod_frees_its_slot_for_the_next_pod(client):
    pods = [create(client)[0] for _ in range(5)]
    gone = next(p for p in pods if part_of(p) == B)
    response = delete(client, gone)
    assert response["auditAnnotations"]["decision"] == "released"
    assert client.state_.store.serving_pod_counts("chat") == {A: 3, B: 1}
    again = delete(client, gone)  # the kubelet's final DELETE of the same Pod
    assert again["auditAnnotations"]["decision"] == "allowed"
    nxt, response = create(client)
    assert part_of(nxt) == B and "warnings" not in response


def test_a_re_sent_create_is_counted_once_and_gets_the_same_part(client):
    uid = str(uuid.uuid4())
    first, _ = create(client, uid=uid)
    second, _ = create(client, uid=uid)
    assert part_of(first) == part_of(second) == A
    assert client.state_.store.serving_pod_counts("chat") == {A: 1}


def test_a_dry_run_create_is_placed_but_not_counted(client):
    out, _ = create(client, dry_run=True)
    assert part_of(out) == A
    assert client.state_.store.serving_pod_counts("chat") == {}
    assert delete(client, out, dry_run=True)["auditAnnotations"]["decision"] == "allowed"


def test_the_parts_active_now_decide_and_a_re_plan_keeps_the_counts(client):
    for _ in range(5):
        create(client)
    state = client.state_
    state.store.save_plan(synthetic_plan(0, assignments=(part_a(1), part_b(4))))
    state.cache.refresh()
    nxt = [part_of(create(client)[0]) for _ in range(2)]
    assert nxt == [B, B]  # A has 3 live of 1 planned; B 2 of 4
    assert state.store.serving_pod_counts("chat") == {A: 3, B: 4}


@pytest.mark.parametrize("now_h, part, gated", [(-6, A, True), (60, B, False)])
def test_outside_the_plan_window_the_nearest_parts_decide_with_a_warning(
        tmp_path, fleet_and_catalog, now_h, part, gated):
    state = make_state(f"sqlite:///{tmp_path / 'g.db'}", fleet_and_catalog, now=T0 + now_h * H)
    with TestClient(create_app(state, refresh_interval_s=3600)) as c:
        out, response = create(c)
    assert part_of(out) == part  # before: the 3/2 of the first day; after: the 1/4 of the last
    assert "outside every part of serving workload 'chat'" in response["warnings"][0]
    assert ("schedulingGates" in out["spec"]) is gated
    labels = out["metadata"]["labels"]  # deferred and counted: both labels, neither lost
    assert labels["gridshift.io/serving"] == "true"
    assert (labels.get("gridshift.io/deferred") == "true") is gated


def test_a_job_or_a_training_pod_keeps_the_largest_part_rule(client):
    out, response = create(client, pod("train-split", gpus="8"))
    assert out["metadata"]["annotations"]["gridshift.io/region"] == "azure-westus"
    assert "gridshift.io/serving-part" not in out["metadata"]["annotations"]
    assert "gridshift.io/serving" not in out["metadata"]["labels"]
    assert "follows the largest" in response["warnings"][0]
    assert client.state_.store.serving_pod_counts("train-split") == {}


def test_shared_pod_samples_labelled_for_the_service_are_spread_and_valid(client, shared_data):
    taken = []
    for path in sorted((shared_data / "k8s_admission").glob("*pod*.json")):
        raw = json.loads(path.read_text())
        wrapped = raw if raw.get("kind") == "AdmissionReview" else {
            "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": raw}
        obj = wrapped["request"]["object"]
        obj["metadata"].setdefault("labels", {})["gridshift.io/workload"] = "chat"
        out = apply(obj, client.post("/mutate", json=wrapped).json())
        kubernetes_validate.validate(out, K8S_VERSION, strict=True)
        taken.append(part_of(out))
        assert delete(client, out)["auditAnnotations"]["decision"] == "released", path.name
    assert len(taken) >= 3 and set(taken) == {A}  # each left before the next came
    assert client.state_.store.serving_pod_counts("chat") == {}


# ---- DELETE fails open ---------------------------------------------------------------------

@pytest.mark.parametrize("old", [
    None, "garbage", 42, [], {}, {"metadata": None}, {"metadata": {"annotations": "x"}},
    {"metadata": {"annotations": {"gridshift.io/serving-token": 7}}},
    {"metadata": {"annotations": {"gridshift.io/serving-token": "never-counted"}}},
    {"metadata": {"annotations": {"gridshift.io/serving-token": "x" * 5000}}},
])
def test_a_delete_with_an_unknown_or_garbage_object_is_allowed(client, old):
    response = delete(client, old)
    assert response["auditAnnotations"]["decision"] in ("not-managed", "allowed")


def test_a_delete_is_allowed_when_the_store_fails(client):
    out, _ = create(client)
    with client.state_.store.engine.begin() as conn:
        conn.execute(text("DROP TABLE gridshift_serving_pods"))
    response = delete(client, out)
    assert response["auditAnnotations"]["decision"] == "fail-open"
    body = client.post("/mutate", json={"apiVersion": "admission.k8s.io/v1",
                                        "kind": "AdmissionReview", "request": {
                                            "uid": "u1", "operation": "DELETE"}}).json()
    assert body["response"]["allowed"] is True


# ---- the tally in the store: SQLite and PostgreSQL, concurrent replicas ------------------

def test_the_tally_takes_releases_and_ignores_a_known_token(db_url):
    store = Store(db_url)
    seen = []

    def fullest_first(counts):
        seen.append(dict(counts))
        return "a" if counts.get("a", 0) < 2 else "b"

    takes = [store.take_serving_slot("svc", f"t{i}", fullest_first, plan_id="p",
                                     object_ref=f"Pod/ml/x@t{i}") for i in range(3)]
    assert [t.part for t in takes] == ["a", "a", "b"] and all(t.taken for t in takes)
    assert seen == [{}, {"a": 1}, {"a": 2}]
    again = store.take_serving_slot("svc", "t0", fullest_first, plan_id="p", object_ref="r")
    assert (again.part, again.taken) == ("a", False)
    assert store.serving_pod_counts("svc") == {"a": 2, "b": 1}
    assert store.serving_pod_counts("other") == {}

    def abandon():
        raise RuntimeError("answered already")

    with pytest.raises(RuntimeError):
        store.take_serving_slot("svc", "t9", fullest_first, plan_id="p", object_ref="r",
                                before_commit=abandon)
    assert store.serving_pod_counts("svc") == {"a": 2, "b": 1}  # rolled back
    assert store.release_serving_pod("t1") and not store.release_serving_pod("t1")
    assert store.serving_pod_counts("svc") == {"a": 1, "b": 1}
    store.close()


def test_concurrent_admissions_on_two_replicas_never_over_fill_a_part(
        db_url, fleet_and_catalog):
    # two webhook replicas, one database; budget wide enough for a loaded 2-core machine
    states = [make_state(db_url, fleet_and_catalog, budget_ms=5000, save=i == 0)
              for i in range(2)]
    servers = [start_server(create_app(s, refresh_interval_s=3600)) for s in states]
    barriers = [threading.Barrier(5), threading.Barrier(5)]  # a burst, then a surge
    answers: list[dict] = [None] * 10  # type: ignore[list-item]

    def admit(i: int) -> None:
        port = servers[i % 2][2]
        with httpx.Client(timeout=30) as http:
            barriers[i // 5].wait()
            answers[i] = http.post(f"http://127.0.0.1:{port}/mutate",
                                   json=review(pod())).json()["response"]

    try:
        threads = [threading.Thread(target=admit, args=(i,)) for i in range(10)]
        for thread in threads[:5]:
            thread.start()
        for thread in threads[:5]:
            thread.join(60)
        first = [a for a in answers[:5] if a is not None]
        assert len(first) == 5
        assert all(a["auditAnnotations"]["decision"] == "planned" for a in first), first
        assert not any("warnings" in a for a in first)  # nobody saw the parts full
        assert states[0].store.serving_pod_counts("chat") == {A: 3, B: 2}
        for thread in threads[5:]:  # a surge: every part is full, each goes to A, warned
            thread.start()
        for thread in threads[5:]:
            thread.join(60)
        surge = [a for a in answers[5:] if a is not None]
        assert len(surge) == 5 and all("already has its planned" in a["warnings"][0]
                                       for a in surge)
        assert states[1].store.serving_pod_counts("chat") == {A: 8, B: 2}
    finally:
        for server, thread, _ in servers:
            server.should_exit = True
            thread.join(timeout=10)
        for s in states:
            s.store.close()


def test_a_deferred_serving_pod_without_labels_gets_both_labels(fleet_and_catalog):
    obj = pod()
    del obj["metadata"]["labels"]  # one whole-map add: a second one would replace the first
    info = describe(obj, kind="Pod", namespace="ml")
    region = {r.name: r for r in fleet_and_catalog[0].regions}["aws-us-east-1"]
    ops = placement_ops(obj, info, part_a(1, 24), region, decision="planned", plan_id="p",
                        settings=WebhookSettings(), now=NOW,
                        extra_annotations={ANN_SERVING_TOKEN: "t"})
    out = jsonpatch.apply_patch(obj, ops)
    assert out["metadata"]["labels"] == {"gridshift.io/deferred": "true",
                                         "gridshift.io/serving": "true"}
    assert out["spec"]["schedulingGates"] == [{"name": "gridshift.io/planned-start"}]
