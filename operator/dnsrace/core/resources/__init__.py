"""The lab's resources, each defined once in code (dnsrace.core.schema): every field's type,
meaning, bounds, enum, default and rules. The CRDs in crds/ are rendered from these
(`python -m dnsrace.lab.crds --write`; a test keeps them equal), and operators parse a spec
into them at the edge."""
