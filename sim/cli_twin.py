"""``ordercycle export-ocel``, ``calibrate`` and ``validate``: the digital twin from the command line."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import yaml


def _bad(problems: list[str]) -> Exception:
    from ordercycle.sim.cli import BadInput

    return BadInput(problems)


def cmd_export_ocel(args: argparse.Namespace) -> int:
    """Write a run's event log as OCEL 2.0 JSON and SQLite."""
    import pandas as pd

    from ordercycle.sim.twin import ocel
    from ordercycle.sim.twin.report import write_atomic

    run = Path(args.run_dir)
    missing = [name for name in ("events.parquet", "orders.parquet") if not (run / name).exists()]
    if missing:
        raise _bad([f"{run}: not a run folder of `ordercycle run` (missing {', '.join(missing)})"])
    try:
        start = pd.Timestamp(args.start)
    except ValueError:
        raise _bad([f"--start: not a timestamp, got {args.start!r} (e.g. 2026-01-01T00:00:00)"]) from None
    products = None
    if (run / "run.json").exists():
        products = json.loads((run / "run.json").read_text(encoding="utf-8"))["scenario"]["products"]
    tables = ocel.from_run(
        pd.read_parquet(run / "events.parquet"),
        pd.read_parquet(run / "orders.parquet"),
        start.tz_localize(None) if start.tzinfo else start,
        products,
    )
    out = Path(args.out) if args.out else run
    json_path = write_atomic(out / "ocel.json", lambda p: ocel.write_json(tables, p))
    sqlite_path = write_atomic(out / "ocel.sqlite", lambda p: ocel.write_sqlite(tables, p))
    print(f"{len(tables.events):,} events, {len(tables.objects):,} objects -> {json_path}, {sqlite_path}")
    return 0


def _read(log_path: str, mapping_path: str | None) -> Any:
    from ordercycle.sim.twin.logs import LogError, load_mapping, read_log

    try:
        return read_log(log_path, load_mapping(mapping_path))
    except LogError as error:
        raise _bad(error.problems) from None


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Fit a scenario to a log; write the scenario, the report (HTML) and the fit statistics (JSON)."""
    from ordercycle.scenarios.loader import load
    from ordercycle.sim.twin.calibrate import calibrate
    from ordercycle.sim.twin.report import calibration_html, json_text, write_texts_atomic

    log = _read(args.log, args.mapping)
    base = load(args.base)
    out = Path(args.out)
    scenario, record = calibrate(log, base, name=out.stem)
    data = scenario.model_dump(mode="json")
    header = (
        f"# Calibrated by `ordercycle calibrate` from {args.log} on base {base.name!r}.\n"
        f"# Fitted: {', '.join(record.fitted)}.\n# Everything else comes from the base.\n"
    )
    report = Path(args.report) if args.report else out.with_suffix(".html")
    html_text = calibration_html(record)
    write_texts_atomic(
        {
            out.with_suffix(".json"): json_text(record.to_json()),
            report: html_text,
            out: header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True),
        }
    )
    print(f"{record.cases:,} cases, {record.events:,} events over {record.span_days:.1f} days")
    for note in record.notes:
        print(f"note: {note}")
    print(f"fitted {len(record.fitted)} fields; from the base: {len(record.from_base)} fields/sections")
    print(f"-> {out}, {report}, {out.with_suffix('.json')}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Simulate the twin over the log's period and compare it with the log."""
    from ordercycle.scenarios.loader import load
    from ordercycle.sim.executors import make_executor
    from ordercycle.sim.twin.report import json_text, validation_html, write_texts_atomic
    from ordercycle.sim.twin.validate import format_validation, validate

    if args.reps < 2:
        raise _bad([f"--reps: at least 2 replications are needed for an interval, got {args.reps}"])
    scenario = load(args.scenario)
    log = _read(args.log, args.mapping)
    executor = make_executor("process" if args.workers > 1 else "serial", args.workers)
    try:
        result = validate(scenario, log, reps=args.reps, seed=args.seed, executor=executor)
    finally:
        executor.close()
    console = format_validation(result)
    print(console)
    out = Path(args.out) if args.out else Path("out") / f"validate-{scenario.name}"
    summary = {k: v for k, v in result.items() if k != "samples"}
    html_text = validation_html(result, console)
    write_texts_atomic({out / "validation.json": json_text(summary), out / "validation.html": html_text})
    print(f"\n-> {out / 'validation.json'}, {out / 'validation.html'}")
    return 0


def register(commands: Any) -> None:
    """Add ``export-ocel``, ``calibrate`` and ``validate`` to the sub-parser action."""
    export = commands.add_parser("export-ocel", help="write a run's event log as OCEL 2.0 (JSON and SQLite)")
    export.add_argument("run_dir", metavar="RUN_DIR", help="output folder of `ordercycle run`")
    export.add_argument("--start", default="2026-01-01T00:00:00", help="timestamp of simulated day 0")
    export.add_argument("--out", help="folder for ocel.json and ocel.sqlite (default: RUN_DIR)")
    export.set_defaults(func=cmd_export_ocel)

    calibrate = commands.add_parser(
        "calibrate", help="fit a scenario to an event log (flat CSV/parquet or OCEL)"
    )
    calibrate.add_argument("log", metavar="LOG", help=".csv / .parquet (flat) or .json / .sqlite (OCEL 2.0)")
    calibrate.add_argument("--mapping", metavar="MAP.yaml", help="columns and activity names of the log")
    calibrate.add_argument("--base", default="baseline", help="scenario supplying what the log does not show")
    calibrate.add_argument(
        "--out", required=True, help="scenario YAML to write (report: same name .html/.json)"
    )
    calibrate.add_argument("--report", help="HTML report path (default: OUT with .html)")
    calibrate.set_defaults(func=cmd_calibrate)

    validate = commands.add_parser("validate", help="simulate a calibrated twin and compare it with the log")
    validate.add_argument("scenario", help="scenario YAML (e.g. from `ordercycle calibrate`)")
    validate.add_argument("log", metavar="LOG", help="the log to compare with")
    validate.add_argument("--mapping", metavar="MAP.yaml", help="columns and activity names of the log")
    validate.add_argument("--reps", type=int, default=5, help="replications (default 5)")
    validate.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    validate.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    validate.add_argument(
        "--out", help="folder for validation.json / .html (default out/validate-<scenario>)"
    )
    validate.set_defaults(func=cmd_validate)
