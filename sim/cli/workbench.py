"""``ordercycle ui``: the strategist's workbench, a local web app (``docs/workbench.md``).

Access follows ``ordercycle serve``: without a token it listens on loopback only; any other
``--host`` needs a bearer token in the environment variable ``--token-env`` (default
``ORDERCYCLE_TOKEN``), which every request must then carry.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from ordercycle.sim.cli.common import BadInput
from ordercycle.sim.cli.service import is_loopback


def cmd_ui(args: argparse.Namespace) -> int:
    """Serve the workbench under uvicorn until interrupted."""
    problems = []
    if not 0 <= args.port <= 65535:
        problems.append(f"--port: must be between 0 and 65535, got {args.port}")
    if args.workers is not None and args.workers < 1:
        problems.append(f"--workers: must be at least 1, got {args.workers}")
    token = os.environ.get(args.token_env) or None
    if token is None and not is_loopback(args.host):
        problems.append(f"--host {args.host}: refusing to listen beyond loopback without a bearer token; "
                        f"set the environment variable {args.token_env}")
    if problems:
        raise BadInput(problems)
    import uvicorn

    from ordercycle.sim.ui.app import WorkbenchSettings, create_app

    results = Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    app = create_app(WorkbenchSettings(results=results, token=token, workers=args.workers))
    shown = f"[{args.host}]" if ":" in args.host else args.host
    address = f"http://{shown}:{args.port}/"
    auth = (f"open {address}?token=… with the value of ${args.token_env}" if token
            else "no token (loopback only)")
    print(f"ordercycle workbench on {address} — results in {results}/; {auth}; Ctrl-C stops it "
          "(runs going on finish on their own)", file=sys.stderr, flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False)
    return 0


def register(commands: Any) -> None:
    """Add ``ui`` to the command line."""
    ui = commands.add_parser("ui", help="the strategist's workbench: a local web app (docs/workbench.md)")
    ui.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    ui.add_argument("--port", type=int, default=8050, help="port (default 8050)")
    ui.add_argument("--results", default="out", help="results folder: runs are listed from and written to it "
                                                     "(default out, where the CLI writes)")
    ui.add_argument("--workers", type=int, help="default worker processes of a run (default: all cores)")
    ui.add_argument("--token-env", default="ORDERCYCLE_TOKEN",
                    help="environment variable holding the bearer token (default ORDERCYCLE_TOKEN)")
    ui.add_argument("--log-level", default="warning",
                    choices=["critical", "error", "warning", "info", "debug"],
                    help="uvicorn log level (default warning)")
    ui.set_defaults(func=cmd_ui)
