"""A real HTTP server on 127.0.0.1 that replays vendor-shaped responses, and payload builders.

Routes are matched on the URL path; each route holds a list of replies served in order
(the last one repeats). Every request is recorded (path, query, headers) so tests can
check what was sent. Payload shapes follow the vendors' documentation:
Electricity Maps v3 (``history``/``data``/``forecast`` lists of ``{carbonIntensity,
datetime}``), WattTime v3 (``{data: [{point_time, value}], meta: {units, ...}}``) and the
NGESO Carbon Intensity API (``{data: [{from, to, intensity: {forecast, actual, index}}]}``).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import parse_qs, urlsplit

H = timedelta(hours=1)


@dataclass
class Reply:
    status: int = 200
    json: object | None = None
    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass
class Seen:
    path: str
    query: dict[str, str]
    headers: dict[str, str]


class VendorServer:
    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.seen: list[Seen] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                q = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                server.seen.append(Seen(parts.path, q, {k.lower(): v for k, v in
                                                        self.headers.items()}))
                replies = server.routes.get(parts.path)
                if not replies:
                    reply = Reply(404, json={"error": f"no route {parts.path}"})
                else:
                    reply = replies.pop(0) if len(replies) > 1 else replies[0]
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                payload = (json.dumps(reply.json) if reply.json is not None
                           else (reply.body or "")).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                       daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def add(self, path: str, *replies: Reply) -> None:
        self.routes[path] = list(replies)

    def paths(self) -> list[str]:
        return [s.path for s in self.seen]

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def em_points(start: datetime, values, zone: str = "DE") -> list[dict]:
    return [{"zone": zone, "carbonIntensity": v, "datetime": iso(start + i * H),
             "updatedAt": iso(start), "createdAt": iso(start), "emissionFactorType": "direct",
             "isEstimated": False, "estimationMethod": None} for i, v in enumerate(values)]


def em_history(zone: str, start: datetime, values) -> dict:
    return {"zone": zone, "history": em_points(start, values, zone)}


def em_range(zone: str, start: datetime, values) -> dict:
    return {"zone": zone, "data": em_points(start, values, zone)}


def em_forecast(zone: str, start: datetime, values) -> dict:
    return {"zone": zone, "forecast": [{"carbonIntensity": v, "datetime": iso(start + i * H)}
                                       for i, v in enumerate(values)],
            "updatedAt": iso(start)}


def wt_data(start: datetime, values_per_5min, region: str = "CAISO_NORTH",
            units: str = "lbs_co2_per_mwh", generated: bool = True) -> dict:
    step = timedelta(minutes=5)
    meta = {"region": region, "signal_type": "co2_moer", "units": units,
            "data_point_period_seconds": 300, "model": {"date": "2024-01-01"}}
    if generated:
        meta["generated_at"] = start.isoformat()
    return {"data": [{"point_time": (start + i * step).isoformat(), "value": v}
                     for i, v in enumerate(values_per_5min)], "meta": meta}


def uk_periods(start: datetime, forecast, actual=None, index: str = "moderate") -> list[dict]:
    step = timedelta(minutes=30)
    out = []
    for i, f in enumerate(forecast):
        t = start + i * step
        out.append({"from": t.strftime("%Y-%m-%dT%H:%MZ"),
                    "to": (t + step).strftime("%Y-%m-%dT%H:%MZ"),
                    "intensity": {"forecast": f, "actual": None if actual is None else actual[i],
                                  "index": index}})
    return out


def uk_regional(start: datetime, forecast, regionid: int = 13, wrap_list: bool = False) -> dict:
    periods = [{k: v for k, v in p.items()} for p in uk_periods(start, forecast)]
    for p in periods:
        p["intensity"].pop("actual")
        p["generationmix"] = [{"fuel": "gas", "perc": 40.0}, {"fuel": "wind", "perc": 60.0}]
    region = {"regionid": regionid, "dnoregion": "UKPN London", "shortname": "London",
              "data": periods}
    return {"data": [region] if wrap_list else region}
