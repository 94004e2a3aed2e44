"""Newline-delimited JSON read from a stream of byte chunks: how etcd's JSON gateway and the
API server send their watch events (a message may span chunks, a chunk may hold several)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any


def json_lines(chunks: Iterable[bytes]) -> Iterator[dict[str, Any]]:
    """Each non-blank line of the concatenated chunks, parsed, as soon as it is complete."""
    buffer = b""
    for chunk in chunks:
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            if line.strip():
                yield json.loads(line)
