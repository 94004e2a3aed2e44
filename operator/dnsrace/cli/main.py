"""The `dnsrace` command: lab lifecycle (up, down, status, env) and, as later issues land, the
scenario, repair and check commands. Every failure is one readable line and a non-zero exit."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from dnsrace.core.names import NAMESPACE
from dnsrace.core.plans import DEFAULT_ENDPOINTS
from dnsrace.lab import local

if TYPE_CHECKING:
    from kubernetes import client

    from dnsrace.scenarios.control import LabControl


def _state_dir(args: argparse.Namespace) -> Path:
    return Path(args.state_dir) if args.state_dir else local.default_state_dir()


def cmd_up(args: argparse.Namespace) -> int:
    state_dir = _state_dir(args)
    was = local.LabState.load(state_dir)
    state = local.up(
        state_dir,
        dns_port=args.dns_port,
        timeout=args.timeout,
        control_plane_only=args.control_plane_only,
    )
    already = was is not None and was.supervisor_pid == state.supervisor_pid
    print(
        f"dnsrace: lab {'already ' if already else ''}up in {state.dir} "
        f"(API {state.apiserver}, DNS {state.dns}, record store {state.record_store})"
    )
    print('dnsrace: use it with: eval "$(dnsrace env)"')
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    state_dir = _state_dir(args)
    if local.down(state_dir):
        print(f"dnsrace: lab in {state_dir} stopped; no process left")
    else:
        print(f"dnsrace: no lab in {state_dir}")
    return 0


def _running(state_dir: Path) -> local.LabState:
    state = local.LabState.load(state_dir)
    if state is None or not state.alive():
        raise local.LabError(f"no lab is running in {state_dir}; start one with 'dnsrace up'")
    return state


def cmd_env(args: argparse.Namespace) -> int:
    print("\n".join(local.env_lines(_running(_state_dir(args)))))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    state_dir = _state_dir(args)
    state = local.LabState.load(state_dir)
    if state is None:
        print(f"dnsrace: no lab in {state_dir}")
        return 1
    alive = state.alive()
    print(f"lab        {state.dir}")
    print(f"phase      {state.phase if alive else 'stale (supervisor gone)'}")
    print(f"supervisor pid {state.supervisor_pid} ({'running' if alive else 'not running'})")
    if state.ports:
        print(f"api        {state.apiserver}")
        print(f"dns        {state.dns}")
        print(f"records    {state.record_store}")
    print(f"{'COMPONENT':<26}{'PID':>8}{'RESTARTS':>10}  READY")
    for name, c in state.components.items():
        print(f"{name:<26}{c.pid:>8}{c.restarts:>10}  {c.ready}")
    return 0 if alive and state.phase == "ready" else 1


def cmd_kill(args: argparse.Namespace) -> int:
    pid = local.kill(_state_dir(args), args.component, args.hold)
    held = "held down until 'dnsrace release'" if args.hold else "the supervisor restarts it"
    print(f"dnsrace: killed {args.component} (pid {pid}); {held}")
    return 0


def cmd_release(args: argparse.Namespace) -> int:
    local.release(_state_dir(args), args.component)
    print(f"dnsrace: {args.component} released; the supervisor restarts it")
    return 0


def endpoint_rows(state: local.LabState) -> list[dict[str, object]]:
    """What every endpoint serves now: the record store's view and CoreDNS's answer."""
    from dnsrace.scenarios.probe import resolve
    from dnsrace.stores.records import EtcdRecordStore

    store = EtcdRecordStore(state.record_store)
    rows: list[dict[str, object]] = []
    for name, obs in store.read_all(store.names()).items():
        answer = resolve(name, state.dns)
        rec = obs.record
        rows.append(
            {
                "endpoint": name,
                "dns": answer.rcode,
                "addresses": list(answer.addresses),
                "generation": rec.generation if rec else 0,
                "plan": rec.plan if rec else "",
                "writtenBy": rec.enactor if rec else "",
                "servedKeys": len(obs.served),
            }
        )
    return rows


def cmd_records(args: argparse.Namespace) -> int:
    rows = endpoint_rows(_running(_state_dir(args)))
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'ENDPOINT':<44}{'DNS':<10}{'GEN':>5}  {'PLAN':<20}{'BY':<10}ADDRESSES")
    for r in rows:
        addrs = ",".join(map(str, r["addresses"])) or "-"  # type: ignore[call-overload]
        print(
            f"{r['endpoint']!s:<44}{r['dns']!s:<10}{r['generation']!s:>5}  {r['plan']!s:<20}"
            f"{r['writtenBy']!s:<10}{addrs}"
        )
    return 0


def _api(state: local.LabState) -> client.ApiClient:
    """The lab's API as its administrator. The Kubernetes client is imported here, by the
    commands that call the API (`run`, `report`, `repair`): importing it costs about 0.4 s of
    CPU, which `up`, `down`, `env`, `status`, `records`, `kill` and `release` do not pay."""
    from kubernetes import config

    return config.new_client_from_config(config_file=str(state.kubeconfig))


def _control(state: local.LabState) -> LabControl:
    from dnsrace.scenarios.control import LabControl

    return LabControl(_api(state), state.record_store)


def cmd_repair(args: argparse.Namespace) -> int:
    from dnsrace.scenarios.repair import NothingToRepairFrom, repair

    control = _control(_running(_state_dir(args)))
    try:
        done = repair(control.plans, control.records)
    except NothingToRepairFrom as exc:
        raise local.LabError(str(exc)) from exc
    for r in done:
        print(f"repaired {r.endpoint}: {r.before} -> g{r.after}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from dnsrace.check.explore_cli import run_check

    return run_check(args)


def cmd_run(args: argparse.Namespace) -> int:
    from dnsrace.cli.run import RunError, run_scenario_file

    api = _api(_running(_state_dir(args)))
    try:
        return run_scenario_file(api, NAMESPACE, Path(args.file), args.json, dry_run=args.dry_run)
    except RunError as exc:
        raise local.LabError(str(exc)) from exc


def cmd_report(args: argparse.Namespace) -> int:
    try:
        from dnsrace.cli import report
    except ModuleNotFoundError as exc:
        raise local.LabError(
            f"dnsrace report needs the report extra ({exc.name} is missing): "
            "pip install 'dnsrace[report]'"
        ) from exc

    api = _api(_running(_state_dir(args)))
    try:
        path = report.write_report(api, NAMESPACE, args.name, Path(args.out))
    except report.ReportError as exc:
        raise local.LabError(str(exc)) from exc
    print(f"dnsrace: report written to {path}")
    return 0


CHECK_ENACTORS = 10  # the checker names enactors a to j (dnsrace.check.explorer.ENACTOR_NAMES)


class Parser(argparse.ArgumentParser):
    """argparse with its errors as one line (`dnsrace: ...`), exit status 2, nothing run."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.split(" ", 1)[1] + " " if " " in self.prog else ""
        self.exit(2, f"dnsrace: {command}{message} (see {self.prog} --help)\n")


