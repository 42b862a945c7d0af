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

Each check also has an **equivalence margin** (:mod:`ordercycle.reports.stopping`): an
inconclusive check whose interval lies wholly inside ±margin is reported as "no practical
difference" (its verdict stays ``inconclusive``; the reason says so), and the keynote suite
adds replications until every check is decided either way or a cap is reached. The report
explains each verdict from the saved tables (:mod:`ordercycle.reports.mechanisms`): the KPIs
that moved between the compared sets, the replications used and why the suite stopped,
and what the sweep of conditions changed.
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

from ordercycle.policies.input_files import read_json
from ordercycle.reports import explain, mechanisms, stopping
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
    margin: float | None = Field(
        None, ge=0, description="equivalence margin in the KPI's units (a share as a fraction); "
        "default: ±1 point for shares, ±2 % of the against set's mean otherwise",
    )

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
    explain: list[str] = Field(
        default_factory=list, description="mechanism KPIs said first in the explained verdict"
    )

    @model_validator(mode="after")
    def _known_sets(self) -> KeynoteFile:
        for i, check in enumerate(self.checks):
            for name in (check.set, check.against):
                if name not in self.sets:
                    raise ValueError(f"checks.{i}: no set named {name!r} (sets: {', '.join(self.sets)})")
            check.direction()
        if self.warmup_days >= self.horizon_days:
            raise ValueError("warmup_days: must be below horizon_days")
        for i, kpi in enumerate(self.explain):
            if not kpi.strip():
                raise ValueError(f"explain.{i}: must name a KPI, got an empty string")
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
    """One row per check: the means, the paired difference with its interval, p-value and verdict;
    then the check's equivalence margin, whether the interval lies within it, whether the check
    is decided, the reason in words, the spread of the differences and, for an undecided check,
    about how many replications would decide it (:func:`ordercycle.reports.stopping.margin_columns`)."""
    rows = []
    for check in keynote.checks:
        pair = replications[replications["set"].isin([check.set, check.against])]
        summary = summarise(pair, check.against, confidence, kpis=[check.kpi]).set_index("set")
        treated, base = summary.loc[check.set], summary.loc[check.against]
        better = check.direction()
        row = {
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
            "verdict": check_verdict(float(treated["diff_ci_low"]), float(treated["diff_ci_high"]), better),
        }
        rows.append(row | stopping.margin_columns(row, check.margin, confidence))
    table = pd.DataFrame(rows)
    if "replications_needed" in table:
        table["replications_needed"] = table["replications_needed"].astype("Int64")
    return table


def open_checks(keynote: KeynoteFile, replications: pd.DataFrame, confidence: float) -> list[str]:
    """The stopping rule of the keynote suite: the checks not yet decided (none: stop adding
    replications). A check is decided when its interval excludes zero or lies within its margin."""
    return stopping.open_checks(evaluate(keynote, replications, confidence))


def profit_checks(keynote: KeynoteFile, replications: pd.DataFrame, confidence: float) -> pd.DataFrame:
    """Profit of every (set, against) pair of the claim's checks that no check already judges on
    profit, as rows of :func:`evaluate` — so a claim supported on orders but losing money says so."""
    judged = {(c.set, c.against) for c in keynote.checks if c.kpi == "profit"}
    pairs = dict.fromkeys((c.set, c.against) for c in keynote.checks if (c.set, c.against) not in judged)
    if "profit" not in replications.columns or not pairs:
        return pd.DataFrame()
    extra = keynote.model_copy(update={"checks": [Check(set=a, against=b, kpi="profit") for a, b in pairs]})
    return evaluate(extra, replications, confidence)


