"""The decision log: every decision the service took, in SQLite (embedded) or PostgreSQL.

One row per answered decision: when (``at``, the wall clock in UTC; ``context_at``, the
context's own time on the company's calendar, :mod:`.clock`), the decision kind, the
order it is about, its outcome (:func:`ordercycle.policies.outcomes.outcome`), the policy
and the bundle hash that decided, the latency, the request (the context) and the
response (the decision) **as JSON values** — PostgreSQL ``jsonb``, SQLite JSON text
checked by ``json_valid`` — so ``request->>'order_id'`` / ``json_extract(request,
'$.order_id')`` query them, the client's ``Idempotency-Key`` if it sent one, and in
shadow mode the shadow bundle's decision and whether it agrees. A row is committed
before the service answers, so every acknowledged decision is in the log even if the
process is killed right after. An idempotency key is unique in the log: a request
repeated with the same key — to this instance or to another one writing the same
PostgreSQL log — gets the logged decision back instead of a new row.

:func:`open_log` opens the log a ``--db`` names: a ``postgresql://`` URL
(:mod:`.log_postgres`, several service instances share it) or a SQLite file
(:class:`DecisionLog`). :func:`query` and :func:`summary` read either, with the same
columns and the same values.

SQLite runs in WAL mode (with ``synchronous=NORMAL`` a commit survives a crash of the
process, with ``synchronous=FULL`` also a loss of power — at one ``fsync`` per
decision). Writers share one connection behind a lock (routes may run in the thread
pool); readers (:func:`query`, the replay) open their own connection and never block the
writer. Checkpoints (copying the WAL back into the database file, with its ``fsync``)
run in a background thread on a connection of their own, so that no request waits for
one: left to SQLite's automatic checkpoint, every ~4 MB of log one request paid 30–40 ms
for it. The writer keeps an automatic checkpoint at a larger size as a bound on the WAL
should the background one never complete under continuous writing. A log written by an
older version (without ``context_at``, ``order_id``, ``idempotency_key``) gets those
columns on opening; its rows keep them empty.
"""

from __future__ import annotations

import json
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
    request TEXT NOT NULL CHECK (json_valid(request)),
    response TEXT NOT NULL CHECK (json_valid(response)),
    shadow_policy TEXT,
    shadow_bundle_hash TEXT,
    shadow_outcome TEXT,
    shadow_response TEXT CHECK (shadow_response IS NULL OR json_valid(shadow_response)),
    shadow_agrees INTEGER,
    context_at TEXT,
    order_id INTEGER,
    idempotency_key TEXT
);
"""
"""The SQLite table (new columns of later versions are added at the end, see :data:`ADDED`)."""

INDEXES = """
CREATE INDEX IF NOT EXISTS decisions_at ON decisions (at_unix);
CREATE INDEX IF NOT EXISTS decisions_kind ON decisions (decision, outcome);
CREATE INDEX IF NOT EXISTS decisions_order ON decisions (order_id);
CREATE UNIQUE INDEX IF NOT EXISTS decisions_idempotency_key ON decisions (idempotency_key);
"""

ADDED = {"context_at": "TEXT", "order_id": "INTEGER", "idempotency_key": "TEXT"}
"""Columns a log of an older version lacks, added on opening (SQL types)."""

COLUMNS = ("id", "at", "at_unix", "context_at", "decision", "order_id", "outcome", "policy", "bundle_hash",
           "latency_ms", "idempotency_key", "request", "response", "shadow_policy", "shadow_bundle_hash",
           "shadow_outcome", "shadow_response", "shadow_agrees")
"""Columns of a logged decision, in the order :func:`query` gives them (both backends)."""

JSON_COLUMNS = ("request", "response", "shadow_response")
"""Columns holding JSON values (read back as Python values)."""

INSERTED = ("at", "at_unix", "context_at", "decision", "order_id", "outcome", "policy", "bundle_hash",
            "latency_ms", "idempotency_key", "request", "response", "shadow_policy", "shadow_bundle_hash",
            "shadow_outcome", "shadow_response", "shadow_agrees")
"""Columns an append writes, in the order of :func:`row_values`."""

MAX_IDEMPOTENCY_KEY = 200
"""Longest idempotency key accepted (characters)."""

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
BUSY_TIMEOUT_SECONDS = 10.0
"""How long a writer waits for another process's lock on the SQLite file (several
workers of ``serve --workers N`` write one file)."""


class DecisionLogError(ValueError):
    """A decision log that cannot be opened or queried; one ``path: reason`` line per problem."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class DecisionLogUnavailable(RuntimeError):
    """The log could not commit a decision (database unreachable, disk full): the decision
    must not be answered (the service answers 503; a retry with the same idempotency key
    is safe)."""


