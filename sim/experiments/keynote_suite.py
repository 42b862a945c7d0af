"""The keynote suite: each claim's comparison with the sequential stopping rule, and its conditions.

``ordercycle keynotes`` (and :func:`run_suite` in Python) runs, per keynote file, a
:func:`~ordercycle.sim.experiments.compare` of its sets that starts at the file's ``reps``
and adds ``step`` replications per set while any check is undecided — its interval
neither excludes zero nor lies within its equivalence margin
(:func:`ordercycle.reports.keynotes.open_checks`) — up to ``max_reps``. A claim that is
not supported then has its conditions swept with :func:`~ordercycle.sim.experiments.sweep`
at the **starting** replications (fixed: the sweep says where the verdict would change, it
is not the verdict).

Common random numbers hold throughout: replication r of every set (and every sweep
point) is the task with seed ``seed`` and replication number r, named by the content key
of what it computes, so adding replications never changes the earlier ones, and claims
whose sets run the same scenario with the same policies (the baseline's reference sets of
K1, K3–K6) share those runs through one result store, ``OUT/runs``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ordercycle.reports.comparison_report import write_comparison_report
from ordercycle.reports.keynotes import (
    KeynoteFile,
    claim_verdict,
    evaluate,
    open_checks,
    write_keynote_report,
)
from ordercycle.reports.stopping import claim_reason
from ordercycle.reports.sweep_report import write_sweep_report
from ordercycle.scenarios.experiment_files import GridFile, SetsFile, apply_point
from ordercycle.scenarios.loader import load, override
from ordercycle.scenarios.schema import Scenario
from ordercycle.sim.experiments.comparison import compare, write_comparison
from ordercycle.sim.experiments.executors import Executor
from ordercycle.sim.experiments.replications import Progress, no_progress
from ordercycle.sim.experiments.sweeps import sweep, write_sweep

DEFAULT_MAX_REPS = 20
"""Replications per set the suite stops at when checks are still undecided (``--max-reps``)."""
DEFAULT_STEP = 5
"""Replications per set added at a time (``--step``)."""


@dataclass
class KeynoteRun:
    """What running one claim did: its verdict, the replications per set, what stayed open."""

    keynote_id: str
    verdict: str
    replications: int
    open_checks: list[str] = field(default_factory=list)
    swept: bool = False
    seconds: float = 0.0
    reason: str = ""
    """Why the claim has its verdict (:func:`ordercycle.reports.stopping.claim_reason`)."""


def keynote_scenario(keynote: KeynoteFile, horizon: float | None = None) -> Scenario:
    """The keynote's scenario with its variant, horizon and warm-up applied."""
    scenario = (
        apply_point(load(keynote.scenario), keynote.variant) if keynote.variant else load(keynote.scenario)
    )
    return override(scenario, horizon_days=horizon or keynote.horizon_days, warmup_days=keynote.warmup_days)


def run_keynote(
    keynote: KeynoteFile,
    out: Path,
    reps: int,
    executor: Executor,
    confidence: float,
    seed: int = 0,
    horizon: float | None = None,
    sweep_conditions: bool = True,
    progress: Progress = no_progress,
    max_reps: int | None = None,
    step: int = DEFAULT_STEP,
    store: Path | None = None,
    condition_reps: int | None = None,
) -> KeynoteRun:
    """Compare the keynote's sets (adding replications while a check is undecided, up to
    ``max_reps``; None: exactly ``reps``), save tables and report, and sweep the conditions at
    ``condition_reps`` replications (default ``reps``) when the claim is not supported.

    ``store`` is the result store's folder (default ``out``): the suite passes its own output
    folder, so that claims share the runs they have in common.
    """
    started = time.perf_counter()
    out = Path(out)
    scenario = keynote_scenario(keynote, horizon)
    sets = SetsFile.model_validate({"reference": keynote.reference, "sets": keynote.sets})
    comparison = compare(
        scenario, sets, reps=reps, seed=seed, executor=executor, out=store or out, confidence=confidence,
        progress=progress, max_reps=max(reps, max_reps or reps), step=step,
        until=lambda table: open_checks(keynote, table, confidence),
    )
    if store is not None:  # the suite's one store: ``export`` finds the runs the evidence cites
        comparison.result_store = Path(os.path.relpath(Path(store) / "runs", out)).as_posix()
    write_comparison(comparison, out)
    (out / "keynote.json").write_text(json.dumps(keynote.model_dump(mode="json"), indent=2) + "\n")
    write_comparison_report(out)
    checks = evaluate(keynote, comparison.replications, confidence)
    verdict = claim_verdict(list(checks["verdict"]))
    swept = bool(verdict != "supported" and keynote.conditions and sweep_conditions)
    if swept:
        grid = GridFile.model_validate(keynote.conditions)
        swept_reps = condition_reps or reps
        result = sweep(scenario, grid, sets, reps=swept_reps, seed=seed, executor=executor,
                       out=store or out / "conditions", confidence=confidence, progress=progress)
        write_sweep(result, out / "conditions", scenario, grid, seed, swept_reps)
        write_sweep_report(out / "conditions", [check.kpi for check in keynote.checks])
    return KeynoteRun(keynote.id, verdict, comparison.replications_used, comparison.open_checks, swept,
                      time.perf_counter() - started, claim_reason(checks, verdict))


def run_suite(
    keynotes: Sequence[KeynoteFile],
    out: Path,
    executor: Executor,
    confidence: float = 0.95,
    reps: int | None = None,
    max_reps: int | None = DEFAULT_MAX_REPS,
    step: int = DEFAULT_STEP,
    seed: int = 0,
    horizon: float | None = None,
    sweep_conditions: bool = True,
    progress: Progress = no_progress,
    on_claim: Callable[[KeynoteFile, KeynoteRun], Any] | None = None,
    condition_reps: int | None = None,
) -> list[KeynoteRun]:
    """Run every claim (each starting at ``reps`` or its file's ``reps``; conditions swept at
    ``condition_reps``, default the starting replications) into ``out/K<n>/`` with one result
    store ``out/runs``, then write the suite's report; the runs in claim order."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    runs = []
    for keynote in keynotes:
        run = run_keynote(keynote, out / keynote.id, reps or keynote.reps, executor, confidence, seed,
                          horizon, sweep_conditions, progress, max_reps, step, store=out,
                          condition_reps=condition_reps)
        runs.append(run)
        if on_claim is not None:
            on_claim(keynote, run)
    write_keynote_report(out)
    return runs