def check_sentence(row: Any, confidence: float, currency: str = "EUR", with_reason: bool = True) -> str:
    """The evidence of one check in words (with the reason of an inconclusive verdict or a difference
    within the margin, unless ``with_reason`` is false)."""
    half = (row.diff_ci_high - row.diff_ci_low) / 2
    size = (
        f"{format_amount(row.kpi, row.diff_mean, currency, signed=True)} ± "
        f"{format_amount(row.kpi, half, currency)}"
    )
    said = (
        f"{info(row.kpi).label}: {row.set} − {row.against} = {size} ({confidence:.0%}, n = {row.n}; "
        f"{row.better} is better) → {row.verdict}"
    )
    reason = getattr(row, "reason", "")
    if with_reason and reason and (row.verdict == "inconclusive" or getattr(row, "within_margin", False)):
        said += f" ({reason})"
    return said


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
    conditions_checks: pd.DataFrame | None = None  # per sweep point and check (:func:`conditions_checks`)
    explanation: list[tuple[str, list[str]]] | None = None  # per compared pair (:mod:`.mechanisms`)
    conditions_points: pd.DataFrame | None = None  # the sweep's points.parquet

    @property
    def currency(self) -> str:
        """The scenario's currency."""
        return str(self.experiment.get("scenario", {}).get("currency", "EUR"))

    @property
    def replications_used(self) -> int:
        """Replications per set run (``experiment.json``; else the most any check rests on)."""
        if "replications" in self.experiment:
            return int(self.experiment["replications"])
        return int(self.checks["n"].max()) if len(self.checks) else 0

    @property
    def stopping(self) -> dict[str, Any] | None:
        """The sequential rule the suite ran the claim with (``experiment.json``'s ``stopping``)."""
        return self.experiment.get("stopping")

    def stopping_sentence(self) -> str:
        """How many replications were run and why the suite stopped there."""
        return stopping.stopping_sentence(self.stopping, self.replications_used, self.checks, self.currency)

    def reason(self) -> str:
        """Why the claim has its verdict, in a few words."""
        return stopping.claim_reason(self.checks, self.verdict)


def conditions_checks(
    keynote: KeynoteFile, points: pd.DataFrame, replications: pd.DataFrame, confidence: float
) -> pd.DataFrame:
    """Per sweep point and check (``check`` = its index in the file): the paired difference, its
    interval and verdict (from a sweep's tables)."""
    frames = []
    for point in sorted(int(p) for p in points["point"]):
        part = replications[replications["point"].astype(int) == point].drop(columns="point")
        part = part.assign(set=part["set"].astype(str))
        checks = evaluate(keynote, part, confidence)
        frames.append(checks.assign(point=point, check=range(len(checks))))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def parameter_label(column: str, value: Any) -> str:
    """A swept parameter in words: ``hours per unit × 1.1``, ``senior managers = 5``."""
    scaled = column.endswith(" (scale)")
    parts = [p for p in column.removesuffix(" (scale)").split(".") if p != "*" and not p.isdigit()]
    while len(parts) > 1 and parts[-1] in ("mean", "value"):
        parts.pop()
    name = parts[-1] if parts else column
    if name.startswith("rate") and len(parts) > 1:
        name = f"{parts[-2]} {name}"
    shown = f"{value:g}" if isinstance(value, float) else str(value)
    return f"{name.replace('_', ' ')} {'×' if scaled else '='} {shown}"


def conditions_change_sentence(
    keynote: KeynoteFile, base: pd.DataFrame, points: pd.DataFrame, by_point: pd.DataFrame,
    table: pd.DataFrame, currency: str = "EUR",
) -> str:
    """What the sweep of conditions changes, in one sentence: per check, the points where its
    verdict differs from the one on the scenario (with the difference there), then where the
    claim holds."""
    parameters = [c for c in points.columns if c != "point"]
    label = {
        int(row["point"]): ", ".join(parameter_label(c, row[c]) for c in parameters)
        for row in points.to_dict("records")
    }
    parts = []
    for i, check in enumerate(keynote.checks):
        name = f"the {info(check.kpi).label} check ({check.set} − {check.against})"
        before = str(base.iloc[i]["verdict"])
        mine = by_point[by_point["check"] == i]
        changed = mine[mine["verdict"] != before]
        if changed.empty:
            parts.append(f"{name} stays {before} at every point")
            continue
        for verdict in VERDICTS:
            rows = changed[changed["verdict"] == verdict]
            if rows.empty:
                continue
            where = " and ".join(label[int(p)] for p in rows["point"])
            sizes = "; ".join(
                f"{format_amount(check.kpi, r.diff_mean, currency, signed=True)} "
                f"[{format_amount(check.kpi, r.diff_ci_low, currency, signed=True)}, "
                f"{format_amount(check.kpi, r.diff_ci_high, currency, signed=True)}]"
                for r in rows.itertuples()
            )
            parts.append(f"at {where} {name} is {verdict} ({sizes})")
    held = [label[int(p)] for p, v in zip(table["point"], table["verdict"], strict=True) if v == "supported"]
    claim = f"the claim holds at {' and '.join(held)}" if held else "the claim holds at none of the points"
    return "What the conditions change: " + "; ".join(parts) + f" — {claim}."


