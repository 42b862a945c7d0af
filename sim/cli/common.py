"""What every command group of the command line shares: bad input, policy options, progress, executors.

Bad input exits with code 2 and one line per problem (``path: reason``), never a
traceback: a command raises :class:`BadInput` (or a scenario / policy error) and
:func:`~ordercycle.sim.cli.parser.main` prints it.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import math
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from ordercycle.policies.base import PolicyParameterError, build
from ordercycle.policies.registry import DECISIONS, registry

EXIT_BAD_INPUT = 2


class BadInput(Exception):
    """Input the user must fix; printed as lines, exit code 2."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


MAX_FOLDER_NAME = 80
"""Longest name of a default output folder (file systems allow 255 bytes; paths get long)."""


def folder_name(text: str) -> str:
    """``text`` (a scenario name, a file stem) as one safe folder name: letters, digits, ``.``,
    ``_`` and ``-`` only (every other run of characters becomes ``-``, so a ``/`` or ``..`` cannot
    leave the output folder), no leading dot, at most :data:`MAX_FOLDER_NAME` characters. A name
    that had to be changed or cut ends in 8 hex digits of its SHA-256, so two names never share
    a folder by accident."""
    cleaned = re.sub(r"[^\w.-]+", "-", text).strip("-.").replace("..", "-") or "scenario"
    if cleaned == text and len(cleaned) <= MAX_FOLDER_NAME:
        return cleaned
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{cleaned[:MAX_FOLDER_NAME - 9].rstrip('-.')}-{digest}"


def default_output(kind: str, name: str, seed: int | None = None) -> Path:
    """The default output folder of a command: ``out/KIND-NAME[-seedSEED]``, always inside ``out/``."""
    suffix = f"-seed{seed}" if seed is not None else ""
    return Path("out") / f"{kind}-{folder_name(name)}{suffix}"


class _StderrLines(logging.Handler):
    """Writes each log message as one line to the current ``sys.stderr``."""

    def emit(self, record: logging.LogRecord) -> None:
        print(record.getMessage(), file=sys.stderr)


@contextmanager
def warnings_on_stderr() -> Iterator[None]:
    """While a command runs, the warnings ordercycle logs (a damaged result record run again …)
    are printed on stderr as they are, one line each (``warning: path: reason``)."""
    logger = logging.getLogger("ordercycle")
    handler, propagate, level = _StderrLines(logging.WARNING), logger.propagate, logger.level
    logger.addHandler(handler)
    logger.propagate = False
    if logger.level == logging.NOTSET or logger.level > logging.WARNING:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate, logger.level = propagate, level


def split_outside_brackets(text: str, separator: str = ",") -> list[str]:
    """``text`` split at ``separator`` where it is not inside brackets, braces or quotes."""
    parts, current, depth, quote = [], [], 0, ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == separator and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def parse_policy_params(text: str) -> tuple[dict[str, Any], list[str]]:
    """``PARAM=VALUE,PARAM=VALUE`` as parameters (values read as YAML: ``3``, ``0.5``, ``true``,
    ``edd``, ``[1, 2]``, ``{P1: 10}``), and one ``param: reason`` line per problem."""
    params: dict[str, Any] = {}
    problems: list[str] = []
    for part in split_outside_brackets(text):
        name, sep, value = (piece.strip() for piece in part.partition("="))
        if not sep or not name:
            problems.append(f"{part.strip() or '(empty)'}: expected PARAM=VALUE, e.g. min_units=3")
        elif name in params:
            problems.append(f"{name}: given twice")
        elif not value:
            problems.append(f"{name}: no value after '='")
        else:
            try:
                params[name] = yaml.safe_load(value)
            except yaml.YAMLError:
                problems.append(f"{name}: {value!r} is not a valid YAML value")
    return params, problems


def parse_policy_overrides(items: list[str]) -> dict[str, dict[str, Any]]:
    """``--policy DECISION=NAME[:PARAM=VALUE,...]`` options as policy choices; bad ones exit 2.

    The policy and its parameters are checked by the registry (types, ranges, rules between
    parameters) before anything runs; parameters not given keep the policy's defaults.
    Each problem is one line ``--policy ITEM: param: reason``.
    """
    choices: dict[str, dict[str, Any]] = {}
    problems = []
    for item in items:
        head, colon, params_text = item.partition(":")
        decision, sep, name = (piece.strip() for piece in head.partition("="))
        where = f"--policy {item}"
        if not sep or not name:
            problems.append(
                f"{where}: expected DECISION=NAME[:PARAM=VALUE,...], e.g. priority=edd or "
                "selection=size-threshold:min_units=3"
            )
            continue
        if decision not in DECISIONS:
            problems.append(f"{where}: unknown decision {decision!r} (known: {', '.join(DECISIONS)})")
            continue
        known = registry()[decision]
        if name not in known:
            names = ", ".join(sorted(known))
            problems.append(f"{where}: unknown policy {name!r} for {decision} (known: {names})")
            continue
        params, bad = parse_policy_params(params_text) if colon else ({}, [])
        if colon and not params_text.strip():
            bad = ["expected parameters after ':', e.g. min_units=3"]
        if not bad:
            try:
                build(known[name], params, where="params")
            except PolicyParameterError as error:
                takes = ", ".join(known[name].param_names()) or "no parameters"
                bad = [
                    line.removeprefix("params.")
                    + (f" ({name} takes {takes})" if "unknown parameter" in line else "")
                    for line in error.problems
                ]
        if bad:
            problems += [f"{where}: {line}" for line in bad]
            continue
        choices[decision] = {"name": name, "params": params}
    if problems:
        raise BadInput(problems)
    return choices


def progress_bars(quiet: bool) -> Callable[[str, int], Callable[[], None]]:
    """The experiment layer's progress reporter (``progress(stage, total) -> tick``): one
    :class:`~ordercycle.sim.cli.progress.StageProgress` per stage, on stderr."""
    from ordercycle.sim.cli.progress import StageProgress

    def start(stage: str, total: int) -> Callable[[], None]:
        return StageProgress(stage, total, "run", quiet=quiet).advance

    return start


def number(value: float) -> str:
    """A console number: thousands separated from 1,000, one decimal from 10, else three; – if undefined."""
    if value is None or not math.isfinite(value):
        return "–"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    return f"{value:.3f}"


def executor_from(args: argparse.Namespace) -> Any:
    """The executor that ``--executor``, ``--workers`` and ``--scheduler`` ask for."""
    from ordercycle.sim.experiments.executors import make_executor

    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    if workers < 1:
        raise BadInput([f"--workers: must be at least 1, got {workers}"])
    return make_executor(args.executor, workers, args.scheduler)
