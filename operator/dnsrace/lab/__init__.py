"""The local lab: its state folder and client side (local), the supervisor and the pure
restart policy, processes, PKI and identities, the standing objects, the permission table,
the pinned versions."""
