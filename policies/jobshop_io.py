"""What goes into the job-shop solver and what comes out, and the checks around it.

* The problem schema (:class:`JobShopProblem`, pydantic, ``extra="forbid"``), published as
  JSON Schema by :func:`problem_json_schema`, and the result (:class:`JobShopResult`).
* Readers: :func:`parse_problem` (JSON data), :func:`parse_jsp` (the OR-Library job-shop
  text format) and :func:`load_problem` (a file of either). Bad input raises
  :class:`JobShopInputError` with one ``path: reason`` line per problem.
* :func:`check_schedule`, an independent feasibility checker: it reads only the problem
  and the result, and shares no code with the CP-SAT model in
  :mod:`ordercycle.policies.jobshop` (this module does not import OR-Tools).
"""

from __future__ import annotations

import json
from collections import defaultdict
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError, model_validator

Status = Literal["optimal", "feasible", "infeasible", "unknown"]
"""How far the solver got: proven optimal, a schedule without proof, proven infeasible, or nothing."""

ObjectiveName = Literal["makespan", "weighted_tardiness", "setup_cost"]
"""A single-criterion objective, by name."""

_STRICT = ConfigDict(extra="forbid", frozen=True)


# --- the problem ------------------------------------------------------------------------


class Operation(BaseModel):
    """One step of a job: it holds one machine for ``duration`` time units."""

    model_config = _STRICT

    machine: str = Field(description="Name of the machine that runs the operation (one of `machines`).")
    duration: int = Field(ge=1, description="Processing time, in time units (a whole number, at least 1).")
    family: str | None = Field(
        default=None,
        description="Setup family. Changing from one family to another on a machine takes the setup "
        "time and cost listed in `setups`; an operation without a family needs no setup before or after it.",
    )
    frozen_start: int | None = Field(
        default=None,
        ge=0,
        description="Start fixed by an earlier plan (the frozen horizon), in time units; it is kept.",
    )


class Job(BaseModel):
    """An order's work: operations that run one after the other, in the listed order."""

    model_config = _STRICT

    name: str = Field(min_length=1, description="Unique job name (e.g. the order id).")
    operations: list[Operation] = Field(min_length=1, description="Operations in processing order.")
    due_date: int | None = Field(
        default=None, ge=0, description="Time by which the job's last operation should end, in time units."
    )
    weight: int = Field(
        default=1, ge=0, description="Tardiness weight (e.g. customer importance): cost per time unit late."
    )


class SetupTime(BaseModel):
    """The changeover a machine needs between two consecutive operations of given families."""

    model_config = _STRICT

    machine: str = Field(description="Machine the changeover applies to.")
    from_family: str = Field(description="Family of the operation that ran before.")
    to_family: str = Field(description="Family of the operation that runs next.")
    time: int = Field(ge=0, description="Time from the end of one to the start of the next, in time units.")
    cost: int | None = Field(
        default=None, ge=0, description="Cost of the changeover (objective `setup_cost`); defaults to `time`."
    )


class ObjectiveWeights(BaseModel):
    """A weighted sum of criteria; each weight is a whole number multiplying its criterion."""

    model_config = _STRICT

    makespan: int = Field(default=0, ge=0, description="Weight of the makespan (end of the last operation).")
    weighted_tardiness: int = Field(
        default=0, ge=0, description="Weight of the total weighted tardiness (sum of weight * lateness)."
    )
    setup_cost: int = Field(default=0, ge=0, description="Weight of the total cost of the changeovers.")

    @model_validator(mode="after")
    def _some_weight_positive(self) -> ObjectiveWeights:
        if not (self.makespan or self.weighted_tardiness or self.setup_cost):
            raise ValueError("at least one objective weight must be > 0")
        return self


def _objective_kind(value: object) -> str:
    return "objective-name" if isinstance(value, str) else "objective-weights"


_UNION_TAGS = {"objective-name", "objective-weights"}

ObjectiveSpec = Annotated[
    Union[Annotated[ObjectiveName, Tag("objective-name")],  # noqa: UP007 (tags need the typing form)
          Annotated[ObjectiveWeights, Tag("objective-weights")]],
    Discriminator(_objective_kind),
]
"""An objective name, or the weights of a combination."""


