"""Webhook rules on a controlled plan: MIG, capacity label styles, zones, fail-open, bad input.

In-process (FastAPI TestClient, no TLS: test_webhook.py covers TLS); the plan is
synthetic so that partitions, purchase options and starts are known.
"""

from __future__ import annotations

import base64
import copy
import json
import time
import uuid
from datetime import timedelta

import jsonpatch
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.api.config import Budget, CapacityLabels, WebhookSettings
from app.api.server import create_app
from app.api.state import ServerState
from app.inputs import load_fleet
from app.problem_io import EXAMPLES
from app.store import Store
from pricing.catalog import load_catalog
from tests.app.test_store import T0, assignment, synthetic_plan

NOW = T0 + timedelta(minutes=1)


def pod(workload: str, *, gpus: str = "1") -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {
        "name": f"{workload}-pod", "labels": {"gridshift.io/workload": workload}},
        "spec": {"containers": [{"name": "main", "image": "pytorch", "resources": {
            "limits": {"nvidia.com/gpu": gpus, "cpu": "4"},
            "requests": {"nvidia.com/gpu": gpus, "cpu": "4"}}}]}}


def review(obj: dict, *, kind: str = "Pod", dry_run: bool = False) -> dict:
    group = "batch" if kind == "Job" else ""
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": str(uuid.uuid4()), "kind": {"group": group, "version": "v1", "kind": kind},
        "namespace": "ml", "operation": "CREATE", "object": obj, "dryRun": dry_run}}


@pytest.fixture(scope="module")
def fleet_and_catalog():
    return load_fleet(EXAMPLES / "fleet.yaml"), load_catalog(None)


def make_client(tmp_path, fleet_and_catalog, settings_: WebhookSettings, *, clock=lambda: NOW):
    fleet, catalog = fleet_and_catalog
    rows = (assignment(0, partition="1g.10gb", start_h=0),            # on-demand, now
            assignment(1, start_h=6),                                  # spot, later
            assignment(2, team="vision", region="gcp-europe-west2", cluster="euw2-gpu"),
            assignment(3, region="azure-westus", cluster="wus-gpu"))  # spot, azure
    store = Store(f"sqlite:///{tmp_path / 'g.db'}")
    store.save_plan(synthetic_plan(0, assignments=rows))
    state = ServerState(store=store, fleet=fleet, catalog=catalog, settings=settings_,
                        api_token=None, clock=clock)
    return TestClient(create_app(state, refresh_interval_s=3600), raise_server_exceptions=False)


def apply(obj: dict, body: dict) -> dict:
    response = body["response"]
    if "patch" not in response:
        return obj
    return jsonpatch.JsonPatch(json.loads(base64.b64decode(response["patch"]))).apply(obj)


def exprs(spec: dict) -> dict:
    term = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"][0]
    return {e["key"]: e for e in term["matchExpressions"]}


def test_a_mig_partition_rewrites_the_gpu_resource(tmp_path, fleet_and_catalog):
    with make_client(tmp_path, fleet_and_catalog, WebhookSettings()) as client:
        obj = pod("w00000", gpus="1")
        out = apply(obj, client.post("/mutate", json=review(obj)).json())
    resources = out["spec"]["containers"][0]["resources"]
    for section in ("limits", "requests"):
        assert "nvidia.com/gpu" not in resources[section]
        assert resources[section]["nvidia.com/mig-1g.10gb"] == "1"
        assert resources[section]["cpu"] == "4"
    e = exprs(out["spec"])
    assert e["karpenter.sh/capacity-type"]["values"] == ["on-demand"]
    assert "schedulingGates" not in out["spec"]  # planned start is now


