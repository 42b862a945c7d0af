"""Reports of the twin: self-contained HTML (matplotlib Agg, PNG as base64), JSON, atomic writes.

Every file is written to a temporary file beside its target and renamed at the end
(:func:`write_atomic`), so a failed command leaves nothing half-written.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def write_atomic(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(temporary path)``, then rename the temporary file to ``path`` (removed on failure)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.unlink(missing_ok=True)
        write(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) atomically."""
    return write_atomic(path, lambda p: p.write_text(text, encoding="utf-8"))


def write_texts_atomic(texts: dict[Path, str]) -> None:
    """Write several UTF-8 files all or none: every temporary first, then the renames."""
    temporaries = {}
    try:
        for path, text in texts.items():
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            temporaries[temporary] = path
            temporary.write_text(text, encoding="utf-8")
        for temporary, path in temporaries.items():
            os.replace(temporary, path)
    finally:
        for temporary in temporaries:
            temporary.unlink(missing_ok=True)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        return _clean(value.item())
    return value


def json_text(data: Any) -> str:
    """Canonical JSON (sorted keys, two-space indent, non-finite numbers as null)."""
    return json.dumps(_clean(data), sort_keys=True, indent=2) + "\n"


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80, bbox_inches="tight", metadata={"Software": None})
    import matplotlib.pyplot as plt

    plt.close(figure)
    return f'<img alt="plot" src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


def _page(title: str, body: list[str]) -> str:
    style = (
        "body{font-family:sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 6px;font-size:90%}img{max-width:520px;margin:4px}"
    )
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{style}</style></head><body><h1>{html.escape(title)}</h1>{''.join(body)}</body></html>\n"
    )


