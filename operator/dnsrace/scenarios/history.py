"""The evidence the history oracle (`dnsrace.scenarios.oracle`) is given, gathered without the
enactors: the record store's keys at a run's start revision and every change after it, read
back from etcd's own history (a historical range and a watch from the start revision), and polls
of the DNSPlans taken during the run between two reads of the record store's revision."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from dnsrace.scenarios.oracle import KeyChange, PlanPoll, Report, check
from dnsrace.stores.etcd import EtcdClient


def read(client: EtcdClient, start: int, end: int) -> tuple[dict[str, bytes], list[KeyChange]]:
    """The keys at revision `start` and every put and delete from `start + 1` to `end`."""
    initial = {kv.key.decode(): kv.value for kv in client.everything_at(start)}
    changes = [
        KeyChange(e.revision, e.key.decode(), e.value) for e in client.history(start + 1, end)
    ]
    return initial, changes


def judge(client: EtcdClient, start: int, end: int, polls: Iterable[PlanPoll]) -> Report:
    initial, changes = read(client, start, end)
    return check(initial, changes, list(polls), start, end)


class PlanPolls:
    """Polls of the plans, kept compact: only the polls on either side of a change of the set
    (the last that listed a plan and the first that did not are all the oracle uses)."""

    def __init__(self, revision: Callable[[], int], plans: Callable[[], Iterable[str]]) -> None:
        self._revision, self._plans = revision, plans
        self.kept: list[PlanPoll] = []
        self._last: PlanPoll | None = None

    def poll(self) -> PlanPoll:
        before = self._revision()
        names = frozenset(self._plans())
        now = PlanPoll(before, names, self._revision())
        last = self._last
        if last is None or last.plans != names:
            if last is not None and (not self.kept or self.kept[-1] != last):
                self.kept.append(last)
            self.kept.append(now)
        self._last = now
        return now

    def all(self) -> list[PlanPoll]:
        """The kept polls and the latest one."""
        tail = [self._last] if self._last is not None and self._last not in self.kept else []
        return [*self.kept, *tail]
