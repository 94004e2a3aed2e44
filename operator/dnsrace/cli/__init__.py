"""The `dnsrace` command: lab lifecycle and inspection (main), `run`, `report`, `demo`."""