def test_label_styles_and_zones_follow_the_settings(tmp_path, fleet_and_catalog):
    settings_ = WebhookSettings(capacity_labels={"aws": CapacityLabels.EKS,
                                                 "azure": CapacityLabels.AKS},
                                zones={"use1-gpu": ("us-east-1a", "us-east-1b")})
    with make_client(tmp_path, fleet_and_catalog, settings_) as client:
        aws = apply(pod("w00001"), client.post("/mutate", json=review(pod("w00001"))).json())
        gcp = apply(pod("w00002"), client.post("/mutate", json=review(pod("w00002"))).json())
        azure = apply(pod("w00003"), client.post("/mutate", json=review(pod("w00003"))).json())
    e = exprs(aws["spec"])
    assert e["eks.amazonaws.com/capacityType"]["values"] == ["SPOT"]
    assert e["topology.kubernetes.io/zone"]["values"] == ["us-east-1a", "us-east-1b"]
    assert e["topology.kubernetes.io/region"]["values"] == ["us-east-1"]
    assert aws["spec"]["schedulingGates"] == [{"name": "gridshift.io/planned-start"}]
    assert exprs(gcp["spec"])["cloud.google.com/gke-spot"] == {
        "key": "cloud.google.com/gke-spot", "operator": "DoesNotExist"}
    assert exprs(azure["spec"])["kubernetes.azure.com/scalesetpriority"]["values"] == ["spot"]
    assert azure["spec"]["tolerations"] == [{"key": "kubernetes.azure.com/scalesetpriority",
                                             "operator": "Equal", "value": "spot",
                                             "effect": "NoSchedule"}]


def test_a_slow_decision_admits_unchanged_with_a_warning(tmp_path, fleet_and_catalog):
    def slow_clock():
        time.sleep(0.5)
        return NOW

    with make_client(tmp_path, fleet_and_catalog, WebhookSettings(decision_budget_ms=50),
                     clock=slow_clock) as client:
        body = client.post("/mutate", json=review(pod("w00001"))).json()
        metrics = client.get("/metrics").text
    assert body["response"]["allowed"] is True and "patch" not in body["response"]
    assert "no decision within 50 ms" in body["response"]["warnings"][0]
    assert 'gridshift_admission_fail_open_total{cause="slow",webhook="mutate"} 1.0' in metrics


def test_an_internal_error_admits_unchanged_with_a_warning(tmp_path, fleet_and_catalog):
    def broken_clock():
        raise RuntimeError("boom")

    with make_client(tmp_path, fleet_and_catalog, WebhookSettings(),
                     clock=broken_clock) as client:
        body = client.post("/mutate", json=review(pod("w00001"))).json()
    assert body["response"]["allowed"] is True and "patch" not in body["response"]
    assert "internal error (RuntimeError)" in body["response"]["warnings"][0]


def test_non_reviews_are_400_and_odd_reviews_are_answered(tmp_path, fleet_and_catalog):
    with make_client(tmp_path, fleet_and_catalog, WebhookSettings()) as client:
        assert client.post("/mutate", content=b"{not json").status_code == 400
        assert client.post("/mutate", content=b"\xff\xfe").status_code == 400
        assert client.post("/validate", json=[1, 2]).status_code == 400
        assert client.post("/mutate", json={"kind": "AdmissionReview"}).status_code == 400
        old = review(pod("w00001"))
        old["apiVersion"] = "admission.k8s.io/v1beta1"
        body = client.post("/mutate", json=old).json()
        assert body["response"]["uid"] == old["request"]["uid"]
        assert "expected admission.k8s.io/v1" in body["response"]["warnings"][0]
        no_uid = review(pod("w00001"))
        del no_uid["request"]["uid"]
        body = client.post("/mutate", json=no_uid).json()
        assert body["response"]["uid"] == "" and body["response"]["allowed"] is True
        assert body["response"]["warnings"] == [
            "gridshift: request.uid is missing; admitted unchanged"]
        extra = review(pod("w00001"))
        extra["request"]["somethingNew"] = {"x": 1}
        body = client.post("/mutate", json=extra).json()
        assert "patch" in body["response"]  # unknown fields are tolerated