def number(kind: type[int] | type[float], low: float, high: float | None = None) -> Any:
    """An argparse type: a number of `kind` from `low` to `high`, or a one-line refusal."""

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not {'an integer' if kind is int else 'a number'}"
            ) from None
        if value < low or (high is not None and value > high):
            bounds = f"from {low:g} to {high:g}" if high is not None else f"at least {low:g}"
            raise argparse.ArgumentTypeError(f"{text} is out of range: must be {bounds}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="dnsrace", description=__doc__)
    parser.add_argument(
        "--state-dir",
        help="lab state folder (default $DNSRACE_STATE_DIR or ~/.local/state/dnsrace)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("up", help="start the local lab and return when it is ready")
    p.add_argument(
        "--dns-port",
        type=number(int, 1, 65535),
        help="serve DNS on this loopback port (default: a free one)",
    )
    p.add_argument("--timeout", type=number(float, 1), default=300.0)
    p.add_argument(
        "--control-plane-only",
        action="store_true",
        help="only etcd, kube-apiserver, kube-controller-manager, record store and CoreDNS",
    )
    p.set_defaults(func=cmd_up)
    p = sub.add_parser("kill", help="SIGKILL one lab process (the supervisor restarts it)")
    p.add_argument("component")
    p.add_argument("--hold", action="store_true", help="keep it down until 'dnsrace release'")
    p.set_defaults(func=cmd_kill)
    p = sub.add_parser("release", help="let the supervisor restart a held component")
    p.add_argument("component")
    p.set_defaults(func=cmd_release)
    sub.add_parser("down", help="stop the local lab").set_defaults(func=cmd_down)
    sub.add_parser("status", help="show the lab's processes").set_defaults(func=cmd_status)
    p = sub.add_parser("records", help="what each endpoint serves, which generation, who wrote it")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_records)
    sub.add_parser(
        "repair", help="restore every endpoint from the newest plan (the manual fix)"
    ).set_defaults(func=cmd_repair)
    p = sub.add_parser(
        "check", help="explore every interleaving of store requests on the in-memory twins"
    )
    p.add_argument(
        "--protocol",
        default="unguarded",
        help="unguarded, guarded, guarded-v1 (the first fix) or cleanup-only (checker only: "
        "the unguarded walk with a guarded clean-up); a comma list gives one per enactor "
        "(mixed protocols), e.g. guarded,guarded,unguarded",
    )
    p.add_argument("--enactors", type=number(int, 1, CHECK_ENACTORS), default=3)
    p.add_argument("--plans", type=number(int, 1, 50), default=5)
    p.add_argument("--keep", type=number(int, 0, 50), default=1)
    p.add_argument(
        "--endpoints",
        type=number(int, 1, len(DEFAULT_ENDPOINTS)),
        default=2,
        help="how many of the regional plan's endpoints",
    )
    p.add_argument(
        "--endpoint-change",
        type=number(int, 0, 50),
        default=0,
        metavar="G",
        help="from plan generation G on, the first endpoint leaves the plan and a new one joins",
    )
    p.add_argument("--max-states", type=number(int, 1), default=5_000_000)
    p.add_argument(
        "--first", action="store_true", help="stop at the first depth that violates an invariant"
    )
    p.add_argument("--json", action="store_true")
    p.add_argument("--export", metavar="FILE", help="write the first violation as a Scenario")
    p.add_argument(
        "--random",
        type=number(int, 0),
        default=0,
        metavar="N",
        help="instead: run N seeded random fault schedules (simulated time)",
    )
    p.add_argument("--seed", type=number(int, 0), default=0, help="first seed for --random")
    p.set_defaults(func=cmd_check)
    p = sub.add_parser(
        "run",
        help="check a Scenario, apply it, show its progress, print the verdict",
        description="Check the Scenario in FILE (the API server's strict dry run, then the "
        "scenario controller's checks: one line per problem, exit 1, nothing applied), apply "
        "it, follow it and print its verdict: exit 0 when its expectations hold, 1 otherwise.",
    )
    p.add_argument("file", help="a Scenario's YAML (kind: Scenario)")
    p.add_argument("--json", action="store_true", help="print the verdict as JSON")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="check only: print each problem, or that it would run as written; apply nothing",
    )
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("report", help="write reports/NAME/index.html and plots for a scenario")
    p.add_argument("name")
    p.add_argument("--out", default="reports", help="folder for reports (default ./reports)")
    p.set_defaults(func=cmd_report)
    sub.add_parser("env", help='print exports for eval "$(dnsrace env)"').set_defaults(func=cmd_env)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except local.LabError as exc:
        print(f"dnsrace: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    return code


def kubectl_plugin() -> int:
    """`kubectl dnsrace ...`: the same commands as a kubectl plugin (kubectl-dnsrace on PATH)."""
    return main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
