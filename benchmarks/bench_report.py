"""Benchmark: how long a year's ``report.html`` takes to build, and where the time goes.

Measures, on a run folder (made first with ``ordercycle run baseline --no-report`` when
none is given):

1. ``ordercycle report FOLDER`` end to end, in a fresh process (interpreter start, imports,
   reading the tables, the figures, writing): the figure the goal "≤ 3 s for a year" is
   judged on; the median of ``--repeat`` runs, with the figures drawn as the command draws
   them (``ORDERCYCLE_REPORT_WORKERS`` unset) and, for comparison, in one process
   (``ORDERCYCLE_REPORT_WORKERS=1``);
2. the parts, measured one after another in this process on one core: start-up and imports
   (fresh processes: ``python -c pass`` against importing the run report), reading the
   tables, each figure's building (data and matplotlib artists) and its PNG encoding
   (``savefig``: layout, drawing, compression), the HTML and Markdown — with each part's
   share of their sum.

Run from the repository root::

    python benchmarks/bench_report.py                 # a fresh baseline year, 3 rounds
    python benchmarks/bench_report.py out/run-baseline-seed0 --repeat 5

The machine is shared: read the shares and the serial/parallel ratio, and repeat when the
load is high (the load average is printed).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _seconds(command: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - started


def _cli(folder: Path, repeat: int, workers: str | None) -> list[float]:
    env = dict(os.environ)
    env.pop("ORDERCYCLE_REPORT_WORKERS", None)
    if workers is not None:
        env["ORDERCYCLE_REPORT_WORKERS"] = workers
    return [_seconds([sys.executable, "-m", "ordercycle.sim.cli", "report", str(folder)], env)
            for _ in range(repeat)]


def _parts(folder: Path) -> list[tuple[str, float]]:
    """Every part of the report's build, serially, in this process."""
    python = [sys.executable, "-c"]
    bare = statistics.median(_seconds(python + ["pass"]) for _ in range(3))
    imports = statistics.median(
        _seconds(python + ["import ordercycle.sim.cli, ordercycle.reports.run_report"]) for _ in range(3))
    parts = [("interpreter start", bare),
             ("imports (CLI, pandas, matplotlib, the run report)", imports - bare)]

    from ordercycle.reports import run_figures, run_report
    from ordercycle.reports.html import figure_png

    started = time.perf_counter()
    tables = run_report.load_run(folder)
    parts.append(("read the tables (parquet, JSON)", time.perf_counter() - started))
    started = time.perf_counter()
    journey = run_figures.journey(tables.events, tables.orders, tables.warmup)
    parts.append(("journey table (data)", time.perf_counter() - started))
    builders = {
        "journey": lambda: run_figures.journey_figure(journey),
        "ageing": lambda: run_figures.ageing_figure(tables.orders, tables.warmup),
        "queues": lambda: run_figures.queues_figure(tables.events, tables.horizon),
        "utilisation": lambda: run_figures.utilisation_figure(tables.events, tables.plans, tables.horizon,
                                                              centres=tables.centres),
        "forecast": lambda: run_figures.forecast_figure(tables.forecasts),
        "gantt": lambda: run_figures.gantt_figure(tables.events, tables.orders,
                                                  run_report.gantt_start(tables)),
        "inventory": lambda: run_figures.inventory_figure(tables.events),
        "money_flow": lambda: run_figures.money_flow_figure(tables.events),
    }
    assert tuple(builders) == run_report.FIGURES
    for name, build in builders.items():
        started = time.perf_counter()
        figure = build()
        built = time.perf_counter()
        if figure is not None:
            figure_png(figure)
        parts.append((f"figure {name}: data and artists", built - started))
        parts.append((f"figure {name}: layout, drawing, PNG", time.perf_counter() - built))
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        page, markdown = run_report.build_run_report(tables, workers=1)
        whole = time.perf_counter() - started
        started = time.perf_counter()
        page.write(Path(scratch) / "report.html")
        (Path(scratch) / "report.md").write_text(markdown)
        parts.append(("HTML and Markdown: render and write", time.perf_counter() - started))
    figures = sum(s for name, s in parts if name.startswith("figure"))
    parts.append(("(the rest of build_run_report: tables, pools, text)",
                  max(0.0, whole - figures - parts[3][1])))
    return parts


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", help="a run output folder (default: a fresh baseline year)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of the command (default 3)")
    args = parser.parse_args()
    scratch = None
    if args.folder:
        folder = Path(args.folder)
    else:
        scratch = tempfile.TemporaryDirectory()
        folder = Path(scratch.name) / "run"
        print("simulating the baseline year (ordercycle run baseline --no-report) …", flush=True)
        simulated = _seconds([sys.executable, "-m", "ordercycle.sim.cli", "run", "baseline", "--out",
                              str(folder), "--quiet", "--no-report"])
        print(f"  simulation and tables: {simulated:.1f} s")
    from ordercycle.reports.html import report_workers

    events = (folder / "events.parquet").stat().st_size / 1e6
    print(f"run folder {folder} (events.parquet {events:.1f} MB); {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.2f}; figures drawn by {report_workers()} worker processes")
    default = _cli(folder, args.repeat, None)
    serial = _cli(folder, args.repeat, "1")
    print(f"\n`ordercycle report FOLDER`: median {statistics.median(default):.2f} s "
          f"(rounds: {', '.join(f'{s:.2f}' for s in default)}); goal ≤ 3 s: "
          f"{'met' if statistics.median(default) <= 3 else 'NOT met'}")
    print(f"  with every figure drawn in one process: median {statistics.median(serial):.2f} s "
          f"(rounds: {', '.join(f'{s:.2f}' for s in serial)})")
    parts = _parts(folder)
    total = sum(s for _, s in parts)
    print(f"\nwhere the time goes (one process, parts measured one after another; sum {total:.2f} s):")
    for name, seconds in parts:
        print(f"  {name:<58} {seconds:6.2f} s  {seconds / total:6.1%}")
    figures = sum(s for name, s in parts if name.startswith("figure"))
    drawing = sum(s for name, s in parts if name.endswith("PNG"))
    print(f"  {'all figures':<58} {figures:6.2f} s  {figures / total:6.1%} "
          f"(of which layout, drawing and PNG {drawing:.2f} s)")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    if scratch is not None:
        scratch.cleanup()


if __name__ == "__main__":
    main()
