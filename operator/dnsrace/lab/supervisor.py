"""The lab supervisor: the one long-lived process that owns every lab process.

Started detached by `dnsrace up`; it allocates loopback ports (a block of its own: ports.py),
writes certificates and configs, starts etcd (API), the record-store etcd, kube-apiserver,
kube-controller-manager and CoreDNS in order, waits for each to be ready, installs the CRDs,
reports `ready` in state.json, then restarts any child that dies (logging the restart; when and
how: restarts.py) until SIGTERM, when it stops them in reverse order.
Children get a parent-death signal, so killing the supervisor leaves no orphans either.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from dnsrace.core.names import API_VERSION, NAMESPACE, Plural
from dnsrace.core.plans import REGION, REGIONAL_ENDPOINT, Plan, plan_name
from dnsrace.core.records import Target
from dnsrace.core.times import now_iso
from dnsrace.lab import (
    commands,
    forking,
    identities,
    objects,
    permissions,
    ports,
    processes,
    versions,
)
from dnsrace.lab.local import DNS_ZONES, ComponentState, LabState
from dnsrace.lab.pki import create_pki, kubeconfig
from dnsrace.lab.restarts import ChildLife, Phase, RestartPolicy
from dnsrace.stores.plans import plan_object
from mockaws.settings import SERVICES as MOCK_SERVICES

_PORT_KINDS: dict[str, tuple[int, ...]] = {"dns": (socket.SOCK_DGRAM, socket.SOCK_STREAM)}
_ATTEMPTS = 3
TOKEN_SECONDS = 30 * 86400  # the operators' tokens outlive any lab session (as the lab's PKI)


def log(event: str, **fields: object) -> None:
    """One JSON line on stdout (the supervisor's log file)."""
    record: dict[str, object] = {
        "ts": now_iso(),
        "event": event,
    }
    record.update(fields)
    print(json.dumps(record), flush=True)


@dataclass
class Component:
    name: str
    argv: list[str]
    ready: Callable[[], bool]
    ports: tuple[str, ...]
    timeout: float = 90.0
    module: str = ""  # a kopf operator's module: forked from the supervisor (forking.py)
    env: dict[str, str] = field(default_factory=dict)


class Supervisor:
    def __init__(self, state_dir: Path, pinned: dict[str, int], with_services: bool = True) -> None:
        self.dir = state_dir
        self.with_services = with_services
        self.bins = versions.binaries()
        self.pinned = pinned
        self.state = LabState(state_dir=str(state_dir), supervisor_pid=os.getpid())
        self.procs: dict[str, forking.Child] = {}
        self.restarters: dict[str, tuple[Component, Path]] = {}
        self.stopping = False
        self.policy = RestartPolicy()
        # below the ephemeral range, so a restarted child finds its port free (ports.py);
        # None when there is no room there: the kernel picks, as before
        self.block = ports.PortBlock.claim()
        self.admission_installed = False  # kube-apiserver's readiness then includes admission
        self.pki = create_pki(state_dir / "pki", dt.datetime.now(dt.UTC))
        ctx = ssl.create_default_context(cafile=str(self.pki.ca_cert))
        ctx.load_cert_chain(self.pki.cert("admin"), self.pki.key("admin"))
        self.admin_tls = ctx
        insecure = ssl.create_default_context()
        insecure.check_hostname = False
        insecure.verify_mode = ssl.CERT_NONE
        self.insecure_tls = insecure

    # ports ---------------------------------------------------------------------------------
    def allocate(self, keys: tuple[str, ...]) -> None:
        for key in keys:
            self.state.ports[key] = self.pinned.get(key) or self.free_port(
                _PORT_KINDS.get(key, (socket.SOCK_STREAM,))
            )

    def free_port(
        self, kinds: tuple[int, ...] = (socket.SOCK_STREAM,), addresses: tuple[str, ...] = ()
    ) -> int:
        """A port free for every socket kind on every address (loopback by default)."""
        if self.block is not None:
            return self.block.take(kinds, addresses)
        for _ in range(50):
            port = processes.free_port(kinds)
            if all(processes.port_is_free(port, kinds, a) for a in addresses):
                return port
        raise RuntimeError(f"no port free on every one of {', '.join(addresses)}")

    def url(self, key: str, scheme: str = "http") -> str:
        return f"{scheme}://{processes.LOOPBACK}:{self.state.ports[key]}"

    # components ----------------------------------------------------------------------------
    def etcd(self, name: str, client: str, peer: str) -> Component:
        data = self.dir / name
        return Component(
            name=name,
            argv=commands.etcd(self.bins.etcd, name, data, self.url(client), self.url(peer)),
            ready=lambda: processes.http_ok(
                self.url(client) + "/health", expect=b'"health":"true"'
            ),
            ports=(client, peer),
        )

    def apiserver(self) -> Component:
        return Component(
            name="kube-apiserver",
            argv=commands.kube_apiserver(
                self.bins.kube_apiserver,
                self.url("etcd_api"),
                self.state.ports["apiserver"],
                self.pki,
            ),
            env=commands.kube_apiserver_env(os.environ),
            ready=lambda: (
                processes.http_ok(self.url("apiserver", "https") + "/readyz", self.admin_tls, b"ok")
                and self.admission_ready()
            ),
            ports=("apiserver",),
            timeout=120.0,
        )

    def admission_ready(self) -> bool:
        """Once the DNSPlan admission policy is installed: a dry-run DNSPlan create as the admin
        is refused by the policy itself (403), not with "failed to configure policy" (422), which
        a restarted kube-apiserver answers until its admission maps the Planner kind (up to
        30 s). Before the policy is installed (first start) there is nothing to wait for."""
        if not self.admission_installed:
            return True
        probe = Plan(
            plan_name(REGION, 999999),
            999999,
            (REGIONAL_ENDPOINT,),
            (Target(objects.FRONTEND_ADDRESSES[0], 100, "lb-1"),),
        )
        url = self.url("apiserver", "https") + f"/apis/{API_VERSION}/namespaces/{NAMESPACE}"
        status, body = processes.http_post(
            f"{url}/{Plural.DNSPLANS}?dryRun=All", plan_object(probe, REGION), self.admin_tls
        )
        return not (status == 422 and b"failed to configure policy" in body)

    def controller_manager(self) -> Component:
        kcfg = self.dir / "controller-manager.kubeconfig"
        return Component(
            name="kube-controller-manager",
            argv=commands.kube_controller_manager(
                self.bins.kube_controller_manager, kcfg, self.state.ports["kcm"], self.pki.ca_cert
            ),
            ready=lambda: processes.http_ok(
                self.url("kcm", "https") + "/healthz", self.insecure_tls, b"ok"
            ),
            ports=("kcm",),
        )

    def coredns(self) -> Component:
        corefile = self.dir / "Corefile"
        corefile.write_text(
            commands.corefile(
                DNS_ZONES,
                self.url("etcd_records"),
                self.state.ports["dns_ready"],
                self.state.ports["dns_metrics"],
            )
        )
        return Component(
            name="coredns",
            argv=commands.coredns(self.bins.coredns, corefile, self.state.ports["dns"]),
            ready=lambda: processes.http_ok(self.url("dns_ready") + "/ready"),
            ports=("dns", "dns_ready", "dns_metrics"),
        )

    def frontend(self, index: int, address: str) -> Component:
        name = f"lb-{index}"
        port = self.state.ports["frontend"]
        return Component(
            name=f"frontend-{name}",
            argv=commands.python_module(
                "mockaws.frontend",
                "--name",
                name,
                "--address",
                address,
                "--port",
                str(port),
                "--store-url",
                self.url("dynamodb_store"),
            ),
            ready=lambda: processes.http_ok(f"http://{address}:{port}/health"),
            ports=(),
        )

    def store(self) -> Component:
        return Component(
            name="dynamodb-store",
            argv=commands.python_module(
                "mockaws.store", "--port", str(self.state.ports["dynamodb_store"])
            ),
            ready=lambda: processes.http_ok(self.url("dynamodb_store") + "/moto-api/"),
            ports=("dynamodb_store",),
        )

    def mock_service(self, name: str) -> Component:
        """One dependent service (DWFM, Network Manager, EC2, NLB, clients): idle until a
        cascade scenario posts its settings."""
        key = f"svc_{name}"
        return Component(
            name=name,
            argv=commands.python_module(f"mockaws.{name}", "--port", str(self.state.ports[key])),
            ready=lambda: processes.http_ok(self.url(key) + "/healthz"),
            ports=(key,),
            env={
                "MOCKAWS_DNS": f"{processes.LOOPBACK}:{self.state.ports['dns']}",
                "MOCKAWS_DYNAMODB_PORT": str(self.state.ports["frontend"]),
                **{f"MOCKAWS_{s.upper()}_URL": self.url(f"svc_{s}") for s in MOCK_SERVICES},
            },
        )

    def operator(self, name: str, module: str, extra_env: dict[str, str]) -> Component:
        metrics, liveness = f"metrics_{name}", f"liveness_{name}"
        self.allocate((metrics, liveness))
        live_url = f"{self.url(liveness)}/healthz"
        return Component(
            name=name,
            argv=commands.python_module(module),
            module=module,
            ready=lambda: processes.http_ok(live_url),
            ports=(metrics, liveness),
            env={
                # its own ServiceAccount's token, as its pod on kind (manifests/rbac)
                "KUBECONFIG": str(identities.kubeconfig_path(self.dir, name)),
                "DNSRACE_NAMESPACE": NAMESPACE,
                "DNSRACE_RECORD_STORE": self.url("etcd_records"),
                "DNSRACE_METRICS_PORT": str(self.state.ports[metrics]),
                "DNSRACE_LIVENESS": live_url,
                **extra_env,
            },
        )

    def start_lab_services(self) -> None:
        """Front-ends, the lab's standing objects, then the planner and the enactors."""
        self.state.ports["frontend"] = self.free_port(addresses=objects.FRONTEND_ADDRESSES)
        self.allocate(("dynamodb_store", *(f"svc_{s}" for s in MOCK_SERVICES)))
        self.start((), self.store)
        for i, address in enumerate(objects.FRONTEND_ADDRESSES, start=1):
            self.start((), lambda i=i, a=address: self.frontend(i, a))  # type: ignore[misc]
        items = objects.all_objects(self.state.ports["frontend"])
        doc = json.dumps({"apiVersion": "v1", "kind": "List", "items": items}).encode()
        _run([*self.kubectl(), "apply", "--server-side", "-n", NAMESPACE, "-f", "-"], stdin=doc)
        for svc in MOCK_SERVICES:
            self.start((), lambda svc=svc: self.mock_service(svc))  # type: ignore[misc]
        # every operator authenticates as its own ServiceAccount (TokenRequest), with only the
        # verbs of dnsrace.lab.permissions: the same RBAC as the kind manifests
        identities.provision(self.dir / "kubeconfig", self.dir, seconds=TOKEN_SECONDS)
        log("identities", components=sorted(permissions.api_callers()))
        began = time.monotonic()
        forking.preload()  # the operators below are forked with these already imported
        took = round(time.monotonic() - began, 2)
        log("preloaded", modules=list(forking.PRELOADED), seconds=took)
        self.start((), lambda: self.operator("planner", "dnsrace.operators.planner", {}))
        self.start(
            (),
            lambda: self.operator(
                "scenario-controller",
                "dnsrace.operators.scenario_controller",
                {
                    "DNSRACE_DNS": f"{processes.LOOPBACK}:{self.state.ports['dns']}",
                    "DNSRACE_SERVICES": json.dumps(
                        {s: self.url(f"svc_{s}") for s in MOCK_SERVICES}
                    ),
                },
            ),
        )
        for ident in objects.ENACTORS:
            self.start(
                (),
                lambda ident=ident: self.operator(  # type: ignore[misc]
                    f"enactor-{ident}", "dnsrace.operators.enactor", {"DNSRACE_ENACTOR_ID": ident}
                ),
            )

    def kubectl(self) -> list[str]:
        return [str(self.bins.kubectl), "--kubeconfig", str(self.dir / "kubeconfig")]

    def builders(self) -> list[tuple[tuple[str, ...], Callable[[], Component]]]:
        return [
            (
                ("etcd_api", "etcd_api_peer"),
                lambda: self.etcd("etcd-api", "etcd_api", "etcd_api_peer"),
            ),
            (
                ("etcd_records", "etcd_records_peer"),
                lambda: self.etcd("etcd-records", "etcd_records", "etcd_records_peer"),
            ),
            (("apiserver",), self.apiserver),
            (("kcm",), self.controller_manager),
            (("dns", "dns_ready", "dns_metrics"), self.coredns),
        ]

    # lifecycle -----------------------------------------------------------------------------
    def start(self, keys: tuple[str, ...], build: Callable[[], Component]) -> None:
        for attempt in range(1, _ATTEMPTS + 1):
            if self.stopping:
                raise SystemExit(0)
            self.allocate(keys)
            comp = build()
            logfile = self.dir / "logs" / f"{comp.name}.log"
            log("start", component=comp.name, ports={k: self.state.ports[k] for k in keys})
            proc = launch(comp, logfile)
            self.procs[comp.name] = proc
            try:
                processes.wait_until(comp.ready, proc, comp.timeout, comp.name, logfile)
            except processes.ChildFailed as exc:
                pinned = any(k in self.pinned for k in keys)
                if exc.address_in_use and not pinned and attempt < _ATTEMPTS:
                    log("port-taken", component=comp.name, attempt=attempt, detail=str(exc))
                    _stop(proc)
                    continue
                _stop(proc)
                raise
            self.state.components[comp.name] = ComponentState(
                pid=proc.pid, ready=True, command=comp.argv, env=comp.env
            )
            self.restarters[comp.name] = (comp, logfile)
            log("ready", component=comp.name, pid=proc.pid, how=_how(proc))
            self.state.save()
            return

    def write_kubeconfigs(self) -> None:
        server = self.url("apiserver", "https")
        (self.dir / "kubeconfig").write_text(kubeconfig(server, self.pki, "dnsrace-admin", "admin"))
        (self.dir / "controller-manager.kubeconfig").write_text(
            kubeconfig(server, self.pki, "system:kube-controller-manager", "controller-manager")
        )

    def bootstrap(self) -> None:
        """Namespace, CRDs and admission policies, applied with the pinned kubectl as the
        admin."""
        kubectl = self.kubectl()
        ns = subprocess.run(
            [*kubectl, "create", "namespace", NAMESPACE, "--dry-run=client", "-o", "yaml"],
            check=True,
            capture_output=True,
        ).stdout
        _run([*kubectl, "apply", "--server-side", "-f", "-"], stdin=ns)
        if any(versions.CRDS_DIR.glob("*.yaml")):
            _run([*kubectl, "apply", "--server-side", "-f", str(versions.CRDS_DIR)])
            _run([*kubectl, "wait", "--for=condition=Established", "--timeout=60s", "crd", "--all"])
        if any(versions.ADMISSION_DIR.glob("*.yaml")):
            _run([*kubectl, "apply", "--server-side", "-f", str(versions.ADMISSION_DIR)])
            self.admission_installed = True
        log("bootstrapped", namespace=NAMESPACE)

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        self.state.save()
        try:
            for keys, build in self.builders():
                self.start(keys, build)
                if "apiserver" in keys:
                    self.write_kubeconfigs()
            self.bootstrap()
            if self.with_services:
                self.start_lab_services()
            self.state.phase = "ready"
            self.state.save()
            log("lab-ready", dns=self.state.dns, apiserver=self.state.apiserver)
            self.monitor()
        except (processes.ChildFailed, subprocess.CalledProcessError, OSError) as exc:
            self.state.phase = "failed"
            self.state.error = _one_line(exc)
            self.state.save()
            log("failed", error=self.state.error)
            self.stop_all()
            return 1
        self.stop_all()
        return 0

    def monitor(self) -> None:
        """Tend every child about five times a second until SIGTERM: one slow restart never
        holds up another (see restarts.py for when a child is restarted and called ready)."""
        started = time.monotonic()
        lives = {name: ChildLife.ready_at(started) for name in self.procs}
        while not self.stopping:
            now = time.monotonic()
            changed = [self.tend(name, lives[name], now) for name in list(self.procs)]
            if any(changed):
                self.state.save()
            time.sleep(0.2)

    def tend(self, name: str, life: ChildLife, now: float) -> bool:
        """One look at one child: notice its exit, restart it when due, call it ready when its
        probe answers. True when its state changed."""
        comp, logfile = self.restarters[name]
        cs = self.state.components[name]
        proc = self.procs[name]
        held = (self.dir / "holds" / name).exists()
        if life.phase in (Phase.READY, Phase.STARTING) and proc.poll() is not None:
            wait = life.exited(now, self.policy, held)
            cs.ready = False
            if wait is None:
                log("held", component=name, exit_code=proc.returncode)
                return True
            cs.restarts += 1
            log(
                "restart",
                component=name,
                exit_code=proc.returncode,
                restarts=cs.restarts,
                crashes_in_a_row=life.crashes,
                in_seconds=round(wait, 2),
                last_output=processes.last_lines(logfile, 1),
            )
            return True
        if life.phase is Phase.HELD and not held:
            life.released(now)
        if life.due(now):
            new = launch(comp, logfile)
            self.procs[name] = new
            cs.pid = new.pid
            life.spawned(now)
            log("respawned", component=name, pid=new.pid, how=_how(new))
            return True
        if life.phase is Phase.STARTING:
            if comp.ready():
                log("ready", component=name, pid=cs.pid, after_seconds=round(now - life.since, 2))
                life.became_ready(now)
                cs.ready = True
                return True
            if life.start_timed_out(now, comp.timeout):
                log("not-ready", component=name, pid=cs.pid, timeout_seconds=comp.timeout)
                proc.kill()  # its exit, seen on the next look, is a crash
        return False

    def stop_all(self) -> None:
        self.state.phase = "stopping"
        self.state.save()
        for name in reversed(list(self.procs)):
            log("stop", component=name)
            _stop(self.procs[name])
        log("stopped")

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        log("signal", signal=signal.Signals(signum).name)
        self.stopping = True


def launch(comp: Component, logfile: Path) -> forking.Child:
    """A kopf operator forked from the supervisor (its libraries already imported), any other
    child executed."""
    if comp.module:
        return forking.fork_module(comp.module, logfile, comp.env, comp.name)
    return processes.spawn(comp.argv, logfile, comp.env)


def _how(proc: forking.Child) -> str:
    return "forked" if isinstance(proc, forking.Forked) else "executed"


def _stop(proc: forking.Child, grace: float = 10.0) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def _run(argv: list[str], stdin: bytes | None = None) -> None:
    res = subprocess.run(argv, input=stdin, capture_output=True, check=False)
    if res.returncode != 0:
        raise subprocess.CalledProcessError(res.returncode, argv[:3], res.stdout, res.stderr)


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, subprocess.CalledProcessError):
        err = (exc.stderr or b"").decode(errors="replace").strip().splitlines()
        return f"{' '.join(map(str, exc.cmd))} failed: {err[-1] if err else exc.returncode}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dnsrace-supervisor")
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--dns-port", type=int)
    parser.add_argument("--control-plane-only", action="store_true")
    args = parser.parse_args(argv)
    pinned = {"dns": args.dns_port} if args.dns_port else {}
    return Supervisor(args.state_dir, pinned, not args.control_plane_only).run()


if __name__ == "__main__":
    sys.exit(main())
