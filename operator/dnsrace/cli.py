"""The `dnsrace` command: lab lifecycle (up, down, status, env) and, as later issues land, the
scenario, repair and check commands. Every failure is one readable line and a non-zero exit."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dnsrace.controlplane import lab


def _state_dir(args: argparse.Namespace) -> Path:
    return Path(args.state_dir) if args.state_dir else lab.default_state_dir()


def cmd_up(args: argparse.Namespace) -> int:
    state_dir = _state_dir(args)
    was = lab.LabState.load(state_dir)
    state = lab.up(state_dir, dns_port=args.dns_port, timeout=args.timeout)
    already = was is not None and was.supervisor_pid == state.supervisor_pid
    print(
        f"dnsrace: lab {'already ' if already else ''}up in {state.dir} "
        f"(API {state.apiserver}, DNS {state.dns}, record store {state.record_store})"
    )
    print('dnsrace: use it with: eval "$(dnsrace env)"')
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    state_dir = _state_dir(args)
    if lab.down(state_dir):
        print(f"dnsrace: lab in {state_dir} stopped; no process left")
    else:
        print(f"dnsrace: no lab in {state_dir}")
    return 0


def _running(state_dir: Path) -> lab.LabState:
    state = lab.LabState.load(state_dir)
    if state is None or not state.alive():
        raise lab.LabError(f"no lab is running in {state_dir}; start one with 'dnsrace up'")
    return state


def cmd_env(args: argparse.Namespace) -> int:
    print("\n".join(lab.env_lines(_running(_state_dir(args)))))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    state_dir = _state_dir(args)
    state = lab.LabState.load(state_dir)
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dnsrace", description=__doc__)
    parser.add_argument(
        "--state-dir",
        help="lab state folder (default $DNSRACE_STATE_DIR or ~/.local/state/dnsrace)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("up", help="start the local lab and return when it is ready")
    p.add_argument(
        "--dns-port", type=int, help="serve DNS on this loopback port (default: a free one)"
    )
    p.add_argument("--timeout", type=float, default=300.0)
    p.set_defaults(func=cmd_up)
    sub.add_parser("down", help="stop the local lab").set_defaults(func=cmd_down)
    sub.add_parser("status", help="show the lab's processes").set_defaults(func=cmd_status)
    sub.add_parser("env", help='print exports for eval "$(dnsrace env)"').set_defaults(func=cmd_env)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except lab.LabError as exc:
        print(f"dnsrace: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
