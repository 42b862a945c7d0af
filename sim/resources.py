"""Policy-driven queues built on SimPy's own hooks.

A work centre's waiting jobs live in a :class:`JobStore`, a ``simpy.Store`` whose
``_do_put`` keeps one heap per setup family, ordered by the priority policy's key
(for time-dependent rules such as critical ratio or ATC, one list per family whose
keys are computed when a machine asks),
and whose ``_do_get`` lets the dispatch policy choose among the family heads for the
machine asking. Heaps keep every grant O(log n) however long the backlog
(measured: ``simpy.PriorityResource`` re-sorts its whole queue on every request).

Every dispatch policy runs an expedited head first. A :class:`Machine` remembers the
family whose sequence an expedite interrupted (:meth:`Machine.take_up`): the dispatch
policy is told that family as the machine's current one until the machine's next
ordinary job, and the changeovers into the expedite and back are the expedite's.

When the schedule policy re-plans, :meth:`JobStore.adopt_plan` re-keys the waiting
jobs: expedited jobs released after the plan first (an expedite is a granted plan
change), then the planned jobs in plan order, then the other jobs released after the
plan by the priority rule. Without a plan the order is exactly the priority rule's.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable
from heapq import heapify, heappop, heappush
from typing import Any

import simpy
from simpy.events import NORMAL, PENDING
from simpy.resources.store import StoreGet, StorePut

from ordercycle.policies.contexts import DispatchContext, JobView, OrderView
from ordercycle.policies.sequencing import DispatchPolicy, PriorityPolicy
from ordercycle.sim.clock import bind_early
from ordercycle.sim.entities import Job

EXPEDITED, PLANNED, UNPLANNED = 0, 1, 2
"""Tiers of a queue's sort key: later expedites, then the plan, then the priority rule."""


class Machine:
    """One machine of a work centre: its index, current setup family and interrupted sequence."""

    __slots__ = ("index", "family", "label", "down_until", "interrupted_family", "holding_hours")

    def __init__(self, work_centre: str, index: int):
        self.index = index
        self.family: str | None = None
        self.label = f"{work_centre}:{index}"
        self.down_until = 0.0
        """Simulation day until which the machine is under repair (in the past: it is not)."""
        self.interrupted_family: str | None = None
        """The family whose sequence an expedite interrupted, until the machine's next ordinary job."""
        self.holding_hours = 0.0
        """Work hours left on the job the machine holds (kept on a calendared centre only)."""

    @property
    def sequence_family(self) -> str | None:
        """The family the machine's sequence is on: the interrupted one after an expedite, else its setup."""
        return self.interrupted_family if self.interrupted_family is not None else self.family

    def take_up(self, family: str, expedited: bool, sequence_waiting: bool, changeover: bool) -> bool:
        """Account for the machine taking up a job of ``family``; True if its changeover is an expedite's.

        An expedited job of another family than the machine's setup *interrupts* the sequence
        when a job of the sequence's family was waiting: its changeover is the expedite's, and
        the machine owes a return to that family. While it owes one, every changeover into an
        expedited job is the expedite's, and so is the changeover back: into the machine's next
        ordinary (not expedited) job, if that job is of the interrupted family. The next
        ordinary job ends the interruption whatever its family.

        Args:
            family: setup family of the job taken.
            expedited: the job waited as an expedite.
            sequence_waiting: another job of :attr:`sequence_family` was waiting when it was taken.
            changeover: the machine changes over for it (its setup differs).
        """
        owed = self.interrupted_family
        if expedited:
            if not changeover:
                return False
            if owed is None:
                if not sequence_waiting:
                    return False  # nothing of the machine's family waits: no sequence to break
                self.interrupted_family = self.family
            elif family == owed:
                self.interrupted_family = None  # the expedite leads back into the sequence
            return True
        self.interrupted_family = None
        return owed is not None and changeover and family == owed


class JobGet(StoreGet):
    """A machine's request for its next job.

    Once granted, :attr:`expedited` tells whether the job waited as an expedite and
    :attr:`sequence_waiting` whether another job of the machine's sequence family was waiting.
    """

    def __init__(self, store: JobStore, machine: Machine):
        self.machine = machine
        self.expedited = False
        self.sequence_waiting = False
        super().__init__(store)