def conditions_table(
    keynote: KeynoteFile, points: pd.DataFrame, replications: pd.DataFrame, confidence: float
) -> pd.DataFrame:
    """Per sweep point, the claim's verdict and each check's difference (from a sweep's tables)."""
    rows = []
    by_point = conditions_checks(keynote, points, replications, confidence)
    for data in points.to_dict("records"):  # not itertuples: parameter paths are not identifiers
        checks = by_point[by_point["point"] == int(data["point"])]
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
    keynote = KeynoteFile.model_validate(read_json(root / "keynote.json", allow_nan=True))
    experiment = read_json(root / "experiment.json", allow_nan=True)
    confidence = float(experiment.get("confidence", 0.95))
    replications = pd.read_parquet(root / "replications.parquet")
    checks = evaluate(keynote, replications, confidence)
    conditions = by_point = points = None
    sweep = root / "conditions"
    if (sweep / "points.parquet").is_file():
        points, swept = pd.read_parquet(sweep / "points.parquet"), pd.read_parquet(sweep / "results")
        conditions = conditions_table(keynote, points, swept, confidence)
        by_point = conditions_checks(keynote, points, swept, confidence)
    currency = str(experiment.get("scenario", {}).get("currency", "EUR"))
    explained = mechanisms.explanation(
        replications, experiment, [(c.set, c.against, c.kpi) for c in keynote.checks], confidence,
        keynote.explain, currency,
    )
    return KeynoteResult(
        keynote, checks, claim_verdict(list(checks["verdict"])), confidence, experiment, conditions,
        profit_checks(keynote, replications, confidence), replications, by_point, explained, points,
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
def conditions_sentences(result: KeynoteResult) -> list[str]:
    """What the report says of the claim's conditions: the sweep's tally and what it changes, or
    that they were not swept (nothing for a supported claim that was not swept)."""
    keynote = result.keynote
    if result.conditions is not None:
        said = [conditions_sentence(result.conditions)]
        if result.conditions_checks is not None and result.conditions_points is not None:
            said.append(conditions_change_sentence(
                keynote, result.checks, result.conditions_points, result.conditions_checks,
                result.conditions, result.currency,
            ))
        return said
    if result.verdict == "supported":
        return []
    return [
        "Conditions: not swept"
        + (
            f" (run `ordercycle keynotes --only {keynote.id}` without --no-conditions to sweep "
            + ", ".join(keynote.conditions.get("parameters", {}))
            + ")."
            if keynote.conditions
            else " (the keynote file names no conditions)."
        )
    ]


def claim_record(result: KeynoteResult) -> dict[str, Any]:
    """A claim's entry of ``verdicts.json``: the verdict and its checks (as before), then the reason,
    the replications and why the suite stopped, the explanation and what the conditions change."""
    return {
        "verdict": result.verdict,
        "checks": json.loads(result.checks.to_json(orient="records")),
        "reason": result.reason(),
        "replications": result.replications_used,
        "stopping": result.stopping,
        "stopped": result.stopping_sentence(),
        "explanation": {pair: lines for pair, lines in (result.explanation or [])},
        "conditions": conditions_sentences(result),
    }


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
                "margin",
                "reason",
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
                    "±" + format_amount(r.kpi, r.margin, currency),
                    r.reason,
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
            money = [check_sentence(row, result.confidence, currency, with_reason=False)
                     for row in result.profit.itertuples()]
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
        said_stop = f"Verdict {result.verdict}: {result.reason()}. {result.stopping_sentence()}"
        section.paragraph(said_stop)
        lines += ["", said_stop]
        if result.explanation:
            section.paragraph(mechanisms.lead(result.confidence))
            lines += ["", mechanisms.lead(result.confidence)]
        for pair, explained in result.explanation or []:
            section.paragraph(f"{pair}:")
            section.bullets(explained)
            lines += ["", f"{pair}:", ""] + [f"- {s}" for s in explained]
        if result.conditions is not None:
            table = result.conditions
            section.paragraph(
                "Not supported on the scenario as it is; the same claim across a small sweep of conditions "
                f"(the sweep's own report: {keynote.id}/conditions/report.html):"
            )
            section.table(
                list(table.columns), table.astype(str).values.tolist(), row_classes=list(table["verdict"])
            )
        for said_conditions in conditions_sentences(result):
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
    verdicts = {r.keynote.id: claim_record(r) for r in results}
    (root / "verdicts.json").write_text(json.dumps(verdicts, indent=2) + "\n", encoding="utf-8")
    md_path = root / "keynotes.md"
    md_path.write_text(markdown, encoding="utf-8")
    return page.write(root / "keynotes.html"), md_path
