"""The lab's port block: slots held by flock are never shared, ports lie below the ephemeral
range, a port something else listens on is skipped, and a full range falls back to None."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from dnsrace.lab.ports import SLOT_PORTS, PortBlock, PortsUsedUp, ephemeral_low
from dnsrace.lab.processes import LOOPBACK

FIRST = 21000  # below Linux's default ephemeral range (32768)


def test_two_labs_get_different_slots_and_a_released_slot_is_taken_again(tmp_path: Path) -> None:
    one = PortBlock.claim(tmp_path, FIRST, below=FIRST + 3 * SLOT_PORTS)
    two = PortBlock.claim(tmp_path, FIRST, below=FIRST + 3 * SLOT_PORTS)
    assert one is not None
    assert two is not None
    assert one.ports == range(FIRST, FIRST + SLOT_PORTS)
    assert two.ports == range(FIRST + SLOT_PORTS, FIRST + 2 * SLOT_PORTS)
    one.release()
    again = PortBlock.claim(tmp_path, FIRST, below=FIRST + 3 * SLOT_PORTS)
    assert again is not None
    assert again.ports == range(FIRST, FIRST + SLOT_PORTS)
    two.release()
    again.release()


def test_no_slot_below_the_ephemeral_range_means_none(tmp_path: Path) -> None:
    held = PortBlock.claim(tmp_path, FIRST, below=FIRST + SLOT_PORTS)
    assert held is not None
    assert PortBlock.claim(tmp_path, FIRST, below=FIRST + SLOT_PORTS) is None
    assert PortBlock.claim(tmp_path, FIRST, below=FIRST + SLOT_PORTS - 1) is None
    held.release()


def test_a_slot_file_that_cannot_be_opened_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "slot-0").mkdir()  # not a file: opening it for writing fails
    block = PortBlock.claim(tmp_path, FIRST, below=FIRST + 2 * SLOT_PORTS)
    assert block is not None
    assert block.ports == range(FIRST + SLOT_PORTS, FIRST + 2 * SLOT_PORTS)
    block.release()
    blocked = tmp_path / "file"
    blocked.write_text("")
    assert PortBlock.claim(blocked / "slots", FIRST, below=FIRST + SLOT_PORTS) is None


def test_a_port_already_listened_on_is_skipped(tmp_path: Path) -> None:
    block = PortBlock.claim(tmp_path, FIRST, below=FIRST + SLOT_PORTS)
    assert block is not None
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind((LOOPBACK, block.ports[0]))
        taken.listen()
        assert block.take() == block.ports[1]
    assert block.take((socket.SOCK_DGRAM, socket.SOCK_STREAM)) == block.ports[2]
    block.release()


def test_a_used_up_block_says_which_ports(tmp_path: Path) -> None:
    block = PortBlock.claim(tmp_path, FIRST, below=FIRST + SLOT_PORTS)
    assert block is not None
    block.next = SLOT_PORTS
    with pytest.raises(PortsUsedUp, match=f"from {FIRST} to {FIRST + SLOT_PORTS - 1}"):
        block.take()
    block.release()


def test_the_ephemeral_range_is_read_from_the_kernel(tmp_path: Path) -> None:
    conf = tmp_path / "ip_local_port_range"
    conf.write_text("40000\t60999\n")
    assert ephemeral_low(conf) == 40000
    assert ephemeral_low(tmp_path / "absent") == 32768
    assert 1024 < ephemeral_low() <= 65535
