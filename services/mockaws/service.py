"""What every mock service shares: an HTTP endpoint (`GET /healthz`, `GET /metrics` for
Prometheus, `GET /status` with the numbers the scenario samples and `eventSeq`, the newest
event's number, `GET /events?after=N` with what it noticed, `POST /settings` from the scenario
controller) and a loop that advances its model
every tick with the real elapsed time. A service is idle until a scenario posts settings with
`running: true`, and idle again when the scenario ends, so a lab at rest costs nothing."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import prometheus_client
import urllib3

from mockaws.settings import ServiceSettings, SettingsInvalid, as_dict, parse_services

TICK_SECONDS = 0.1
IDLE_WAIT_SECONDS = 1.0  # an idle service's loop looks again this often (a start wakes it)
EVENTS_KEPT = 500

Reply = tuple[int, Any]


class MockService:
    """Subclasses set `name`, implement `reset`, `tick` and `status`, and may add `routes`."""

    name = "service"

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.settings = ServiceSettings()
        self.running = False
        self.events: deque[dict[str, Any]] = deque(maxlen=EVENTS_KEPT)
        self.seq = 0
        self.last_tick = clock()
        self.started = threading.Event()  # set when settings start it running
        self.http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=0.5, read=1.0), retries=False, maxsize=4
        )
        self.registry = prometheus_client.CollectorRegistry()
        self.gauges: dict[str, prometheus_client.Gauge] = {}

    # to implement --------------------------------------------------------------------------
    def reset(self, now: float) -> None:
        raise NotImplementedError

    def tick(self, now: float, dt: float) -> None:
        raise NotImplementedError

    def status(self, now: float) -> dict[str, Any]:
        raise NotImplementedError

    def routes(self, method: str, path: str, body: Any) -> Reply | None:
        return None

    # shared --------------------------------------------------------------------------------
    def event(self, kind: str, message: str) -> None:
        self.seq += 1
        self.events.append({"seq": self.seq, "time": time.time(), "kind": kind, "message": message})
        print(json.dumps({"event": kind, "service": self.name, "message": message}), flush=True)

    def apply(self, body: Mapping[str, Any]) -> Reply:
        """POST /settings: {"settings": {...}, "reset": bool, "running": bool}."""
        try:
            settings = parse_services(body.get("settings"), "settings")
        except SettingsInvalid as exc:
            return 400, {"error": str(exc)}
        with self.lock:
            changed = getattr(settings, self.name, None) != getattr(self.settings, self.name, None)
            self.settings = settings
            now = self.clock()
            if body.get("reset"):
                self.events.clear()
                try:
                    self.reset(now)
                except Exception as exc:
                    self.running = False
                    return 503, {"error": f"{self.name} reset failed: {exc}"}
            elif changed:
                self.event(
                    "SettingsChanged", f"settings now {as_dict(getattr(settings, self.name))}"
                )
            if "running" in body:
                self.running = bool(body["running"])
            self.last_tick = now
        if self.running:
            self.started.set()  # an idle loop takes its first tick at once
        return 200, {"service": self.name, "running": self.running}

    def call(self, method: str, url: str, body: Any = None) -> tuple[int, Any] | None:
        """A JSON request to another mock service: (status, answer), None when it does not
        answer."""
        try:
            r = self.http.request(
                method,
                url,
                body=None if body is None else json.dumps(body),
                headers={"Content-Type": "application/json"},
            )
            return r.status, json.loads(r.data)
        except (urllib3.exceptions.HTTPError, ValueError):
            return None

    def post(self, url: str, body: Any) -> Any:
        """A JSON POST; its answer when it succeeded, else None."""
        reply = self.call("POST", url, body)
        return reply[1] if reply and reply[0] == 200 else None

    def get(self, url: str) -> Any:
        reply = self.call("GET", url)
        return reply[1] if reply and reply[0] == 200 else None

    def step(self) -> None:
        with self.lock:
            now = self.clock()
            dt = min(now - self.last_tick, 5 * TICK_SECONDS)
            self.last_tick = now
            if self.running:
                self.tick(now, dt)

    def loop(self, stop: threading.Event) -> None:
        """A tick every TICK_SECONDS while running; idle, a wait for `apply` to start it."""
        while not stop.is_set():
            started = self.clock()
            self.step()
            if self.running:
                stop.wait(max(0.0, TICK_SECONDS - (self.clock() - started)))
            else:
                self.started.wait(IDLE_WAIT_SECONDS)
                self.started.clear()

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            st = {
                "service": self.name,
                "running": self.running,
                "eventSeq": self.seq,  # the newest event's number: a reader asks /events if new
                **self.status(self.clock()),
            }
        for key, value in st.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            gauge = self.gauges.get(key)
            if gauge is None:
                metric = (
                    "mockaws_" + self.name + "_" + re.sub(r"(?<!^)([A-Z])", r"_\1", key).lower()
                )
                gauge = prometheus_client.Gauge(
                    metric, f"{self.name} {key}", registry=self.registry
                )
                self.gauges[key] = gauge
            gauge.set(value)
        return st

    def handle(self, method: str, path: str, body: Any) -> Reply:
        parsed = urlparse(path)
        if method == "GET" and parsed.path == "/healthz":
            return 200, {"ok": True}
        if method == "GET" and parsed.path == "/status":
            return 200, self.snapshot()
        if method == "GET" and parsed.path == "/events":
            after = int(parse_qs(parsed.query).get("after", ["0"])[0])
            with self.lock:
                return 200, {"events": [e for e in self.events if e["seq"] > after]}
        if method == "POST" and parsed.path == "/settings":
            if not isinstance(body, dict):
                return 400, {"error": "send a JSON object: {settings, reset, running}"}
            return self.apply(body)
        with self.lock:
            reply = self.routes(method, parsed.path, body)
        return reply or (404, {"error": f"no such path {method} {parsed.path}"})


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _reply(self, status: int, body: Any, content_type: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path == "/metrics":
            self.server.service.snapshot()
            self._reply(
                200,
                prometheus_client.generate_latest(self.server.service.registry),
                prometheus_client.CONTENT_TYPE_LATEST,
            )
            return
        self._reply(*self.server.service.handle("GET", self.path, None))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError as exc:
            self._reply(400, {"error": f"body is not JSON: {exc}"})
            return
        self._reply(*self.server.service.handle("POST", self.path, body))

    def log_message(self, format: str, *args: Any) -> None:
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], service: MockService) -> None:
        self.service = service
        super().__init__(address, _Handler)


def env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise SystemExit(f"{name} is not set")
    return value


def serve(service: MockService, argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"mockaws-{service.name}")
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    server = _Server((args.address, args.port), service)
    stop = threading.Event()
    threading.Thread(target=service.loop, args=(stop,), name="tick", daemon=True).start()
    print(
        json.dumps({"event": "listening", "service": service.name, "port": args.port}), flush=True
    )
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever(poll_interval=1.0)  # nothing calls shutdown(): a signal ends it
    stop.set()
    return 0