@dataclass(frozen=True)
class ShadowRecord:
    """The shadow bundle's answer to the same request."""

    policy: str
    bundle_hash: str
    outcome: str
    response: str
    agrees: bool


@dataclass(frozen=True)
class LoggedDecision:
    """A decision in the log, as an append or a look-up by idempotency key finds it.

    Attributes:
        id: its row.
        earlier: ``True`` when the row was logged before, by a request with the same
            idempotency key (nothing was appended).
        request: the logged context (JSON value), when ``earlier``.
        response: the logged decision (JSON value), when ``earlier``.
    """

    id: int
    earlier: bool = False
    request: Any = None
    response: Any = None


def utc_iso(unix_seconds: float) -> str:
    """ISO 8601 UTC text of a Unix time, to the microsecond (sorts like the time)."""
    return datetime.fromtimestamp(unix_seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def is_postgres(target: str | Path) -> bool:
    """Whether a ``--db`` names a PostgreSQL database (a ``postgresql://`` or ``postgres://`` URL)."""
    return str(target).startswith(("postgresql://", "postgres://"))


def row_values(*, decision: str, policy: str, bundle_hash: str, outcome: str, latency_ms: float,
               request: str, response: str, shadow: ShadowRecord | None, at_unix: float | None,
               context_at: str | None, order_id: int | None,
               idempotency_key: str | None) -> tuple[Any, ...]:
    """The values of :data:`INSERTED` for one decision (``at_unix``: now when ``None``)."""
    now = time.time() if at_unix is None else at_unix
    return (utc_iso(now), now, context_at, decision, order_id, outcome, policy, bundle_hash, latency_ms,
            idempotency_key, request, response,
            *((shadow.policy, shadow.bundle_hash, shadow.outcome, shadow.response, shadow.agrees)
              if shadow else (None,) * 5))


def open_log(target: str | Path, synchronous: str = "normal", connections: int | None = None) -> Any:
    """The decision log ``target`` names, opened for appending (created if missing).

    Args:
        target: a SQLite file, or a ``postgresql://`` URL (needs the ``psycopg``
            package: ``pip install 'ordercycle[postgres]'``).
        synchronous: SQLite's ``synchronous`` (``normal`` or ``full``); a PostgreSQL log
            is as durable as its server's ``synchronous_commit`` (on by default).
        connections: a PostgreSQL log's connections per process (``None``: the default,
            :data:`~.log_postgres.DEFAULT_CONNECTIONS`); SQLite has one writer.

    Raises:
        DecisionLogError: if it cannot be opened as a decision log.
    """
    if is_postgres(target):
        from ordercycle.policies.service.log_postgres import DEFAULT_CONNECTIONS, PostgresDecisionLog

        return PostgresDecisionLog(str(target), connections or DEFAULT_CONNECTIONS)
    return DecisionLog(target, synchronous)


class DecisionLog:
    """Append-only log of decisions in a SQLite database (WAL).

    Args:
        path: database file (created with its table if missing).
        synchronous: ``"normal"`` (durable across process crashes) or ``"full"``
            (also across power loss; one fsync per decision).
    """

    commits_in_parallel = False
    """One writer: a commit takes well under a millisecond, on the event loop."""

    def __init__(self, path: str | Path, synchronous: str = "normal"):
        if synchronous not in SYNCHRONOUS:
            raise DecisionLogError([f"synchronous: must be one of {SYNCHRONOUS}, got {synchronous!r}"])
        self.path = Path(path)
        try:
            self._connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None,
                                               timeout=BUSY_TIMEOUT_SECONDS)
            self._connection.execute("PRAGMA journal_mode=WAL")
            self._connection.execute(f"PRAGMA synchronous={synchronous.upper()}")
            self._connection.execute(f"PRAGMA wal_autocheckpoint={WRITER_AUTOCHECKPOINT_PAGES}")
            self._create_or_upgrade()
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

    def _create_or_upgrade(self) -> None:
        """Create the table, or add the columns an older version's log lacks (one process at a
        time: several workers may open the file at once)."""
        connection = self._connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.execute(SCHEMA)
            present = {row[1] for row in connection.execute("PRAGMA table_info(decisions)")}
            for column, sql_type in ADDED.items():
                if column not in present:
                    connection.execute(f"ALTER TABLE decisions ADD COLUMN {column} {sql_type}")
            for statement in filter(str.strip, INDEXES.split(";")):
                connection.execute(statement)
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise

    def append(self, *, decision: str, policy: str, bundle_hash: str, outcome: str, latency_ms: float,
               request: str, response: str, shadow: ShadowRecord | None = None,
               at_unix: float | None = None, context_at: str | None = None, order_id: int | None = None,
               idempotency_key: str | None = None) -> LoggedDecision:
        """Append one decision and commit it (the row is durable on return).

        With an ``idempotency_key`` already in the log nothing is appended: the earlier
        decision is returned (``earlier=True``), with its request and response.

        Raises:
            DecisionLogUnavailable: if the row could not be committed.
        """
        values = row_values(decision=decision, policy=policy, bundle_hash=bundle_hash, outcome=outcome,
                            latency_ms=latency_ms, request=request, response=response, shadow=shadow,
                            at_unix=at_unix, context_at=context_at, order_id=order_id,
                            idempotency_key=idempotency_key)
        sql = (f"INSERT INTO decisions ({', '.join(INSERTED)}) VALUES ({', '.join('?' * len(INSERTED))}) "
               "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id")
        with self._lock:
            try:
                # fetchall: a RETURNING statement commits when it has run to its end
                inserted = self._connection.execute(sql, values).fetchall()
            except sqlite3.Error as error:
                raise DecisionLogUnavailable(f"{self.path}: {error}") from error
            if not inserted:
                earlier = self._find(idempotency_key)
                if earlier is None:  # pragma: no cover - the conflicting row cannot vanish
                    raise DecisionLogUnavailable(f"{self.path}: idempotency key conflict without a row")
                return earlier
            self._unchecked_bytes += len(request) + len(response)
            if self._unchecked_bytes >= CHECKPOINT_BYTES:
                self._checkpoint_due.set()
            return LoggedDecision(int(inserted[0][0]))

    def find(self, idempotency_key: str) -> LoggedDecision | None:
        """The logged decision of a request with this idempotency key, if any."""
        with self._lock:
            try:
                return self._find(idempotency_key)
            except sqlite3.Error as error:
                raise DecisionLogUnavailable(f"{self.path}: {error}") from error

    def _find(self, idempotency_key: str | None) -> LoggedDecision | None:
        row = self._connection.execute(
            "SELECT id, request, response FROM decisions WHERE idempotency_key = ?", (idempotency_key,)
        ).fetchone()
        if row is None:
            return None
        return LoggedDecision(int(row[0]), True, json.loads(row[1]), json.loads(row[2]))

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
        order_id: the order the decisions are about.
        limit: at most this many rows (the most recent ones when ``newest_first``).
        newest_first: order by descending id.
    """

    since: float | None = None
    until: float | None = None
    decision: str | None = None
    outcome: str | None = None
    policy: str | None = None
    order_id: int | None = None
    limit: int | None = None
    newest_first: bool = False

    def where(self, placeholder: str = "?") -> tuple[str, list[Any]]:
        """SQL ``WHERE`` clause and its parameters (``placeholder``: ``?`` for SQLite, ``%s``
        for PostgreSQL)."""
        clauses, params = [], []
        for column, op, value in (("at_unix", ">=", self.since), ("at_unix", "<", self.until),
                                  ("decision", "=", self.decision), ("outcome", "=", self.outcome),
                                  ("policy", "=", self.policy), ("order_id", "=", self.order_id)):
            if value is not None:
                clauses.append(f"{column} {op} {placeholder}")
                params.append(value)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def select(self, columns: str, placeholder: str = "?") -> tuple[str, list[Any]]:
        """``SELECT columns FROM decisions`` with the filters, the order and the limit."""
        where, params = self.where(placeholder)
        sql = f"SELECT {columns} FROM decisions{where} ORDER BY id {'DESC' if self.newest_first else 'ASC'}"
        if self.limit is not None:
            sql += f" LIMIT {placeholder}"
            params.append(self.limit)
        return sql, params


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
    missing = [column for column in COLUMNS if column not in names and column not in ADDED]
    if missing:
        connection.close()
        raise DecisionLogError([f"{path}: not a decision log (table decisions lacks {', '.join(missing)})"])
    return connection


def _sqlite_columns(connection: sqlite3.Connection) -> str:
    """The :data:`COLUMNS` as a select list; ``NULL`` for those an older log lacks."""
    names = {row[1] for row in connection.execute("PRAGMA table_info(decisions)")}
    return ", ".join(column if column in names else f"NULL AS {column}" for column in COLUMNS)


def decoded(row: dict[str, Any]) -> dict[str, Any]:
    """A row of :data:`COLUMNS` with the JSON columns as values and ``shadow_agrees`` a
    boolean (``None`` without a shadow), as both backends give it."""
    for column in JSON_COLUMNS:
        if isinstance(row[column], str):
            row[column] = json.loads(row[column])
    if row["shadow_agrees"] is not None:
        row["shadow_agrees"] = bool(row["shadow_agrees"])
    return row


def query(target: str | Path, filters: Filters = Filters()) -> Iterator[dict[str, Any]]:
    """Logged decisions matching ``filters``, as dicts of :data:`COLUMNS` (JSON columns as
    values), oldest first (or newest first), from a SQLite file or a ``postgresql://`` URL.

    Raises:
        DecisionLogError: if ``target`` is not a decision log.
    """
    if is_postgres(target):
        from ordercycle.policies.service.log_postgres import query_postgres

        yield from query_postgres(str(target), filters)
        return
    connection = open_readonly(target)
    try:
        sql, params = filters.select(_sqlite_columns(connection))
        for row in connection.execute(sql, params):
            yield decoded(dict(row))
    finally:
        connection.close()


SUMMARY_SQL = ("SELECT decision, policy, outcome, COUNT(*) AS n, AVG(latency_ms) AS mean_latency_ms, "
               "COUNT(shadow_agrees) AS shadowed, SUM(CASE WHEN shadow_agrees THEN 0 WHEN shadow_agrees "
               "IS NULL THEN 0 ELSE 1 END) AS disagreements FROM decisions{where} "
               "GROUP BY decision, policy, outcome ORDER BY decision, policy, outcome")
"""Counts per (decision, policy, outcome): the same SQL on both backends."""


def summarised(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Summary rows with the shadow disagreement rate (``None`` where nothing was shadowed)."""
    result = []
    for item in rows:
        item["shadowed"] = int(item["shadowed"] or 0)
        item["disagreements"] = int(item["disagreements"] or 0)
        item["n"] = int(item["n"])
        item["mean_latency_ms"] = float(item["mean_latency_ms"])
        shadowed = item["shadowed"]
        item["shadow_disagreement_rate"] = item["disagreements"] / shadowed if shadowed else None
        result.append(item)
    return result


def summary(target: str | Path, filters: Filters = Filters()) -> list[dict[str, Any]]:
    """Counts per (decision, policy, outcome) with mean latency and shadow disagreement rate,
    from a SQLite file or a ``postgresql://`` URL."""
    if is_postgres(target):
        from ordercycle.policies.service.log_postgres import summary_postgres

        return summary_postgres(str(target), filters)
    connection = open_readonly(target)
    where, params = filters.where()
    try:
        rows = connection.execute(SUMMARY_SQL.format(where=where), params).fetchall()
    finally:
        connection.close()
    return summarised([dict(row) for row in rows])
