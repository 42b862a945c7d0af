"""``ordercycle serve`` as a real process for the tests: started on a free loopback port,
ready when ``/healthz`` answers, stopped by a signal."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx
from service_helpers import TOKEN


def free_port() -> int:
    """A TCP port free on loopback now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """An ``ordercycle serve`` subprocess on a free loopback port.

    Args:
        bundle: the bundle file to serve.
        db: the decision log (a SQLite file or a ``postgresql://`` URL).
        logs: file the server's standard error is appended to.
        extra: further options of ``serve``.
        env: environment variables to add (the token is ``ORDERCYCLE_TOKEN`` unless ``env``
            sets it to ``None``).
    """

    def __init__(self, bundle: Path, db: str | Path, logs: Path, extra: Sequence[str] = (),
                 env: Mapping[str, str | None] | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.stderr = logs.open("ab")
        environment = {**os.environ, "ORDERCYCLE_TOKEN": TOKEN, **(env or {})}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ordercycle.sim.cli", "serve", str(bundle), "--port", str(self.port),
             "--db", str(db), *extra],
            env={key: value for key, value in environment.items() if value is not None},
            stdout=subprocess.DEVNULL, stderr=self.stderr)
        self.logs = logs

    def wait_ready(self, patience_seconds: float = 120.0) -> Server:
        """Poll ``/healthz`` until it answers (fails if the process dies first)."""
        deadline = time.monotonic() + patience_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited {self.process.returncode}: {self.logs.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2.0).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"serve did not start: {self.logs.read_text()}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Send ``sig`` (if still running) and wait for the process to end."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        self.process.wait(timeout=60)
        self.stderr.close()
