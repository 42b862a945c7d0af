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


def calibration_html(record: Any) -> str:
    """The calibration report: what was fitted and from what, fitted vs empirical plots."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ordercycle.sim.twin.fitting import scipy_distribution

    body = [
        f"<p>Log <code>{html.escape(record.log_source)}</code>: {record.cases} cases, "
        f"{record.events} events, "
        f"{record.span_days:.1f} days from {html.escape(record.origin)}.</p>",
        "<h2>Notes</h2><ul>",
    ]
    body += [f"<li>{html.escape(note)}</li>" for note in record.notes] + ["</ul>"]
    body.append(
        "<h2>Fitted</h2>" + _table([[k, json.dumps(v)] for k, v in record.fitted.items()], ["field", "value"])
    )
    body.append("<h2>From the base scenario</h2><p>" + html.escape(", ".join(record.from_base)) + "</p>")
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
    body.append("<h2>Distributions: fitted (chosen by AIC) vs empirical</h2>")
    rows = []
    for key, stats in record.statistics.items():
        fits = (
            [(key, stats)]
            if "candidates" in stats
            else [
                (f"{key}.{sub}", s) for sub, s in stats.items() if isinstance(s, dict) and "candidates" in s
            ]
        )
        for name, fit in fits:
            for c in fit["candidates"]:
                rows.append(
                    [
                        name,
                        fit["n"],
                        c["family"],
                        json.dumps(c["distribution"]),
                        f"{c['aic']:.1f}",
                        f"{c['ks_statistic']:.3f}",
                        "chosen" if c["distribution"] == fit["chosen"] else "",
                    ]
                )
            sample_key = {"order_size_units": "order_size", "response_days": "response_days"}
            parts = name.split(".")
            samples = record.samples.get(name) or record.samples.get(
                f"{sample_key.get(parts[-1], parts[-1])}.{parts[1]}" if len(parts) == 3 else "", []
            )
            if len(samples) >= 10 and fit["chosen"].get("dist") not in (None, "fixed"):
                figure, axis = plt.subplots(figsize=(4.5, 2.5))
                values = np.asarray(samples, dtype=float)
                axis.hist(values, bins=40, density=True, color="#9ab", label=f"log (n={len(values)})")
                grid = np.linspace(0, np.percentile(values, 99.5), 200)
                axis.plot(
                    grid,
                    scipy_distribution(fit["chosen"]).pdf(grid),
                    color="#c33",
                    label=fit["chosen"]["dist"],
                )
                axis.set_title(name, fontsize=9)
                axis.legend(fontsize=7)
                body.append(_png(figure))
    body.append(_table(rows, ["field", "n", "family", "parameters", "AIC", "KS", ""]))
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
    if record.unmapped:
        body.append(
            "<h2>Unmapped activities (not used)</h2>"
            + _table([[k, v] for k, v in record.unmapped.items()], ["log activity", "events"])
        )
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
