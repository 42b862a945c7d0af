"""Result folders as the workbench lists them: what each holds, its state, what can be downloaded.

Every folder directly under the results folder is a run, whoever started it: the CLI
(``ordercycle compare … --out out/cmp``) or the workbench (which leaves
``workbench.json`` beside the results). Its kind is read from its files, as
``ordercycle report`` reads it: ``ranking.json`` a comparison, ``points.parquet`` a sweep,
``K*/keynote.json`` a keynote run. The reports shown are the ``report.html`` files the
report builders wrote (:mod:`ordercycle.reports.comparison_report` and friends) — the
workbench never builds a second version of them.

The files that reproduce a comparison from the command line are the scenario and sets it
ran: the workbench's own ``scenario.yaml`` and ``sets.yaml``, or, for a CLI run, the
scenario and the full policy sets recorded in ``experiment.json``.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ordercycle.sim.ui.jobs import LOG, RECORD, JobRecord, Jobs, read_record, state

DOWNLOADS = (
    ("report.html", "the report (one self-contained file)"),
    ("report.md", "its Markdown summary"),
    ("keynotes.html", "the keynote report: a verdict per claim"),
    ("keynotes.md", "its Markdown summary"),
    ("verdicts.json", "the verdicts and the checks behind them"),
    ("summary.csv", "means, intervals and paired differences per set and KPI"),
    ("ranking.csv", "the ranking by the objective"),
    ("ranking.json", "the ranking with the winner"),
    ("replications.parquet", "one row per set and replication, every KPI"),
    ("summary.parquet", "the summary as parquet"),
    ("experiment.json", "provenance: scenario, sets, seed, replications"),
    ("errors.csv", "replications that failed"),
    ("points.parquet", "the sweep's grid points"),
    ("scenario.yaml", "the scenario that was run"),
    ("sets.yaml", "the policy sets that were run"),
    ("grid.yaml", "the sweep's grid"),
    ("bundle.json", "the exported policy bundle"),
    (LOG, "the run's output"),
)
"""Files a result folder may offer for download, with what they are."""
FINISHED_MARKER = {"compare": "ranking.json", "sweep": "summary.parquet", "keynotes": "keynotes.html"}
REPORTS = ("report.html", "keynotes.html")
"""The report files a result folder may have (a keynote run's is ``keynotes.html``)."""


@dataclass
class RunFolder:
    """One result folder."""

    name: str
    path: Path
    kind: str
    state: str
    record: JobRecord | None

    @property
    def started_here(self) -> bool:
        """Whether the workbench started it (else the CLI did)."""
        return self.record is not None

    def experiment(self) -> dict[str, Any]:
        """Its ``experiment.json`` (a comparison's or sweep's), or the first keynote's; empty if none."""
        for candidate in [self.path / "experiment.json", *sorted(self.path.glob("K*/experiment.json"))]:
            try:
                return json.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
        return {}

    def comparison_folder(self) -> Path | None:
        """The folder of the comparison a bundle can be exported from (a keynote's ``K*``)."""
        if (self.path / "ranking.json").is_file():
            return self.path
        found = sorted(p.parent for p in self.path.glob("K*/ranking.json"))
        return found[0] if len(found) == 1 else None

    def report(self) -> str | None:
        """The name of the folder's report file, or None while there is none."""
        return next((name for name in REPORTS if (self.path / name).is_file()), None)

    def downloads(self) -> list[tuple[str, str]]:
        """``(file, what it is)`` for every downloadable file it has (reproducing files included)."""
        present = [(name, what) for name, what in DOWNLOADS if (self.path / name).is_file()]
        names = {name for name, _ in present}
        if self.kind == "compare" and (self.path / "experiment.json").is_file():
            for name, what in (("scenario.yaml", "the scenario that was run (from experiment.json)"),
                               ("sets.yaml", "the policy sets that were run (from experiment.json)")):
                if name not in names:
                    present.append((name, what))
        return present


def kind_of(folder: Path, record: JobRecord | None) -> str:
    """``compare``, ``sweep``, ``keynotes``, ``optimise``, ``run`` or ``unknown``."""
    if record is not None:
        return record.kind
    if (folder / "ranking.json").is_file():
        return "compare"
    if (folder / "points.parquet").is_file():
        return "sweep"
    if (folder / "study.json").is_file():
        return "optimise"
    if (folder / "run.json").is_file():
        return "run"
    if any(folder.glob("K*/keynote.json")):
        return "keynotes"
    return "unknown"


def run_folder(root: Path, name: str, jobs: Jobs) -> RunFolder | None:
    """The result folder ``name`` under ``root``; None when there is none (or it lies outside)."""
    base = root.resolve()
    path = (base / name).resolve()
    if path.parent != base or not path.is_dir() or path.name.startswith("."):
        return None
    record = read_record(path)
    kind = kind_of(path, record)
    marker = FINISHED_MARKER.get(kind, "report.html")
    return RunFolder(path.name, path, kind, state(path, jobs, marker), record)


def list_runs(root: Path, jobs: Jobs) -> list[RunFolder]:
    """Every result folder under ``root`` with results or a workbench record, newest first."""
    if not root.is_dir():
        return []
    found = []
    for path in root.iterdir():
        if not path.is_dir() or path.name.startswith("."):
            continue
        folder = run_folder(root, path.name, jobs)
        if folder is not None and (folder.kind != "unknown" or (path / "runs").is_dir()):
            found.append(folder)
    return sorted(found, key=lambda f: (-f.path.stat().st_mtime, f.name))


def reproducing_file(folder: RunFolder, name: str) -> str | None:
    """The text of ``scenario.yaml`` / ``sets.yaml`` of a comparison: the file it ran, or one made
    from ``experiment.json`` (the scenario and every set's full policies)."""
    if (folder.path / name).is_file():
        return (folder.path / name).read_text(encoding="utf-8")
    experiment = folder.experiment()
    if not experiment or folder.kind != "compare":
        return None
    if name == "scenario.yaml":
        head = f"# The scenario of {folder.name} (from its experiment.json).\n"
        return head + yaml.safe_dump(experiment["scenario"], sort_keys=False, allow_unicode=True)
    if name == "sets.yaml":
        head = f"# The policy sets of {folder.name} (from its experiment.json), every decision written out.\n"
        return head + yaml.safe_dump({"reference": experiment["reference"], "sets": experiment["sets"]},
                                     sort_keys=False)
    return None


def reproduce_command(folder: RunFolder, results: str) -> str:
    """The command line that runs the folder's experiment again (and resumes it)."""
    if folder.record is not None:
        return folder.record.command
    experiment = folder.experiment()
    if folder.kind != "compare" or not experiment:
        return ""
    out = f"{results.rstrip('/')}/{folder.name}"
    argv = ["ordercycle", "compare", "scenario.yaml", "--sets", "sets.yaml",
            "--reps", str(experiment.get("replications")), "--seed", str(experiment.get("seed")),
            "--confidence", f"{experiment.get('confidence', 0.95):g}",
            "--warmup", f"{experiment.get('warmup_days', 0):g}", "--out", out]
    return shlex.join(argv)


@dataclass
class Export:
    """What ``ordercycle export`` did."""

    command: str
    ok: bool
    output: str
    bundle: dict[str, Any] | None


def export_winner(folder: Path, set_name: str | None, python: str | None = None,
                  cwd: Path | None = None, display_folder: str | None = None) -> Export:
    """Run ``ordercycle export FOLDER (--winner | --set NAME) --out FOLDER/bundle.json``."""
    shown = display_folder or str(folder)
    choice = ["--set", set_name] if set_name else ["--winner"]
    argv = ["export", shown, *choice, "--out", f"{shown}/bundle.json"]
    done = subprocess.run([python or sys.executable, "-m", "ordercycle.sim.cli", *argv], capture_output=True,
                          text=True, cwd=cwd, timeout=120, stdin=subprocess.DEVNULL)
    bundle = None
    if done.returncode == 0:
        bundle = json.loads((folder / "bundle.json").read_text(encoding="utf-8"))
    output = (done.stdout + done.stderr).strip()
    return Export(shlex.join(["ordercycle", *argv]), done.returncode == 0, output, bundle)


def read_bundle(folder: Path) -> dict[str, Any] | None:
    """The folder's exported bundle, or None."""
    try:
        return json.loads((folder / "bundle.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def serve_commands(bundle_path: str, folder: str) -> list[tuple[str, str]]:
    """``(when, command)``: how to serve a bundle on this machine, and beyond it with a token."""
    return [
        ("on this machine (loopback, no token needed)",
         shlex.join(["ordercycle", "serve", bundle_path, "--port", "8000", "--db",
                     f"{folder}/decisions.sqlite"])),
        ("for other machines (a bearer token is required beyond loopback)",
         "ORDERCYCLE_TOKEN=<secret> " + shlex.join(["ordercycle", "serve", bundle_path, "--host", "0.0.0.0",
                                                    "--port", "8000", "--db", f"{folder}/decisions.sqlite"])),
    ]


__all__ = ["RECORD", "DOWNLOADS", "Export", "RunFolder", "export_winner", "list_runs", "read_bundle",
           "reproduce_command", "reproducing_file", "run_folder", "serve_commands"]
