"""I/O adapters behind small interfaces: the record store (etcd, SkyDNS keys) and the plan store
(Kubernetes DNSPlan objects). Each has an in-memory twin for unit tests and the checker."""
