"""Where finished replications are kept: one small JSON file each, named by content key.

The :class:`ResultStore` writes each finished replication at once (to a temporary
file, then an atomic rename), named by the content key of what it computed: an
interrupted experiment re-run with the same command finds what is done and computes
only what is missing.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from ordercycle.policies.input_files import InputFileError, read_json

Outcome = dict[str, Any]
"""What a replication returns: ``status`` (``ok`` or ``error``) and its results or error."""

MAX_RECORD_BYTES = 16 * 1024 * 1024
"""Largest result record read (KPIs, and for a warm-up pilot two daily series)."""

logger = logging.getLogger(__name__)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def record_problem(outcome: Any) -> str | None:
    """Why ``outcome`` (a parsed result record) is not one a replication writes, or None.

    A successful record is an object with ``status: ok``, ``kpis`` mapping names to
    numbers (``NaN`` or null where undefined), optionally ``series`` mapping names to
    lists of numbers and ``seconds``.
    """
    if not isinstance(outcome, dict):
        return f"must be a JSON object, got {type(outcome).__name__}"
    if outcome.get("status") != "ok":
        return None
    kpis = outcome.get("kpis")
    if not isinstance(kpis, dict) or not kpis:
        return "kpis: must be a non-empty object of KPI values"
    bad = next((name for name, value in kpis.items() if value is not None and not _is_number(value)), None)
    if bad is not None:
        return f"kpis.{bad}: must be a number or null, got {type(kpis[bad]).__name__}"
    series = outcome.get("series", {})
    if not isinstance(series, dict) or not all(
            isinstance(values, list) and all(_is_number(v) for v in values) for values in series.values()):
        return "series: must be an object of lists of numbers"
    if "seconds" in outcome and not _is_number(outcome["seconds"]):
        return "seconds: must be a number"
    return None


class ResultStore:
    """Finished replications as one small JSON file each, named by content key."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.folder = self.root / "runs"
        self.folder.mkdir(parents=True, exist_ok=True)
        # Left by a worker killed while writing; its replication is simply run again.
        for stale in self.folder.glob("*.tmp"):
            stale.unlink(missing_ok=True)

    def path(self, key: str) -> Path:
        """Where the outcome of ``key`` is kept."""
        return self.folder / f"{key}.json"

    def get(self, key: str) -> Outcome | None:
        """A stored successful outcome, or None (failed ones are tried again on the next run).

        A damaged record (unreadable, not UTF-8, not JSON, too large or deep, not the
        shape a replication writes) is treated as missing: a warning names it and the
        reason, the file is kept as ``KEY.json.damaged`` for inspection, and the
        replication runs again (its result is deterministic, so nothing is lost).
        """
        path = self.path(key)
        if not path.exists():
            return None
        try:
            outcome = read_json(path, MAX_RECORD_BYTES, allow_nan=True)
        except InputFileError as error:
            return self._damaged(path, error.problems[0].removeprefix(f"{path}: "))
        problem = record_problem(outcome)
        if problem is not None:
            return self._damaged(path, problem)
        return outcome if outcome.get("status") == "ok" else None

    def _damaged(self, path: Path, reason: str) -> None:
        kept = path.with_name(path.name + ".damaged")
        try:
            os.replace(path, kept)
        except OSError:
            kept = path
        logger.warning("warning: %s: damaged result record (%s); running the replication again "
                       "(the damaged file is kept as %s)", path, reason, kept.name)
        return None

    def put(self, key: str, outcome: Outcome) -> None:
        """Write ``outcome`` atomically (temporary file, flush, fsync, rename)."""
        path = self.path(key)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(outcome, handle, allow_nan=True)  # key order kept: it is the column order
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
