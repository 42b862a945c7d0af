"""The keynote claims K1–K8: their experiment files, the verdict logic and the keynote report.

A keynote file (``scenarios/keynotes/K1.yaml`` …) is a sets file (``reference``,
``sets``) plus what makes it a test of a claim: the scenario and a documented variant
of it, horizon and warm-up, the **checks** (set, compared with, KPI; which way is
better comes from the KPI glossary unless given) and optional **conditions** (a sweep
grid, run when the claim is not supported on the scenario).

The verdict is a pure function of the replication table: for each check the paired
difference (common random numbers) of the KPI between the two sets and its interval
at the chosen confidence. A check is **supported** when the interval lies wholly on the
better side of zero, **contradicted** when it lies wholly on the worse side, and
**inconclusive** when it contains zero. A claim is supported when every check is,
contradicted when any check is, and inconclusive otherwise. Each interval is at the
chosen level; no correction for the several checks of a claim is made.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ordercycle.reports import explain
from ordercycle.reports.comparison_report import ReportInputError
from ordercycle.reports.glossary import format_amount, format_value, info
from ordercycle.reports.html import Page
from ordercycle.reports.statistics import summarise

VERDICTS = ("supported", "contradicted", "inconclusive")
_CONFIG = ConfigDict(extra="forbid")


class Check(BaseModel):
    """One measurable part of a claim: ``set`` is better than ``against`` on ``kpi``."""

    model_config = _CONFIG
    set: str
    against: str
    kpi: str
    better: Literal["higher", "lower"] | None = Field(None, description="default: the KPI glossary's")

    def direction(self) -> str:
        """Which way is better for this check."""
        better = self.better or info(self.kpi).better
        if better is None:
            raise ValueError(f"checks: KPI {self.kpi!r} has no better direction; give `better: higher|lower`")
        return better


class KeynoteFile(BaseModel):
    """A keynote claim as an experiment: sets to compare, the checks that decide it."""

    model_config = _CONFIG
    id: str = Field(pattern=r"^K\d+$")
    claim: str
    scenario: str = "baseline"
    variant: dict[str, Any] = Field(default_factory=dict, description="dotted path -> value, as a grid point")
    variant_note: str = ""
    horizon_days: float = Field(gt=0)
    warmup_days: float = Field(ge=0)
    reps: int = Field(5, ge=2)
    reference: str | None = None
    sets: dict[str, dict[str, Any]] = Field(min_length=2)
    checks: list[Check] = Field(min_length=1)
    proxy_note: str = ""
    conditions: dict[str, Any] | None = Field(None, description="a sweep grid, run if not supported")

    @model_validator(mode="after")
    def _known_sets(self) -> KeynoteFile:
        for i, check in enumerate(self.checks):
            for name in (check.set, check.against):
                if name not in self.sets:
                    raise ValueError(f"checks.{i}: no set named {name!r} (sets: {', '.join(self.sets)})")
            check.direction()
        if self.warmup_days >= self.horizon_days:
            raise ValueError("warmup_days: must be below horizon_days")
        return self


def load_keynote(path: str | Path) -> KeynoteFile:
    """Read and validate a keynote file; problems as ``file: path: reason`` lines."""
    file = Path(path)
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ReportInputError([f"{file}: cannot read ({error})"]) from None
    try:
        return KeynoteFile.model_validate(data)
    except ValidationError as error:
        raise ReportInputError(
            [f"{file}: {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()]
        ) from None


def builtin_keynote_files() -> list[Path]:
    """The packaged ``scenarios/keynotes/K*.yaml``, in claim order."""
    folder = resources.files("ordercycle.scenarios") / "keynotes"
    files = [Path(str(entry)) for entry in folder.iterdir() if entry.name.endswith(".yaml")]
    return sorted(files, key=lambda p: int(p.stem[1:]) if p.stem[1:].isdigit() else 999)


def check_verdict(diff_low: float, diff_high: float, better: str) -> str:
    """Verdict of one paired-difference interval (set − against) given which way is better."""
    if not (math.isfinite(diff_low) and math.isfinite(diff_high)):
        return "inconclusive"
    if diff_low > 0:
        return "supported" if better == "higher" else "contradicted"
    if diff_high < 0:
        return "supported" if better == "lower" else "contradicted"
    return "inconclusive"


def claim_verdict(verdicts: list[str]) -> str:
    """Supported when every check is, contradicted when any is, inconclusive otherwise."""
    if verdicts and all(v == "supported" for v in verdicts):
        return "supported"
    if any(v == "contradicted" for v in verdicts):
        return "contradicted"
    return "inconclusive"


def evaluate(keynote: KeynoteFile, replications: pd.DataFrame, confidence: float) -> pd.DataFrame:
    """One row per check: the means, the paired difference with its interval, p-value and verdict."""
    rows = []
    for check in keynote.checks:
        pair = replications[replications["set"].isin([check.set, check.against])]
        summary = summarise(pair, check.against, confidence, kpis=[check.kpi]).set_index("set")
        treated, base = summary.loc[check.set], summary.loc[check.against]
        better = check.direction()
        rows.append(
            {
                "set": check.set,
                "against": check.against,
                "kpi": check.kpi,
                "better": better,
                "n": int(treated["n"]),
                "mean": float(treated["mean"]),
                "against_mean": float(base["mean"]),
                "diff_mean": float(treated["diff_mean"]),
                "diff_ci_low": float(treated["diff_ci_low"]),
                "diff_ci_high": float(treated["diff_ci_high"]),
                "p_value": float(treated["p_value"]),
                "verdict": check_verdict(
                    float(treated["diff_ci_low"]), float(treated["diff_ci_high"]), better
                ),
            }
        )
    return pd.DataFrame(rows)


def profit_checks(keynote: KeynoteFile, replications: pd.DataFrame, confidence: float) -> pd.DataFrame:
    """Profit of every (set, against) pair of the claim's checks that no check already judges on
    profit, as rows of :func:`evaluate` — so a claim supported on orders but losing money says so."""
    judged = {(c.set, c.against) for c in keynote.checks if c.kpi == "profit"}
    pairs = dict.fromkeys((c.set, c.against) for c in keynote.checks if (c.set, c.against) not in judged)
    if "profit" not in replications.columns or not pairs:
        return pd.DataFrame()
    extra = keynote.model_copy(update={"checks": [Check(set=a, against=b, kpi="profit") for a, b in pairs]})
    return evaluate(extra, replications, confidence)


def check_sentence(row: Any, confidence: float, currency: str = "EUR") -> str:
    """The evidence of one check in words."""
    half = (row.diff_ci_high - row.diff_ci_low) / 2
    size = (
        f"{format_amount(row.kpi, row.diff_mean, currency, signed=True)} ± "
        f"{format_amount(row.kpi, half, currency)}"
    )
    return (
        f"{info(row.kpi).label}: {row.set} − {row.against} = {size} ({confidence:.0%}, n = {row.n}; "
        f"{row.better} is better) → {row.verdict}"
    )


@dataclass
class KeynoteResult:
    """What one keynote experiment found, read back from its folder."""

    keynote: KeynoteFile
    checks: pd.DataFrame
    verdict: str
    confidence: float
    experiment: dict[str, Any]
    conditions: pd.DataFrame | None = None  # per sweep point: parameters, per-check verdicts, claim verdict
    profit: pd.DataFrame | None = None  # profit of the checks' set pairs (:func:`profit_checks`)
    replications: pd.DataFrame | None = None  # the claim's replication table


def conditions_table(
    keynote: KeynoteFile, points: pd.DataFrame, replications: pd.DataFrame, confidence: float
) -> pd.DataFrame:
    """Per sweep point, the claim's verdict and each check's difference (from a sweep's tables)."""
    rows = []
    for data in points.to_dict("records"):  # not itertuples: parameter paths are not identifiers
        part = replications[replications["point"].astype(int) == int(data["point"])].drop(columns="point")
        part = part.assign(set=part["set"].astype(str))
        checks = evaluate(keynote, part, confidence)
        row = {k: v for k, v in data.items()}
        for check in checks.itertuples():
            row[f"{check.kpi} ({check.set} − {check.against})"] = (
                f"{format_amount(check.kpi, check.diff_mean, signed=True)} [{check.verdict}]"
            )
        row["verdict"] = claim_verdict(list(checks["verdict"]))
        rows.append(row)
    return pd.DataFrame(rows)


def conditions_sentence(table: pd.DataFrame) -> str:
    """Where the claim holds across the swept conditions, in words (from :func:`conditions_table`)."""
    parameters = [k for k in table.columns if k not in ("point", "verdict") and "−" not in k]

    def where(rows: pd.DataFrame) -> str:
        return "; ".join(", ".join(f"{k} = {row[k]}" for k in parameters) for _, row in rows.iterrows())

    held = table[table["verdict"] == "supported"]
    counts = table["verdict"].value_counts()
    tally = ", ".join(f"{verdict} at {counts[verdict]}" for verdict in VERDICTS if verdict in counts)
    if len(held):
        return f"Conditions swept ({len(table)} points: {tally}): the claim holds at {where(held)}."
    return f"Conditions swept ({len(table)} points: {tally}): the claim holds at none of them."


def read_result(folder: str | Path) -> KeynoteResult:
    """Read one keynote's saved results: ``keynote.json``, the compare tables, conditions if swept."""
    root = Path(folder)
    needed = ["keynote.json", "replications.parquet", "experiment.json"]
    missing = [f"{root / n}: missing" for n in needed if not (root / n).is_file()]
    if missing:
        raise ReportInputError(missing)
    keynote = KeynoteFile.model_validate(json.loads((root / "keynote.json").read_text()))
    experiment = json.loads((root / "experiment.json").read_text())
    confidence = float(experiment.get("confidence", 0.95))
    replications = pd.read_parquet(root / "replications.parquet")
    checks = evaluate(keynote, replications, confidence)
    conditions = None
    sweep = root / "conditions"
    if (sweep / "points.parquet").is_file():
        conditions = conditions_table(
            keynote, pd.read_parquet(sweep / "points.parquet"), pd.read_parquet(sweep / "results"), confidence
        )
    return KeynoteResult(
        keynote, checks, claim_verdict(list(checks["verdict"])), confidence, experiment, conditions,
        profit_checks(keynote, replications, confidence), replications,
    )


def run_settings(result: KeynoteResult) -> tuple[float, float, int]:
    """Horizon and warm-up (days) and replications per set the keynote was actually run with.

    Read from the comparison's ``experiment.json`` (``--horizon`` and ``--reps`` override
    the keynote file); the file's values for folders whose record does not say.
    """
    experiment, keynote = result.experiment, result.keynote
    horizon = float(experiment.get("horizon_days", keynote.horizon_days))
    warmup = float(experiment.get("warmup_days", keynote.warmup_days))
    replications = int(experiment.get("replications", result.checks["n"].min()))
    return horizon, warmup, replications


def settings_text(result: KeynoteResult) -> str:
    """``30 d / 28 d`` as run, with the keynote file's values when the run overrode them."""
    horizon, warmup, _ = run_settings(result)
    keynote = result.keynote
    text = f"{horizon:g} d / {warmup:g} d"
    if (horizon, warmup) != (keynote.horizon_days, keynote.warmup_days):
        text += f" (file: {keynote.horizon_days:g} d / {keynote.warmup_days:g} d)"
    return text


def keynote_folders(folder: str | Path) -> list[Path]:
    """The keynote result folders under a keynotes output folder, in claim order."""
    found = [p for p in Path(folder).iterdir() if p.is_dir() and (p / "keynote.json").is_file()]
    return sorted(found, key=lambda p: int(p.name[1:]) if p.name[1:].isdigit() else 999)


def build_keynote_report(results: list[KeynoteResult]) -> tuple[Page, str]:
    """The keynote report: per claim its verdict and the effect sizes and intervals behind it."""
    confidence = results[0].confidence if results else 0.95
    page = Page(
        "The keynote claims, tested on the simulated company",
        f"{len(results)} claims; verdicts at {confidence:.0%} confidence from paired differences "
        "under common random numbers. Each claim's own comparison report is in its folder.",
    )
    overview = page.section("Verdicts")
    overview.paragraph(
        "A check is supported when its paired-difference interval lies wholly on the better "
        "side of zero, contradicted when wholly on the worse side, inconclusive when it "
        "includes zero. A claim is supported when all its checks are, contradicted when any is."
    )
    overview.table(
        ["claim", "verdict", "statement", "replications", "horizon / warm-up as run"],
        [
            (
                r.keynote.id,
                r.verdict,
                r.keynote.claim,
                run_settings(r)[2],
                settings_text(r),
            )
            for r in results
        ],
        row_classes=[r.verdict for r in results],
    )
    lines = [
        "# Keynote claims — verdicts",
        "",
        f"Confidence {confidence:.0%}; paired differences under common random numbers.",
        "",
        "| claim | verdict | statement | replications | horizon / warm-up as run |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.keynote.id} | **{r.verdict}** | {r.keynote.claim} | {run_settings(r)[2]} | "
        f"{settings_text(r)} |"
        for r in results
    ]
    for result in results:
        keynote = result.keynote
        currency = str(result.experiment.get("scenario", {}).get("currency", "EUR"))
        section = page.section(f"{keynote.id}: {keynote.claim} — {result.verdict}")
        setup = (
            f"Scenario {keynote.scenario}"
            + (f", variant: {keynote.variant_note}" if keynote.variant else "")
            + "; sets: "
            + "; ".join(
                f"{name} = {json.dumps(changes) if changes else 'scenario policies'}"
                for name, changes in keynote.sets.items()
            )
            + "."
        )
        horizon, warmup, replications = run_settings(result)
        setup += (
            f" Run with a horizon of {horizon:g} days, a warm-up of {warmup:g} days and {replications} "
            f"replications per set"
            + (
                f" (the keynote file says {keynote.horizon_days:g} and {keynote.warmup_days:g} days)."
                if (horizon, warmup) != (keynote.horizon_days, keynote.warmup_days)
                else "."
            )
        )
        section.paragraph(setup)
        if keynote.proxy_note:
            section.paragraph(f"Measured by proxy: {keynote.proxy_note}")
        said = [check_sentence(row, result.confidence, currency) for row in result.checks.itertuples()]
        section.table(
            [
                "KPI",
                "set",
                "against",
                "better",
                "set mean",
                "against mean",
                "difference",
                f"{result.confidence:.0%} interval",
                "p",
                "verdict",
            ],
            [
                (
                    info(r.kpi).label,
                    r.set,
                    r.against,
                    r.better,
                    format_value(r.kpi, r.mean, currency),
                    format_value(r.kpi, r.against_mean, currency),
                    format_amount(r.kpi, r.diff_mean, currency, signed=True),
                    f"[{format_amount(r.kpi, r.diff_ci_low, currency, signed=True)}, "
                    f"{format_amount(r.kpi, r.diff_ci_high, currency, signed=True)}]",
                    f"{r.p_value:.2g}" if math.isfinite(r.p_value) else "–",
                    r.verdict,
                )
                for r in result.checks.itertuples()
            ],
            numeric=(4, 5, 6, 8),
            row_classes=list(result.checks["verdict"]),
        )
        section.bullets(said)
        lines += [
            "",
            f"## {keynote.id} — {result.verdict}",
            "",
            keynote.claim,
            "",
            f"Run: {settings_text(result)} (horizon / warm-up), {replications} replications per set.",
            "",
        ] + [f"- {s}" for s in said]
        if result.profit is not None and len(result.profit):
            money = [check_sentence(row, result.confidence, currency) for row in result.profit.itertuples()]
            section.paragraph("Profit (not a check of the claim; said so that a claim supported on its "
                              "checks but losing money shows it):")
            section.bullets(money)
            lines += ["", "Profit (not a check):", ""] + [f"- {s}" for s in money]
        described = explain.set_descriptions(result.experiment)
        if any(result.experiment.get("set_notes", {}).get("changes", {}).values()):
            section.paragraph("What each set is:")
            section.bullets([f"{name}: " + "; ".join(said_of_set) for name, said_of_set in described.items()])
        if result.replications is not None:
            warnings = explain.action_warnings(result.replications, result.experiment)
            if warnings:
                section.bullets(warnings, css="warning")
                lines += [""] + [f"- **{w}**" for w in warnings]
        if result.conditions is not None:
            table = result.conditions
            section.paragraph(
                "Not supported on the scenario as it is; the same claim across a small sweep of conditions "
                f"(the sweep's own report: {keynote.id}/conditions/report.html):"
            )
            section.table(
                list(table.columns), table.astype(str).values.tolist(), row_classes=list(table["verdict"])
            )
            said_conditions = conditions_sentence(table)
            section.paragraph(said_conditions)
            lines += ["", said_conditions]
        elif result.verdict != "supported":
            said_conditions = "Conditions: not swept" + (
                f" (run `ordercycle keynotes --only {keynote.id}` without --no-conditions to sweep "
                + ", ".join(keynote.conditions.get("parameters", {}))
                + ")."
                if keynote.conditions
                else " (the keynote file names no conditions)."
            )
            section.paragraph(said_conditions)
            lines += ["", said_conditions]
    return page, "\n".join(lines) + "\n"


def write_keynote_report(folder: str | Path) -> tuple[Path, Path]:
    """Rebuild ``keynotes.html`` and ``keynotes.md`` of a keynotes output folder from its saved results."""
    root = Path(folder)
    results = [read_result(path) for path in keynote_folders(root)]
    if not results:
        raise ReportInputError([f"{root}: no keynote results (folders with keynote.json)"])
    page, markdown = build_keynote_report(results)
    verdicts = {
        r.keynote.id: {"verdict": r.verdict, "checks": json.loads(r.checks.to_json(orient="records"))}
        for r in results
    }
    (root / "verdicts.json").write_text(json.dumps(verdicts, indent=2) + "\n", encoding="utf-8")
    md_path = root / "keynotes.md"
    md_path.write_text(markdown, encoding="utf-8")
    return page.write(root / "keynotes.html"), md_path
