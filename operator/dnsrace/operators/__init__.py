"""The operators (kopf): the Planner, the Enactors and the Scenario controller, and
their shared kopf settings, JSON events and metrics (telemetry)."""
