"""``python -m ordercycle.sim.cli``: the ``ordercycle`` command."""

import sys

from ordercycle.sim.cli.parser import main

if __name__ == "__main__":
    sys.exit(main())
