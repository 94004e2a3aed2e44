"""Where a lab's listening ports come from: a block of its own, below the kernel's ephemeral
range, claimed with a lock for as long as its supervisor lives.

A port the kernel picks for `bind(0)` is an ephemeral port. Once the lab's process listening on
it exits (a crash, a kill in a test), any outgoing connection on the machine may be given that
port as its source port, and the restarted process cannot listen again ("address already in
use") for as long as that connection lives: a CoreDNS killed mid-run stayed down for good that
way. Ports below the ephemeral range are never handed out as source ports. Each running lab
holds an exclusive `flock` on one slot file, and slot N is the ports
[first + N * SLOT_PORTS, first + (N + 1) * SLOT_PORTS): labs started at once never pick the same
port. The lock goes with the supervisor's process, however it ends.
"""

from __future__ import annotations

import fcntl
import os
import socket
import tempfile
from pathlib import Path

from dnsrace.lab.processes import LOOPBACK, port_is_free

SLOT_PORTS = 64  # a lab listens on about 30
FIRST_PORT = 20000
# per user: another user's slot files are not ours to lock (their labs' ports are still checked
# free when taken)
SLOT_DIR = Path(tempfile.gettempdir()) / f"dnsrace-port-slots-{os.getuid()}"
EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def ephemeral_low(path: Path = EPHEMERAL_RANGE) -> int:
    """The lowest port the kernel hands out as a source port (Linux's default: 32768)."""
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


class PortsUsedUp(RuntimeError):
    """Every port of the lab's block is taken (by other programs on the machine)."""


class PortBlock:
    """One lab's ports: a slot held by `flock`, handed out in order, each checked free when
    taken (another program may listen on one)."""

    def __init__(self, fd: int, ports: range) -> None:
        self.fd, self.ports, self.next = fd, ports, 0

    @classmethod
    def claim(
        cls, slot_dir: Path = SLOT_DIR, first: int = FIRST_PORT, below: int | None = None
    ) -> PortBlock | None:
        """The first free slot whose ports all lie below `below` (the ephemeral range), or
        None when there is no room (the caller then lets the kernel pick ports)."""
        limit = ephemeral_low() if below is None else below
        try:
            slot_dir.mkdir(parents=True, exist_ok=True)
        except OSError:
            return None
        for n in range(max(0, (limit - first) // SLOT_PORTS)):
            try:
                fd = os.open(slot_dir / f"slot-{n}", os.O_CREAT | os.O_RDWR, 0o600)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            start = first + n * SLOT_PORTS
            return cls(fd, range(start, start + SLOT_PORTS))
        return None

    def take(
        self, kinds: tuple[int, ...] = (socket.SOCK_STREAM,), addresses: tuple[str, ...] = ()
    ) -> int:
        """The block's next port free for every socket kind on every address (loopback by
        default)."""
        while self.next < len(self.ports):
            port = self.ports[self.next]
            self.next += 1
            if all(port_is_free(port, kinds, a) for a in addresses or (LOOPBACK,)):
                return port
        raise PortsUsedUp(f"every port from {self.ports.start} to {self.ports.stop - 1} is taken")

    def release(self) -> None:
        """Give the slot back (the supervisor's exit does the same)."""
        os.close(self.fd)
