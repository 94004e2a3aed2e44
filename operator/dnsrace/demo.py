"""`make demo`: bring the local lab up (unless one is running), show what it demonstrates, and
take it down again only if this run started it."""

from __future__ import annotations

import sys

from dnsrace.controlplane import lab
from dnsrace.core.records import EndpointRecord, Target
from dnsrace.probe import resolve
from dnsrace.stores.records import EtcdRecordStore

REGIONAL = "dynamodb.us-east-1.amazonaws.com"


def show_record_lifecycle(state: lab.LabState) -> None:
    """A record written to the store is served by CoreDNS; removed, the name is NXDOMAIN."""
    store = EtcdRecordStore(state.record_store)
    record = EndpointRecord(REGIONAL, 1, "demo", "demo", (Target("127.0.0.11", 100, "lb-1"),))
    store.write(record, expect_revision=None)
    answer = resolve(REGIONAL, state.dns)
    print(f"demo: {REGIONAL} -> {answer.rcode} {', '.join(answer.addresses)}")
    store.delete(REGIONAL)
    answer = resolve(REGIONAL, state.dns)
    print(f"demo: keys removed; {REGIONAL} -> {answer.rcode} (the outage's answer)")


def main() -> int:
    state_dir = lab.default_state_dir()
    before = lab.LabState.load(state_dir)
    started = before is None or not before.alive()
    try:
        state = lab.up(state_dir)
    except lab.LabError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 1
    print(f"demo: lab {'started' if started else 'already running'} in {state.dir}")
    try:
        show_record_lifecycle(state)
    finally:
        if started:
            lab.down(state_dir)
            print("demo: lab stopped (this run started it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
