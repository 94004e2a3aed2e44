"""Long-lived processes put what they imported out of the cyclic collector's reach before their
main loop (`gc.freeze`): an operator, however it is started (forked by the supervisor,
executed, or in a pod), and the DynamoDB store. Each case runs in a fresh interpreter: a pytest
worker has frozen its own imports already (`tests/conftest.py`)."""

from __future__ import annotations

import subprocess
import sys

import pytest

# The main loop is replaced by a look at the objects the collector walks: is a function of the
# library imported before it among them?
OPERATOR = """
import gc, kopf
from dnsrace.operators import telemetry
kopf.run = lambda **_: print(any(o is kopf.on.create for o in gc.get_objects()))
telemetry.run_operator("probe")
"""
STORE = """
import gc, sys
from mockaws import store
store.moto_main = lambda argv: print(any(o is store.moto_main_real for o in gc.get_objects()))
store.moto_main_real = sys.modules["moto.server"].main
store.main(["--port", "1"])
"""


@pytest.mark.parametrize("script", [OPERATOR, STORE], ids=["operator", "dynamodb-store"])
def test_the_imported_libraries_are_out_of_the_collectors_reach(script: str) -> None:
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert run.stdout.strip() == "False", run.stderr