def _table(rows: list[list[Any]], header: list[str]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    cells = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{cells}</table>"


def _distribution_rows(record: Any) -> tuple[list[list[Any]], list[tuple[str, dict[str, Any]]]]:
    """Rows of every candidate of every fit, and the fits (name, statistics) with a chosen distribution."""
    rows, fits = [], []
    for key, stats in record.statistics.items():
        if not isinstance(stats, dict):
            continue
        found = [(key, stats)] if "candidates" in stats else [
            (f"{key}.{sub}", value) for sub, value in stats.items()
            if isinstance(value, dict) and "candidates" in value]
        for name, fit in found:
            chosen = fit.get("chosen") or fit.get("transit_days")
            for c in fit["candidates"]:
                family = c.get("family") or c.get("form")
                keys = ("transit_days", "reliability", "delay_days")
                spec = c.get("distribution") or {k: c[k] for k in keys if k in c}
                ks = c.get("ks_statistic")
                picked = c.get("distribution", c.get("transit_days")) == chosen
                rows.append([name, fit.get("n"), family, json.dumps(spec), f"{c['aic']:.1f}",
                             "–" if ks is None else f"{ks:.3f}", "chosen" if picked else ""])
            if isinstance(chosen, dict) and chosen.get("dist") not in (None, "fixed"):
                fits.append((name, fit))
    return rows, fits


def _days(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def calibration_html(record: Any) -> str:
    """The calibration report: every parameter (fitted or from the base, and why), the activities of the
    log (events used for what, not used and why), fitted vs empirical plots."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ordercycle.sim.twin.fitting import scipy_distribution

    start, end = record.window
    body = [
        f"<p>Log <code>{html.escape(record.log_source)}</code> ({html.escape(record.source_format)}): "
        f"{record.cases} cases, {record.events} events, {record.span_days:.1f} days from "
        f"{html.escape(record.origin)}; arrivals fitted over days {start:g}–{end:.2f}.</p>",
        "<h2>Notes</h2><ul>",
    ]
    body += [f"<li>{html.escape(note)}</li>" for note in record.notes] + ["</ul>"]
    rows_of = {source: [[p["path"], json.dumps(p["value"]), p["why"]] for p in record.parameters
                        if p["source"] == source] for source in ("fitted", "base")}
    fitted, kept = rows_of["fitted"], rows_of["base"]
    body.append("<h2>Fitted from the log</h2>" + _table(fitted, ["field", "value", "from"]))
    body.append("<h2>Taken from the base scenario</h2>" + _table(kept, ["field", "value", "why"]))
    activities = [
        [a["activity"], a["cycle_activity"] or "–", a["events"], a["used"],
         "; ".join(f"{k} ({v})" for k, v in a["uses"].items()),
         "; ".join(f"{v}: {k}" for k, v in a["not_used"].items())]
        for a in record.ledger
    ]
    body.append("<h2>Activities of the log: events used, for what, and why the rest were not</h2>"
                + _table(activities, ["log activity", "cycle activity", "events", "used", "used for",
                                      "not used (events: why)"]))
    body.append("<h2>Arrivals: daily counts and the fitted rate</h2>")
    for key, counts in record.samples.items():
        if key.startswith("arrivals.") and key.endswith(".daily_counts"):
            segment = key.split(".")[1]
            figure, axis = plt.subplots(figsize=(6, 2.5))
            axis.bar(range(len(counts)), counts, color="#9ab", label="log")
            axis.plot(record.samples[f"arrivals.{segment}.daily_fitted"], color="#c33", label="fitted")
            axis.set_title(
                f"segment {segment}: {record.statistics[f'segments.{segment}']['arrivals']['form']}"
            )
            axis.legend()
            body.append(_png(figure))
    rows, fits = _distribution_rows(record)
    body.append("<h2>Distributions: fitted (chosen by AIC) vs empirical</h2>")
    sample_key = {"order_size_units": "order_size", "response_days": "response_days"}
    for name, fit in fits:
        parts = name.split(".")
        samples = record.samples.get(name) or record.samples.get(
            f"{sample_key.get(parts[-1], parts[-1])}.{parts[1]}" if len(parts) == 3 else "", [])
        if name.endswith(".transit"):
            samples = record.samples.get(f"transit_days.{parts[1]}", [])
        chosen = fit.get("chosen") or fit.get("transit_days")
        if len(samples) < 10 or "cv" not in chosen and chosen.get("dist") not in ("exponential", "uniform",
                                                                                   "triangular"):
            continue
        figure, axis = plt.subplots(figsize=(4.5, 2.5))
        values = np.asarray(samples, dtype=float)
        axis.hist(values, bins=40, density=True, color="#9ab", label=f"log (n={len(values)})")
        grid = np.linspace(0, np.percentile(values, 99.5), 200)
        axis.plot(grid, scipy_distribution(chosen).pdf(grid), color="#c33", label=chosen["dist"])
        axis.set_title(name, fontsize=9)
        axis.legend(fontsize=7)
        body.append(_png(figure))
    body.append(_table(rows, ["field", "n", "family", "parameters", "AIC", "KS", ""]))
    counts = [[k, json.dumps(v["lines_per_order"]["observed"]), json.dumps(v["lines_per_order"]["fitted"])]
              for k, v in record.statistics.items()
              if isinstance(v, dict) and isinstance(v.get("lines_per_order"), dict)]
    if counts:
        body.append("<h2>Lines per order: observed and fitted shares</h2>"
                    + _table(counts, ["segment", "observed", "fitted"]))
    waits = [
        [k, v["n"], v["mean"], v["p50"], v["p90"]]
        for k, v in record.statistics.items()
        if k.startswith("wait_")
    ]
    body.append(
        "<h2>Waiting times (hours; produced by the model's queues, not inputs)</h2>"
        + _table(waits, ["queue", "n", "mean", "p50", "p90"])
    )
    calendars = [
        [k.split(".")[1], ", ".join(f"week {w}: {n}" for w, n in v["staffed_shifts_by_week"].items())]
        for k, v in record.statistics.items()
        if k.startswith("work_centres.") and k.endswith(".shifts")
    ]
    if calendars:
        body.append(
            "<h2>Working calendars (staffed 8-hour shifts from 06:00, per week of the log)</h2>"
            + _table(calendars, ["work centre", "shifts"])
        )
    steps = record.statistics.get("step_timings") or []
    if steps:
        body.append("<h2>Step timings: what the log shows of each step, and what the twin fits from it</h2>"
                    + _table([[s["step"], s["log_span"], s["model"], s["source"], s["n"], s["why"]]
                              for s in steps], ["step", "log", "model", "source", "n", "why"]))
    queues = record.statistics.get("queue_waits") or {}
    if queues:
        body.append("<h2>Waits the model produces by queueing (never fitted; the log's, where it shows "
                    "them, in days)</h2>" + _table(
                        [[name, q["model"], q.get("n", "–"), _days(q.get("mean_days")),
                          _days(q.get("p90_days"))] for name, q in queues.items()],
                        ["wait", "in the model", "n", "mean", "p90"]))
    fitted = record.statistics.get("calendars.fitted") or {}
    if fitted:
        body.append("<h2>Working calendars fitted from the log (task starts and ends; carriers' dispatches)"
                    "</h2>" + _table(
                        [[resource, c["events"], c.get("base_calendar") or "–", f"{c['outside_share']:.1%}",
                          f"{c['open_hours_per_week']:g}"] for resource, c in fitted.items()],
                        ["resource", "events", "base calendar", "outside the fitted one",
                         "open hours a week"]))
    checks = record.statistics.get("calendars.check") or {}
    if checks:
        body.append("<h2>The twin's office calendars against the log's task starts</h2>" + _table(
            [[pool, c["calendar"], c["starts"], f"{c['outside_calendar']:.1%}"]
             for pool, c in checks.items()],
            ["pool", "calendar", "task starts", "outside the calendar"]))
    return _page("Calibration report", body)


def validation_html(result: dict[str, Any], console: str) -> str:
    """The validation report: the console table, series with the replications' band, lead-time CDFs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    body = [f"<pre>{html.escape(console)}</pre>"]
    for name, series in result["series"].items():
        points = series["points"]
        figure, axis = plt.subplots(figsize=(6, 2.5))
        x = np.arange(len(points))
        low = [p["low"] if p["low"] is not None else np.nan for p in points]
        high = [p["high"] if p["high"] is not None else np.nan for p in points]
        axis.fill_between(x, low, high, color="#cde", label="twin 95 % PI")
        axis.plot(x, [p["log"] for p in points], color="#c33", label="log")
        axis.set_title(name)
        axis.legend(fontsize=7)
        body.append(_png(figure))
    for name, values in result["samples"]["log"].items():
        if len(values) < 2:
            continue
        figure, axis = plt.subplots(figsize=(4.5, 2.5))
        for sim in result["samples"]["sims"]:
            data = np.sort(sim.get(name, []))
            if len(data):
                axis.plot(data, np.arange(1, len(data) + 1) / len(data), color="#9ab", lw=0.8)
        data = np.sort(values)
        axis.plot(data, np.arange(1, len(data) + 1) / len(data), color="#c33", label="log")
        axis.set_title(f"{name} (days; grey: replications)", fontsize=9)
        body.append(_png(figure))
    return _page("Twin validation", body)
