"""Time as the lab writes it: RFC 3339 in UTC with milliseconds and a `Z` (what Kubernetes
accepts for date-time fields), and back to seconds since the epoch. Pure: callers pass the
instant, or take `now_iso()` at the boundary."""

from __future__ import annotations

import datetime as dt


def iso(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_iso() -> str:
    return iso(dt.datetime.now(dt.UTC))


def iso_in(seconds: float) -> str:
    """The instant `seconds` from now."""
    return iso(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds))


def timestamp_of(text: str) -> float:
    """Seconds since the epoch of an RFC 3339 time as Kubernetes writes it (`...Z`)."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
