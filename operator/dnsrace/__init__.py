"""dnsrace: the October 2025 us-east-1 DNS Planner/Enactor race, reproduced on real Kubernetes.

This package owns the lab's Python code: pure protocol logic (`core`), I/O adapters (`stores`),
the local control plane (`controlplane`), the kopf operators and the `dnsrace` CLI.
"""

__version__ = "0.1.0"