class JobStore(simpy.Store):
    """Waiting jobs of one work centre, released by the priority and dispatch policies.

    Args:
        env: the simulation environment.
        work_centre: id of the work centre.
        priority: the policy whose key orders jobs (smallest first; expedites first).
        dispatch: the policy that picks among the best job of each setup family.
        decide: the model's decision hook, ``decide(kind, method, context)``.
    """

    def __init__(self, env: simpy.Environment, work_centre: str, priority: PriorityPolicy,
                 dispatch: DispatchPolicy, decide: Callable[[str, Callable[[Any], Any], Any], Any]):
        super().__init__(env)
        bind_early(self)  # `put` is inherited: SimPy binds only what the class itself defines
        self.time_dependent = priority.time_dependent
        self.work_centre = work_centre
        self._key = priority.key
        self._dispatch = dispatch.dispatch
        self._decide = decide
        self._heaps: dict[str, list[Any]] = {}
        self._sequence = itertools.count()
        self._plan_rank: dict[int, int] = {}
        self.waiting = 0
        self.waiting_hours = 0.0

    def get(self, machine: Machine) -> JobGet:  # type: ignore[override]
        """Request the next job for ``machine``."""
        return JobGet(self, machine)

    def _do_put(self, event: StorePut) -> bool | None:
        job: Job = event.item
        now = self._env.now
        order_view = OrderView(
            job.order.order_id if job.order else -1, job.released_at, job.due_date,
            job.importance, job.quantity, job.remaining_hours, job.expedited,
            job.setup_hours + job.process_hours, job.remaining_days, job.route_load_days,
        )
        job_view = JobView(
            job.job_id, order_view.order_id, job.setup_family, job.due_date, job.importance,
            job.setup_hours + job.process_hours, job.expedited,
        )
        queue = self._heaps.setdefault(job.setup_family, [])
        if self.time_dependent:  # keys change while jobs wait: ranked when a machine asks
            queue.append((order_view, job_view, job, next(self._sequence)))
        else:  # (sort key, job view, job, the priority rule's key: kept for re-plans)
            key = (EXPEDITED if job.expedited else UNPLANNED, self._key(order_view, now), job.released_at,
                   order_view.order_id, next(self._sequence))
            heappush(queue, (key, job_view, job, key))
        self.waiting += 1
        self.waiting_hours += job.setup_hours + job.process_hours
        event.succeed()
        return None

    def _do_get(self, event: JobGet) -> bool | None:  # type: ignore[override]
        if not self.waiting:
            return None
        if self.time_dependent:
            heads = self._ranked_heads(self._env.now)
        else:
            heads = sorted((heap[0] for heap in self._heaps.values() if heap), key=lambda h: h[0])
        chosen = heads[0]
        sequence = event.machine.sequence_family
        if len(heads) > 1:
            context = DispatchContext(
                self.work_centre, event.machine.index, self._env.now, sequence,
                tuple(head[1] for head in heads),
            )
            decision = self._decide("dispatch", self._dispatch, context)
            matches = [head for head in heads if head[1].job_id == decision.job_id]
            if not matches:
                raise RuntimeError(
                    f"dispatch policy chose job {decision.job_id}, not among the candidates "
                    f"{[head[1].job_id for head in heads]} at {self.work_centre}"
                )
            chosen = matches[0]
        job = chosen[2]
        event.expedited = job.expedited
        event.sequence_waiting = any(head[2].setup_family == sequence for head in heads if head is not chosen)
        if self.time_dependent:
            queue = self._heaps[job.setup_family]
            queue.pop(next(i for i, entry in enumerate(queue) if entry[2] is job))
        else:
            heappop(self._heaps[job.setup_family])
        if self._plan_rank:
            self._plan_rank.pop(job.job_id, None)
        self.waiting -= 1
        self.waiting_hours -= job.setup_hours + job.process_hours
        event.succeed(job)
        return None

    def _ranked_heads(self, now: float) -> list[tuple[Any, JobView, Job]]:
        """Best job of each family by keys computed now (time-dependent priority rules)."""
        heads = []
        for queue in self._heaps.values():
            if queue:
                best = min(
                    (self._time_dependent_key(view, job, seq, now), job_view, job)
                    for view, job_view, job, seq in queue
                )
                heads.append(best)
        heads.sort(key=lambda head: head[0])
        return heads

    def _time_dependent_key(self, view: OrderView, job: Job, seq: int, now: float) -> tuple[Any, ...]:
        rank = self._plan_rank.get(job.job_id)
        if rank is not None:
            return (PLANNED, rank, seq)
        return (EXPEDITED if view.expedited else UNPLANNED, self._key(view, now), view.released_at,
                view.order_id, seq)

    def waiting_jobs(self) -> list[JobView]:
        """The waiting jobs in the order the queue would serve them now (ignoring changeovers)."""
        if self.time_dependent:
            now = self._env.now
            entries = [(self._time_dependent_key(view, job, seq, now), job_view)
                       for queue in self._heaps.values() for view, job_view, job, seq in queue]
        else:
            entries = [(entry[0], entry[1]) for queue in self._heaps.values() for entry in queue]
        entries.sort(key=lambda entry: entry[0])
        return [job_view for _, job_view in entries]

    def planned_jobs(self) -> list[int]:
        """Ids of the waiting jobs that the adopted plan ranks, in plan order."""
        return sorted(self._plan_rank, key=self._plan_rank.__getitem__)

    def adopt_plan(self, ranks: dict[int, int]) -> None:
        """Serve the waiting jobs of ``ranks`` (job id -> place) in that order from now on.

        Planned jobs come after expedited jobs released later and before every other
        job released later, which the priority rule orders. The previous plan is
        replaced; a waiting job the new plan leaves out falls back to the priority rule.

        Raises:
            ValueError: if ``ranks`` names a job that is not waiting here.
        """
        waiting = {entry[1].job_id for queue in self._heaps.values() for entry in queue}
        unknown = sorted(set(ranks) - waiting)
        if unknown:
            raise ValueError(f"plan for {self.work_centre} names jobs that are not waiting: {unknown[:10]}")
        self._plan_rank = dict(ranks)
        if self.time_dependent:
            return  # keys are computed when a machine asks
        for family, queue in self._heaps.items():
            rekeyed = []
            for _, job_view, job, priority_key in queue:
                rank = ranks.get(job_view.job_id)
                key = priority_key if rank is None else (PLANNED, rank, priority_key[-1])
                rekeyed.append((key, job_view, job, priority_key))
            heapify(rekeyed)
            self._heaps[family] = rekeyed


