"""A throw-away PostgreSQL server for the tests: ``initdb`` and ``pg_ctl`` into a temporary folder.

The server listens on 127.0.0.1 on a free port (no Unix socket outside its folder), trusts
local connections, and is stopped and deleted at the end of the test session. It runs
without ``fsync`` (the tests kill service processes, never the database server, so what
a commit guarantees to another connection is what they check). ``initdb`` refuses to run
as root: as root (CI), the server runs as the ``postgres`` user that Debian's package
creates, through ``runuser``.

Where the binaries or psycopg are missing the PostgreSQL tests skip, saying why; with
``ORDERCYCLE_REQUIRE_POSTGRES=1`` (set by ``.ci/run``, which installs the package) they
fail instead.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from serve_process import free_port

REQUIRE_ENV = "ORDERCYCLE_REQUIRE_POSTGRES"
SUPERUSER = "ordercycle"
RUN_AS = "postgres"
"""The unprivileged user the server runs as when the tests run as root."""


def unavailable(reason: str) -> None:
    """Skip (fail where :data:`REQUIRE_ENV` is set) because PostgreSQL cannot be had."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1: the PostgreSQL tests must run)")
    pytest.skip(f"{reason}; install Debian's postgresql package (and psycopg) to run them, "
                f"{REQUIRE_ENV}=1 makes this a failure")


BIN_ENV = "ORDERCYCLE_POSTGRES_BIN"
"""Names the folder of ``initdb`` and ``pg_ctl`` where they are neither on the PATH nor in
Debian's place."""


def binaries() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl``: :data:`BIN_ENV`, else on the PATH, else
    Debian's newest ``/usr/lib/postgresql/N/bin``."""
    if os.environ.get(BIN_ENV):
        folder = Path(os.environ[BIN_ENV])
        return folder if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file() else None
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                      key=lambda path: [int(part) for part in re.findall(r"\d+", path.parent.parent.name)])
    return versions[-1].parent if versions else None


class PostgresServer:
    """A PostgreSQL server in a temporary folder; :meth:`start`, :meth:`url`, :meth:`stop`.

    Args:
        bin_dir: the folder of ``initdb`` and ``pg_ctl``.
        durable: run with PostgreSQL's defaults (``fsync``, full page writes: a commit waits
            for the disk, as in production; the benchmarks) instead of without them (the
            tests: faster, and a crash of this throw-away server loses nothing they need).
    """

    def __init__(self, bin_dir: Path, durable: bool = False):
        self.bin_dir = bin_dir
        self.durable = durable
        self.prefix: list[str] = []
        self.owner: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            try:
                self.owner = pwd.getpwnam(RUN_AS)
            except KeyError:
                unavailable(f"running as root, and no {RUN_AS!r} user to run PostgreSQL as "
                            "(initdb refuses root)")
            self.prefix = ["runuser", "-u", RUN_AS, "--"]
        self.folder = Path(tempfile.mkdtemp(prefix="ordercycle-pg-"))
        if self.owner is not None:
            os.chown(self.folder, self.owner.pw_uid, self.owner.pw_gid)
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.port = 0

    def _run(self, *command: str) -> None:
        result = subprocess.run([*self.prefix, *command], capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(command)} failed: {result.stdout}{result.stderr}{log}")

    def start(self) -> PostgresServer:
        """``initdb`` and start on a free port (three tries, should another process take it)."""
        self._run(str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
                  "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
        for attempt in range(3):
            self.port = free_port()
            options = (f"-p {self.port} -c listen_addresses=127.0.0.1 "
                       f"-c unix_socket_directories={self.folder} "
                       + ("-c max_connections=100" if self.durable else
                          "-c fsync=off -c full_page_writes=off -c max_connections=60"))
            try:
                self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w",
                          "-t", "60", "-o", options, "start")
                return self
            except RuntimeError:
                if attempt == 2:
                    raise
        return self

    def url(self, database: str = "postgres") -> str:
        """A ``postgresql://`` URL of one of its databases."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        """Stop at once and delete the folder."""
        try:
            if self.data.exists():
                self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def wait_accepting(url: str, patience_seconds: float = 30.0) -> None:
    """Wait until a connection to ``url`` succeeds."""
    import psycopg

    deadline = time.monotonic() + patience_seconds
    while True:
        try:
            psycopg.connect(url, connect_timeout=5).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
