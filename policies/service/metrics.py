"""Prometheus metrics of the decision service, in the text exposition format (0.0.4).

Three families matter to operations: HTTP requests (count by route and status, latency
histogram by route), decisions (count by decision kind, policy and outcome) and, in
shadow mode, agreement between the live and the shadow bundle. The format is small
enough to write directly (counters and histograms, thread-safe), which keeps the
service free of a metrics dependency.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable

LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5,
                   1.0, 2.5, 5.0, 10.0)
"""Upper bounds (seconds) of the request latency histogram."""

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


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

    def __init__(self, name: str, help_text: str, label_names: tuple[str, ...]):
        self.name, self.help_text, self.label_names = name, help_text, label_names
        self._values: dict[tuple[str, ...], float] = {}
        self._lock = threading.Lock()

    def inc(self, *label_values: str, amount: float = 1.0) -> None:
        """Add ``amount`` to the count of ``label_values``."""
        with self._lock:
            self._values[label_values] = self._values.get(label_values, 0.0) + amount

    def value(self, *label_values: str) -> float:
        """Current count of ``label_values`` (0 if never counted)."""
        with self._lock:
            return self._values.get(label_values, 0.0)

    def render(self) -> Iterable[str]:
        """Exposition lines."""
        yield f"# HELP {self.name} {self.help_text}"
        yield f"# TYPE {self.name} counter"
        with self._lock:
            items = sorted(self._values.items())
        for values, count in items:
            yield f"{self.name}{_labels(self.label_names, values)} {_number(count)}"


class Histogram:
    """Observations bucketed by upper bound, per label set."""

    def __init__(self, name: str, help_text: str, label_names: tuple[str, ...],
                 buckets: tuple[float, ...] = LATENCY_BUCKETS):
        self.name, self.help_text, self.label_names = name, help_text, label_names
        self.buckets = tuple(sorted(buckets))
        self._counts: dict[tuple[str, ...], list[int]] = {}
        self._sums: dict[tuple[str, ...], float] = {}
        self._lock = threading.Lock()

    def observe(self, value: float, *label_values: str) -> None:
        """Record one observation."""
        index = bisect.bisect_left(self.buckets, value)
        with self._lock:
            counts = self._counts.setdefault(label_values, [0] * (len(self.buckets) + 1))
            counts[index] += 1
            self._sums[label_values] = self._sums.get(label_values, 0.0) + value

    def count(self, *label_values: str) -> int:
        """Number of observations of ``label_values``."""
        with self._lock:
            return sum(self._counts.get(label_values, ()))

    def render(self) -> Iterable[str]:
        """Exposition lines (cumulative buckets, ``+Inf``, sum and count)."""
        yield f"# HELP {self.name} {self.help_text}"
        yield f"# TYPE {self.name} histogram"
        with self._lock:
            items = sorted((values, list(counts), self._sums[values])
                           for values, counts in self._counts.items())
        for values, counts, total in items:
            running = 0
            for bound, count in zip((*self.buckets, float("inf")), counts, strict=True):
                running += count
                le = '"+Inf"' if bound == float("inf") else f'"{bound!r}"'
                yield f"{self.name}_bucket{_labels(self.label_names, values, 'le=' + le)} {running}"
            yield f"{self.name}_sum{_labels(self.label_names, values)} {total!r}"
            yield f"{self.name}_count{_labels(self.label_names, values)} {running}"


class ServiceMetrics:
    """The service's metric families."""

    def __init__(self) -> None:
        self.requests = Counter("ordercycle_http_requests_total",
                                "HTTP requests by route, method and status.", ("route", "method", "status"))
        self.latency = Histogram("ordercycle_http_request_duration_seconds",
                                 "Time to answer an HTTP request, by route.", ("route",))
        self.decisions = Counter("ordercycle_decisions_total",
                                 "Decisions taken, by kind, policy and outcome.",
                                 ("decision", "policy", "outcome"))
        self.shadow = Counter("ordercycle_shadow_decisions_total",
                              "Shadow-mode decisions by kind and agreement with the live bundle.",
                              ("decision", "agreement"))
        self.errors = Counter("ordercycle_decision_errors_total",
                              "Requests a policy could not decide (answered 422), by kind.", ("decision",))

    def render(self) -> str:
        """The whole exposition text."""
        lines: list[str] = []
        for family in (self.requests, self.latency, self.decisions, self.shadow, self.errors):
            lines.extend(family.render())
        return "\n".join(lines) + "\n"