def test_a_kueue_job_keeps_its_own_suspend(tmp_path, fleet_and_catalog):
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {
        "name": "queued", "labels": {"gridshift.io/workload": "w00001",
                                     "kueue.x-k8s.io/queue-name": "team-a"}},
        "spec": {"suspend": True, "template": {"spec": pod("w00001")["spec"]}}}
    with make_client(tmp_path, fleet_and_catalog, WebhookSettings()) as client:
        body = client.post("/mutate", json=review(job, kind="Job")).json()
    out = apply(job, body)
    assert out["spec"]["suspend"] is True  # Kueue's, untouched
    assert "gridshift.io/deferred" not in out["metadata"]["labels"]  # the releaser stays away
    assert "held by Kueue" in body["response"]["warnings"][0]
    assert exprs(out["spec"]["template"]["spec"])["topology.kubernetes.io/region"]


def test_validation_uses_the_annotated_figures_of_an_uncounted_arrival(tmp_path,
                                                                       fleet_and_catalog):
    settings_ = WebhookSettings(budgets={"research": Budget(kg_co2e=1.0)})
    with make_client(tmp_path, fleet_and_catalog, settings_) as client:
        obj = pod("newcomer")
        obj["metadata"]["labels"]["gridshift.io/team"] = "research"
        obj["metadata"]["annotations"] = {"gridshift.io/kg-co2e": "2.5"}
        body = client.post("/validate", json=review(obj)).json()
    assert body["response"]["allowed"] is False
    assert "kgCO2e budget of 1.00" in body["response"]["status"]["message"]


# ---- hypothesis: malformed reviews never crash the webhook ---------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=False,
                                                                         allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=3),
    max_leaves=12)

PATHS = [("request",), ("request", "uid"), ("request", "kind"), ("request", "kind", "kind"),
         ("request", "operation"), ("request", "object"), ("request", "object", "metadata"),
         ("request", "object", "metadata", "labels"),
         ("request", "object", "metadata", "annotations"), ("request", "object", "spec"),
         ("request", "object", "spec", "containers"), ("request", "object", "spec", "affinity"),
         ("request", "object", "spec", "schedulingGates"), ("request", "dryRun"),
         ("request", "object", "spec", "template"), ("request", "namespace")]


def _set(doc: dict, path: tuple[str, ...], value) -> None:
    node = doc
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[path[-1]] = value


def well_formed(response, sent) -> None:
    assert response.status_code in (200, 400), response.text
    body = response.json()
    if response.status_code == 400:
        assert body["detail"].startswith("not an AdmissionReview")
        return
    assert body["apiVersion"] == "admission.k8s.io/v1" and body["kind"] == "AdmissionReview"
    r = body["response"]
    assert isinstance(r["uid"], str) and isinstance(r["allowed"], bool)
    request = sent.get("request") if isinstance(sent, dict) else None
    if isinstance(request, dict) and isinstance(request.get("uid"), str):
        assert r["uid"] == request["uid"]
    if "patch" in r:  # a patch must apply to the object it was made for
        assert r["patchType"] == "JSONPatch"
        jsonpatch.JsonPatch(json.loads(base64.b64decode(r["patch"]))).apply(
            copy.deepcopy(request["object"]))


@pytest.fixture(scope="module")
def fuzz_client(tmp_path_factory, fleet_and_catalog):
    with make_client(tmp_path_factory.mktemp("fuzz"), fleet_and_catalog,
                     WebhookSettings(budgets={"nlp": Budget(usd=5.0)})) as client:
        yield client


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(["Pod", "Job"]), edits=st.lists(
    st.tuples(st.sampled_from(PATHS), JSON), min_size=1, max_size=3),
    webhook=st.sampled_from(["/mutate", "/validate"]))
def test_corrupted_reviews_get_a_well_formed_answer(fuzz_client, kind, edits, webhook):
    obj = pod("w00001")
    if kind == "Job":
        obj = {"apiVersion": "batch/v1", "kind": "Job", "metadata": obj["metadata"],
               "spec": {"template": {"metadata": {}, "spec": obj["spec"]}}}
    sent = review(obj, kind=kind)
    for path, value in edits:
        _set(sent, path, value)
    well_formed(fuzz_client.post(webhook, json=sent), sent)


@settings(max_examples=60, deadline=None)
@given(body=JSON, webhook=st.sampled_from(["/mutate", "/validate"]))
def test_arbitrary_json_is_never_a_server_error(fuzz_client, body, webhook):
    well_formed(fuzz_client.post(webhook, json=body), body)
