"""The Scenario: one run of the lab, declared like a Chaos Mesh experiment (spec), and what
the scenario controller records of it (status)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dnsrace.core.plans import DEFAULT_ENDPOINTS
from dnsrace.core.resources.common import ENDPOINT_NAME_RULE, PROTOCOLS, Condition, Fault, Range
from dnsrace.core.schema import Object, Rule, field, item


@dataclass(frozen=True, kw_only=True)
class ScenarioSpecAftermath(Object):
    keepSeconds: float = field(
        "Seconds the lab stays as the run left it before its standing settings return (0: at "
        "once).",
        minimum=0,
        maximum=3600,
        default=0,
    )


@dataclass(frozen=True, kw_only=True)
class ScenarioSpecEnactorsItem(Object):
    name: str = field("The enactor: a, b or c.", pattern="^[a-z]$", required=True)
    faults: list[Fault] | None = field(
        "Faults injected between the enactor's store requests, each with exactly one action: "
        "pause (until a later step removes it), crash (once: the process exits and is restarted) "
        "or delaySeconds (a stall; at write, each of `retries` slow attempts). The verdict counts "
        "how often each fired.",
        max_items=32,
    )


@dataclass(frozen=True, kw_only=True)
class ScenarioSpecPlanner(Object):
    cadenceSeconds: float = field(
        "A new plan this often while the Planner runs (at least 0.1; the Planner honours it apart "
        "from its health checks).",
        minimum=0.1,
        maximum=3600,
        default=0.5,
    )


@dataclass(frozen=True, kw_only=True)
class ScenarioSpecProbes(Object):
    names: list[str] | None = field(
        "The names to query; absent, the run's endpoints.",
        max_items=16,
        item=item(max_length=253),
    )
    intervalMilliseconds: int = field(
        "Milliseconds between probe rounds; each round asks CoreDNS for every name once (the "
        "names default to the plans' endpoints).",
        minimum=5,
        maximum=10000,
        default=50,
    )


@dataclass(frozen=True, kw_only=True)
class ScenarioSpecServicesDynamodb(Object):
    """How a dependent service talks to DynamoDB (DWFM's and the clients' alike)."""

    connectionMaxAgeSeconds: float | None = field(
        "A connection older than this is replaced (the endpoint resolved again through the lab's "
        "DNS).",
        exclusive_minimum=True,
        minimum=0,
    )
    requestTimeoutSeconds: float | None = field(
        "A request without an answer this long fails.",
        exclusive_minimum=True,
        minimum=0,
    )


@dataclass(frozen=True, kw_only=True)
class ScenarioSpecServicesDwfm(Object):
    droplets: int | None = field("Physical hosts whose leases DWFM keeps.", minimum=1, maximum=1000)
    leaseSeconds: float | None = field(
        "How long a lease lasts without renewal.",
        exclusive_minimum=True,
        minimum=0,
    )
    renewEverySeconds: float | None = field(
        "Seconds between two lease renewal rounds.",
        exclusive_minimum=True,
        minimum=0,
    )
    capacityPerSecond: float | None = field(
        "units of lease work DWFM does per second, shared by the items in progress",
        exclusive_minimum=True,
        minimum=0,
    )
    workPerLease: float | None = field(
        "Units of work to re-establish one lease.",
        exclusive_minimum=True,
        minimum=0,
    )
    itemTimeoutSeconds: float | None = field(
        "An item not done this long after admission is abandoned and queued again.",
        exclusive_minimum=True,
        minimum=0,
    )
    maxInFlight: int | None = field(
        "queue-size throttling: 0 admits the whole queue at once (the incident), N at most N at a "
        "time (the fix)",
        minimum=0,
        maximum=1000,
    )
    dynamodb: ScenarioSpecServicesDynamodb | None = field("How DWFM talks to DynamoDB.")


@dataclass(frozen=True, kw_only=True)
class ScenarioSpecServicesNetmgr(Object):
    propagationsPerSecond: float | None = field(
        "Propagations done per second.",
        exclusive_minimum=True,
        minimum=0,
    )


@dataclass(frozen=True, kw_only=True)
class ScenarioSpecServicesEc2(Object):
    requestsPerSecond: float | None = field(
        "Launch requests admitted per second (RequestLimitExceeded beyond).",
        exclusive_minimum=True,
        minimum=0,
    )
    instancesPerDroplet: int | None = field(
        "Instances one leased droplet can host (InsufficientCapacity when none is free).",
        minimum=1,
        maximum=1000,
    )
    baselineInstances: int | None = field(
        "Instances running before the run starts.",
        minimum=0,
        maximum=1000,
    )


@dataclass(frozen=True, kw_only=True)
class ScenarioSpecServicesNlb(Object):
    checkIntervalSeconds: float | None = field(
        "Seconds between two checks of each target.",
        exclusive_minimum=True,
        minimum=0,
    )
    checkerNodes: int | None = field("Nodes the checks run from, in turn.", minimum=1, maximum=100)
    velocityLimitPercent: float | None = field(
        "the velocity control: at most this share of targets removed per window; 0 = no limit "
        "(the incident)",
        minimum=0,
        maximum=100,
    )
    velocityWindowSeconds: float | None = field(
        "The window of the velocity control.",
        exclusive_minimum=True,
        minimum=0,
    )


@dataclass(frozen=True, kw_only=True)
class ScenarioSpecServicesClients(Object):
    openConnections: int | None = field(
        "Connections open before the run (they keep working when DNS fails).",
        minimum=0,
        maximum=100,
    )
    requestsPerSecondPerConnection: float | None = field(
        "Requests per second on each open connection.",
        minimum=0,
    )
    newConnectionsPerSecond: float | None = field(
        "New connections per second (each resolves the endpoint).",
        minimum=0,
    )
    launchesPerSecond: float | None = field("Instance launches asked of EC2 per second.", minimum=0)
    launchRetries: int | None = field("Retries of a failed launch.", minimum=0, maximum=100)
    dynamodb: ScenarioSpecServicesDynamodb | None = field(
        "How the clients talk to DynamoDB.",
    )


@dataclass(frozen=True, kw_only=True)
class ScenarioSpecServices(Object):
    dwfm: ScenarioSpecServicesDwfm | None = field(
        "DWFM, the droplet lease manager (EC2's DropletWorkflow Manager).",
    )
    netmgr: ScenarioSpecServicesNetmgr | None = field(
        "Network Manager: propagates new instances' network state from a queue.",
    )
    ec2: ScenarioSpecServicesEc2 | None = field("The EC2 launch API.")
    nlb: ScenarioSpecServicesNlb | None = field("The Network Load Balancer's health checker.")
    clients: ScenarioSpecServicesClients | None = field("Client traffic to DynamoDB and EC2.")


@dataclass(frozen=True, kw_only=True)
class ScenarioSpecInvariantsMetastable(Object):
    goodputBelowPerSecond: float = field(
        "Leases re-established per second below which DWFM counts as stuck.",
        minimum=0,
        default=4,
    )
    forSeconds: float = field(
        "How long it must stay below for the failure to count as metastable.",
        exclusive_minimum=True,
        minimum=0,
        default=8,
    )


@dataclass(frozen=True, kw_only=True)
class ScenarioSpecInvariants(Object):
    metastable: ScenarioSpecInvariantsMetastable | None = field(
        "Violated when, after DNS is healthy again, DWFM has leases waiting but re-establishes "
        "fewer than goodputBelowPerSecond per second for forSeconds.",
    )


@dataclass(frozen=True, kw_only=True)
class ScenarioSpecStepsItemSet(Object):
    paused: bool | None = field("true: the enactor takes no new plan; false: it runs.")
    faults: list[Fault] | None = field(
        "Faults injected between the enactor's store requests, each with exactly one action: "
        "pause (until a later step removes it), crash (once: the process exits and is restarted) "
        "or delaySeconds (a stall; at write, each of `retries` slow attempts). The verdict counts "
        "how often each fired.",
        max_items=32,
    )


@dataclass(frozen=True, kw_only=True)
class ScenarioSpecStepsItemPlanner(Object):
    produceUntil: int | None = field(
        "Create plans (as the Planner allocates) until the newest is the scenario's base "
        "generation plus this.",
        minimum=1,
        maximum=10000,
    )
    run: bool | None = field("true: the Planner runs at its cadence; false: it pauses")


@dataclass(frozen=True, kw_only=True)
class ScenarioSpecStepsItemWaitFor(Object):
    rules = (
        Rule(
            "[has(self.pausedAt), has(self.phase), has(self.applied), has(self.seen), "
            "has(self.crashed), has(self.generation), has(self.settled), has(self.emptySeconds), "
            "has(self.seconds)].filter(x, x).size() == 1",
            "each waitFor waits for exactly one of pausedAt, phase, applied, seen, crashed, "
            "generation, settled, emptySeconds or seconds; write one step per condition",
        ),
        Rule(
            "(has(self.pausedAt) || has(self.phase) || has(self.applied) || has(self.seen) || "
            "has(self.crashed)) == has(self.enactor)",
            "waitFor pausedAt, phase, applied, seen and crashed need enactor (whose); generation, "
            "settled, emptySeconds and seconds take none",
        ),
        Rule(
            "!has(self.settled) || self.settled",
            "settled: true is the only form of a settled wait",
        ),
    )
    enactor: str | None = field("whose condition (a, b or c)", pattern="^[a-z]$")
    pausedAt: str | None = field(
        "The enactor holds at the pause fault AT:ENDPOINT, e.g. after-pick:* or "
        "before-write:dynamodb-fips.us-east-1.amazonaws.com (* when the fault names no endpoint); "
        "a pause fault of that enactor must say so.",
        max_length=300,
    )
    phase: str | None = field(
        "the enactor's status.phase",
        enum=("Idle", "Walking", "CleaningUp", "Paused"),
    )
    applied: int | None = field(
        "the enactor has applied the run's plan N (base generation plus N) or a newer one",
        minimum=0,
    )
    seen: int | None = field(
        "the enactor's plan view holds the run's plan N (base generation plus N) or a newer one",
        minimum=0,
    )
    crashed: str | None = field(
        "The enactor's crash fault AT:ENDPOINT (as in pausedAt) has fired.",
        max_length=300,
    )
    generation: int | None = field("the newest plan reaches base plus this", minimum=1)
    settled: bool | None = field("every enactor idle, having seen the newest plan")
    emptySeconds: float | None = field(
        "the probes have seen the regional endpoint empty for this long in all",
        minimum=0,
        maximum=3600,
    )
    seconds: float | None = field(
        "an observation window: the only wait on time",
        minimum=0,
        maximum=3600,
    )


@dataclass(frozen=True, kw_only=True)
class ScenarioSpecStepsItemServices(Object):
    rules = (
        Rule(
            "has(self.start) || has(self.set)",
            "a services step needs start: true (reset and start them) or set: (settings to change "
            "now)",
        ),
    )
    start: bool | None = field("true: reset and start the dependent services with spec.services.")
    set: dict[str, Any] | None = field(
        "Settings to change mid-run, e.g. the operators' manual throttling {dwfm: {maxInFlight: "
        "8}}.",
        preserve_unknown=True,
    )


@dataclass(frozen=True, kw_only=True)
class ScenarioSpecStepsItem(Object):
    rules = (
        Rule(
            "[has(self.enactor), has(self.planner), has(self.waitFor), has(self.services), "
            "has(self.repair)].filter(x, x).size() == 1",
            "each step is exactly one of enactor (with set), planner, waitFor, services or repair",
        ),
        Rule("!has(self.repair) || self.repair", "repair: true is the only form of a repair step"),
        Rule(
            "!has(self.enactor) || has(self.set)",
            "an enactor step needs set: the fields to change (faults, paused)",
        ),
    )
    note: str | None = field(
        "Why this step, in a sentence (shown as the step in progress).",
        max_length=256,
    )
    enactor: str | None = field(
        "An enactor step: whose settings change (a, b or c); set says which.",
        pattern="^[a-z]$",
    )
    set: ScenarioSpecStepsItemSet | None = field(
        "An enactor step's changes: paused, faults (which replace its faults; [] clears them and "
        "releases a pause).",
    )
    planner: ScenarioSpecStepsItemPlanner | None = field(
        "A planner step: produceUntil (create plans now) or run (the cadence on or off).",
    )
    waitFor: ScenarioSpecStepsItemWaitFor | None = field(
        "Wait for exactly one observed condition. pausedAt, phase, applied, seen and crashed are "
        "an enactor's (name it in enactor); generation, settled, emptySeconds and seconds are the "
        "lab's. Generations count from the run's base: applied 1 is the run's first plan.",
    )
    services: ScenarioSpecStepsItemServices | None = field(
        "A services step: start: true (reset and start the dependent services) or set (change "
        "their settings).",
    )
    repair: bool | None = field(
        "The operators' manual repair (dnsrace repair) - every endpoint rewritten from the newest "
        "plan.",
    )


@dataclass(frozen=True, kw_only=True)
class ScenarioSpecReplayItem(Object):
    actor: str = field(
        "Who moves: planner (creates the next plan) or an enactor (a, b, c: sends one store "
        "request).",
        pattern="^(planner|[a-z])$",
        required=True,
    )
    view: list[int] | None = field(
        "The plan generations (counted from the run's first) the enactor's plan view holds for "
        "this move.",
        max_items=1000,
        item=item(minimum=1),
    )


@dataclass(frozen=True, kw_only=True)
class ScenarioSpecRandomSchedule(Object):
    plans: int = field("Plans the simulated planner creates.", minimum=1, maximum=100, default=8)
    faultProbability: float = field(
        "The chance of a fault at each fault point.",
        minimum=0,
        maximum=1,
        default=0.5,
    )
    maxDelaySeconds: float = field(
        "The longest simulated delay.",
        minimum=0.1,
        maximum=60,
        default=6,
    )


@dataclass(frozen=True, kw_only=True)
class ScenarioSpecExpectOracle(Object):
    I1: Range | None = field("I1, an endpoint once applied answers empty: min, max findings.")
    I2: Range | None = field("I2, an endpoint's generation goes down: min, max findings.")
    I3: Range | None = field("I3, an endpoint's record uses a deleted plan: min, max findings.")


@dataclass(frozen=True, kw_only=True)
class ScenarioSpecExpectFiguresEntry(Object):
    rules = (
        Rule(
            "has(self.min) || has(self.max) || has(self.equals)",
            "a figure bound needs min, max or equals",
        ),
    )
    min: float | None = field("The figure must be at least this.")
    max: float | None = field("The figure must be at most this.")
    equals: bool | None = field("The figure (a yes/no one, e.g. dwfm.metastable) must be this.")


@dataclass(frozen=True, kw_only=True)
class ScenarioSpecExpect(Object):
    faultsFired: bool = field(
        "true (the default) - every fault the scenario sets must fire at least once, unless it "
        "says mayNeverFire; false - faults are counted, never required.",
        default=True,
    )
    emptyRecordObserved: bool | None = field(
        "Whether the probes must (true) or must not (false) see an endpoint answer empty.",
    )
    finalAnswer: str | None = field(
        "What the regional endpoint must answer at the end: NOERROR or NXDOMAIN.",
        enum=("NOERROR", "NXDOMAIN"),
    )
    staleOverwrites: Range | None = field(
        "Writes that moved an endpoint to an older plan (the enactors' StaleOverwrite Events): "
        "min, max.",
    )
    activePlanDeletions: Range | None = field(
        "Plans deleted while an endpoint used them (ActivePlanDeleted Events): min, max.",
    )
    regressions: Range | None = field(
        "Writes that lowered an endpoint's generation, found by the history oracle (its I2): min, "
        "max.",
    )
    casConflicts: Range | None = field(
        "Guarded writes the record store refused (CASConflict Events): min, max.",
    )
    skippedNewer: Range | None = field(
        "Writes a guarded enactor skipped because the endpoint already had a newer plan: min, max.",
    )
    matchesSimulation: bool | None = field(
        "randomSchedule: the live run's outage must be what the simulation predicted.",
    )
    oracle: ScenarioSpecExpectOracle | None = field(
        "Bounds on what the history oracle finds over every endpoint and every revision of the "
        "run: I1 (an applied endpoint empty), I2 (a generation going down), I3 (a record on a "
        "deleted plan), e.g. {I1: {min: 1}}.",
    )
    figures: dict[str, ScenarioSpecExpectFiguresEntry] | None = field(
        "Bounds on the verdict's cascade figures, by name (e.g. dwfm.recoverySeconds: {max: 6}, "
        "dwfm.metastable: {equals: true}); see the README for the list.",
        max_properties=64,
    )


# a fault's endpoint: absent or empty (every endpoint), or one of the run's (its own, or the
# default endpoints the plans cover)
_ENDPOINT_KNOWN = (
    "!has(f.endpoint) || f.endpoint == '' || f.endpoint in (has(self.endpoints) ? "
    "self.endpoints : [" + ", ".join(f"'{e}'" for e in DEFAULT_ENDPOINTS) + "])"
)
_ENDPOINT_MESSAGE = (
    "a fault's endpoint must be one of the scenario's endpoints (spec.endpoints, or by default "
    + ", ".join(DEFAULT_ENDPOINTS)
    + "), written in full; leave endpoint out for every endpoint"
)


@dataclass(frozen=True, kw_only=True)
class ScenarioSpec(Object):
    rules = (
        Rule(
            "[has(self.steps), has(self.replay), has(self.randomSchedule)].filter(x, x).size() == "
            "1",
            "set exactly one of spec.steps (a choreography), spec.replay (an exact interleaving) "
            "or spec.randomSchedule (a seeded one)",
        ),
        Rule("!has(self.randomSchedule) || has(self.seed)", "spec.randomSchedule needs spec.seed"),
        Rule(
            "self == oldSelf",
            "spec is immutable: delete the scenario and apply it again to rerun",
        ),
        Rule(
            "!has(self.enactors) || self.enactors.all(e, !has(e.faults) || e.faults.all(f, "
            f"{_ENDPOINT_KNOWN}))",
            _ENDPOINT_MESSAGE,
            field_path=".enactors",
        ),
        Rule(
            "!has(self.steps) || self.steps.all(s, !has(s.set) || !has(s.set.faults) || "
            f"s.set.faults.all(f, {_ENDPOINT_KNOWN}))",
            _ENDPOINT_MESSAGE,
            field_path=".steps",
        ),
    )
    description: str | None = field("What the run shows, in a sentence or two.", max_length=2048)
    protocol: str = field(
        "The enactors' protocol: unguarded (the incident's: check once, then write), guarded "
        "(compare-and-swap on every write; clean-up never deletes a plan in use), or guarded-v1 "
        "(the first fix, which a lagging plan view defeats).",
        enum=PROTOCOLS,
        required=True,
    )
    keep: int = field(
        "Clean-up keeps plans at most this many generations older than the one applied.",
        minimum=0,
        maximum=100,
        default=2,
    )
    seed: int | None = field(
        "The seed of spec.randomSchedule (the same seed, the same schedule).",
        minimum=0,
    )
    durationSeconds: float = field(
        "The whole run must end within this time, or the scenario fails.",
        minimum=1,
        maximum=3600,
        default=120,
    )
    aftermath: ScenarioSpecAftermath | None = field(
        "However a run ends, the controller then restores the lab's standing settings (planner "
        "running at its cadence; enactors unpaused, no fault, no step or view gate). keepSeconds "
        "leaves the lab as the run left it for that long first (condition LabRestored False, "
        "reason AftermathKept), to look at the outage.",
    )
    endpoints: list[str] | None = field(
        "The endpoint names the run's plans cover, in full; absent, the four DynamoDB endpoints "
        "of us-east-1 (dynamodb.us-east-1.amazonaws.com, dynamodb-fips.us-east-1.amazonaws.com, "
        "dynamodb.us-east-1.api.aws, 111122223333.ddb.us-east-1.amazonaws.com).",
        max_items=64,
        item=item(
            max_length=253,
            rules=(ENDPOINT_NAME_RULE,),
        ),
    )
    enactors: list[ScenarioSpecEnactorsItem] | None = field(
        "The enactors' starting faults. In a choreography (steps) every enactor starts paused and "
        "the steps say who moves when; a replay moves them step by step.",
        max_items=3,
        list_type="map",
        map_keys=("name",),
    )
    planner: ScenarioSpecPlanner | None = field("The Planner during the run.")
    probes: ScenarioSpecProbes | None = field(
        "The DNS probes that watch the endpoints all along the run.",
    )
    services: ScenarioSpecServices | None = field(
        "The dependent services of the cascade (DWFM, Network Manager, EC2, NLB, clients) and "
        "their settings; a step services: {start: true} resets and starts them once DNS is "
        "healthy. Absent: the scenario leaves them idle.",
    )
    invariants: ScenarioSpecInvariants | None = field(
        "Properties of the cascade the verdict checks.",
    )
    steps: list[ScenarioSpecStepsItem] | None = field(
        "A choreography; every wait is on an observed state, except waitFor.seconds, an "
        "observation window for watching an aftermath.",
        max_items=200,
    )
    replay: list[ScenarioSpecReplayItem] | None = field(
        "An exact interleaving (dnsrace check --export); each entry is one move: the planner "
        "creating the next plan, or one enactor sending one store request. `view`: the plan "
        "generations (relative to the run's first) the enactor's view holds for that move, when "
        "the move reads it.",
        max_items=5000,
    )
    randomSchedule: ScenarioSpecRandomSchedule | None = field(
        "A seeded random fault schedule, simulated, then replayed step for step.",
    )
    expect: ScenarioSpecExpect | None = field(
        "What the verdict must find for the run to pass; absent bounds are not checked.",
    )


@dataclass(frozen=True, kw_only=True)
class ScenarioStatusPendingGrant(Object):
    index: int | None = field("The replay step granted.")
    target: int | None = field("The enactor's stepsTaken once the move is taken.")
    viewGate: list[int] | None = field(
        "the plan generations the granted move's view is held to (absent - the enactor's whole "
        "view)",
        nullable=True,
    )


@dataclass(frozen=True, kw_only=True)
class ScenarioStatusTimelineItem(Object):
    time: str | None = field("When.", format="date-time")
    kind: str | None = field(
        "What kind of moment: a step's (Enactor, Planner, Observed, ...), a fault's (FaultFired, "
        "Restarted, FaultNeverFired), a CAS refused (CASConflict), the Verdict.",
    )
    message: str | None = field("What happened, in a sentence.")


@dataclass(frozen=True, kw_only=True)
class ScenarioStatusVerdict(Object):
    summary: str | None = field(
        "The verdict in a line: its word (HELD, STALE, OUTAGE), the oracle's findings, the "
        "counts, the faults fired, and as expected or NOT AS EXPECTED.",
    )
    passed: bool | None = field("Whether every expectation holds (and every required fault fired).")
    failures: list[str] | None = field(
        "Each expectation that does not hold, in a sentence (fault a after-pick delay 2s: never "
        "fired).",
    )
    emptyRecordObserved: bool | None = field(
        "Whether a probe saw an endpoint answer empty after it had been applied.",
    )
    emptyRecordSeconds: float | None = field(
        "How long the probes saw the regional endpoint empty, in all.",
    )
    staleOverwrites: int | None = field("Writes that moved an endpoint to an older plan.")
    activePlanDeletions: int | None = field("Plans deleted while an endpoint used them.")
    casConflicts: int | None = field("Guarded writes the record store refused.")
    regressions: int | None = field(
        "Writes that lowered an endpoint's generation, found by the history oracle in the record "
        "store's full history (its I2 count).",
    )
    invariantViolations: list[str] | None = field(
        "The cascade invariants violated (spec.invariants).",
    )
    cascade: dict[str, Any] | None = field(
        "Per-service figures of a cascade scenario, by name (see the README).",
        preserve_unknown=True,
    )


@dataclass(frozen=True, kw_only=True)
class ScenarioStatus(Object):
    phase: str | None = field(
        "Waiting (another run has the lab), Running, Completed (a verdict) or Failed (no verdict).",
        enum=("Waiting", "Running", "Completed", "Failed"),
    )
    startTime: str | None = field("When the run started.", format="date-time")
    completionTime: str | None = field("When it completed or failed.", format="date-time")
    baseGeneration: int | None = field(
        "the newest plan's generation when the run started; steps count from it",
        minimum=0,
    )
    stepIndex: int | None = field("steps done (a restarted controller resumes here)", minimum=0)
    step: str | None = field(
        "the step in progress, e.g. 4/12 wait until b has seen g11 (its note when it has one)",
        max_length=128,
    )
    result: str | None = field(
        "The run in a word: HELD (nothing went wrong on any endpoint), STALE (an endpoint went "
        "back a generation or used a deleted plan, but answered), OUTAGE (an endpoint was empty), "
        "FAILED (the run could not complete: no verdict).",
        enum=("HELD", "STALE", "OUTAGE", "FAILED"),
    )
    pendingGrant: ScenarioStatusPendingGrant | None = field(
        "A replay step granted but not yet seen taken (resumed after a restart).",
    )
    servicesStarted: bool | None = field("Whether a step has started the dependent services.")
    aftermathUntil: str | None = field(
        "when the kept aftermath ends and the lab is restored",
        format="date-time",
    )
    labRestored: bool | None = field(
        "the lab's standing settings are back (the run is wholly over)",
    )
    servicesSettings: dict[str, Any] | None = field(
        "The dependent services' settings now in force (spec.services plus mid-run changes).",
        preserve_unknown=True,
    )
    conditions: list[Condition] | None = field(
        "The latest observations of the object's state, one per type.",
        list_type="map",
        map_keys=("type",),
    )
    timeline: list[ScenarioStatusTimelineItem] | None = field(
        "The run's notable moments, oldest first (the last 200).",
        max_items=200,
    )
    probes: dict[str, Any] | None = field(
        "The DNS probes' running tallies (saved every second, resumed after a restart).",
        preserve_unknown=True,
    )
    verdict: ScenarioStatusVerdict | None = field(
        "What the run found, and whether spec.expect holds.",
        preserve_unknown=True,
    )


@dataclass(frozen=True, kw_only=True)
class ScenarioMetadata(Object):
    name: str | None = field(
        "At most 200 characters: the run's ConfigMaps are named after it "
        "(scenario-NAME-services-13) and must fit Kubernetes' 253.",
        max_length=200,
    )


@dataclass(frozen=True, kw_only=True)
class Scenario(Object):
    """The whole Scenario object as the API server stores it."""

    metadata: ScenarioMetadata | None = field("")
    spec: ScenarioSpec = field(
        "One run of the lab: protocol, faults, what happens when, and what the verdict must find "
        "(immutable: delete and apply again to rerun).",
        required=True,
    )
    status: ScenarioStatus | None = field("Written by the scenario controller only.")
