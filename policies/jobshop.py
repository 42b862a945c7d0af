"""Job-shop scheduling with CP-SAT.

:func:`solve_jobshop` takes a :class:`~ordercycle.policies.jobshop_io.JobShopProblem`
(machines; jobs as chains of operations with durations, optional setup families, due
dates and weights; sequence-dependent changeovers per machine; a frozen horizon) and
returns a :class:`~ordercycle.policies.jobshop_io.JobShopResult`. The model reads like
the OR-Tools samples: data, variables, constraints (one helper per family), objective,
hint, solve, extract. Objectives: makespan, total weighted tardiness, total setup cost,
or a weighted sum of them.

A warm-start hint (a previous schedule or, per machine, a sequence from a dispatching
rule) is always passed to the solver; when it decodes to a complete feasible schedule
(earliest starts in its machine sequences), the result is never worse than it.

The problem and result types, the file readers and the independent feasibility
checker are in :mod:`ordercycle.policies.jobshop_io`; they are re-exported here.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import NamedTuple

from ortools.sat.python import cp_model

from ordercycle.policies.circuits import add_changeover_circuit
from ordercycle.policies.jobshop_io import (
    Job,
    JobShopProblem,
    JobShopResult,
    ObjectiveWeights,
    Operation,
    ScheduledOperation,
    SetupTime,
    Status,
    check_schedule,
)

__all__ = [
    "Job",
    "JobShopProblem",
    "JobShopResult",
    "ObjectiveWeights",
    "Operation",
    "ScheduledOperation",
    "SequenceHint",
    "SetupTime",
    "check_schedule",
    "solve_jobshop",
]

OperationKey = tuple[int, int]
"""(position of the job in ``problem.jobs``, index of the operation in the job)."""

SequenceHint = Mapping[str, Sequence[tuple[str, int]]]
"""Machine name -> the (job name, operation index) pairs it runs, first to last."""


# --- data helpers ------------------------------------------------------------------------


Changeovers = dict[tuple[str, str, str], tuple[int, int]]
"""(machine, from family, to family) -> (setup time, setup cost)."""


@dataclass(frozen=True)
class OperationVars:
    """The CP-SAT variables of one operation."""

    start: cp_model.IntVar
    end: cp_model.IntVar
    interval: cp_model.IntervalVar


class SetupTerms(NamedTuple):
    """What :func:`add_sequence_dependent_setups` adds for one machine."""

    arc_literals: dict[tuple[OperationKey | None, OperationKey | None], cp_model.IntVar]
    """(operation before, operation after) -> true when they are consecutive; ``None`` is the depot."""
    variables: list[cp_model.IntVar]
    """Penalties: literals of the changeovers that cost something."""
    coefficients: list[int]
    """Their costs."""


def _changeovers(problem: JobShopProblem) -> Changeovers:
    return {(s.machine, s.from_family, s.to_family): (s.time, s.time if s.cost is None else s.cost)
            for s in problem.setups}


def _changeover(problem: JobShopProblem, changeovers: Changeovers,
                before: OperationKey, after: OperationKey) -> tuple[int, int]:
    """(time, cost) of running ``after`` right after ``before`` on their machine."""
    first = problem.jobs[before[0]].operations[before[1]]
    second = problem.jobs[after[0]].operations[after[1]]
    if first.family is None or second.family is None:
        return 0, 0
    return changeovers.get((first.machine, first.family, second.family), (0, 0))


def _machine_to_operations(problem: JobShopProblem) -> dict[str, list[OperationKey]]:
    machine_to_operations: dict[str, list[OperationKey]] = {machine: [] for machine in problem.machines}
    for j, job in enumerate(problem.jobs):
        for k, operation in enumerate(job.operations):
            machine_to_operations[operation.machine].append((j, k))
    return machine_to_operations


def _horizon(problem: JobShopProblem) -> int:
    """A time by which some optimal (left-shifted) schedule has ended."""
    longest_setup: dict[str, int] = {}
    for setup in problem.setups:
        longest_setup[setup.machine] = max(longest_setup.get(setup.machine, 0), setup.time)
    base = problem.plan_start
    work = 0
    for job in problem.jobs:
        for operation in job.operations:
            work += operation.duration + longest_setup.get(operation.machine, 0)
            if operation.frozen_start is not None:
                base = max(base, operation.frozen_start + operation.duration)
    return base + work


def _job_ends(problem: JobShopProblem, starts: dict[OperationKey, int]) -> list[int]:
    return [starts[j, len(job.operations) - 1] + job.operations[-1].duration
            for j, job in enumerate(problem.jobs)]


# --- constraint families ------------------------------------------------------------------


def add_frozen_starts(model: cp_model.CpModel, problem: JobShopProblem,
                      operation_vars: dict[OperationKey, OperationVars]) -> None:
    """Keep every frozen operation at its given start.

    Args:
        model: the CP-SAT model.
        problem: the problem.
        operation_vars: start, end and interval of each operation.
    """
    for j, job in enumerate(problem.jobs):
        for k, operation in enumerate(job.operations):
            if operation.frozen_start is not None:
                model.add(operation_vars[j, k].start == operation.frozen_start)


def add_job_precedences(model: cp_model.CpModel, problem: JobShopProblem,
                        operation_vars: dict[OperationKey, OperationVars]) -> None:
    """Each operation of a job starts after the previous one has ended.

    Args:
        model: the CP-SAT model.
        problem: the problem.
        operation_vars: start, end and interval of each operation.
    """
    for j, job in enumerate(problem.jobs):
        for k in range(1, len(job.operations)):
            model.add(operation_vars[j, k].start >= operation_vars[j, k - 1].end)


def add_machine_no_overlap(model: cp_model.CpModel, machine_to_operations: dict[str, list[OperationKey]],
                           operation_vars: dict[OperationKey, OperationVars]) -> None:
    """A machine runs one operation at a time.

    Args:
        model: the CP-SAT model.
        machine_to_operations: the operations of each machine.
        operation_vars: start, end and interval of each operation.
    """
    for operations in machine_to_operations.values():
        if len(operations) > 1:
            model.add_no_overlap([operation_vars[key].interval for key in operations])


def add_sequence_dependent_setups(model: cp_model.CpModel, problem: JobShopProblem, machine: str,
                                  operations: list[OperationKey],
                                  operation_vars: dict[OperationKey, OperationVars],
                                  changeovers: Changeovers) -> SetupTerms:
    """Sequence one machine as a circuit and keep the changeover time between neighbours.

    The shared circuit of :func:`~.circuits.add_changeover_circuit`. Node 0 is a depot:
    the circuit leaves it for the machine's first operation and comes back from its last.
    The arc ``a -> b`` is true when ``b`` runs right after ``a``; then ``b`` starts no
    earlier than the end of ``a`` plus their setup time.

    Args:
        model: the CP-SAT model.
        problem: the problem.
        machine: the machine's name.
        operations: the machine's operations (at least two).
        operation_vars: start, end and interval of each operation.
        changeovers: setup time and cost by (machine, from family, to family).

    Returns:
        The arc literals, and the penalty terms: changeover literals with their costs.
    """
    circuit = add_changeover_circuit(
        model, operations, {key: operation_vars[key].start for key in operations},
        {key: operation_vars[key].end for key in operations},
        lambda before, after: _changeover(problem, changeovers, before, after),
        lambda key: f"{machine}_{key[0]}_{key[1]}")
    return SetupTerms(circuit.arc_literals, circuit.variables, circuit.coefficients)


def add_makespan(model: cp_model.CpModel, problem: JobShopProblem,
                 operation_vars: dict[OperationKey, OperationVars], horizon: int) -> cp_model.IntVar:
    """The makespan: the end of the last operation of any job.

    Args:
        model: the CP-SAT model.
        problem: the problem.
        operation_vars: start, end and interval of each operation.
        horizon: upper bound of every time.

    Returns:
        The makespan variable.
    """
    makespan = model.new_int_var(0, horizon, "makespan")
    model.add_max_equality(makespan, [operation_vars[j, len(job.operations) - 1].end
                                      for j, job in enumerate(problem.jobs)])
    return makespan


def add_weighted_tardiness(model: cp_model.CpModel, problem: JobShopProblem,
                           operation_vars: dict[OperationKey, OperationVars],
                           horizon: int) -> tuple[dict[int, cp_model.IntVar], list[int]]:
    """The tardiness max(0, end - due_date) of each weighted job with a due date.

    Args:
        model: the CP-SAT model.
        problem: the problem.
        operation_vars: start, end and interval of each operation.
        horizon: upper bound of every time.

    Returns:
        Job position -> tardiness variable, and the jobs' weights in the same order.
    """
    tardiness: dict[int, cp_model.IntVar] = {}
    for j, job in enumerate(problem.jobs):
        if job.due_date is None or job.weight == 0:
            continue
        tardiness[j] = model.new_int_var(0, horizon, f"tardiness_{j}")
        last_end = operation_vars[j, len(job.operations) - 1].end
        model.add_max_equality(tardiness[j], [0, last_end - job.due_date])
    return tardiness, [problem.jobs[j].weight for j in tardiness]


# --- hints and criteria ---------------------------------------------------------------------


def _hint_sequences(problem: JobShopProblem, hint: Sequence[ScheduledOperation] | SequenceHint,
                    ) -> tuple[dict[str, list[OperationKey]] | None, dict[OperationKey, int]]:
    """Machine sequences (``None`` unless the hint covers every operation) and hinted starts.

    Raises:
        ValueError: if the hint names unknown jobs, operations or machines, or if a
            sequence hint does not list each operation of a machine exactly once.
    """
    job_position = {job.name: j for j, job in enumerate(problem.jobs)}
    machine_to_operations = _machine_to_operations(problem)

    def key_of(job: str, index: int, where: str) -> OperationKey:
        if job not in job_position or not 0 <= index < len(problem.jobs[job_position[job]].operations):
            raise ValueError(f"hint {where}: unknown operation ({job!r}, {index})")
        return job_position[job], index

    if isinstance(hint, Mapping):
        unknown = sorted(set(hint) - set(machine_to_operations))
        if unknown:
            raise ValueError(f"hint: unknown machine {unknown[0]!r}")
        sequences: dict[str, list[OperationKey]] = {}
        for machine, keys in machine_to_operations.items():
            if machine not in hint and len(keys) > 1:
                raise ValueError(f"hint: no sequence for machine {machine!r}")
            pairs = hint[machine] if machine in hint else [(problem.jobs[j].name, k) for j, k in keys]
            sequence = [key_of(job, index, machine) for job, index in pairs]
            if sorted(sequence) != sorted(keys):
                raise ValueError(f"hint {machine}: must list each of its {len(keys)} operations once")
            sequences[machine] = sequence
        return sequences, {}
    starts = {key_of(scheduled.job, scheduled.index, "operation"): scheduled.start for scheduled in hint}
    if len(starts) < sum(len(keys) for keys in machine_to_operations.values()):
        return None, starts
    sequences = {machine: sorted(keys, key=lambda key: (starts[key], key))
                 for machine, keys in machine_to_operations.items()}
    return sequences, starts


def _left_shift(problem: JobShopProblem, sequences: dict[str, list[OperationKey]],
                changeovers: Changeovers) -> dict[OperationKey, int] | None:
    """Earliest starts that follow the machine sequences, or ``None`` if there are none.

    Sequences that contradict the job order, or a frozen operation that cannot start
    at its frozen time, give ``None``.
    """
    predecessors: dict[OperationKey, list[tuple[OperationKey, int]]] = {}
    for j, job in enumerate(problem.jobs):
        for k in range(len(job.operations)):
            predecessors[j, k] = [((j, k - 1), 0)] if k else []
    for sequence in sequences.values():
        for before, after in pairwise(sequence):
            predecessors[after].append((before, _changeover(problem, changeovers, before, after)[0]))
    successors: dict[OperationKey, list[OperationKey]] = {key: [] for key in predecessors}
    for key, incoming in predecessors.items():
        for p, _ in incoming:
            successors[p].append(key)
    waiting = {key: len(incoming) for key, incoming in predecessors.items()}
    ready = deque(key for key, count in waiting.items() if count == 0)
    starts: dict[OperationKey, int] = {}
    while ready:  # in topological order of the job and machine precedences
        key = ready.popleft()
        operation = problem.jobs[key[0]].operations[key[1]]
        earliest = max([problem.plan_start if operation.frozen_start is None else 0]
                       + [starts[p] + problem.jobs[p[0]].operations[p[1]].duration + gap
                          for p, gap in predecessors[key]])
        if operation.frozen_start is not None:
            if earliest > operation.frozen_start:
                return None
            earliest = operation.frozen_start
        starts[key] = earliest
        for successor in successors[key]:
            waiting[successor] -= 1
            if waiting[successor] == 0:
                ready.append(successor)
    return starts if len(starts) == len(predecessors) else None  # else a cycle


def _criteria(problem: JobShopProblem, starts: dict[OperationKey, int],
              sequences: dict[str, list[OperationKey]], changeovers: Changeovers) -> tuple[int, int, int]:
    """(makespan, weighted tardiness, setup cost) of a schedule."""
    ends = _job_ends(problem, starts)
    tardiness = sum(job.weight * max(0, end - job.due_date)
                    for job, end in zip(problem.jobs, ends, strict=True) if job.due_date is not None)
    setup_cost = sum(_changeover(problem, changeovers, before, after)[1]
                     for sequence in sequences.values() for before, after in pairwise(sequence))
    return max(ends), tardiness, setup_cost


def _weighted(weights: ObjectiveWeights, criteria: tuple[int, int, int]) -> int:
    makespan, tardiness, setup_cost = criteria
    return (weights.makespan * makespan + weights.weighted_tardiness * tardiness
            + weights.setup_cost * setup_cost)


def _hint_derived_variables(model: cp_model.CpModel, problem: JobShopProblem, plan: dict[OperationKey, int],
                            sequences: dict[str, list[OperationKey]], makespan: cp_model.IntVar | None,
                            tardiness: dict[int, cp_model.IntVar],
                            machine_to_setup_terms: dict[str, SetupTerms]) -> None:
    """Hint the makespan, tardiness and arc literals of a complete hint schedule."""
    ends = _job_ends(problem, plan)
    if makespan is not None:
        model.add_hint(makespan, max(ends))
    for j, variable in tardiness.items():
        model.add_hint(variable, max(0, ends[j] - (problem.jobs[j].due_date or 0)))
    for machine, terms in machine_to_setup_terms.items():
        sequence = [None, *sequences[machine], None]
        consecutive = set(pairwise(sequence))
        for arc, literal in terms.arc_literals.items():
            model.add_hint(literal, arc in consecutive)


# --- the solver -----------------------------------------------------------------------------


_STATUS_NAMES: dict[cp_model.CpSolverStatus, Status] = {
    cp_model.OPTIMAL: "optimal",
    cp_model.FEASIBLE: "feasible",
    cp_model.INFEASIBLE: "infeasible",
    cp_model.UNKNOWN: "unknown",
}


def solve_jobshop(problem: JobShopProblem, *, time_limit_seconds: float = 10.0, random_seed: int = 0,
                  num_workers: int = 1, deterministic_time: float | None = None,
                  hint: Sequence[ScheduledOperation] | SequenceHint | None = None) -> JobShopResult:
    """Schedule ``problem`` with CP-SAT.

    Args:
        problem: the problem to solve.
        time_limit_seconds: wall-clock limit of the search, in seconds.
        random_seed: CP-SAT's random seed.
        num_workers: parallel search workers. With 1 worker and a ``deterministic_time``
            limit the result is reproducible; more workers search faster.
        deterministic_time: optional limit in CP-SAT's deterministic time units.
        hint: a warm start, always passed to the solver: a previous schedule
            (``result.operations``, possibly partial), or per machine the sequence of
            (job name, operation index) it runs, e.g. from a dispatching rule. When it
            decodes to a complete feasible schedule (each operation at its earliest start
            in the hinted machine sequences), the result is never worse than that schedule.

    Returns:
        The status, objective, bound, search time and the schedule.

    Raises:
        ValueError: on a bad parameter, or a hint naming unknown jobs, operations or
            machines, or machine sequences that cannot be followed.
    """
    if time_limit_seconds <= 0 or num_workers < 1:
        raise ValueError(f"time_limit_seconds must be > 0 and num_workers >= 1, "
                         f"got {time_limit_seconds} and {num_workers}")
    # Data.
    weights = problem.objective_weights()
    horizon = _horizon(problem)
    machine_to_operations = _machine_to_operations(problem)
    changeovers = _changeovers(problem)
    machines_with_setups = {s.machine for s in problem.setups if s.time or s.cost}

    # Variables: start, end and interval of every operation; not before plan_start unless frozen.
    model = cp_model.CpModel()
    operation_vars: dict[OperationKey, OperationVars] = {}
    for j, job in enumerate(problem.jobs):
        for k, operation in enumerate(job.operations):
            suffix = f"_{j}_{k}"
            earliest = problem.plan_start if operation.frozen_start is None else 0
            start = model.new_int_var(earliest, horizon, "start" + suffix)
            end = model.new_int_var(0, horizon, "end" + suffix)
            interval = model.new_interval_var(start, operation.duration, end, "interval" + suffix)
            operation_vars[j, k] = OperationVars(start, end, interval)

    # Constraints.
    add_frozen_starts(model, problem, operation_vars)
    add_job_precedences(model, problem, operation_vars)
    add_machine_no_overlap(model, machine_to_operations, operation_vars)
    machine_to_setup_terms = {
        machine: add_sequence_dependent_setups(model, problem, machine, keys, operation_vars, changeovers)
        for machine, keys in machine_to_operations.items()
        if machine in machines_with_setups and len(keys) > 1
    }

    # Objective: the weighted sum of the criteria.
    objective_terms: list[cp_model.LinearExprT] = []
    makespan = None
    if weights.makespan:
        makespan = add_makespan(model, problem, operation_vars, horizon)
        objective_terms.append(weights.makespan * makespan)
    tardiness: dict[int, cp_model.IntVar] = {}
    if weights.weighted_tardiness:
        tardiness, job_weights = add_weighted_tardiness(model, problem, operation_vars, horizon)
        objective_terms += [weights.weighted_tardiness * weight * variable
                            for variable, weight in zip(tardiness.values(), job_weights, strict=True)]
    if weights.setup_cost:
        for terms in machine_to_setup_terms.values():
            objective_terms += [weights.setup_cost * cost * literal
                                for literal, cost in zip(terms.variables, terms.coefficients, strict=True)]
    model.minimize(sum(objective_terms))

    # Hint: the left-shifted hint schedule when it decodes, else the hinted starts as given.
    hint_plan, hint_sequences, hint_value = None, None, None
    if hint is not None:
        hint_sequences, hint_starts = _hint_sequences(problem, hint)
        hint_plan = _left_shift(problem, hint_sequences, changeovers) if hint_sequences is not None else None
        if hint_plan is None and not hint_starts:
            raise ValueError("hint: the machine sequences contradict the job order or a frozen start")
        for key, hinted_start in (hint_plan or hint_starts).items():
            duration = problem.jobs[key[0]].operations[key[1]].duration
            model.add_hint(operation_vars[key].start, hinted_start)
            model.add_hint(operation_vars[key].end, hinted_start + duration)
    if hint_plan is not None and hint_sequences is not None:
        hint_value = _weighted(weights, _criteria(problem, hint_plan, hint_sequences, changeovers))
        _hint_derived_variables(model, problem, hint_plan, hint_sequences, makespan, tardiness,
                                machine_to_setup_terms)

    # Solve.
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_seconds
    solver.parameters.random_seed = random_seed
    solver.parameters.num_workers = num_workers
    if deterministic_time is not None:
        solver.parameters.max_deterministic_time = deterministic_time
    status = solver.solve(model)
    if status == cp_model.MODEL_INVALID:
        raise RuntimeError(f"invalid CP-SAT model: {model.validate()}")
    if status == cp_model.INFEASIBLE and hint_plan is not None:
        raise RuntimeError("CP-SAT reports infeasible a problem whose hint decodes to a schedule")

    # Extract: the solver's machine sequences, each operation as early as they allow
    # (never worse), or the hint's schedule when the search found nothing better.
    bound = None if status == cp_model.INFEASIBLE else round(solver.best_objective_bound)
    found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    if found and (hint_value is None or round(solver.objective_value) <= hint_value):
        starts = {key: solver.value(variables.start) for key, variables in operation_vars.items()}
        sequences = {machine: sorted(keys, key=starts.__getitem__)
                     for machine, keys in machine_to_operations.items()}
        starts = _left_shift(problem, sequences, changeovers) or starts
        from_hint = False
    elif hint_plan is not None and hint_sequences is not None:
        starts, sequences, from_hint = hint_plan, hint_sequences, True
    else:
        return JobShopResult(status=_STATUS_NAMES[status], objective=None, bound=bound,
                             solve_seconds=solver.wall_time, operations=())
    criteria = _criteria(problem, starts, sequences, changeovers)
    objective = _weighted(weights, criteria)
    operations = tuple(
        ScheduledOperation(job=job.name, index=k, machine=operation.machine, start=starts[j, k],
                           end=starts[j, k] + operation.duration)
        for j, job in enumerate(problem.jobs) for k, operation in enumerate(job.operations)
    )
    return JobShopResult(
        status="optimal" if bound is not None and objective <= bound else "feasible",
        objective=objective, bound=bound, solve_seconds=solver.wall_time, operations=operations,
        makespan=criteria[0], weighted_tardiness=criteria[1], setup_cost=criteria[2], from_hint=from_hint,
    )
