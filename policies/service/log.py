"""The decision log: every decision the service took, appended to an embedded SQLite database.

One row per answered decision: when, which decision kind, the request (the context as
JSON), the response (the decision as JSON), its outcome, the policy and the bundle hash
that decided, the latency, and in shadow mode the shadow bundle's decision and whether
it agrees. The database runs in WAL mode; a row is committed before the service answers,
so every acknowledged decision is in the log even if the process is killed right after
(with ``synchronous=NORMAL`` a commit survives a crash of the process, and with
``synchronous=FULL`` also a loss of power — at one ``fsync`` per decision).

Writers share one connection behind a lock (routes may run in the thread pool); readers
(:func:`query`, the replay) open their own connection and never block the writer.
Checkpoints (copying the WAL back into the database file, with its ``fsync``) run in a
background thread on a connection of their own, so that no request waits for one: left
to SQLite's automatic checkpoint, every ~4 MB of log one request paid 30–40 ms for it.
The writer keeps an automatic checkpoint at a larger size as a bound on the WAL should
the background one never complete under continuous writing.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    at_unix REAL NOT NULL,
    decision TEXT NOT NULL,
    policy TEXT NOT NULL,
    bundle_hash TEXT NOT NULL,
    outcome TEXT NOT NULL,
    latency_ms REAL NOT NULL,
    request TEXT NOT NULL,
    response TEXT NOT NULL,
    shadow_policy TEXT,
    shadow_bundle_hash TEXT,
    shadow_outcome TEXT,
    shadow_response TEXT,
    shadow_agrees INTEGER
);
CREATE INDEX IF NOT EXISTS decisions_at ON decisions (at_unix);
CREATE INDEX IF NOT EXISTS decisions_kind ON decisions (decision, outcome);
"""

COLUMNS = ("id", "at", "at_unix", "decision", "policy", "bundle_hash", "outcome", "latency_ms", "request",
           "response", "shadow_policy", "shadow_bundle_hash", "shadow_outcome", "shadow_response",
           "shadow_agrees")
"""Columns of the ``decisions`` table, in order."""

SYNCHRONOUS = ("normal", "full")

CHECKPOINT_BYTES = 8 * 1024 * 1024
"""Logged text after which the background thread checkpoints (closing the log checkpoints
the rest). Each checkpoint ends with a short pass that holds the writer's lock (two
``fsync``: milliseconds, tens on a busy disk), so it is rare: once per ~300 requests of
100 orders."""
CHECKPOINT = "PRAGMA wal_checkpoint(PASSIVE)"
CATCH_UP_FRAMES = 64
"""Frames written during a background pass that are left to the short pass under the
writer's lock (each pass ends with an ``fsync``, milliseconds)."""
WRITER_AUTOCHECKPOINT_PAGES = 16_000
"""The writer's own automatic checkpoint (pages of 4 KiB, ~64 MB): only a bound on the
WAL; the background thread normally checkpoints long before."""


class DecisionLogError(ValueError):
    """A decision log that cannot be opened or queried; one ``path: reason`` line per problem."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class ShadowRecord:
    """The shadow bundle's answer to the same request."""

    policy: str
    bundle_hash: str
    outcome: str
    response: str
    agrees: bool


