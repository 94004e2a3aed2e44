"""Pure decision logic, no I/O: record naming and encoding, plan ordering, the unguarded and
guarded protocols' decisions, clean-up selection and the invariants. Never imports kopf,
kubernetes or an etcd client."""
