"""Long work of the workbench: ``ordercycle`` commands run as child processes, one per result folder.

A run the workbench starts is the command line a strategist could type: ``ordercycle compare
DIR/scenario.yaml --sets DIR/sets.yaml --reps 10 … --out DIR`` (or ``keynotes``, ``sweep``,
``export``), started in its own process group with the package's own interpreter. So it
runs on the existing executors (process pool, serial), writes the same result folders and
store as the CLI (a CLI run shows up in the workbench and the reverse), resumes by running
the same command again (finished replications are read from ``DIR/runs/``), and a
request handler never does the work: it starts or stops a process and reads files.

Each started run leaves ``DIR/workbench.json`` (the command, its process id, when it
started and ended, its exit code) and ``DIR/workbench.log`` (its output, with a progress
line at every tenth of each stage). Cancelling sends SIGTERM to the run's process group,
which ends its worker processes too; the result store keeps every replication finished
before (atomic writes), so a resumed run computes only the rest.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RECORD = "workbench.json"
"""The record of a run the workbench started, in its result folder."""
LOG = "workbench.log"
"""The run's output (stdout and stderr), in its result folder."""
KINDS = ("compare", "keynotes", "sweep")
"""The commands the workbench runs as long work."""


@dataclass
class JobRecord:
    """What the workbench knows of a run it started.

    Attributes:
        kind: ``compare``, ``keynotes`` or ``sweep``.
        argv: the command line, ``ordercycle`` first (as a person would type it).
        started_at: Unix time it was started.
        pid: the process id (and process group id) of the command.
        ended_at: Unix time it ended, when the workbench saw it end.
        returncode: its exit code (1: some replications failed, results written; 2: bad input).
        cancelled: whether it was cancelled from the workbench.
        params: what it was asked (replications, seed, confidence …) for the live progress.
    """

    kind: str
    argv: list[str]
    started_at: float
    pid: int = 0
    ended_at: float | None = None
    returncode: int | None = None
    cancelled: bool = False
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def command(self) -> str:
        """The command line as one shell string."""
        return shlex.join(self.argv)


def read_record(folder: Path) -> JobRecord | None:
    """The record of a run the workbench started in ``folder``, or None (a CLI run, or none)."""
    path = folder / RECORD
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return JobRecord(**data)
    except (OSError, ValueError, TypeError):
        return None


def write_record(folder: Path, record: JobRecord) -> None:
    """Write the record atomically."""
    path = folder / RECORD
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(asdict(record), indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def _alive(pid: int) -> bool:
    """Whether a process ``pid`` exists and leads its own process group (as a started run does)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
        return os.getpgid(pid) == pid
    except (ProcessLookupError, PermissionError):
        return False


class JobError(Exception):
    """A run that cannot be started or stopped, said in one line."""


class Jobs:
    """Starts, watches and cancels the workbench's runs.

    Args:
        python: the interpreter that runs ``-m ordercycle.sim.cli`` (default: this one).
        cwd: the working folder of the runs (relative paths in commands are relative to it).
    """

    def __init__(self, python: str | None = None, cwd: Path | None = None):
        self.python = python or sys.executable
        self.cwd = cwd or Path.cwd()
        self._processes: dict[Path, subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()

    def running(self, folder: Path) -> bool:
        """Whether a run is going on in ``folder`` (started here or by an earlier workbench)."""
        folder = folder.resolve()
        with self._lock:
            process = self._processes.get(folder)
        if process is not None:
            return process.poll() is None
        record = read_record(folder)
        return bool(record and record.returncode is None and _alive(record.pid))

    def start(self, folder: Path, kind: str, argv: list[str],
              params: dict[str, Any] | None = None) -> JobRecord:
        """Start ``argv`` (``ordercycle …``) for ``folder``; refused while a run goes on there."""
        if kind not in KINDS or not argv or argv[0] != "ordercycle":
            raise JobError(f"not a workbench run: {kind} {argv[:2]}")
        folder.mkdir(parents=True, exist_ok=True)
        if self.running(folder):
            raise JobError(f"{folder}: a run is going on in this folder "
                           "(one experiment per folder at a time)")
        record = JobRecord(kind, list(argv), time.time(), params=dict(params or {}))
        environment = {**os.environ, "ORDERCYCLE_PROGRESS_SECONDS": "0", "PYTHONUNBUFFERED": "1"}
        with open(folder / LOG, "wb") as log:
            process = subprocess.Popen(
                [self.python, "-m", "ordercycle.sim.cli", *argv[1:]], stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, cwd=self.cwd, env=environment, start_new_session=True)
        record.pid = process.pid
        write_record(folder, record)
        with self._lock:
            self._processes[folder.resolve()] = process
        threading.Thread(target=self._watch, args=(folder, process), daemon=True,
                         name=f"workbench-run-{process.pid}").start()
        return record

    def _watch(self, folder: Path, process: subprocess.Popen[bytes]) -> None:
        returncode = process.wait()
        record = read_record(folder)
        if record is not None and record.pid == process.pid:
            record.returncode, record.ended_at = returncode, time.time()
            write_record(folder, record)
        with self._lock:
            if self._processes.get(folder.resolve()) is process:
                del self._processes[folder.resolve()]

    def cancel(self, folder: Path) -> bool:
        """Stop the run in ``folder`` and its worker processes; False when none was going on."""
        record = read_record(folder)
        if record is None or not self.running(folder):
            return False
        record.cancelled = True
        write_record(folder, record)
        try:
            os.killpg(record.pid, signal.SIGTERM)
        except ProcessLookupError:
            return False
        with self._lock:
            process = self._processes.get(folder.resolve())
        if process is not None:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(record.pid, signal.SIGKILL)
        return True

    def wait(self, folder: Path, timeout: float) -> bool:
        """Wait until the run in ``folder`` ends (and its record says so); whether it did in time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            record = read_record(folder)
            if not self.running(folder) and (record is None or record.returncode is not None
                                             or not _alive(record.pid)):
                return True
            time.sleep(0.1)
        return False

    def close(self) -> None:
        """Leave runs going on (they finish on their own; a later workbench finds them)."""
        with self._lock:
            self._processes.clear()


def state(folder: Path, jobs: Jobs, finished_marker: str) -> str:
    """``running``, ``finished``, ``failed``, ``cancelled``, ``stopped`` or ``incomplete``.

    ``finished_marker`` is the file a finished run of the folder's kind writes last but one
    (``ranking.json`` of a compare): a folder without a record (a CLI run) is finished when it
    is there, incomplete when only replications are (``runs/``).
    """
    record = read_record(folder)
    marker = folder / finished_marker
    if record is None:
        return "finished" if marker.is_file() else "incomplete"
    if jobs.running(folder):
        return "running"
    if record.cancelled:
        return "cancelled"
    if record.returncode is None:  # ended while no workbench watched it
        done = marker.is_file() and marker.stat().st_mtime >= record.started_at
        return "finished" if done else "stopped"
    if record.returncode == 0 or (record.returncode == 1 and marker.is_file()):
        return "finished"
    return "failed"
