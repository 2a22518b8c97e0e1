"""Prometheus loader against a REAL Prometheus (backfilled with promtool) on loopback, plus a
loopback HTTP server replaying Prometheus-shaped answers for auth and transport failures.

The real server needs the Debian package ``prometheus`` (/usr/bin/prometheus and promtool).
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs

import numpy as np
import pandas as pd
import pytest
import requests

from forecasting import EmptyResultError, PromQLError, SourceError, forecast
from forecasting.sources.prometheus import BearerAuth, query_range, split_range

pytestmark = pytest.mark.real_component

START = pd.Timestamp("2024-03-04T00:00Z")
DAYS = 10
SERIES = {("eu-1", "A100"): 40.0, ("us-2", "H100"): 20.0}


def expected(level: float, ts: np.ndarray) -> np.ndarray:
    """The backfilled value at Unix time ``ts``: a daily cycle around ``level``."""
    return np.round(level + 10 * np.sin(2 * np.pi * (ts % 86400) / 86400), 3)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _openmetrics(path: Path) -> None:
    ts = START.timestamp() + 60 * np.arange(DAYS * 24 * 60)      # one sample a minute
    lines = ["# HELP gpus_in_use GPUs held by running jobs.", "# TYPE gpus_in_use gauge"]
    for (cluster, gpu), level in SERIES.items():
        lines += [f'gpus_in_use{{cluster="{cluster}",accelerator="{gpu}"}} {v} {int(t)}'
                  for t, v in zip(ts, expected(level, ts), strict=True)]
    lines.append("# EOF")
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="session")
def prometheus(tmp_path_factory) -> Iterator[str]:
    binary, promtool = shutil.which("prometheus"), shutil.which("promtool")
    if not binary or not promtool:
        pytest.skip("Prometheus is not installed (Debian: apt-get install -y prometheus)")
    root = tmp_path_factory.mktemp("prometheus")
    _openmetrics(root / "history.om")
    data = root / "data"
    subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics",
                    str(root / "history.om"), str(data)], check=True, capture_output=True)
    (root / "prometheus.yml").write_text("global:\n  scrape_interval: 1h\nscrape_configs: []\n")
    port = _free_port()
    proc = subprocess.Popen(
        [binary, f"--config.file={root / 'prometheus.yml'}", f"--storage.tsdb.path={data}",
         f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=100y"],
        stdout=subprocess.DEVNULL, stderr=(root / "prometheus.log").open("w"))
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log = (root / "prometheus.log").read_text()[-2000:]
                pytest.fail(f"Prometheus did not become ready: {log}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture()
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


def test_hourly_history_comes_back_per_series_with_the_stored_values(prometheus, session):
    end = START + pd.Timedelta(days=DAYS) - pd.Timedelta(hours=1)
    out = query_range(session, prometheus, "gpus_in_use", start=START, end=end,
                      step=3600, id_labels=("cluster", "accelerator"))
    assert sorted(out["unique_id"].unique()) == ["eu-1/A100", "us-2/H100"]
    eu = out[out["unique_id"] == "eu-1/A100"]
    assert len(eu) == DAYS * 24 and eu["ds"].iloc[0] == START and str(eu["ds"].dt.tz) == "UTC"
    ts = eu["ds"].astype("int64").to_numpy() // 10**9
    np.testing.assert_allclose(eu["y"], expected(40.0, ts))


def test_long_ranges_are_split_below_the_servers_11000_point_limit(prometheus, session):
    end = START + pd.Timedelta(days=DAYS) - pd.Timedelta(minutes=1)   # 14,400 one-minute points
    with pytest.raises(PromQLError, match="11,000 points"):
        query_range(session, prometheus, 'gpus_in_use{cluster="eu-1"}', start=START, end=end,
                    step=60, max_points=20_000)
    out = query_range(session, prometheus, 'gpus_in_use{cluster="eu-1"}', start=START, end=end,
                      step=60)
    assert len(out) == DAYS * 24 * 60
    assert out["ds"].is_unique and out["ds"].is_monotonic_increasing
    assert out["unique_id"].unique().tolist() == ['gpus_in_use{accelerator="A100",cluster="eu-1"}']


def test_label_less_results_are_named_after_the_query(prometheus, session):
    q = "sum(gpus_in_use)"
    out = query_range(session, prometheus, q, start=START, end=START + pd.Timedelta(hours=5),
                      step=3600)
    assert out["unique_id"].unique().tolist() == [q]
    ts = out["ds"].astype("int64").to_numpy() // 10**9
    np.testing.assert_allclose(out["y"], expected(40.0, ts) + expected(20.0, ts))


def test_bad_promql_is_a_clear_error(prometheus, session):
    with pytest.raises(PromQLError, match=r"query 'sum\(gpus_in_use' rejected .*parse error"):
        query_range(session, prometheus, "sum(gpus_in_use", start=START,
                    end=START + pd.Timedelta(hours=1), step=60)


def test_an_empty_result_is_a_clear_error(prometheus, session):
    with pytest.raises(EmptyResultError, match="returned no samples.*fix: check the metric"):
        query_range(session, prometheus, 'gpus_in_use{cluster="nowhere"}', start=START,
                    end=START + pd.Timedelta(hours=1), step=60)


def test_prometheus_history_feeds_a_forecast(prometheus, session):
    hist = query_range(session, prometheus, "gpus_in_use", start=START,
                       end=START + pd.Timedelta(days=DAYS) - pd.Timedelta(hours=1), step=3600,
                       id_labels=("cluster", "accelerator"))
    fc = forecast(hist, horizon=24, n_windows=1)
    eu = fc.values[fc.values["unique_id"] == "eu-1/A100"]
    ts = eu["ds"].astype("int64").to_numpy() // 10**9
    assert np.abs(eu["mean"].to_numpy() - expected(40.0, ts)).max() < 1.0


def test_split_range_keeps_the_step_grid():
    assert split_range(0, 10, 1, max_points=4) == [(0, 3), (4, 7), (8, 10)]
    assert split_range(0, 0, 60) == [(0, 0)]


# --- a loopback server replaying Prometheus-shaped answers ------------------------------

class _Replay(BaseHTTPRequestHandler):
    seen: ClassVar[list[dict]] = []

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    def do_POST(self) -> None:
        form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        self.seen.append({"auth": self.headers.get("Authorization"), "form": form})
        auth = self.headers.get("Authorization", "")
        if self.path.startswith("/html"):
            self._send(502, b"<html>Bad Gateway</html>", "text/html")
        elif self.path.startswith("/secure") and auth not in ("Bearer s3cret",
                                                              "Basic dXNlcjpwYXNz"):
            self._send(401, b"Unauthorized", "text/plain")
        else:
            start = float(form["start"][0])
            body = {"status": "success", "data": {"resultType": "matrix", "result": [
                {"metric": {"__name__": "up", "job": "gpu"},
                 "values": [[start, "1"], [start + 60, "NaN"], [start + 120, "+Inf"]]}]}}
            self._send(200, json.dumps(body).encode(), "application/json")

    def _send(self, code: int, body: bytes, ctype: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def replay() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Replay)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_bearer_and_basic_auth_are_sent(replay, session):
    for auth in (BearerAuth("s3cret"), ("user", "pass")):
        out = query_range(session, f"{replay}/secure", "up", start=START,
                          end=START + pd.Timedelta(minutes=2), step=60, auth=auth)
        assert out["unique_id"].unique().tolist() == ['up{job="gpu"}']
        assert np.isnan(out["y"].iloc[1]) and np.isinf(out["y"].iloc[2])
    assert _Replay.seen[-2]["auth"] == "Bearer s3cret"
    assert _Replay.seen[-1]["auth"].startswith("Basic ")


def test_wrong_credentials_are_a_clear_error(replay, session):
    with pytest.raises(SourceError, match="HTTP 401: not authorised.*bearer token"):
        query_range(session, f"{replay}/secure", "up", start=START, end=START, step=60,
                    auth=BearerAuth("wrong"))


def test_a_non_prometheus_answer_is_a_clear_error(replay, session):
    with pytest.raises(SourceError, match="HTTP 502, not a Prometheus JSON answer"):
        query_range(session, f"{replay}/html", "up", start=START, end=START, step=60)


def test_an_unreachable_server_is_a_clear_error(session):
    with pytest.raises(SourceError, match="request failed.*reachable"):
        query_range(session, f"http://127.0.0.1:{_free_port()}", "up", start=START, end=START,
                    step=60, timeout_s=2)


def test_naive_times_are_refused(session):
    with pytest.raises(SourceError, match="no time zone"):
        query_range(session, "http://127.0.0.1:1", "up", start=pd.Timestamp("2024-01-01"),
                    end=START, step=60)
