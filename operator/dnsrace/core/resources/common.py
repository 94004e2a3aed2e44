"""Object types more than one resource uses: a status condition (kubebuilder's shape), a
{min, max} expectation, and an injected fault (a Scenario's, and the Enactor's it is copied
into)."""

from __future__ import annotations

from dataclasses import dataclass

from dnsrace.core.protocol import Variant
from dnsrace.core.schema import Object, Rule, field

# where a fault sits, in the order an enactor passes them
FAULT_POINTS = ("after-pick", "before-write", "write", "before-cleanup")
# the protocols an enactor can run from its spec (the checker's cleanup-only is not one)
PROTOCOLS = tuple(v.value for v in (Variant.UNGUARDED, Variant.GUARDED, Variant.GUARDED_V1))
REGION_PATTERN = "^[a-z]{2}(-[a-z]+)+-[0-9]+$"
# what an endpoint name must look like, wherever one is written
ENDPOINT_NAME_RULE = Rule(
    "self.matches('^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?[.])+[a-z]{2,63}$')",
    "each endpoint must be a lower-case DNS name such as dynamodb.us-east-1.amazonaws.com",
)
IP_ADDRESS_RULE = Rule("isIP(self)", "address must be an IPv4 or IPv6 address such as 127.0.0.11")


@dataclass(frozen=True, kw_only=True)
class Fault(Object):
    rules = (
        Rule(
            "[has(self.pause) && self.pause, has(self.crash) && self.crash, "
            "has(self.delaySeconds)].filter(x, x).size() == 1",
            "each fault takes exactly one action: pause: true, crash: true or delaySeconds; write "
            "one fault per action",
        ),
        Rule(
            "!has(self.delaySeconds) || self.delaySeconds > 0.0",
            "delaySeconds must be above 0 (a zero delay injects nothing)",
        ),
        Rule(
            "!has(self.retries) || (self.at == 'write' && has(self.delaySeconds))",
            "retries belongs to at: write with delaySeconds (slow retried writes); remove it "
            "elsewhere",
        ),
    )
    at: str = field(
        "Where: after-pick (between the freshness check and the walk's first request), "
        "before-write (before the read that starts an endpoint's write), write (between an "
        "endpoint's read and its write: slow retried writes), before-cleanup (before the "
        "clean-up's first request).",
        enum=FAULT_POINTS,
        required=True,
    )
    endpoint: str | None = field(
        "before-write and write only: the endpoint, in full (a DNS name of spec.endpoints); "
        "absent, every endpoint.",
        max_length=253,
    )
    delaySeconds: float | None = field(
        "A stall of this many seconds (at write, each attempt's).",
        minimum=0,
        maximum=3600,
    )
    pause: bool | None = field(
        "Hold here until a later step sets the enactor's faults without this one.",
    )
    crash: bool | None = field(
        "The enactor's process exits here, once; it is restarted and walks on.",
    )
    retries: int | None = field(
        "at write with delaySeconds - how many slow attempts (1 when absent).",
        minimum=0,
        maximum=100,
    )
    mayNeverFire: bool | None = field(
        "true - the run does not fail when this fault never fires (by default a fault that never "
        "fired fails the verdict, see expect.faultsFired).",
    )


@dataclass(frozen=True, kw_only=True)
class Condition(Object):
    type: str = field(
        "The condition's type (one condition per type).",
        max_length=316,
        required=True,
    )
    status: str = field("True, False or Unknown.", enum=("True", "False", "Unknown"), required=True)
    reason: str | None = field(
        "A CamelCase word for why the condition is as it is.",
        max_length=1024,
    )
    message: str | None = field("What happened, in a sentence.", max_length=32768)
    observedGeneration: int | None = field(
        "The object's metadata.generation the condition was set for.",
        minimum=0,
    )
    lastTransitionTime: str | None = field(
        "When the condition's status last changed.",
        format="date-time",
    )


@dataclass(frozen=True, kw_only=True)
class Range(Object):
    min: int | None = field("At least this many findings.", minimum=0)
    max: int | None = field("At most this many findings.", minimum=0)
