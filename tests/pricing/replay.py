"""A real HTTP server on 127.0.0.1 that replays scripted, vendor-shaped responses.

    with ReplayServer() as server:
        server.script("/api/retail/prices", [Reply(429, headers={"Retry-After": "0"}),
                                             Reply(200, body=json.dumps(page))])
        url = server.url("/api/retail/prices")

Each path answers its replies in order and then repeats the last one; every request's
path and query string is recorded in ``server.requests``. Unknown paths answer 404.
"""

from __future__ import annotations

import http.server
import threading
from dataclasses import dataclass, field
from typing import Self
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Reply:
    status: int
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


class ReplayServer:
    def __init__(self) -> None:
        self._scripts: dict[str, list[Reply]] = {}
        self._lock = threading.Lock()
        self.requests: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                with server._lock:
                    server.requests.append(self.path)
                    replies = server._scripts.get(parts.path)
                    reply = (replies.pop(0) if replies and len(replies) > 1
                             else replies[0] if replies else Reply(404, "not found"))
                body = reply.body.encode("utf-8")
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(body)))
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def url(self, path: str) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}{path}"

    def script(self, path: str, replies: list[Reply]) -> None:
        with self._lock:
            self._scripts[path] = list(replies)
