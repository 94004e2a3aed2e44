"""The words a run is judged in, each defined once: the invariants (with the one sentence each
means), a Scenario's phases, its condition types and their reasons, and the run's result.

They are `StrEnum`s: each member is the very string the API stores and `kubectl` prints, so
they go into status patches and compare with what is read back as they are. The CRDs' enums
say the same (tests/unit/test_vocabulary.py keeps them equal)."""

from __future__ import annotations

from enum import StrEnum


class Invariant(StrEnum):
    """What must hold for every endpoint at every revision of the record store."""

    I1 = "I1"
    I2 = "I2"
    I3 = "I3"

    @property
    def meaning(self) -> str:
        return MEANINGS[self]


MEANINGS = {
    Invariant.I1: "once applied, an endpoint's record is never empty",
    Invariant.I2: "an endpoint's generation never decreases",
    Invariant.I3: "no record refers to a deleted plan",
}


class Phase(StrEnum):
    """A Scenario's status.phase."""

    WAITING = "Waiting"  # another run has the lab
    RUNNING = "Running"
    COMPLETED = "Completed"  # it has a verdict
    FAILED = "Failed"  # it could not complete: no verdict

    @property
    def finished(self) -> bool:
        return self in (Phase.COMPLETED, Phase.FAILED)


class Condition(StrEnum):
    """A Scenario's condition types (status.conditions[].type)."""

    WAITING = "Waiting"
    RUNNING = "Running"
    COMPLETED = "Completed"
    FAILED = "Failed"
    VERDICT_PASSED = "VerdictPassed"
    LAB_RESTORED = "LabRestored"


class Reason(StrEnum):
    """Why a Scenario's condition is as it is (status.conditions[].reason)."""

    STARTED = "Started"
    FINISHED = "Finished"
    ANOTHER_SCENARIO_RUNNING = "AnotherScenarioRunning"
    INVALID_SPEC = "InvalidSpec"  # refused before the first step: the message names the field
    STEP_TIMED_OUT = "StepTimedOut"
    DURATION_EXCEEDED = "DurationExceeded"
    RUN_ERROR = "RunError"
    EXPECTATIONS_MET = "ExpectationsMet"
    EXPECTATIONS_NOT_MET = "ExpectationsNotMet"
    AFTERMATH_KEPT = "AftermathKept"
    RESTORED = "Restored"


class Result(StrEnum):
    """The run in a word (status.result, and the first word of the verdict's summary)."""

    HELD = "HELD"  # nothing went wrong on any endpoint
    STALE = "STALE"  # an endpoint went back a generation or used a deleted plan, but answered
    OUTAGE = "OUTAGE"  # an endpoint was empty
    FAILED = "FAILED"  # the run could not complete: no verdict
