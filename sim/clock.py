"""The simulation clock: SimPy's environment with long waits kept off its event heap.

SimPy keeps every scheduled event in one binary heap, and every event processed pops
and pushes through it. In the order cycle most scheduled events at any moment are
*long* waits — invoices awaiting payment (weeks), delivered orders awaiting their
repair call (months), goods in transit, customers considering a quote — while the
events that happen next are short ones (a clerk finishing a task). Measured on the
baseline at day 150: 1,629 events on the heap, 1,300 of them payment waits, so every
pop walks a heap 5–8 times larger than the short events alone would need.

:meth:`Environment.wait` parks a wait of at least ``far_days`` off the heap, in a bucket
per ``pump_days`` of its due time, holding the very heap entry ``schedule()`` would have
pushed (time, priority, sequence number). A *pump* process looks every ``pump_days``
(only while something is parked) and pushes the buckets that reach within ``far_days``
of now onto SimPy's heap, whole. The process sees an ordinary event that fires at
``now + delay``, bit for bit the time and the tie-breaking order a ``Timeout`` would
have had, so outputs are byte-identical to plain timeouts (checked when this was
introduced: every output file of 120-day runs under two policy sets). Parking costs an
append and the pump one push per wait: no second heap. Why 2 days (cachegrind, 120 days,
per inquiry): parking from 5 days on cost 0.8 % more instructions than from 2; a first
version parking from 1 day on (more short transit and quote waits) showed no gain over
plain timeouts at all.

Why a wait reaches the heap before its time: a wait of ``delay ≥ far_days`` made at
``t`` is due at ``d ≥ t + far_days``. The pump looks at least every ``pump_days`` while
the wait is parked, so its last look before ``d`` is at some ``p`` with
``d − pump_days < p ≤ d``, and ``p ≥ t`` (else ``d − t < pump_days ≤ far_days``). At
``p`` it moves every bucket up to the one holding ``p + far_days > d``, so the wait's
bucket ``floor(d / pump_days)`` among them. A wait whose bucket has already been moved
goes straight onto the heap.
"""

from __future__ import annotations

from collections.abc import Generator
from heapq import heappush
from operator import attrgetter
from typing import Any

import simpy
from simpy.core import BoundClass
from simpy.events import NORMAL

INFINITY = float("inf")
FAR_DAYS = 2.0
"""Waits at least this long (days) are parked off SimPy's heap."""
PUMP_DAYS = 1.0
"""How often (days) the pump moves parked waits that have come within ``FAR_DAYS``."""


def bind_early(instance: object) -> None:
    """Bind the ``BoundClass`` attributes (``timeout``, ``process``, ``put`` …) that
    ``instance``'s class inherits, as SimPy does for those its class defines itself.

    SimPy's own ``BoundClass.bind_early`` looks only at ``type(instance).__dict__``, so in
    a subclass every ``env.timeout`` or ``store.put`` went through a Python ``__get__``
    making a new bound method (measured: 13 per inquiry).
    """
    mro = type(instance).__mro__
    for name in sorted({name for klass in mro for name in vars(klass)}):
        attribute = next(vars(klass)[name] for klass in mro if name in vars(klass))  # what the class resolves
        if type(attribute) is BoundClass:
            # never `vars(instance)`: that turns the instance's inline attribute values into a
            # dict and de-specialises every `self._now` in SimPy's loop (measured: +4 % instructions)
            setattr(instance, name, getattr(instance, name))


class Environment(simpy.Environment):
    """A ``simpy.Environment`` whose :meth:`wait` keeps long waits off the event heap.

    ``now`` and ``active_process`` read their attribute in C (``operator.attrgetter``)
    instead of through a Python property: the model reads ``now`` ~50 times per inquiry.

    Args:
        initial_time: simulation time at the start.
        far_days: waits of at least this many time units are parked.
        pump_days: the pump's period (at most ``far_days``).
    """

    def __init__(self, initial_time: float = 0, far_days: float = FAR_DAYS,
                 pump_days: float = PUMP_DAYS):
        if not 0 < pump_days <= far_days:
            raise ValueError(f"pump_days must be in (0, far_days], got {pump_days} with far_days {far_days}")
        super().__init__(initial_time)
        bind_early(self)
        self.far_days = far_days
        self.pump_days = pump_days
        self._parked: dict[int, list[tuple[float, int, int, simpy.Event]]] = {}
        """Parked waits by bucket: ``floor(due / pump_days)`` -> heap entries (unordered)."""
        self._next_bucket = 0
        """Buckets below this one have gone onto the heap."""
        self._pumping = False

    now = property(attrgetter("_now"), doc="The current simulation time.")  # type: ignore[assignment]
    active_process = property(attrgetter("_active_proc"),  # type: ignore[assignment]
                              doc="The currently active process of the environment.")

    def wait(self, delay: float) -> simpy.Event:
        """An event that fires ``delay`` time units from now (like ``timeout(delay)``, value None)."""
        if delay < self.far_days:
            return simpy.Timeout(self, delay)
        if not delay < INFINITY:
            if delay != delay:  # NaN would never come due
                raise ValueError(f"wait: delay must be a number, got {delay}")
            return simpy.Timeout(self, delay)  # never comes: SimPy keeps it at infinity
        event = simpy.Event(self)
        event._ok = True  # triggered with value None; scheduled by the pump
        event._value = None
        due = self._now + delay
        # the heap entry schedule() would make now: same time, priority and sequence number,
        # so even simultaneous events keep the order plain timeouts would have had
        entry = (due, NORMAL, next(self._eid), event)
        bucket = int(due // self.pump_days)
        if bucket < self._next_bucket:  # its bucket is already on the heap
            heappush(self._queue, entry)
            return event
        parked = self._parked.get(bucket)
        if parked is None:
            self._parked[bucket] = [entry]
        else:
            parked.append(entry)
        if not self._pumping:
            self._pumping = True
            self.process(self._pump())
        return event

    @property
    def parked(self) -> int:
        """Waits parked off the heap now."""
        return sum(len(bucket) for bucket in self._parked.values())

    def _pump(self) -> Generator[simpy.Event, Any, None]:
        """Move the buckets of parked waits that come within ``far_days`` onto SimPy's heap."""
        parked, queue, width, far = self._parked, self._queue, self.pump_days, self.far_days
        self._next_bucket = max(self._next_bucket, int(self._now // width))
        while parked:
            yield simpy.Timeout(self, width)
            last = int((self._now + far) // width)  # the bucket holding now + far_days, moved whole
            for bucket in range(self._next_bucket, last + 1):
                for entry in parked.pop(bucket, ()):
                    heappush(queue, entry)
            self._next_bucket = last + 1
        self._pumping = False
