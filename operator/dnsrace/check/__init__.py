"""`dnsrace check`: an exhaustive interleaving explorer over the same core protocol steps the
live enactors run, on in-memory stores, under a deterministic scheduler."""
