"""The releaser against a loopback HTTP server that plays the Kubernetes API.

There is no cluster here: the server implements only what the releaser calls
(list Pods / Jobs by label selector, cluster-wide and per namespace; JSON Patch
a Pod / Job) with API-server-shaped JSON: PodList / JobList, Status objects for
errors, RFC 6902 patches applied with ``jsonpatch`` (a failed ``test`` op is a
422, as on a real API server), and the rule that scheduling gates may only be
removed after creation. The client is the official ``kubernetes`` package.

The reconcile of the serving-Pod tally runs against the same server (Pods listed
by the ``gridshift.io/serving`` label, paged with ``limit`` / ``continue`` as the
API server pages) and a real store: SQLite, and PostgreSQL (``db_url``,
tests/app/conftest.py).
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

from app import release as release_module
from app.commands import release as release_command
from app.release import api_clients, reconcile_tally, release_due
from app.store import Store

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


def serving_pod(name: str, token: str, *, phase: str = "Running", ns: str = "ml",
                deleting: bool = False, workload: str | None = "chat") -> dict:
    """A Pod the webhook counted in the serving tally (label + token annotation)."""
    obj = pod(name, None, gates=[], ns=ns, deferred=False)
    obj["metadata"]["labels"]["gridshift.io/serving"] = "true"
    obj["metadata"]["annotations"].update({"gridshift.io/serving-token": token,
                                           "gridshift.io/serving-part": "A"})
    if workload is not None:
        obj["metadata"]["annotations"]["gridshift.io/serving-workload"] = workload
    if deleting:
        obj["metadata"]["deletionTimestamp"] = _iso(NOW - timedelta(seconds=10))
    obj["status"] = {"phase": phase}
    return obj


class FakeKubernetes:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str], dict] = {}  # (kind, ns, name) -> object
        self.patches: list[tuple[str, str, list]] = []  # (path, content type, ops)
        self.fail: set[str] = set()  # names whose PATCH answers 500
        self.fail_list_after = -1  # >= 0: list calls after that many answer 500
        self.lists: list[str] = []  # the path and query of every list call
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
                query = parse_qs(urlparse(self.path).query)
                fake.lists.append(unquote(self.path))
                if 0 <= fake.fail_list_after < len(fake.lists):
                    return self._status(500, "InternalError", "etcdserver: leader changed")
                selector = query.get("labelSelector", [""])[0]
                key, _, value = unquote(selector).partition("=")
                items = [copy.deepcopy(o) for (k, n, _), o in sorted(fake.objects.items())
                         if k == kind and (ns is None or n == ns)
                         and (not key or o["metadata"].get("labels", {}).get(key) == value)]
                meta = {"resourceVersion": "12345"}
                if "limit" in query:  # a page, and where the next one starts
                    first = int(query.get("continue", ["0"])[0])
                    last = first + int(query["limit"][0])
                    if last < len(items):
                        meta["continue"] = str(last)
                    items = items[first:last]
                self._send(200, {"kind": f"{kind}List",
                                 "apiVersion": "v1" if kind == "Pod" else "batch/v1",
                                 "metadata": meta, "items": items})

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


# ---- the serving-Pod tally ------------------------------------------------------------

@pytest.fixture
def store(db_url):
    s = Store(db_url)
    yield s
    s.close()


def counted(store: Store, token: str, *, age: timedelta = timedelta(minutes=10),
            ns: str = "ml") -> None:
    """A row in the tally as the webhook writes it, admitted ``age`` before NOW."""
    store.take_serving_slot("chat", token, lambda counts: "A", plan_id="p",
                            object_ref=f"Pod/{ns}/{token}", admitted_at=NOW - age)


def tokens(store: Store) -> list[str]:
    with store.engine.connect() as conn:
        return sorted(r[0] for r in conn.exec_driver_sql(
            "SELECT token FROM gridshift_serving_pods"))


def test_a_row_without_a_pod_is_dropped_after_the_grace_period_only(k8s, store):
    k8s.add("Pod", serving_pod("live", "live"))
    counted(store, "live")  # an old row whose Pod runs: kept
    counted(store, "stale")  # its DELETE was never seen: dropped
    counted(store, "fresh", age=timedelta(minutes=1))  # maybe not persisted yet: kept
    core, _ = api_clients(host=k8s.url)
    report = reconcile_tally(core, store, now=NOW)
    assert report.drop.gone == ("Pod/ml/stale",) and report.drop.ended == ()
    assert report.dropped == 1 and report.listed == 1
    assert tokens(store) == ["fresh", "live"]
    assert store.serving_pod_counts("chat") == {"A": 2}
    later = reconcile_tally(core, store, now=NOW + timedelta(minutes=5))
    assert later.drop.gone == ("Pod/ml/fresh",) and tokens(store) == ["live"]


def test_rows_of_ended_or_deleting_pods_are_dropped_at_once(k8s, store):
    k8s.add("Pod", serving_pod("evicted", "evicted", phase="Failed"))
    k8s.add("Pod", serving_pod("done", "done", phase="Succeeded"))
    k8s.add("Pod", serving_pod("going", "going", deleting=True))
    k8s.add("Pod", serving_pod("pending", "pending", phase="Pending"))
    for token in ("evicted", "done", "going", "pending"):
        counted(store, token, age=timedelta(seconds=30))  # young: the grace does not apply
    core, _ = api_clients(host=k8s.url)
    report = reconcile_tally(core, store, now=NOW)
    assert report.drop.ended == ("Pod/ml/done", "Pod/ml/evicted", "Pod/ml/going")
    assert report.drop.gone == () and tokens(store) == ["pending"]


def test_a_failed_pod_list_drops_nothing(k8s, store, monkeypatch):
    for i in range(5):
        k8s.add("Pod", serving_pod(f"p{i}", f"p{i}"))
    counted(store, "p0")
    counted(store, "stale")
    core, _ = api_clients(host=k8s.url)
    k8s.fail_list_after = 0  # the first call fails
    report = reconcile_tally(core, store, now=NOW)
    assert report.drop is None and report.dropped == 0
    assert report.skipped == "listing serving Pods failed: HTTP 500 Internal Server Error"
    assert tokens(store) == ["p0", "stale"]
    monkeypatch.setattr(release_module, "LIST_PAGE", 2)
    k8s.fail_list_after, k8s.lists = 1, []  # the second page fails: a partial list is no list
    assert reconcile_tally(core, store, now=NOW).drop is None
    assert tokens(store) == ["p0", "stale"]
    k8s.fail_list_after, k8s.lists = -1, []
    report = reconcile_tally(core, store, now=NOW)  # three pages of 2, 2, 1 Pods
    assert len(k8s.lists) == 3 and "continue=4" in k8s.lists[-1]
    assert report.listed == 5 and report.drop.gone == ("Pod/ml/stale",)
    # the four live Pods without a row are counted again (a whole list is a whole list)
    assert report.drop.restored == tuple(f"Pod/ml/p{i}" for i in range(1, 5))
    down = api_clients(host="http://127.0.0.1:1")[0]  # nothing listens: connection refused
    counted(store, "stale2")
    assert "MaxRetryError" in reconcile_tally(down, store, now=NOW).skipped
    assert tokens(store) == ["p0", "p1", "p2", "p3", "p4", "stale2"]


def test_a_namespaced_round_judges_only_that_namespaces_rows(k8s, store):
    k8s.add("Pod", serving_pod("web", "web", ns="prod"))  # listed only cluster-wide
    counted(store, "web", ns="prod")
    counted(store, "stale", ns="ml")
    core, _ = api_clients(host=k8s.url)
    report = reconcile_tally(core, store, now=NOW, namespace="ml")
    assert report.drop.gone == ("Pod/ml/stale",) and tokens(store) == ["web"]
    assert k8s.lists == [("/api/v1/namespaces/ml/pods?labelSelector=gridshift.io/serving=true"
                          "&limit=500")]


def test_a_dry_run_says_what_it_would_drop_and_drops_nothing(k8s, store):
    counted(store, "stale")
    core, _ = api_clients(host=k8s.url)
    assert reconcile_tally(core, store, now=NOW, dry_run=True).drop.gone == ("Pod/ml/stale",)
    assert tokens(store) == ["stale"]


def test_a_live_pod_whose_row_was_lost_is_counted_again(k8s, store):
    # the store was replaced: three Pods run, one is on its way out, none has a row
    k8s.add("Pod", serving_pod("web-1", "t1"))
    k8s.add("Pod", serving_pod("web-2", "t2", workload=None))  # its workload label: web-2
    k8s.add("Pod", serving_pod("web-3", "t3", phase="Succeeded"))
    k8s.add("Pod", serving_pod("web-4", "t4", deleting=True))
    counted(store, "t5", age=timedelta(seconds=5))  # the webhook counted it: left as it is
    k8s.add("Pod", serving_pod("web-5", "t5"))
    core, _ = api_clients(host=k8s.url)
    dry = reconcile_tally(core, store, now=NOW, dry_run=True)
    assert dry.drop.restored == ("Pod/ml/web-1", "Pod/ml/web-2") and tokens(store) == ["t5"]
    report = reconcile_tally(core, store, now=NOW)
    assert report.drop.restored == ("Pod/ml/web-1", "Pod/ml/web-2")
    assert tokens(store) == ["t1", "t2", "t5"]
    assert store.serving_pod_counts("chat") == {"A": 2}
    assert store.serving_pod_counts("web-2") == {"A": 1}
    # what the webhook sees next: the parts are taken; and a second round adds nothing
    assert reconcile_tally(core, store, now=NOW).drop.restored == ()
    assert tokens(store) == ["t1", "t2", "t5"]


def test_the_release_command_reconciles_the_tally_of_its_store(k8s, tmp_path):
    url = f"sqlite:///{tmp_path / 'g.db'}"
    store = Store(url)
    now = datetime.now(UTC)
    store.take_serving_slot("chat", "stale", lambda counts: "A", plan_id="p",
                            object_ref="Pod/ml/stale", admitted_at=now - timedelta(hours=1))
    store.take_serving_slot("chat", "new", lambda counts: "A", plan_id="p",
                            object_ref="Pod/ml/new", admitted_at=now)
    args = ["release", "--server", k8s.url, "--db", url]
    dry = CliRunner().invoke(_cli(), args + ["--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "serving tally: would drop 1 row(s) (1 of Pods gone, 0 of Pods ended); 0 " \
           "serving Pod(s) listed" in dry.output
    assert tokens(store) == ["new", "stale"]
    k8s.fail_list_after, k8s.lists = 2, []  # deferred Pods and Jobs list; serving Pods fail
    failed = CliRunner().invoke(_cli(), args)
    assert failed.exit_code == 5 and "serving tally: not reconciled" in failed.output
    assert tokens(store) == ["new", "stale"]
    k8s.fail_list_after = -1
    ok = CliRunner().invoke(_cli(), args)
    assert ok.exit_code == 0 and "serving tally: dropped 1 row(s)" in ok.output
    assert tokens(store) == ["new"]
    without = CliRunner().invoke(_cli(), ["release", "--server", k8s.url],
                                 env={"GRIDSHIFT_DB": None})
    assert without.exit_code == 0 and "serving tally" not in without.output
    store.close()