class JobShopProblem(BaseModel):
    """A job-shop scheduling problem; all times are whole numbers of one time unit."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="JobShopProblem")

    name: str = Field(default="jobshop", description="Name of the problem (free text).")
    time_unit: str | None = Field(
        default=None, description="What one time unit is (e.g. `minute`); informational, all times use it."
    )
    machines: list[str] = Field(min_length=1, description="Unique machine names.")
    jobs: list[Job] = Field(min_length=1, description="The jobs to schedule.")
    setups: list[SetupTime] = Field(
        default_factory=list,
        description="Sequence-dependent changeovers per machine; a pair of families not listed needs none. "
        "Nothing is set up before a machine's first operation.",
    )
    objective: ObjectiveSpec = Field(
        default="makespan",
        description="`makespan`, `weighted_tardiness`, `setup_cost`, or an object of weights "
        "(their weighted sum).",
    )
    plan_start: int = Field(
        default=0, ge=0,
        description="Operations that are not frozen start at or after this time (the re-planning time).",
    )

    @model_validator(mode="after")
    def _references_resolve(self) -> JobShopProblem:
        problems: list[str] = []
        if len(set(self.machines)) < len(self.machines):
            problems.append("machines: machine names must be unique")
        job_names: set[str] = set()
        for j, job in enumerate(self.jobs):
            if job.name in job_names:
                problems.append(f"jobs.{j}.name: duplicate job name {job.name!r}")
            job_names.add(job.name)
            for k, operation in enumerate(job.operations):
                if operation.machine not in self.machines:
                    problems.append(f"jobs.{j}.operations.{k}.machine: unknown machine {operation.machine!r}")
        changeovers: set[tuple[str, str, str]] = set()
        for s, setup in enumerate(self.setups):
            if setup.machine not in self.machines:
                problems.append(f"setups.{s}.machine: unknown machine {setup.machine!r}")
            changeover = (setup.machine, setup.from_family, setup.to_family)
            if changeover in changeovers:
                problems.append(f"setups.{s}: changeover {setup.from_family!r} -> {setup.to_family!r} "
                                f"on {setup.machine!r} listed twice")
            changeovers.add(changeover)
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def objective_weights(self) -> ObjectiveWeights:
        """The objective as weights (a name is the weight 1 on that criterion)."""
        if isinstance(self.objective, ObjectiveWeights):
            return self.objective
        return ObjectiveWeights(**{self.objective: 1})


def problem_json_schema() -> dict[str, Any]:
    """The JSON Schema of :class:`JobShopProblem` (what ``ordercycle schedule --schema`` prints)."""
    return JobShopProblem.model_json_schema()


# --- the result -------------------------------------------------------------------------


class ScheduledOperation(BaseModel):
    """Where and when one operation runs."""

    model_config = _STRICT

    job: str = Field(description="Job name.")
    index: int = Field(ge=0, description="Position of the operation in its job, from 0.")
    machine: str = Field(description="Machine that runs it.")
    start: int = Field(description="Start, in time units.")
    end: int = Field(description="End (start + duration), in time units.")


class JobShopResult(BaseModel):
    """What the solver found; the criteria are ``None`` when there is no schedule."""

    model_config = _STRICT

    status: Status = Field(
        description="optimal, feasible (no proof), infeasible (proven) or unknown (no schedule)."
    )
    objective: int | None = Field(description="Objective value of the schedule.")
    bound: int | None = Field(description="Best proven lower bound of the objective.")
    solve_seconds: float = Field(description="Wall time of the CP-SAT search, in seconds.")
    operations: tuple[ScheduledOperation, ...] = Field(description="The schedule, by job then operation.")
    makespan: int | None = Field(default=None, description="End of the last operation.")
    weighted_tardiness: int | None = Field(default=None, description="Sum of weight * max(0, end - due).")
    setup_cost: int | None = Field(default=None, description="Sum of the costs of the changeovers made.")
    from_hint: bool = Field(default=False, description="True when the hint beat all the search found.")


# --- reading problems -------------------------------------------------------------------


class JobShopInputError(ValueError):
    """A problem that cannot be read; ``problems`` holds one ``path: reason`` line each."""

    def __init__(self, problems: list[str]):
        """Keep the problem lines; the message is all of them."""
        super().__init__("\n".join(problems))
        self.problems = problems


def _validation_lines(error: ValidationError) -> list[str]:
    lines: list[str] = []
    for item in error.errors():
        path = ".".join(str(part) for part in item["loc"] if part not in _UNION_TAGS)
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key"
        elif item["type"] not in {"missing", "value_error"} and "input" in item:
            message = f"{message} (got {repr(item['input'])[:60]})"
        if not path:  # cross-field checks name their own paths
            lines.extend(message.splitlines())
        else:
            lines.append(f"{path}: {message[:1].lower()}{message[1:]}")
    return lines


def parse_problem(data: Any) -> JobShopProblem:
    """Validate JSON data (a mapping) into a :class:`JobShopProblem`.

    Raises:
        JobShopInputError: naming the field and the reason of each problem.
    """
    if not isinstance(data, dict):
        raise JobShopInputError([f"<problem>: must be a JSON object, got {type(data).__name__}"])
    try:
        return JobShopProblem.model_validate(data)
    except ValidationError as error:
        raise JobShopInputError(_validation_lines(error)) from None


def _is_separator(content: str) -> bool:
    return not content or set(content) <= set("+-=*")


def _integers(content: str) -> list[int] | None:
    try:
        return [int(token) for token in content.split()]
    except ValueError:
        return None


def parse_jsp(text: str, *, source: str = "<jsp>", name: str = "jobshop") -> JobShopProblem:
    """Read a job shop in the OR-Library text format.

    The first line of numbers is ``jobs machines``; then each job is one line of
    ``machine duration`` pairs, one pair per machine, machines numbered from 0. Blank
    lines, ``#`` comments, separator lines (``+++``) and the text lines of OR-Library
    headers (``instance ft06``, descriptions) before the first line of numbers are
    skipped. Machines and jobs are named by their numbers (``"0"``, ``"1"`` …) and the
    objective is the makespan.

    Args:
        text: the file's content.
        source: the file's name, for messages (``source:line: reason``).
        name: the problem's name.

    Raises:
        JobShopInputError: one line per problem, with its line number.
    """
    header: tuple[int, int] | None = None
    rows: list[tuple[int, list[int]]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        content = line.split("#", 1)[0].strip()
        if _is_separator(content):
            continue
        values = _integers(content)
        if header is None:
            if values is None:
                continue  # header text of OR-Library files
            if len(values) != 2 or min(values) < 1:
                raise JobShopInputError([f"{source}:{number}: expected the line `jobs machines` "
                                         f"(two positive integers), got {content!r}"])
            header = (values[0], values[1])
        elif len(rows) == header[0]:
            raise JobShopInputError([f"{source}:{number}: unexpected content after the {header[0]} jobs the "
                                     "header announced (one instance per file)"])
        elif values is None:
            raise JobShopInputError([f"{source}:{number}: expected `machine duration` integers, "
                                     f"got {content!r}"])
        else:
            rows.append((number, values))
    if header is None:
        raise JobShopInputError([f"{source}: no line `jobs machines` found"])
    n_jobs, n_machines = header
    if len(rows) < n_jobs:
        raise JobShopInputError([f"{source}: the header announces {n_jobs} jobs, found {len(rows)}"])
    problems: list[str] = []
    jobs: list[Job] = []
    for j, (number, values) in enumerate(rows):
        if len(values) != 2 * n_machines:
            problems.append(f"{source}:{number}: job {j}: expected {2 * n_machines} integers "
                            f"({n_machines} machine-duration pairs), got {len(values)}")
            continue
        pairs = list(zip(values[::2], values[1::2], strict=True))
        for machine, duration in pairs:
            if not 0 <= machine < n_machines:
                problems.append(f"{source}:{number}: job {j}: machine {machine} not in 0..{n_machines - 1}")
            if duration < 1:
                problems.append(f"{source}:{number}: job {j}: duration {duration} must be >= 1")
        operations = [Operation(machine=str(m), duration=max(d, 1)) for m, d in pairs]
        jobs.append(Job(name=str(j), operations=operations))
    if problems:
        raise JobShopInputError(problems)
    return JobShopProblem(name=name, machines=[str(m) for m in range(n_machines)], jobs=jobs)


def load_problem(path: str | Path, problem_format: Literal["json", "jsp"] | None = None) -> JobShopProblem:
    """Read a problem file: JSON (the schema) or OR-Library text (``jsp``).

    Args:
        path: the file.
        problem_format: ``json`` or ``jsp``; by default ``jsp`` for a ``.jsp`` suffix, else ``json``.

    Raises:
        JobShopInputError: an unreadable file or an invalid problem, one line per problem.
    """
    path = Path(path)
    problem_format = problem_format or ("jsp" if path.suffix.lower() == ".jsp" else "json")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise JobShopInputError([f"{path}: no such file"]) from None
    except (OSError, UnicodeDecodeError) as error:
        raise JobShopInputError([f"{path}: cannot read: {error}"]) from None
    if problem_format == "jsp":
        return parse_jsp(text, source=str(path), name=path.stem)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise JobShopInputError([f"{path}: not valid JSON ({error}); for OR-Library text use --format jsp"]
                                ) from None
    return parse_problem(data)


# --- the independent feasibility checker --------------------------------------------------


def check_schedule(problem: JobShopProblem, result: JobShopResult) -> list[str]:
    """Every way ``result`` breaks ``problem``; an empty list means the schedule is valid.

    Checked: each operation of the problem is scheduled exactly once, on its machine,
    for its duration; the operations of a job run in order; a machine runs one
    operation at a time and waits for the changeover between consecutive operations;
    frozen operations keep their start and the others start at or after
    ``plan_start``; the reported criteria and objective are those of the schedule, and
    the objective is not below the bound. A result without a schedule
    (``infeasible``/``unknown``) must have no operations.
    """
    if result.status in ("infeasible", "unknown"):
        if result.operations:
            return [f"status {result.status} but {len(result.operations)} operations scheduled"]
        return []
    wanted = {(job.name, k): operation for job in problem.jobs for k, operation in enumerate(job.operations)}
    placed: dict[tuple[str, int], ScheduledOperation] = {}
    violations: list[str] = []
    for scheduled in result.operations:
        ref = (scheduled.job, scheduled.index)
        if ref not in wanted:
            violations.append(f"job {ref[0]!r} operation {ref[1]}: not in the problem")
        elif ref in placed:
            violations.append(f"job {ref[0]!r} operation {ref[1]}: scheduled twice")
        else:
            placed[ref] = scheduled
    violations += [f"job {ref[0]!r} operation {ref[1]}: not scheduled" for ref in wanted if ref not in placed]

    for ref, scheduled in placed.items():
        operation, label = wanted[ref], f"job {ref[0]!r} operation {ref[1]}"
        if scheduled.machine != operation.machine:
            violations.append(f"{label}: runs on {scheduled.machine!r}, its machine is {operation.machine!r}")
        if scheduled.end - scheduled.start != operation.duration:
            length = scheduled.end - scheduled.start
            violations.append(f"{label}: lasts {length}, its duration is {operation.duration}")
        if operation.frozen_start is not None and scheduled.start != operation.frozen_start:
            violations.append(f"{label}: frozen at {operation.frozen_start}, moved to {scheduled.start}")
        if operation.frozen_start is None and scheduled.start < problem.plan_start:
            violations.append(f"{label}: starts at {scheduled.start}, before plan_start {problem.plan_start}")

    for job in problem.jobs:
        for k in range(1, len(job.operations)):
            before, after = placed.get((job.name, k - 1)), placed.get((job.name, k))
            if before is not None and after is not None and after.start < before.end:
                violations.append(f"job {job.name!r} operation {k}: starts at {after.start} before operation "
                                  f"{k - 1} ends at {before.end}")

    changeovers = {(s.machine, s.from_family, s.to_family): s for s in problem.setups}
    machine_runs: dict[str, list[tuple[int, int, tuple[str, int]]]] = defaultdict(list)
    for ref, scheduled in placed.items():
        machine_runs[wanted[ref].machine].append((scheduled.start, scheduled.end, ref))
    setup_cost = 0
    for machine in problem.machines:
        for (_, end, ref_a), (start, _, ref_b) in pairwise(sorted(machine_runs[machine])):
            family_a, family_b = wanted[ref_a].family, wanted[ref_b].family
            changeover = (changeovers.get((machine, family_a, family_b))
                          if family_a is not None and family_b is not None else None)
            gap = 0 if changeover is None else changeover.time
            if changeover is not None:
                setup_cost += changeover.time if changeover.cost is None else changeover.cost
            label_a = f"job {ref_a[0]!r} operation {ref_a[1]}"
            label_b = f"job {ref_b[0]!r} operation {ref_b[1]}"
            if start < end:
                violations.append(f"machine {machine!r}: {label_b} starts at {start} while {label_a} "
                                  f"runs until {end}")
            elif start < end + gap:
                violations.append(f"machine {machine!r}: {label_b} starts at {start}, {start - end} after "
                                  f"{label_a} ends; the changeover {family_a!r} -> {family_b!r} takes {gap}")
    if violations:
        return violations

    ends = {job.name: placed[job.name, len(job.operations) - 1].end for job in problem.jobs}
    criteria = {
        "makespan": max(ends.values()),
        "weighted_tardiness": sum(job.weight * max(0, ends[job.name] - job.due_date)
                                  for job in problem.jobs if job.due_date is not None),
        "setup_cost": setup_cost,
    }
    for criterion, value in criteria.items():
        reported = getattr(result, criterion)
        if reported is not None and reported != value:
            violations.append(f"{criterion}: reported {reported}, the schedule gives {value}")
    weights = problem.objective_weights()
    objective = sum(getattr(weights, criterion) * value for criterion, value in criteria.items())
    if result.objective != objective:
        violations.append(f"objective: reported {result.objective}, the schedule gives {objective}")
    if result.bound is not None and objective < result.bound:
        violations.append(f"objective {objective} is below the proven bound {result.bound}")
    if result.status == "optimal" and result.bound != objective:
        violations.append(f"status optimal but the bound {result.bound} is not the objective {objective}")
    return violations
