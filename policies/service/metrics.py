"""Prometheus metrics of the decision service, in the text exposition format (0.0.4).

Three families matter to operations: HTTP requests (count by route and status, latency
histogram by route), decisions (count by decision kind, policy and outcome) and, in
shadow mode, agreement between the live and the shadow bundle. The format is small
enough to write directly (counters and histograms, thread-safe), which keeps the
service free of a metrics dependency.

**Several workers** (``serve --workers N``: N processes behind one socket, so a scrape
reaches one of them at random). Each worker keeps its values in memory, as one worker does,
and also writes each value, as it changes, into a file of its own in a directory shared by
the run's workers (:class:`SharedValues`, memory-mapped: one 8-byte store per change, no
system call); ``/metrics`` in any worker sums the files of the directory, so every scrape
sees the whole service. Files of workers that stopped (a ``SIGHUP`` replaces them) stay,
so the counts stay totals since the run started; the directory is the run's, made by the
supervisor and removed when it exits (:func:`~.server.serve_workers`), so a restart
starts from zero, which Prometheus reads as a counter reset. The same scheme as the
Prometheus Python client's multiprocess mode, written out in ~80 lines.
"""

from __future__ import annotations

import bisect
import json
import mmap
import os
import struct
import threading
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path

LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5,
                   1.0, 2.5, 5.0, 10.0)
"""Upper bounds (seconds) of the request latency histogram."""

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
METRICS_DIR_ENV = "ORDERCYCLE_METRICS_DIR"
"""The environment variable through which ``serve --workers N`` hands its workers the run's
metrics directory."""

_USED = struct.Struct("<Q")
_LENGTH = struct.Struct("<I")
_VALUE = struct.Struct("<d")
_INITIAL_BYTES = 64 * 1024


class SharedValues:
    """One worker's metric values in a memory-mapped file that every worker of the run reads.

    Layout: 8 bytes, the bytes in use; then entries, each a 4-byte key length, the key (UTF-8
    JSON, padded to 8 bytes) and an 8-byte float, the value. A new key is written before the
    used length grows past it, so a reader never sees half an entry; a value is rewritten in
    place (an aligned 8-byte store). Only this worker writes its file.

    Args:
        directory: the run's metrics directory.
    """

    def __init__(self, directory: str | Path):
        self.path = Path(directory) / f"worker-{os.getpid()}-{uuid.uuid4().hex[:8]}.metrics"
        self._lock = threading.Lock()
        self._offsets: dict[str, int] = {}
        self._closed = False
        self._file = open(self.path, "w+b")  # noqa: SIM115 - open for the worker's life
        self._file.truncate(_INITIAL_BYTES)
        self._map = mmap.mmap(self._file.fileno(), _INITIAL_BYTES)
        self._used = _USED.size
        _USED.pack_into(self._map, 0, self._used)

    def set(self, key: str, value: float) -> None:
        """Store ``value`` under ``key`` (nothing once closed)."""
        if self._closed:
            return
        offset = self._offsets.get(key)
        if offset is None:
            with self._lock:
                offset = self._offsets.get(key)
                if offset is None:
                    offset = self._append(key)
        _VALUE.pack_into(self._map, offset, value)

    def _append(self, key: str) -> int:
        encoded = key.encode("utf-8")
        padded = _LENGTH.size + len(encoded) + (-(_LENGTH.size + len(encoded)) % 8)
        needed = self._used + padded + _VALUE.size
        if needed > len(self._map):
            size = max(needed, 2 * len(self._map))
            self._file.truncate(size)
            self._map.close()
            self._map = mmap.mmap(self._file.fileno(), size)
        entry = self._used
        _LENGTH.pack_into(self._map, entry, len(encoded))
        self._map[entry + _LENGTH.size:entry + _LENGTH.size + len(encoded)] = encoded
        offset = entry + padded
        _VALUE.pack_into(self._map, offset, 0.0)
        self._used = needed
        _USED.pack_into(self._map, 0, needed)  # last: the entry is complete
        self._offsets[key] = offset
        return offset

    def close(self) -> None:
        """Unmap the file (it stays: its counts are part of the run's totals)."""
        with self._lock:
            self._closed = True
        self._map.close()
        self._file.close()


