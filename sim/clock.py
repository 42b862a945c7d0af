"""The simulation clock: SimPy's environment with long waits kept off its event heap.

SimPy keeps every scheduled event in one binary heap, and every event processed pops
and pushes through it. In the order cycle most scheduled events at any moment are
*long* waits — invoices awaiting payment (weeks), delivered orders awaiting their
repair call (months), goods in transit, customers considering a quote — while the
events that happen next are short ones (a clerk finishing a task). Measured on the
baseline at day 150: 1,629 events on the heap, 1,300 of them payment waits, so every
pop walks a heap 5–8 times larger than the short events alone would need.

:meth:`Environment.wait` parks a wait of at least ``far_days`` in a second heap and a
*pump* process moves it onto SimPy's heap, at its exact time, when it comes within
``far_days`` (the pump looks every ``pump_days`` ≤ ``far_days``, and only while
something is parked). The process sees an ordinary event that fires at ``now +
delay``, bit for bit the time a ``Timeout`` would have had; only the tie-breaking
sequence numbers of simultaneous events differ, and the model's continuous random
times do not tie. Outputs are byte-identical to plain timeouts (checked when this was
introduced: every output file of 120-day runs).

Why a wait is moved before its time and never late: a wait of ``delay ≥ far_days``
made at ``t`` is due at ``d ≥ t + far_days``; the pump's last look before ``d`` is at
some ``p`` with ``d − pump_days < p ≤ d``, and ``p ≥ t`` (else ``d − t < pump_days ≤
far_days``), so the wait is parked by then and ``d < p + far_days``: it is moved.
"""

from __future__ import annotations

from collections.abc import Generator
from heapq import heappop, heappush
from itertools import count
from operator import attrgetter
from typing import Any

import simpy
from simpy.core import BoundClass
from simpy.events import NORMAL

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
        self._parked: list[tuple[float, int, simpy.Event]] = []
        self._parked_seq = count()
        self._pumping = False

    now = property(attrgetter("_now"), doc="The current simulation time.")  # type: ignore[assignment]
    active_process = property(attrgetter("_active_proc"),  # type: ignore[assignment]
                              doc="The currently active process of the environment.")

    def wait(self, delay: float) -> simpy.Event:
        """An event that fires ``delay`` time units from now (like ``timeout(delay)``, value None)."""
        if delay < self.far_days:
            return simpy.Timeout(self, delay)
        if delay != delay:  # NaN would never come due
            raise ValueError(f"wait: delay must be a number, got {delay}")
        event = simpy.Event(self)
        event._ok = True  # triggered with value None; scheduled by the pump
        event._value = None
        heappush(self._parked, (self._now + delay, next(self._parked_seq), event))
        if not self._pumping:
            self._pumping = True
            self.process(self._pump())
        return event

    @property
    def parked(self) -> int:
        """Waits parked off the heap now."""
        return len(self._parked)

    def _pump(self) -> Generator[simpy.Event, Any, None]:
        """Move parked waits that come within ``far_days`` onto SimPy's heap, at their own time."""
        parked, queue, eid = self._parked, self._queue, self._eid
        while parked:
            yield simpy.Timeout(self, self.pump_days)
            horizon = self._now + self.far_days
            while parked and parked[0][0] < horizon:
                due, _, event = heappop(parked)
                heappush(queue, (due, NORMAL, next(eid), event))  # what schedule() does, at `due` exactly
        self._pumping = False
