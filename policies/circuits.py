"""One CP-SAT constraint family shared by the schedulers: a sequence with changeovers.

Both the stand-alone job shop (:mod:`.jobshop`, one circuit per machine) and in-sim
re-planning (:mod:`.replanning`, one circuit per pooled work centre) sequence a set
of tasks on one resource with sequence-dependent changeovers. :func:`add_changeover_circuit`
builds that circuit the way the OR-Tools samples do: node 0 is a depot; the arc
literal ``a -> b`` is true when ``b`` runs right after ``a``, and then ``b`` starts no
earlier than ``a``'s end plus the changeover time; the depot's arc to a task is
true when it runs first. Changeovers that cost something are returned as penalty
terms for the objective. OR-Tools is not imported here: the caller passes its model.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple, TypeVar

if TYPE_CHECKING:
    from ortools.sat.python import cp_model

K = TypeVar("K", bound=Hashable)


class CircuitTerms(NamedTuple):
    """What :func:`add_changeover_circuit` adds."""

    arc_literals: dict
    """(task before, task after) -> literal, true when they are consecutive; ``None`` is the depot."""
    variables: list
    """Penalties: the literals of arcs whose changeover costs something."""
    coefficients: list[int]
    """Their costs."""


def add_changeover_circuit(
        model: cp_model.CpModel, tasks: Sequence[K], start: Mapping[K, cp_model.IntVar],
        end: Mapping[K, cp_model.IntVar], changeover: Callable[[K, K], tuple[int, int]],
        label: Callable[[K], str], first: Callable[[K], tuple[int | None, int]] | None = None,
) -> CircuitTerms:
    """Sequence ``tasks`` on one resource as a circuit through a depot, with changeovers.

    Args:
        model: the CP-SAT model.
        tasks: the tasks sharing the resource (keys of ``start`` and ``end``).
        start: each task's start variable.
        end: each task's end variable.
        changeover: (time, cost) of running the second task right after the first.
        label: a task's name inside variable names (``next_<a>_<b>``).
        first: optional (earliest start or ``None``, cost) of running a task first
            (e.g. the changeover from the resource's current setup).

    Returns:
        The arc literals by (before, after), the depot being ``None``, and the penalty
        terms: changeover literals with their costs.
    """
    terms = CircuitTerms({}, [], [])
    arcs: list[tuple[int, int, cp_model.IntVar]] = []
    for node, task in enumerate(tasks, start=1):
        opening = model.new_bool_var(f"first_{label(task)}")
        closing = model.new_bool_var(f"last_{label(task)}")
        arcs += [(0, node, opening), (node, 0, closing)]
        terms.arc_literals[None, task], terms.arc_literals[task, None] = opening, closing
        if first is not None:
            earliest, cost = first(task)
            if earliest is not None:
                model.add(start[task] >= earliest).only_enforce_if(opening)
            if cost:
                terms.variables.append(opening)
                terms.coefficients.append(cost)
    for node_before, before in enumerate(tasks, start=1):
        for node_after, after in enumerate(tasks, start=1):
            if before == after:
                continue
            literal = model.new_bool_var(f"next_{label(before)}_{label(after)}")
            arcs.append((node_before, node_after, literal))
            terms.arc_literals[before, after] = literal
            time, cost = changeover(before, after)
            model.add(start[after] >= end[before] + time).only_enforce_if(literal)
            if cost:
                terms.variables.append(literal)
                terms.coefficients.append(cost)
    model.add_circuit(arcs)
    return terms
