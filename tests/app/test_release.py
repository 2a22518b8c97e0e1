"""The releaser against a loopback HTTP server that plays the Kubernetes API.

There is no cluster here: the server implements only what the releaser calls
(list Pods / Jobs by label selector, cluster-wide and per namespace; JSON Patch
a Pod / Job) with API-server-shaped JSON: PodList / JobList, Status objects for
errors, RFC 6902 patches applied with ``jsonpatch`` (a failed ``test`` op is a
422, as on a real API server), and the rule that scheduling gates may only be
removed after creation. The client is the official ``kubernetes`` package.
"""

from __future__ import annotations

import copy
import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import parse_qs, unquote, urlparse

import jsonpatch
import pytest
import typer
from typer.testing import CliRunner

from app.commands import release as release_command
from app.release import api_clients, release_due

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
GATE = "gridshift.io/planned-start"


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def pod(name: str, start: datetime | None, *, gates: list[str] = (GATE,), ns: str = "ml",
        deferred: bool = True) -> dict:
    annotations = {"gridshift.io/decision": "planned"}
    if start is not None:
        annotations["gridshift.io/planned-start"] = _iso(start)
    return {"metadata": {"name": name, "namespace": ns, "uid": f"uid-{name}",
                         "resourceVersion": "100", "creationTimestamp": "2026-11-23T00:00:00Z",
                         "labels": {"gridshift.io/workload": name,
                                    **({"gridshift.io/deferred": "true"} if deferred else {})},
                         "annotations": annotations},
            "spec": {"containers": [{"name": "main", "image": "pytorch"}],
                     "schedulingGates": [{"name": g} for g in gates]},
            "status": {"phase": "Pending", "conditions": [{
                "type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]}}


def job(name: str, start: datetime, *, ns: str = "ml") -> dict:
    return {"metadata": {"name": name, "namespace": ns, "uid": f"uid-{name}",
                         "resourceVersion": "200", "creationTimestamp": "2026-11-23T00:00:00Z",
                         "labels": {"gridshift.io/deferred": "true"},
                         "annotations": {"gridshift.io/planned-start": _iso(start)}},
            "spec": {"suspend": True, "parallelism": 1, "template": {
                "metadata": {}, "spec": {"containers": [{"name": "main", "image": "pytorch"}],
                                         "restartPolicy": "Never"}}},
            "status": {"conditions": [{"type": "Suspended", "status": "True"}]}}


class FakeKubernetes:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str], dict] = {}  # (kind, ns, name) -> object
        self.patches: list[tuple[str, str, list]] = []  # (path, content type, ops)
        self.fail: set[str] = set()  # names whose PATCH answers 500
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def add(self, kind: str, obj: dict) -> None:
        self.objects[(kind, obj["metadata"]["namespace"], obj["metadata"]["name"])] = obj

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _send(self, code: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _status(self, code: int, reason: str, message: str) -> None:
                self._send(code, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                  "status": "Failure", "message": message, "reason": reason,
                                  "code": code})

            def _route(self) -> tuple[str, str | None, str | None] | None:
                parts = urlparse(self.path).path.strip("/").split("/")
                if parts[:2] == ["api", "v1"]:
                    rest, kind = parts[2:], "Pod"
                elif parts[:3] == ["apis", "batch", "v1"]:
                    rest, kind = parts[3:], "Job"
                else:
                    return None
                if rest == [{"Pod": "pods", "Job": "jobs"}[kind]]:
                    return kind, None, None
                if len(rest) >= 3 and rest[0] == "namespaces":
                    return kind, rest[1], (rest[3] if len(rest) == 4 else None)
                return None

            def do_GET(self) -> None:
                route = self._route()
                if route is None:
                    return self._status(404, "NotFound", "the server could not find the resource")
                kind, ns, _ = route
                selector = parse_qs(urlparse(self.path).query).get("labelSelector", [""])[0]
                key, _, value = unquote(selector).partition("=")
                items = [copy.deepcopy(o) for (k, n, _), o in sorted(fake.objects.items())
                         if k == kind and (ns is None or n == ns)
                         and (not key or o["metadata"].get("labels", {}).get(key) == value)]
                self._send(200, {"kind": f"{kind}List",
                                 "apiVersion": "v1" if kind == "Pod" else "batch/v1",
                                 "metadata": {"resourceVersion": "12345"}, "items": items})

            def do_PATCH(self) -> None:
                route = self._route()
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if route is None or route[2] is None:
                    return self._status(404, "NotFound", "not found")
                kind, ns, name = route
                fake.patches.append((self.path, self.headers["Content-Type"], body))
                if name in fake.fail:
                    return self._status(500, "InternalError", "etcdserver: request timed out")
                obj = fake.objects.get((kind, ns, name))
                if obj is None:
                    return self._status(404, "NotFound", f'{kind.lower()}s "{name}" not found')
                if self.headers["Content-Type"] != "application/json-patch+json":
                    return self._status(415, "UnsupportedMediaType", "want a JSON patch")
                try:
                    new = jsonpatch.JsonPatch(body).apply(obj)
                except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
                    return self._status(422, "Invalid", f"the server rejected our request: {exc}")
                if kind == "Pod":
                    old_gates = {g["name"] for g in obj["spec"].get("schedulingGates", [])}
                    new_gates = {g["name"] for g in new["spec"].get("schedulingGates", [])}
                    if not new_gates <= old_gates:
                        return self._status(422, "Invalid", "spec.schedulingGates: Forbidden: "
                                            "only deletion is allowed")
                fake.objects[(kind, ns, name)] = new
                self._send(200, new)

        return Handler

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def k8s():
    with FakeKubernetes() as fake:
        yield fake


def test_due_objects_are_released_and_the_rest_wait(k8s):
    k8s.add("Pod", pod("due", NOW - timedelta(minutes=1), gates=["other.io/x", GATE]))
    k8s.add("Pod", pod("later", NOW + timedelta(hours=3)))
    k8s.add("Job", job("due-job", NOW))
    k8s.add("Job", job("later-job", NOW + timedelta(hours=1)))
    core, batch = api_clients(host=k8s.url)
    report = release_due(core, batch, now=NOW)
    assert sorted(report.released) == ["Job/ml/due-job", "Pod/ml/due"]
    assert sorted(report.waiting) == ["Job/ml/later-job", "Pod/ml/later"]
    released = k8s.objects[("Pod", "ml", "due")]
    assert released["spec"]["schedulingGates"] == [{"name": "other.io/x"}]  # others kept
    assert "gridshift.io/deferred" not in released["metadata"]["labels"]
    assert released["metadata"]["annotations"]["gridshift.io/released-at"] == _iso(NOW)
    assert k8s.objects[("Job", "ml", "due-job")]["spec"]["suspend"] is False
    assert k8s.objects[("Job", "ml", "later-job")]["spec"]["suspend"] is True
    assert {ct for _, ct, _ in k8s.patches} == {"application/json-patch+json"}


def test_a_second_round_changes_nothing(k8s):
    k8s.add("Pod", pod("due", NOW - timedelta(minutes=1)))
    core, batch = api_clients(host=k8s.url)
    release_due(core, batch, now=NOW)
    patches = len(k8s.patches)
    again = release_due(core, batch, now=NOW + timedelta(minutes=5))
    assert again.released == [] and len(k8s.patches) == patches


def test_a_gate_someone_else_removed_only_loses_its_label(k8s):
    k8s.add("Pod", pod("ungated", NOW - timedelta(minutes=1), gates=[]))
    k8s.add("Pod", pod("no-start", None))  # label without a planned start: released at once
    core, batch = api_clients(host=k8s.url)
    report = release_due(core, batch, now=NOW, namespace="ml")
    assert sorted(report.released) == ["Pod/ml/no-start", "Pod/ml/ungated"]
    assert k8s.objects[("Pod", "ml", "ungated")]["spec"]["schedulingGates"] == []
    assert k8s.objects[("Pod", "ml", "no-start")]["spec"]["schedulingGates"] == []


def test_an_api_error_is_reported_and_retried_next_round(k8s):
    k8s.add("Pod", pod("flaky", NOW - timedelta(minutes=1)))
    k8s.add("Job", job("fine", NOW - timedelta(minutes=1)))
    k8s.fail.add("flaky")
    core, batch = api_clients(host=k8s.url)
    report = release_due(core, batch, now=NOW)
    assert report.released == ["Job/ml/fine"]
    assert report.failed == ["Pod/ml/flaky: HTTP 500 Internal Server Error"]
    k8s.fail.clear()
    assert release_due(core, batch, now=NOW).released == ["Pod/ml/flaky"]


def _cli() -> typer.Typer:
    app = typer.Typer()
    release_command.register(app)

    @app.callback()
    def _root() -> None:
        """gridshift"""

    return app


def test_the_release_command_exits_0_5_and_dry_runs(k8s):
    k8s.add("Pod", pod("due", datetime.now(UTC) - timedelta(minutes=1)))
    dry = CliRunner().invoke(_cli(), ["release", "--server", k8s.url, "--dry-run"])
    assert dry.exit_code == 0 and "due Pod/ml/due" in dry.output and k8s.patches == []
    k8s.fail.add("due")
    failed = CliRunner().invoke(_cli(), ["release", "--server", k8s.url])
    assert failed.exit_code == 5 and "release failed: Pod/ml/due" in failed.output
    k8s.fail.clear()
    ok = CliRunner().invoke(_cli(), ["release", "--server", k8s.url])
    assert ok.exit_code == 0 and "released Pod/ml/due" in ok.output
    down = CliRunner().invoke(_cli(), ["release", "--server", "http://127.0.0.1:1"])
    assert down.exit_code == 5 and "Kubernetes API" in down.output
