"""Pure models of the dependent services: state machines that take `now` (seconds) as an
argument and do no I/O, so they are unit-tested in memory and driven in real time by the
service processes (which do the DynamoDB, DNS and HTTP calls)."""
