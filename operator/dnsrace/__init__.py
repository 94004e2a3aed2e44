"""dnsrace: the October 2025 us-east-1 DNS Planner/Enactor race, reproduced on real Kubernetes.

This package owns the lab's Python code, one folder per concern:

    core/       the protocol and its pure decisions (the checker runs the same moves)
    stores/     etcd and Kubernetes adapters, their in-memory twins, plan allocation and the
                enactors' plan reflector; which failures of them pass (transient)
    operators/  the kopf operators: planner, enactor, scenario controller; telemetry
    scenarios/  a Scenario's run: engine, lab control, probes, history and oracle, verdict,
                the cascade's dependent services and figures
    lab/        the local control plane: state folder, supervisor, processes, PKI, identities,
                standing objects, permissions, pinned versions
    check/      the explorer of every interleaving (`dnsrace check`)
    cli/        the `dnsrace` command: lab lifecycle, run, report, demo

docs/architecture.md has the map: where the race is, where each part of the fix is, and how a
Scenario goes from `kubectl apply` to a verdict.
"""

__version__ = "0.1.0"