_new_event = object.__new__


class SeatRequest(simpy.Event):
    """A request for one seat of a :class:`SeatPool` (usable in a ``with`` block, as SimPy's)."""

    def __init__(self, pool: SeatPool):
        self.env = pool._env
        self.callbacks: list[Any] = []
        self._value = PENDING
        self.resource = pool

    def __enter__(self) -> SeatRequest:
        return self

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        pool = self.resource
        if self._value is PENDING:  # not granted: leave the queue (SimPy's ``cancel``)
            pool._queue.remove(self)
        if exc_type is not GeneratorExit:  # as SimPy: no release on a generator's clean-up
            pool.release(self)


class SeatPool:
    """``simpy.Resource`` (first come, first served) for the model's staff, technicians and carriers,
    in less Python per request and release.

    It schedules exactly the events ``simpy.Resource`` schedules, in the same order, so a run
    is byte-identical to one on SimPy's resource (tested): a request is granted (scheduled) at
    once when a seat is free and no earlier request waits; a release frees the seat at once and
    schedules a release event, and the earliest waiting request is granted when that event is
    processed. What it leaves out is SimPy's generic put/get machinery (two queues scanned on
    every request and release, a callback on every granted request that scans the empty release
    queue) — about a tenth of a baseline year's run time.

    Attributes kept from SimPy's API: ``capacity``, ``count`` (seats in use), ``users``,
    ``queue`` (the waiting requests, oldest first), ``request()``, ``release(request)``.
    """

    def __init__(self, env: simpy.Environment, capacity: int = 1):
        if capacity <= 0:
            raise ValueError('"capacity" must be > 0.')
        self._env = env
        self._capacity = capacity
        self.users: set[SeatRequest] = set()
        self._queue: deque[SeatRequest] = deque()

    @property
    def capacity(self) -> int:
        """Number of seats."""
        return self._capacity

    @property
    def count(self) -> int:
        """Seats in use."""
        return len(self.users)

    @property
    def queue(self) -> deque[SeatRequest]:
        """Requests waiting for a seat, oldest first."""
        return self._queue

    def request(self) -> SeatRequest:
        """Request a seat (an event that fires when it is granted)."""
        request = SeatRequest(self)
        queue = self._queue
        queue.append(request)
        if len(self.users) < self._capacity:  # SimPy grants the oldest waiting request, if any
            self._grant(queue.popleft())
        return request

    def release(self, request: SeatRequest) -> simpy.Event:
        """Free ``request``'s seat (nothing if it holds none); the next request is granted when the
        returned event is processed, as in SimPy."""
        self.users.discard(request)
        env = self._env
        event = _new_event(simpy.Event)  # Event.__init__ without the call: the fields it sets
        event.env = env
        event.callbacks = [self._next]
        event._ok = True
        event._value = None
        heappush(env._queue, (env._now, NORMAL, next(env._eid), event))  # env.schedule(event)
        return event

    def _grant(self, request: SeatRequest) -> None:
        self.users.add(request)
        request._ok = True
        request._value = None
        env = self._env
        heappush(env._queue, (env._now, NORMAL, next(env._eid), request))  # env.schedule(request)

    def _next(self, _event: simpy.Event) -> None:
        if self._queue and len(self.users) < self._capacity:
            self._grant(self._queue.popleft())
