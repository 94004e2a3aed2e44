"""`python -m dnsrace.cli`: the same as the `dnsrace` command."""

import sys

from dnsrace.cli.main import main

sys.exit(main())