def read_values(path: Path) -> dict[str, float]:
    """The values of one worker's file (a file being created reads as empty)."""
    data = path.read_bytes()
    values: dict[str, float] = {}
    if len(data) < _USED.size:
        return values
    used = min(_USED.unpack_from(data, 0)[0], len(data))
    position = _USED.size
    while position + _LENGTH.size <= used:
        (length,) = _LENGTH.unpack_from(data, position)
        padded = _LENGTH.size + length + (-(_LENGTH.size + length) % 8)
        if position + padded + _VALUE.size > used:
            break
        key = data[position + _LENGTH.size:position + _LENGTH.size + length].decode("utf-8")
        values[key] = _VALUE.unpack_from(data, position + padded)[0]
        position += padded + _VALUE.size
    return values


def summed_values(directory: str | Path) -> dict[str, float]:
    """Every worker's values of the run, summed by key."""
    totals: dict[str, float] = {}
    for path in sorted(Path(directory).glob("worker-*.metrics")):
        try:
            values = read_values(path)
        except OSError:  # pragma: no cover - a file removed while the run ends
            continue
        for key, value in values.items():
            totals[key] = totals.get(key, 0.0) + value
    return totals


def _key(name: str, label_values: tuple[str, ...], part: str | int = "") -> str:
    return json.dumps([name, list(label_values), part], separators=(",", ":"))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(names: tuple[str, ...], values: tuple[str, ...], extra: str = "") -> str:
    parts = [f'{name}="{_escape(value)}"' for name, value in zip(names, values, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def _number(value: float) -> str:
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


class Counter:
    """A monotonically increasing count per label set."""

    def __init__(self, name: str, help_text: str, label_names: tuple[str, ...],
                 shared: SharedValues | None = None):
        self.name, self.help_text, self.label_names = name, help_text, label_names
        self._values: dict[tuple[str, ...], float] = {}
        self._lock = threading.Lock()
        self._shared = shared

    def inc(self, *label_values: str, amount: float = 1.0) -> None:
        """Add ``amount`` to the count of ``label_values``."""
        with self._lock:
            value = self._values[label_values] = self._values.get(label_values, 0.0) + amount
            if self._shared is not None:
                self._shared.set(_key(self.name, label_values), value)

    def value(self, *label_values: str) -> float:
        """Current count of ``label_values`` (0 if never counted)."""
        with self._lock:
            return self._values.get(label_values, 0.0)

    def render(self, summed: Mapping[tuple[str, str | int], float] | None = None) -> Iterable[str]:
        """Exposition lines (of ``summed``, the values of every worker, when given)."""
        yield f"# HELP {self.name} {self.help_text}"
        yield f"# TYPE {self.name} counter"
        with self._lock:
            items = sorted(self._values.items())
        if summed is not None:
            items = sorted((labels, value) for (labels, _), value in summed.items())
        for values, count in items:
            yield f"{self.name}{_labels(self.label_names, values)} {_number(count)}"


class Histogram:
    """Observations bucketed by upper bound, per label set."""

    def __init__(self, name: str, help_text: str, label_names: tuple[str, ...],
                 buckets: tuple[float, ...] = LATENCY_BUCKETS, shared: SharedValues | None = None):
        self.name, self.help_text, self.label_names = name, help_text, label_names
        self.buckets = tuple(sorted(buckets))
        self._counts: dict[tuple[str, ...], list[int]] = {}
        self._sums: dict[tuple[str, ...], float] = {}
        self._lock = threading.Lock()
        self._shared = shared

    def observe(self, value: float, *label_values: str) -> None:
        """Record one observation."""
        index = bisect.bisect_left(self.buckets, value)
        with self._lock:
            counts = self._counts.setdefault(label_values, [0] * (len(self.buckets) + 1))
            counts[index] += 1
            total = self._sums[label_values] = self._sums.get(label_values, 0.0) + value
            if self._shared is not None:
                self._shared.set(_key(self.name, label_values, index), counts[index])
                self._shared.set(_key(self.name, label_values, "sum"), total)

    def count(self, *label_values: str) -> int:
        """Number of observations of ``label_values``."""
        with self._lock:
            return sum(self._counts.get(label_values, ()))

    def render(self, summed: Mapping[tuple[str, str | int], float] | None = None) -> Iterable[str]:
        """Exposition lines (cumulative buckets, ``+Inf``, sum and count; of ``summed``, the
        values of every worker, when given)."""
        yield f"# HELP {self.name} {self.help_text}"
        yield f"# TYPE {self.name} histogram"
        with self._lock:
            items = sorted((values, list(counts), self._sums[values])
                           for values, counts in self._counts.items())
        if summed is not None:
            merged: dict[tuple[str, ...], tuple[list[int], list[float]]] = {}
            for (labels, part), value in summed.items():
                counts, total = merged.setdefault(labels, ([0] * (len(self.buckets) + 1), [0.0]))
                if part == "sum":
                    total[0] += value
                else:
                    counts[int(part)] += int(value)
            items = sorted((labels, counts, total[0]) for labels, (counts, total) in merged.items())
        for values, counts, total in items:
            running = 0
            for bound, count in zip((*self.buckets, float("inf")), counts, strict=True):
                running += count
                le = '"+Inf"' if bound == float("inf") else f'"{bound!r}"'
                yield f"{self.name}_bucket{_labels(self.label_names, values, 'le=' + le)} {running}"
            yield f"{self.name}_sum{_labels(self.label_names, values)} {total!r}"
            yield f"{self.name}_count{_labels(self.label_names, values)} {running}"


class ServiceMetrics:
    """The service's metric families.

    Args:
        shared_dir: the run's metrics directory when several workers serve (each writes its
            values there and :meth:`render` sums them); ``None``: this process alone.
    """

    def __init__(self, shared_dir: str | Path | None = None) -> None:
        self.shared_dir = shared_dir
        shared = SharedValues(shared_dir) if shared_dir is not None else None
        self._shared = shared
        self.requests = Counter("ordercycle_http_requests_total",
                                "HTTP requests by route, method and status.", ("route", "method", "status"),
                                shared)
        self.latency = Histogram("ordercycle_http_request_duration_seconds",
                                 "Time to answer an HTTP request, by route.", ("route",), shared=shared)
        self.decisions = Counter("ordercycle_decisions_total",
                                 "Decisions taken, by kind, policy and outcome.",
                                 ("decision", "policy", "outcome"), shared)
        self.shadow = Counter("ordercycle_shadow_decisions_total",
                              "Shadow-mode decisions by kind and agreement with the live bundle.",
                              ("decision", "agreement"), shared)
        self.errors = Counter("ordercycle_decision_errors_total",
                              "Requests a policy could not decide (answered 422), by kind.", ("decision",),
                              shared)

    def families(self) -> tuple[Counter | Histogram, ...]:
        """The families in the order they are rendered."""
        return (self.requests, self.latency, self.decisions, self.shadow, self.errors)

    def render(self) -> str:
        """The whole exposition text (every worker's values summed, with a shared directory)."""
        by_family: dict[str, dict[tuple[tuple[str, ...], str | int], float]] | None = None
        if self.shared_dir is not None:
            by_family = {family.name: {} for family in self.families()}
            for key, value in summed_values(self.shared_dir).items():
                name, labels, part = json.loads(key)
                if name in by_family:
                    by_family[name][(tuple(labels), part)] = value
        lines: list[str] = []
        for family in self.families():
            lines.extend(family.render(None if by_family is None else by_family[family.name]))
        return "\n".join(lines) + "\n"

    def close(self) -> None:
        """Unmap this worker's file of the shared directory, if any."""
        if self._shared is not None:
            self._shared.close()
            self._shared = None
