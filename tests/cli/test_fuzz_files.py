"""Property: every file format the command line reads survives hostile bytes (issue 18 item 2).

For each format — scenario (`scenario check`), bundle (`serve`), result record (`export`
of a comparison citing it) and snapshot (`serve --snapshot`) — Hypothesis mutates a valid
file: hostile bytes inserted (invalid UTF-8, NUL, byte-order marks, NaN, overflowing
numbers, 5,000-digit integers, 10,000-deep nesting, an alias bomb), truncated, re-encoded
as UTF-16, or one value replaced by a hostile one and written back (a bundle re-hashed so
that its contents are checked, not only its hash). The command must then either accept
the file (exit 0) or exit 2 with `error: path: reason` lines — never a traceback, never a
hang (each run is interrupted after 30 s), and nothing written when it refuses.

``ORDERCYCLE_FUZZ_EXAMPLES`` sets the examples per format (default 40; derandomised).
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import os
import re
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ordercycle.policies.bundle import bundle_hash, make_bundle, write_bundle
from ordercycle.policies.service import server as server_module
from ordercycle.scenarios.loader import builtin_path, content_hash, load, override
from ordercycle.sim.cli import main

EXAMPLES = int(os.environ.get("ORDERCYCLE_FUZZ_EXAMPLES", "40"))
SECONDS_PER_RUN = 30
ROOT = Path(__file__).resolve().parents[2]
PROBLEM_LINE = re.compile(r"^error: \S.*?: \S")
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def alias_bomb() -> bytes:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    return ("\n".join(lines) + "\n").encode()


PAYLOADS = [b"\xff", b"\xc3\x28", b"\x00", b"\xef\xbb\xbf", b"\xff\xfe", b"NaN", b"-Infinity", b"1e999",
            b".nan", b".inf", b"9" * 5000, b"[" * 10_000, b"{" * 10_000, b"&a [*a]", b"*undefined", b'"',
            b"\n\t- ", b": : :", b"!!python/object/apply:os.system [id]", b"true", b"-1e308"]
HOSTILE_VALUES = [None, True, False, -1, 0, 10**50, 1e308, -1e308, math.nan, math.inf, -math.inf, "",
                  "x" * 10_000, [], {}, [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],
                  {"dist": "fixed", "value": True}, "../../../etc/passwd"]


@st.composite
def byte_mutations(draw: Any, original: bytes, yaml_text: bool) -> bytes:
    """``original`` with hostile bytes: inserted, spliced, truncated or re-encoded."""
    kind = draw(st.sampled_from(["insert", "replace", "truncate", "utf16", "bomb"] if yaml_text
                                else ["insert", "replace", "truncate", "utf16"]))
    at = draw(st.integers(0, len(original)))
    if kind == "insert":
        payload = draw(st.sampled_from(PAYLOADS) | st.binary(min_size=1, max_size=8))
        return original[:at] + payload + original[at:]
    if kind == "replace":
        return original[:at] + draw(st.binary(min_size=1, max_size=32)) + original[at + 32:]
    if kind == "truncate":
        return original[:at]
    if kind == "utf16":
        return original.decode("utf-8").encode(draw(st.sampled_from(["utf-16", "utf-16-le", "utf-32"])))
    return alias_bomb() + original


def _places(node: Any, path: tuple = ()) -> Iterator[tuple]:
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _places(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _places(value, (*path, index))


@st.composite
def value_mutations(draw: Any, document: Any) -> Any:
    """``document`` with one value (anywhere) replaced by a hostile one."""
    places = [place for place in _places(document) if place]
    place = draw(st.sampled_from(places))
    mutated = copy.deepcopy(document)
    target = mutated
    for key in place[:-1]:
        target = target[key]
    target[place[-1]] = draw(st.sampled_from(HOSTILE_VALUES))
    return mutated


class Hang(Exception):
    """A command ran longer than :data:`SECONDS_PER_RUN`."""


def _listing(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.rglob("*") if p.is_file()}


def run_cli(argv: list[str], folder: Path) -> tuple[int, str]:
    """``ordercycle ARGV`` in ``folder`` (interrupted after 30 s): its exit code and stderr."""
    err, out = io.StringIO(), io.StringIO()

    def interrupt(signum: int, frame: Any) -> None:
        raise Hang(f"ordercycle {' '.join(argv)} ran longer than {SECONDS_PER_RUN} s")

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, SECONDS_PER_RUN)
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out), \
                mock.patch.object(server_module, "serve", lambda *args, **kwargs: None):
            code = main(argv)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        os.chdir(cwd)
    return code, err.getvalue()


def assert_clean_refusal(argv: list[str], folder: Path) -> None:
    """Exit 0, or exit 2 with only ``error: path: reason`` lines and nothing written."""
    before = _listing(folder)
    code, err = run_cli(argv, folder)
    assert "Traceback" not in err, err
    if code == 0:
        return
    assert code == 2, (code, err)
    lines = [line for line in err.splitlines() if not line.startswith("warning: ")]
    assert lines and all(line.startswith("error: ") for line in lines), err
    assert any(PROBLEM_LINE.match(line) for line in lines), err
    assert all(len(line) < 2000 for line in lines), "a message quotes too much of its input"
    assert _listing(folder) == before, "a refused command wrote files"


# --- the formats ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bundle_bytes() -> bytes:
    scenario = load("baseline")
    policies = scenario.policies.model_dump(mode="json")
    document = make_bundle(policies, scenario=scenario.model_dump(mode="json"), scenario_name=scenario.name,
                           scenario_hash=content_hash(scenario), evidence={"source": "fuzz"},
                           package_version="0.1.0", created_at="2025-01-01T00:00:00Z")
    with tempfile.TemporaryDirectory() as folder:
        return write_bundle(json.loads(json.dumps(document)), Path(folder) / "b.json").read_bytes()


@pytest.fixture(scope="module")
def comparison_folder(tmp_path_factory) -> Path:
    """A real comparison (two sets, two replications) with its result store."""
    from ordercycle.sim.experiments import compare, write_comparison

    scenario = override(load("around-the-clock"), horizon_days=8, warmup_days=1)
    folder = tmp_path_factory.mktemp("fuzz") / "compare"
    sets = {"fifo": {}, "edd": {"priority": "edd"}}
    comparison = compare(scenario, sets, reps=2, seed=3, out=folder)
    return write_comparison(comparison, folder)


SCENARIO = builtin_path("baseline").read_bytes()
SNAPSHOT = (ROOT / "scenarios" / "twin" / "example-snapshot.json").read_bytes()


@FUZZ
@given(data=st.data())
def test_scenario_files(data):
    if data.draw(st.booleans()):
        content = data.draw(byte_mutations(SCENARIO, yaml_text=True))
    else:
        mutated = data.draw(value_mutations(yaml.safe_load(SCENARIO)))
        content = yaml.safe_dump(mutated, allow_unicode=True).encode()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "scenario.yaml").write_bytes(content)
        assert_clean_refusal(["scenario", "check", "scenario.yaml"], folder)


@FUZZ
@given(data=st.data())
def test_bundle_files(data, bundle_bytes):
    if data.draw(st.booleans()):
        content = data.draw(byte_mutations(bundle_bytes, yaml_text=False))
    else:
        mutated = data.draw(value_mutations(json.loads(bundle_bytes)))
        if isinstance(mutated, dict) and data.draw(st.booleans()):
            with contextlib.suppress(ValueError, TypeError):  # re-hashed: the contents are checked
                mutated["content_hash"] = bundle_hash(mutated)
        content = json.dumps(mutated, allow_nan=True).encode()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "bundle.json").write_bytes(content)
        assert_clean_refusal(["serve", "bundle.json", "--db", "log.sqlite"], folder)


@FUZZ
@given(data=st.data())
def test_result_records(data, comparison_folder):
    records = sorted((comparison_folder / "runs").glob("*.json"))
    record = data.draw(st.sampled_from(records))
    original = record.read_bytes()
    if data.draw(st.booleans()):
        content = data.draw(byte_mutations(original, yaml_text=False))
    else:
        mutated = data.draw(value_mutations(json.loads(original)))
        content = json.dumps(mutated, allow_nan=True).encode()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        shutil.copytree(comparison_folder, folder / "compare")
        (folder / "compare" / "runs" / record.name).write_bytes(content)
        assert_clean_refusal(["export", "compare", "--set", "edd", "--out", "bundle.json"], folder)


@FUZZ
@given(data=st.data())
def test_snapshot_files(data, bundle_bytes):
    if data.draw(st.booleans()):
        content = data.draw(byte_mutations(SNAPSHOT, yaml_text=False))
    else:
        mutated = data.draw(value_mutations(json.loads(SNAPSHOT)))
        content = json.dumps(mutated, allow_nan=True).encode()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "bundle.json").write_bytes(bundle_bytes)
        (folder / "snapshot.json").write_bytes(content)
        argv = ["serve", "bundle.json", "--snapshot", "snapshot.json", "--db", "log.sqlite"]
        assert_clean_refusal(argv, folder)


def test_a_damaged_record_never_crashes_the_store(comparison_folder):
    """The resume path reads records through ResultStore.get: a damaged one is missing, never an error."""
    from ordercycle.sim.experiments.store import ResultStore, record_problem

    @FUZZ
    @given(data=st.data())
    def check(data):
        record = data.draw(st.sampled_from(sorted((comparison_folder / "runs").glob("*.json"))))
        content = data.draw(byte_mutations(record.read_bytes(), yaml_text=False)
                            | value_mutations(json.loads(record.read_bytes())).map(
                                lambda d: json.dumps(d, allow_nan=True).encode()))
        with tempfile.TemporaryDirectory() as name:
            store = ResultStore(name)
            store.path(record.stem).write_bytes(content)
            outcome = store.get(record.stem)
            assert outcome is None or (record_problem(outcome) is None and outcome["status"] == "ok")

    check()
