"""Admission latency under load: mixed Pod/Job reviews over TLS on loopback.

    .venv/bin/python benchmarks/admission_latency.py [--rate 200] [--duration 60]
                                                     [--workloads 10000] [--serving 0]

Stores a synthetic plan of ``--workloads`` assignments (the example fleet's
regions and clusters; spot and on-demand; MIG partitions on a tenth; starts over
48 h) in a fresh SQLite store, starts ``gridshift serve``'s app in a separate
process with TLS (a CA and server certificate made here), and sends an
open-loop stream of AdmissionReviews at ``--rate`` per second for
``--duration`` seconds: half Pods, half batch/v1 Jobs, each for a random planned
workload, 5 % not opted in. With ``--serving N`` the plan also holds N serving
workloads split over 2-3 parts, and half of the reviews are serving-Pod
traffic instead: a CREATE (a part chosen and counted in the store's live-Pod
tally, one locked transaction) or a DELETE of a Pod counted earlier (it leaves
the tally); latencies are also printed per request type. Latency is measured from each request's scheduled
send time (so a stalled server cannot hide queueing), over 16 keep-alive TLS
connections driven by a lean asyncio HTTP/1.1 client. An error is a non-200, a response that does not echo the uid, or a
managed request answered without a patch; fail-open answers are counted apart.
The load generator runs on the same machine as the server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import random
import shutil
import ssl
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx  # readiness probe only

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

T0 = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def synthetic_plan(n: int, serving: int = 0):
    from app.inputs import load_fleet
    from app.problem_io import EXAMPLES
    from planner.domain import (
        Assignment,
        Objective,
        Plan,
        SolverReport,
        SolverStatus,
        Totals,
        WorkloadKind,
    )
    from pricing.catalog import Purchase

    fleet = load_fleet(EXAMPLES / "fleet.yaml")
    slots = [(r.name, c.name, acc) for r in fleet.regions for c in r.clusters
             for acc in c.capacity_gpus]
    rng = random.Random(7)
    rows = []
    for i in range(n):
        region, cluster, accelerator = rng.choice(slots)
        start = T0 + timedelta(hours=rng.randrange(0, 48))
        rows.append(Assignment(
            workload=f"job-{i:05d}", kind=WorkloadKind.TRAINING, team=f"team-{i % 12}",
            region=region, cluster=cluster, accelerator=accelerator,
            partition="3g.40gb" if i % 10 == 0 else "whole",
            purchase=Purchase.SPOT if i % 3 else Purchase.ON_DEMAND,
            instance_type="bench", start=start, end=start + timedelta(hours=rng.randint(1, 12)),
            gpus=rng.choice((1, 2, 4, 8)), replicas=1, cost_usd=rng.uniform(5, 500),
            energy_kwh=rng.uniform(1, 100), operational_kg=rng.uniform(0.1, 40),
            embodied_kg=rng.uniform(0.01, 2), reason="synthetic benchmark assignment"))
    for i in range(serving):  # 2-3 parts each, all over the horizon
        for region, cluster, accelerator in rng.sample(slots, rng.choice((2, 3))):
            replicas = rng.randint(1, 40)
            rows.append(Assignment(
                workload=f"svc-{i:04d}", kind=WorkloadKind.SERVING, team=f"team-{i % 12}",
                region=region, cluster=cluster, accelerator=accelerator,
                partition="1g.10gb" if accelerator == "H100" else "whole",
                purchase=rng.choice((Purchase.SPOT, Purchase.ON_DEMAND)), instance_type="bench",
                start=T0, end=T0 + timedelta(hours=48), gpus=replicas, replicas=replicas,
                cost_usd=rng.uniform(5, 500), energy_kwh=rng.uniform(1, 100),
                operational_kg=rng.uniform(0.1, 40), embodied_kg=rng.uniform(0.01, 2),
                reason="synthetic serving part"))
    return fleet, Plan(
        created_at=T0, horizon_start=T0, horizon_hours=48, objective=Objective.BALANCED,
        carbon_price_usd_per_t=190.0, assignments=tuple(rows), unplaced=(),
        totals=Totals.of(rows), baselines={},
        solver=SolverReport(status=SolverStatus.FEASIBLE, objective=0, bound=0, gap=0, wall_s=0,
                            num_variables=0, num_constraints=0, workers=1, time_limit_s=0),
        provenance={"catalog": "benchmark"})


def certificates(directory: Path) -> tuple[Path, Path, Path]:
    from tests.app.test_webhook import make_certs  # one certificate recipe, shared

    return make_certs(directory)


def serve(db: str, cert: str, key: str, port_file: str) -> None:
    import logging

    from app.api.config import WebhookSettings
    from app.api.server import bind, create_app, uvicorn_server
    from app.api.state import ServerState
    from app.inputs import load_fleet
    from app.problem_io import EXAMPLES
    from app.store import Store
    from pricing.catalog import load_catalog

    logging.getLogger("gridshift.admission").setLevel(logging.WARNING)
    state = ServerState(store=Store(db), fleet=load_fleet(EXAMPLES / "fleet.yaml"),
                        catalog=load_catalog(None), settings=WebhookSettings(), api_token="x")
    sock = bind("127.0.0.1", 0)
    Path(port_file).write_text(str(sock.getsockname()[1]))
    server = uvicorn_server(create_app(state), tls_cert=Path(cert), tls_key=Path(key),
                            log_level="warning")
    server.run(sockets=[sock])


def _serving_review(rng: random.Random, serving: int) -> tuple[str, bool, str]:
    name = f"svc-{rng.randrange(serving):04d}"
    if rng.random() < 0.5:  # a Pod of a ReplicaSet (no name yet)
        obj = {"apiVersion": "v1", "kind": "Pod", "metadata": {
            "generateName": f"{name}-5f7c9-", "namespace": "ml",
            "labels": {"gridshift.io/workload": name}},
            "spec": {"containers": [{"name": "server", "image": "vllm", "resources": {
                "limits": {"nvidia.com/gpu": "1"}, "requests": {"nvidia.com/gpu": "1"}}}]}}
        op, old, tag = "CREATE", None, "serving-create"
    else:  # the DELETE of a Pod counted earlier: TOKEN is filled in at send time
        obj, op, tag = None, "DELETE", "serving-delete"
        old = {"apiVersion": "v1", "kind": "Pod", "metadata": {
            "name": f"{name}-5f7c9-abcde", "namespace": "ml",
            "labels": {"gridshift.io/workload": name},
            "annotations": {"gridshift.io/serving-token": "TOKEN"}}, "spec": {"containers": []}}
    review = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": "UID", "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"}, "namespace": "ml",
        "operation": op, "userInfo": {"username": "bench"}, "object": obj, "oldObject": old,
        "dryRun": False}}
    return json.dumps(review), op == "CREATE", tag


def bodies(n_workloads: int, count: int, serving: int = 0) -> list[tuple[str, bool, str]]:
    rng = random.Random(11)
    out = []
    for _ in range(count):
        if serving and rng.random() < 0.5:
            out.append(_serving_review(rng, serving))
            continue
        name = f"job-{rng.randrange(n_workloads):05d}"
        managed = rng.random() >= 0.05
        labels = {"gridshift.io/workload": name} if managed else {"app": "other"}
        container = {"name": "main", "image": "pytorch", "resources": {
            "limits": {"nvidia.com/gpu": "8"}, "requests": {"nvidia.com/gpu": "8"}}}
        if rng.random() < 0.5:
            kind, group = "Pod", ""
            obj = {"apiVersion": "v1", "kind": "Pod",
                   "metadata": {"name": f"{name}-pod", "namespace": "ml", "labels": labels},
                   "spec": {"containers": [container], "restartPolicy": "Never"}}
        else:
            kind, group = "Job", "batch"
            obj = {"apiVersion": "batch/v1", "kind": "Job",
                   "metadata": {"name": name, "namespace": "ml", "labels": labels},
                   "spec": {"parallelism": 1, "template": {"metadata": {}, "spec": {
                       "containers": [container], "restartPolicy": "Never"}}}}
        review = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
            "uid": "UID", "kind": {"group": group, "version": "v1", "kind": kind},
            "resource": {"group": group, "version": "v1", "resource": kind.lower() + "s"},
            "namespace": "ml", "operation": "CREATE", "userInfo": {"username": "bench"},
            "object": obj, "dryRun": False}}
        out.append((json.dumps(review), managed, kind.lower()))
    return out


async def _connection(host: str, port: int, ctx: ssl.SSLContext, queue: asyncio.Queue,
                      result: dict) -> None:
    """One keep-alive TLS connection: raw HTTP/1.1, so the client costs little CPU."""
    reader, writer = await asyncio.open_connection(host, port, ssl=ctx,
                                                   server_hostname="127.0.0.1")
    while True:
        item = await queue.get()
        if item is None:
            writer.close()
            return
        scheduled, body, managed, uid, tag = item
        payload = body.replace("UID", uid).encode()
        writer.write(b"POST /mutate HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/json\r\nContent-Length: "
                     + str(len(payload)).encode() + b"\r\n\r\n" + payload)
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            data = await asyncio.wait_for(reader.readexactly(length), 10)
        except (TimeoutError, asyncio.IncompleteReadError, IndexError, ValueError) as exc:
            result["latencies"].append(time.perf_counter() - scheduled)
            result["errors"].append(exc.__class__.__name__)
            return  # the connection is unusable; its queue share goes to the others
        result["latencies"].append(time.perf_counter() - scheduled)
        result["by_tag"].setdefault(tag, []).append(time.perf_counter() - scheduled)
        status = head.split(b" ", 2)[1]
        response = json.loads(data).get("response", {}) if status == b"200" else {}
        if status != b"200" or response.get("uid") != uid:
            result["errors"].append(f"HTTP {status.decode()}")
        elif response.get("auditAnnotations", {}).get("decision") == "fail-open":
            result["fail_open"] += 1
        elif managed and "patch" not in response:
            result["errors"].append("managed request without a patch")


async def load(url: str, ca: Path, rate: float, duration: float, templates,
               connections: int = 16) -> dict:
    ctx = ssl.create_default_context(cafile=str(ca))
    port = int(url.rsplit(":", 1)[1])
    result = {"latencies": [], "errors": [], "fail_open": 0, "by_tag": {}}
    counted: list[str] = []  # uids of serving CREATEs sent: the Pods a DELETE may name

    def item(body: str, managed: bool, tag: str) -> tuple:
        uid = str(uuid.uuid4())
        if tag == "serving-delete":
            body = body.replace("TOKEN", counted.pop(random.randrange(len(counted)))
                                if counted else "never-counted")
        elif tag == "serving-create":
            counted.append(uid)
        return time.perf_counter(), body, managed, uid, tag

    queue: asyncio.Queue = asyncio.Queue()
    workers = [asyncio.create_task(_connection("127.0.0.1", port, ctx, queue, result))
               for _ in range(connections)]
    for template in templates[:50]:  # warm-up, not measured
        queue.put_nowait(item(*template))
    while not queue.empty() or len(result["latencies"]) < 50:
        await asyncio.sleep(0.05)
    result.update(latencies=[], errors=[], fail_open=0, by_tag={})
    total = int(rate * duration)
    start = time.perf_counter()
    for i in range(total):  # open loop: each request is due at start + i / rate
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait((scheduled, *item(*templates[i % len(templates)])[1:]))
    deadline = time.perf_counter() + 60
    while len(result["latencies"]) < total and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - start
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers, return_exceptions=True)
    missing = total - len(result["latencies"])
    result["errors"] += ["no answer within 60 s of the last send"] * missing
    return {**result, "sent": total, "elapsed": elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--workloads", type=int, default=10_000)
    parser.add_argument("--serving", type=int, default=0,
                        help="serving workloads in the plan (half the reviews are theirs)")
    args = parser.parse_args()

    from app.store import Store

    tmp = Path(tempfile.mkdtemp(prefix="gridshift-bench-"))
    db = f"sqlite:///{tmp / 'bench.db'}"
    _, plan = synthetic_plan(args.workloads, args.serving)
    started = time.perf_counter()
    Store(db).save_plan(plan)
    print(f"stored a plan of {len(plan.assignments):,} assignments in "
          f"{time.perf_counter() - started:.2f} s")
    ca, cert, key = certificates(tmp)
    port_file = tmp / "port"
    proc = multiprocessing.get_context("spawn").Process(
        target=serve, args=(db, str(cert), str(key), str(port_file)), daemon=True)
    proc.start()
    try:
        deadline = time.monotonic() + 60
        url = None
        while url is None:
            if port_file.exists() and port_file.read_text():
                candidate = f"https://127.0.0.1:{port_file.read_text()}"
                try:
                    ready = httpx.get(f"{candidate}/readyz", verify=ssl.create_default_context(
                        cafile=str(ca)), timeout=5).json()
                    if ready.get("serving_plan"):
                        url = candidate
                except httpx.HTTPError:
                    pass
            if time.monotonic() > deadline:
                raise SystemExit("the server did not become ready in 60 s")
            time.sleep(0.2)
        templates = bodies(args.workloads, 2000, args.serving)
        result = asyncio.run(load(url, ca, args.rate, args.duration, templates))
    finally:
        proc.terminate()
        proc.join(10)
        shutil.rmtree(tmp, ignore_errors=True)
    lat = sorted(x * 1000 for x in result["latencies"])
    q = statistics.quantiles(lat, n=100, method="inclusive")
    print(f"admission latency, {result['sent']:,} mixed Pod/Job reviews at {args.rate:g}/s for "
          f"{args.duration:g} s (achieved {result['sent'] / result['elapsed']:.1f}/s), "
          f"plan of {args.workloads:,} workloads, TLS on loopback:")
    print(f"  p50 {q[49]:.2f} ms   p90 {q[89]:.2f} ms   p99 {q[98]:.2f} ms   max {lat[-1]:.2f} ms")
    if args.serving:
        for tag, values in sorted(result["by_tag"].items()):
            ms = sorted(x * 1000 for x in values)
            qt = statistics.quantiles(ms, n=100, method="inclusive")
            print(f"  {tag:15s} n={len(ms):6,d}  p50 {qt[49]:.2f} ms   p99 {qt[98]:.2f} ms")
    print(f"  errors {len(result['errors'])}   fail-open {result['fail_open']}")
    if result["errors"]:
        print("  first errors:", result["errors"][:5])
    print("  note: server and load generator share this machine's CPU "
          f"({multiprocessing.cpu_count()} cores), and other work may have been running")


if __name__ == "__main__":
    main()
