"""The DynamoDB storage node: moto's server mode (an in-memory emulator that speaks the DynamoDB
API), the one store every front-end forwards to. Its address is private to the front-ends;
dependents reach DynamoDB only through the regional endpoint's name."""

from __future__ import annotations

import argparse
import gc
import sys

from moto.server import main as moto_main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mockaws-store")
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    # What is imported lives as long as the store: out of the cyclic collector's reach. One
    # cascade-unguarded run: the store's collections 0.26 s without, 0.11 s with. (The other
    # mock services gain nothing from it: with so little frozen they collect in full more often.)
    gc.freeze()
    moto_main(["-H", args.address, "-p", str(args.port)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