def utc_iso(unix_seconds: float) -> str:
    """ISO 8601 UTC text of a Unix time, to the microsecond (sorts like the time)."""
    return datetime.fromtimestamp(unix_seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class DecisionLog:
    """Append-only log of decisions in a SQLite database (WAL).

    Args:
        path: database file (created with its table if missing).
        synchronous: ``"normal"`` (durable across process crashes) or ``"full"``
            (also across power loss; one fsync per decision).
    """

    def __init__(self, path: str | Path, synchronous: str = "normal"):
        if synchronous not in SYNCHRONOUS:
            raise DecisionLogError([f"synchronous: must be one of {SYNCHRONOUS}, got {synchronous!r}"])
        self.path = Path(path)
        try:
            self._connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._connection.execute("PRAGMA journal_mode=WAL")
            self._connection.execute(f"PRAGMA synchronous={synchronous.upper()}")
            self._connection.execute(f"PRAGMA wal_autocheckpoint={WRITER_AUTOCHECKPOINT_PAGES}")
            self._connection.executescript(SCHEMA)
        except sqlite3.Error as error:
            raise DecisionLogError([f"{self.path}: cannot open as a decision log ({error})"]) from None
        self._lock = threading.Lock()
        self._unchecked_bytes = 0
        self._checkpoint_due = threading.Event()
        self._closing = threading.Event()
        self._checkpointer = threading.Thread(target=self._checkpoint_loop, args=(synchronous,),
                                              name="decision-log-checkpoint", daemon=True)
        self._checkpointer.start()

    def _checkpoint_loop(self, synchronous: str) -> None:
        """Background thread: checkpoint when ``CHECKPOINT_BYTES`` were logged since the last one.

        A passive checkpoint runs beside the writer and copies the frames that existed when
        it began; frames written meanwhile keep the WAL from being reset (reused from its
        start), so a second pass, holding the writer's lock, copies those few. The next
        write then starts the WAL afresh: it stays about ``CHECKPOINT_BYTES`` long.
        """
        connection = sqlite3.connect(self.path, isolation_level=None)
        try:
            connection.execute(f"PRAGMA synchronous={synchronous.upper()}")
            while True:
                self._checkpoint_due.wait()
                self._checkpoint_due.clear()
                if self._closing.is_set():
                    break
                checkpointed = 0
                for _ in range(4):  # catch up while the writer keeps appending
                    _, frames, now_checkpointed = connection.execute(CHECKPOINT).fetchone()
                    if frames - checkpointed <= CATCH_UP_FRAMES:
                        break
                    checkpointed = now_checkpointed
                with self._lock:
                    self._unchecked_bytes = 0
                    connection.execute(CHECKPOINT).fetchall()
        except sqlite3.Error:  # a failed checkpoint loses nothing: the writer's own one takes over
            pass
        finally:
            connection.close()

    def append(self, *, decision: str, policy: str, bundle_hash: str, outcome: str, latency_ms: float,
               request: str, response: str, shadow: ShadowRecord | None = None,
               at_unix: float | None = None) -> int:
        """Append one decision and commit it; returns its id (the row is durable on return)."""
        now = time.time() if at_unix is None else at_unix
        row = (utc_iso(now), now, decision, policy, bundle_hash, outcome, latency_ms, request, response,
               *((shadow.policy, shadow.bundle_hash, shadow.outcome, shadow.response, int(shadow.agrees))
                 if shadow else (None,) * 5))
        with self._lock:
            cursor = self._connection.execute(
                "INSERT INTO decisions (at, at_unix, decision, policy, bundle_hash, outcome, latency_ms, "
                "request, response, shadow_policy, shadow_bundle_hash, shadow_outcome, shadow_response, "
                "shadow_agrees) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            self._unchecked_bytes += len(request) + len(response)
            if self._unchecked_bytes >= CHECKPOINT_BYTES:
                self._checkpoint_due.set()
            return int(cursor.lastrowid or 0)

    def count(self) -> int:
        """Number of logged decisions."""
        with self._lock:
            return int(self._connection.execute("SELECT COUNT(*) FROM decisions").fetchone()[0])

    def close(self) -> None:
        """Stop the checkpoint thread and close the connection (checkpoints the WAL)."""
        self._closing.set()
        self._checkpoint_due.set()
        self._checkpointer.join()
        with self._lock:
            self._connection.close()


@dataclass(frozen=True)
class Filters:
    """Which logged decisions to read; ``None`` means no restriction.

    Attributes:
        since: Unix time, inclusive.
        until: Unix time, exclusive.
        decision: decision kind.
        outcome: outcome label (``accept``, ``reject`` …).
        policy: versioned policy id.
        limit: at most this many rows (the most recent ones when ``newest_first``).
        newest_first: order by descending id.
    """

    since: float | None = None
    until: float | None = None
    decision: str | None = None
    outcome: str | None = None
    policy: str | None = None
    limit: int | None = None
    newest_first: bool = False

    def where(self) -> tuple[str, list[Any]]:
        """SQL ``WHERE`` clause and its parameters."""
        clauses, params = [], []
        for column, op, value in (("at_unix", ">=", self.since), ("at_unix", "<", self.until),
                                  ("decision", "=", self.decision), ("outcome", "=", self.outcome),
                                  ("policy", "=", self.policy)):
            if value is not None:
                clauses.append(f"{column} {op} ?")
                params.append(value)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def open_readonly(path: str | Path) -> sqlite3.Connection:
    """A read-only connection to an existing decision log.

    Raises:
        DecisionLogError: if the file is missing or is not a decision log.
    """
    path = Path(path)
    if not path.is_file():
        raise DecisionLogError([f"{path}: no such decision log"])
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)  # ?, # and % escaped
        connection.row_factory = sqlite3.Row
        names = {row[1] for row in connection.execute("PRAGMA table_info(decisions)")}
    except sqlite3.Error as error:
        raise DecisionLogError([f"{path}: not a decision log ({error})"]) from None
    missing = [column for column in COLUMNS if column not in names]
    if missing:
        connection.close()
        raise DecisionLogError([f"{path}: not a decision log (table decisions lacks {', '.join(missing)})"])
    return connection


def query(path: str | Path, filters: Filters = Filters()) -> Iterator[dict[str, Any]]:
    """Logged decisions matching ``filters``, as dicts of :data:`COLUMNS`, oldest first
    (or newest first)."""
    connection = open_readonly(path)
    where, params = filters.where()
    direction = "DESC" if filters.newest_first else "ASC"
    sql = f"SELECT {', '.join(COLUMNS)} FROM decisions{where} ORDER BY id {direction}"
    if filters.limit is not None:
        sql += " LIMIT ?"
        params.append(filters.limit)
    try:
        for row in connection.execute(sql, params):
            yield dict(row)
    finally:
        connection.close()


def summary(path: str | Path, filters: Filters = Filters()) -> list[dict[str, Any]]:
    """Counts per (decision, policy, outcome) with mean latency and shadow disagreement rate."""
    connection = open_readonly(path)
    where, params = filters.where()
    try:
        rows = connection.execute(
            "SELECT decision, policy, outcome, COUNT(*) AS n, AVG(latency_ms) AS mean_latency_ms, "
            "SUM(shadow_agrees IS NOT NULL) AS shadowed, SUM(shadow_agrees = 0) AS disagreements "
            f"FROM decisions{where} GROUP BY decision, policy, outcome ORDER BY decision, policy, outcome",
            params,
        ).fetchall()
    finally:
        connection.close()
    result = []
    for row in rows:
        item = dict(row)
        shadowed = item["shadowed"] or 0
        item["shadow_disagreement_rate"] = (item["disagreements"] or 0) / shadowed if shadowed else None
        result.append(item)
    return result
