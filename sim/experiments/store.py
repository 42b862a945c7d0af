"""Where finished replications are kept: one small JSON file each, named by content key.

The :class:`ResultStore` writes each finished replication at once (to a temporary
file, then an atomic rename), named by the content key of what it computed: an
interrupted experiment re-run with the same command finds what is done and computes
only what is missing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

Outcome = dict[str, Any]
"""What a replication returns: ``status`` (``ok`` or ``error``) and its results or error."""


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
        """A stored successful outcome, or None (failed ones are tried again on the next run)."""
        path = self.path(key)
        if not path.exists():
            return None
        try:
            outcome = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None  # a torn file cannot happen with the atomic rename, but never trust it
        return outcome if outcome.get("status") == "ok" else None

    def put(self, key: str, outcome: Outcome) -> None:
        """Write ``outcome`` atomically (temporary file, flush, fsync, rename)."""
        path = self.path(key)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(outcome, handle, allow_nan=True)  # key order kept: it is the column order
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
