"""A DynamoDB front-end: one load balancer of the pool behind the regional endpoint.

Serves on one 127.0.0.x address (a Service IP on kind): the DynamoDB API (`POST /`, forwarded to
the one storage node, `mockaws.store`), `GET /health` (200 healthy, 503 not), `POST /admin/health`
with `{"healthy": false}` to mark it unhealthy (what a test or scenario does), and `GET /`
naming itself."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import urllib3

FORWARDED_HEADERS = ("Content-Type", "X-Amz-Target", "Authorization", "X-Amz-Date", "Host")


class FrontEnd(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, name: str, address: str, port: int, store_url: str | None) -> None:
        self.name = name
        self.healthy = True
        self.lock = threading.Lock()
        self.store_url = store_url
        self.http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=1.0, read=5.0), retries=False, maxsize=16
        )
        super().__init__((address, port), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: FrontEnd
    protocol_version = "HTTP/1.1"  # keep-alive: a client's open connection stays open

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path == "/health":
            ok = self.server.healthy
            self._send(200 if ok else 503, {"name": self.server.name, "healthy": ok})
        elif self.path == "/":
            self._send(200, {"name": self.server.name, "service": "dynamodb-frontend"})
        else:
            self._send(404, {"error": f"no such path {self.path}"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        payload = self.rfile.read(length)
        if self.path == "/admin/health":
            self._set_health(payload)
        elif self.path == "/" and self.server.store_url:
            self._forward(payload)
        else:
            self._send(404, {"error": f"no such path {self.path}"})

    def _forward(self, payload: bytes) -> None:
        headers = {h: v for h in FORWARDED_HEADERS if (v := self.headers.get(h)) is not None}
        try:
            r = self.server.http.request(
                "POST", f"{self.server.store_url}/", body=payload, headers=headers
            )
        except urllib3.exceptions.HTTPError as exc:
            self._send(502, {"__type": "ServiceUnavailable", "message": f"store: {exc}"})
            return
        self.send_response(r.status)
        for name in ("Content-Type", "x-amzn-RequestId", "x-amz-crc32"):
            if name in r.headers:
                self.send_header(name, r.headers[name])
        self.send_header("Content-Length", str(len(r.data)))
        self.end_headers()
        self.wfile.write(r.data)

    def _set_health(self, payload: bytes) -> None:
        try:
            body = json.loads(payload or b"{}")
            healthy = body["healthy"]
            if not isinstance(healthy, bool):
                raise TypeError("healthy must be true or false")
        except (KeyError, TypeError, ValueError) as exc:
            self._send(400, {"error": f'send {{"healthy": true|false}}: {exc}'})
            return
        with self.server.lock:
            self.server.healthy = healthy
        self._send(200, {"name": self.server.name, "healthy": healthy})

    def log_message(self, format: str, *args: Any) -> None:
        return  # quiet: health checks arrive twice a second


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mockaws-frontend")
    parser.add_argument("--name", required=True)
    parser.add_argument("--address", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--store-url", help="the DynamoDB storage node (mockaws.store)")
    args = parser.parse_args(argv)
    server = FrontEnd(args.name, args.address, args.port, args.store_url)
    print(
        json.dumps(
            {"event": "listening", "name": args.name, "address": f"{args.address}:{args.port}"}
        ),
        flush=True,
    )
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever(poll_interval=1.0)  # nothing calls shutdown(): a signal ends it
    return 0


if __name__ == "__main__":
    sys.exit(main())
