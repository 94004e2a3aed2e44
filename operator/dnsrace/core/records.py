"""What an endpoint's record set is, and how it is laid out in the SkyDNS key space CoreDNS's
`etcd` plugin reads: one key per target under the name's reversed path, plus one metadata key
per endpoint (outside /skydns) that says which plan generation and which enactor wrote it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

SKYDNS_ROOT = "/skydns"
META_ROOT = "/dnsrace/endpoints"
# One key per plan that guarded clean-up has retired: written only when no record uses the plan,
# and a guarded write of that plan's records fails while it exists.
RETIRED_ROOT = "/dnsrace/retired"
RECORD_TTL = 1  # seconds: answers must follow the store almost at once


@dataclass(frozen=True, order=True)
class Target:
    """One load-balancer address an endpoint resolves to."""

    address: str
    weight: int = 1
    load_balancer: str = ""


@dataclass(frozen=True)
class EndpointRecord:
    """An endpoint's applied record set: the targets CoreDNS serves and who wrote them.

    `targets` empty means the name answers NXDOMAIN (the outage)."""

    name: str
    generation: int
    plan: str
    enactor: str
    targets: tuple[Target, ...]

    @property
    def empty(self) -> bool:
        return not self.targets


def skydns_dir(name: str) -> str:
    """`dynamodb.us-east-1.amazonaws.com` -> `/skydns/com/amazonaws/us-east-1/dynamodb/`."""
    labels = name.lower().rstrip(".").split(".")
    return SKYDNS_ROOT + "/" + "/".join(reversed(labels)) + "/"


def target_key(name: str, target: Target) -> str:
    return skydns_dir(name) + "t-" + target.address.replace(":", "-").replace(".", "-")


def meta_key(name: str) -> str:
    return f"{META_ROOT}/{name.lower().rstrip('.')}"


def retired_key(plan: str) -> str:
    return f"{RETIRED_ROOT}/{plan}"


def name_of_key(key: str) -> str:
    """`/skydns/com/amazonaws/us-east-1/dynamodb/t-1` -> `dynamodb.us-east-1.amazonaws.com`."""
    labels = key.split("/")[2:-1]
    return ".".join(reversed(labels))


def encode_target(record: EndpointRecord, target: Target) -> bytes:
    """A SkyDNS service value; the dnsrace_* fields are ignored by CoreDNS and kept for humans
    and for clean-up (which plan a key belongs to)."""
    return json.dumps(
        {
            "host": target.address,
            "ttl": RECORD_TTL,
            "weight": target.weight,
            "dnsrace_plan": record.plan,
            "dnsrace_generation": record.generation,
            "dnsrace_enactor": record.enactor,
            "dnsrace_lb": target.load_balancer,
        },
        sort_keys=True,
    ).encode()


@lru_cache(maxsize=65536)
def decode_target(value: bytes) -> tuple[Target, str, int, str]:
    """(target, plan, generation, enactor) of one SkyDNS key written by encode_target."""
    raw = json.loads(value)
    return (
        Target(str(raw["host"]), int(raw.get("weight", 1)), str(raw.get("dnsrace_lb", ""))),
        str(raw.get("dnsrace_plan", "")),
        int(raw.get("dnsrace_generation", 0)),
        str(raw.get("dnsrace_enactor", "")),
    )


def encode_meta(record: EndpointRecord) -> bytes:
    return json.dumps(
        {
            "name": record.name,
            "generation": record.generation,
            "plan": record.plan,
            "enactor": record.enactor,
            "targets": [[t.address, t.weight, t.load_balancer] for t in record.targets],
        },
        sort_keys=True,
    ).encode()


@lru_cache(maxsize=65536)
def decode_meta(value: bytes) -> EndpointRecord:
    raw = json.loads(value)
    return EndpointRecord(
        name=str(raw["name"]),
        generation=int(raw["generation"]),
        plan=str(raw["plan"]),
        enactor=str(raw["enactor"]),
        targets=tuple(Target(str(a), int(w), str(lb)) for a, w, lb in raw["targets"]),
    )


@dataclass(frozen=True)
class Observed:
    """One endpoint as read in one snapshot: its metadata (what was applied last), the targets
    actually served (the SkyDNS keys present now), the metadata key's mod revision and each
    SkyDNS key with its mod revision and the plan that wrote it (for a later CAS, for deleting
    keys a write no longer wants, and for clean-up)."""

    name: str
    record: EndpointRecord | None
    served: tuple[Target, ...]
    revision: int
    keys: tuple[tuple[str, int, str], ...] = ()  # (key, mod revision, plan that wrote it)

    @property
    def empty(self) -> bool:
        return not self.served
