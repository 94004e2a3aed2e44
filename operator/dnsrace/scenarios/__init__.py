"""A Scenario's run: spec preparation and the step engine, driving the lab from
outside (control), DNS probes and sampling, the record-store history and its oracle, the
verdict, the cascade's dependent services and figures, the series kept in ConfigMaps."""
