"""The digital twin's commands: ``export-ocel``, ``calibrate``, ``validate``, ``whatif``, ``promise-risk``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from ordercycle.sim.cli.common import BadInput, default_output, executor_from, progress_bars

DEFAULT_OCEL_START = "2026-01-01T00:00:00"
"""Timestamp of day 0 in an OCEL export of a scenario without ``calendars``."""


def cmd_export_ocel(args: argparse.Namespace) -> int:
    """Write a run's event log as OCEL 2.0 JSON and SQLite."""
    import pandas as pd

    from ordercycle.sim.twin import ocel
    from ordercycle.sim.twin.report import write_atomic

    run = Path(args.run_dir)
    missing = [name for name in ("events.parquet", "orders.parquet") if not (run / name).exists()]
    if missing:
        raise BadInput([f"{run}: not a run folder of `ordercycle run` (missing {', '.join(missing)})"])
    products, start_text = None, args.start
    if (run / "run.json").exists():
        from ordercycle.policies.input_files import read_json

        record = read_json(run / "run.json")
        scenario = record.get("scenario") if isinstance(record, dict) else None
        if not isinstance(scenario, dict) or not isinstance(scenario.get("products"), list):
            raise BadInput([f"{run / 'run.json'}: scenario.products: missing (not a run record of "
                            "`ordercycle run`)"])
        products = scenario["products"]
        if start_text is None and scenario.get("calendars"):
            start_text = scenario["calendars"]["start_date"]  # the run's own day 0
    try:
        start = pd.Timestamp(start_text or DEFAULT_OCEL_START)
    except ValueError:
        raise BadInput([f"--start: not a timestamp, got {args.start!r} (e.g. 2026-01-01T00:00:00)"]) from None
    optional = {name: pd.read_parquet(run / f"{name}.parquet") if (run / f"{name}.parquet").exists() else None
                for name in ("lines", "shipment_lines")}  # (run folders of earlier versions have neither)
    tables = ocel.from_run(
        pd.read_parquet(run / "events.parquet"),
        pd.read_parquet(run / "orders.parquet"),
        start.tz_localize(None) if start.tzinfo else start,
        products,
        optional["lines"],
        optional["shipment_lines"],
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
        raise BadInput(error.problems) from None


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
    print(f"{record.cases:,} cases, {record.events:,} events over {record.span_days:.1f} days "
          f"({record.source_format})")
    for note in record.notes:
        print(note if note.startswith("warning: ") else f"note: {note}")
    unused = sum(sum(a["not_used"].values()) for a in record.ledger)
    print(f"fitted {len(record.fitted)} parameters; from the base: {len(record.from_base)} (each with why "
          f"in {report.name}); {unused:,} events of the log not used (per activity, with the reason, in "
          f"{report.name})")
    print(f"-> {out}, {report}, {out.with_suffix('.json')}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Simulate the twin over the log's period and compare it with the log."""
    from ordercycle.scenarios.loader import load
    from ordercycle.sim.experiments.executors import make_executor
    from ordercycle.sim.twin.report import json_text, validation_html, write_texts_atomic
    from ordercycle.sim.twin.validate import format_validation, validate

    if args.reps < 2:
        raise BadInput([f"--reps: at least 2 replications are needed for an interval, got {args.reps}"])
    scenario = load(args.scenario)
    log = _read(args.log, args.mapping)
    executor = make_executor("process" if args.workers > 1 else "serial", args.workers)
    try:
        result = validate(scenario, log, reps=args.reps, seed=args.seed, executor=executor)
    finally:
        executor.close()
    console = format_validation(result)
    print(console)
    out = Path(args.out) if args.out else default_output("validate", scenario.name)
    summary = {k: v for k, v in result.items() if k != "samples"}
    html_text = validation_html(result, console)
    write_texts_atomic({out / "validation.json": json_text(summary), out / "validation.html": html_text})
    print(f"\n-> {out / 'validation.json'}, {out / 'validation.html'}")
    return 0


def _positive_days(text: str, flag: str) -> list[float]:
    try:
        return [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise BadInput([f"{flag}: comma-separated days, e.g. 7,14,21, got {text!r}"]) from None


def _bundles(paths: list[str]) -> list[Any]:
    from ordercycle.policies.bundle import BundleError, load_bundle

    bundles, problems = [], []
    for path in paths:
        try:
            bundles.append(load_bundle(path))
        except BundleError as error:
            problems += error.problems
    if problems:
        raise BadInput(problems)
    return bundles


def cmd_whatif(args: argparse.Namespace) -> int:
    """Compare policy bundles over the next days from a state snapshot; write the comparison."""
    from ordercycle.scenarios.loader import load
    from ordercycle.sim.cli.experiments import format_comparison
    from ordercycle.sim.experiments import ExperimentError, write_comparison
    from ordercycle.sim.snapshot import read_snapshot
    from ordercycle.sim.twin.whatif import bundle_scenario, whatif

    if not args.bundle:
        raise BadInput(["--bundle: give at least one policy bundle (e.g. --bundle A.json --bundle B.json)"])
    if not args.days > 0:
        raise BadInput([f"--days: must be > 0, got {args.days:g}"])
    bundles = _bundles(args.bundle)
    scenario = load(args.scenario) if args.scenario else bundle_scenario(bundles[0])
    snapshot = read_snapshot(args.snapshot, scenario)
    out = Path(args.out) if args.out else default_output("whatif", Path(args.snapshot).stem, args.seed)
    executor = executor_from(args)
    try:
        comparison = whatif(snapshot, bundles, scenario, days=args.days, reps=args.reps, seed=args.seed,
                            executor=executor, out=out, confidence=args.confidence,
                            progress=progress_bars(args.quiet))
    except ExperimentError as error:
        raise BadInput(error.problems) from None
    finally:
        executor.close()
    write_comparison(comparison, out)
    print(format_comparison(comparison))
    carried = comparison.summary[comparison.summary["kpi"].str.startswith("carried_over.")]
    if len(carried):
        print(f"\nOrders open at the snapshot ({len(snapshot.orders)} carried over):")
        for row in carried.itertuples():
            print(f"  {row.kpi:<34} {row.set:<16} {row.mean:>10.3f} ± {row.half_width:.3f}")
    print(f"\n{len(bundles)} bundles × {comparison.replications_used} replications over {args.days:g} days "
          f"from {args.snapshot}; results in {out}")
    from ordercycle.sim.cli.reports import report_after

    report_after(out, not getattr(args, "no_report", False))
    return 1 if len(comparison.errors) else 0


def snapshot_scenario(snapshot_path: str) -> Any:
    """The scenario a snapshot was taken from: ``run.json`` of the run folder it is in.

    ``ordercycle run SCENARIO --snapshot-at DAYS`` writes ``snapshot.json`` beside the run's
    ``run.json``, which holds the scenario as run (a calibrated twin, say). A snapshot with
    no ``run.json`` beside it (or beside its folder of CSV tables) does not say which company
    it is of: refused, asking for ``--scenario``.
    """
    from ordercycle.scenarios.loader import ScenarioError, parse

    path = Path(snapshot_path)
    folder = path.parent if path.is_file() else path
    for candidate in (folder / "run.json", folder.parent / "run.json"):
        if candidate.exists():
            try:
                provenance = json.loads(candidate.read_text(encoding="utf-8"))
                scenario = parse(provenance["scenario"])
            except (OSError, ValueError, KeyError, TypeError, ScenarioError) as error:
                raise BadInput([f"{candidate}: not the run.json of `ordercycle run` ({error}); give "
                                "--scenario"]) from None
            print(f"scenario: {scenario.name!r}, the one the snapshot was taken from ({candidate})",
                  file=sys.stderr)  # (stdout may be --json)
            return scenario
    raise BadInput([f"{snapshot_path}: a state snapshot does not say which company it is of, and no "
                    "run.json of `ordercycle run --snapshot-at` is beside it; give --scenario (the scenario "
                    "or twin it was taken from)"])


def cmd_promise_risk(args: argparse.Namespace) -> int:
    """Probability of delivering a new order by each candidate date, from a state snapshot."""
    from ordercycle.scenarios.loader import load
    from ordercycle.sim.experiments.executors import make_executor
    from ordercycle.sim.snapshot import read_snapshot
    from ordercycle.sim.twin.promise import NewOrder, default_segment, format_promise_risk, promise_risk

    scenario = load(args.scenario) if args.scenario else snapshot_scenario(args.snapshot)
    snapshot = read_snapshot(args.snapshot, scenario)
    products = {p.id for p in scenario.products}
    if args.segment is None and args.product not in products:
        known = ", ".join(sorted(products))
        raise BadInput([f"--product: unknown product {args.product!r} (known: {known})"])
    segment = args.segment or default_segment(scenario, args.product)
    order = NewOrder(args.product, args.quantity, segment)
    if args.workers < 1:
        raise BadInput([f"--workers: must be at least 1, got {args.workers}"])
    executor = make_executor("process" if args.workers > 1 else "serial", args.workers)
    try:
        result = promise_risk(scenario, snapshot, order, _positive_days(args.dates, "--dates"),
                              reps=args.reps, seed=args.seed, confidence=args.confidence, executor=executor)
    finally:
        executor.close()
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        print(format_promise_risk(result))
    return 0


def register(commands: Any) -> None:
    """Add the twin's commands to the sub-parser action."""
    export = commands.add_parser("export-ocel", help="write a run's event log as OCEL 2.0 (JSON and SQLite)")
    export.add_argument("run_dir", metavar="RUN_DIR", help="output folder of `ordercycle run`")
    export.add_argument("--start", help="timestamp of simulated day 0 (default: the scenario's "
                        f"calendars.start_date, else {DEFAULT_OCEL_START})")
    export.add_argument("--out", help="folder for ocel.json and ocel.sqlite (default: RUN_DIR)")
    export.set_defaults(func=cmd_export_ocel)

    calibrate = commands.add_parser(
        "calibrate", help="fit a scenario to an event log (flat CSV/parquet, or OCEL 2.0 / 1.0)"
    )
    calibrate.add_argument("log", metavar="LOG", help=".csv / .parquet (flat), or OCEL 2.0 / 1.0 as JSON, "
                           "XML or SQLite (.json, .jsonocel, .xml, .xmlocel, .sqlite)")
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

    whatif = commands.add_parser("whatif",
                                 help="compare policy bundles over the next days from a state snapshot")
    whatif.add_argument("snapshot", metavar="SNAPSHOT",
                        help="state snapshot JSON (`ordercycle run --snapshot-at`)")
    whatif.add_argument("--bundle", action="append", default=[], metavar="BUNDLE.json",
                        help="a policy bundle (repeat: one policy set per bundle)")
    whatif.add_argument("--days", type=float, default=28.0, help="days ahead (default 28)")
    whatif.add_argument("--reps", type=int, default=10, help="replications per bundle (default 10)")
    whatif.add_argument("--scenario", help="the company (default: the first bundle's scenario)")
    whatif.add_argument("--seed", type=int, default=0, help="root seed shared by every bundle (default 0)")
    whatif.add_argument("--workers", type=int, help="worker processes (default: all cores)")
    whatif.add_argument("--executor", choices=["process", "serial", "dask"], default="process",
                        help="process pool (default), serial, or a Dask LocalCluster")
    whatif.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on this Dask scheduler")
    whatif.add_argument("--confidence", type=float, default=0.95, help="confidence level (default 0.95)")
    whatif.add_argument("--out", help="output folder (default out/whatif-<snapshot>-seed<seed>)")
    whatif.add_argument("--quiet", action="store_true", help="no progress bar")
    whatif.add_argument("--no-report", action="store_true", help="do not write report.html / report.md")
    whatif.set_defaults(func=cmd_whatif)

    risk = commands.add_parser("promise-risk",
                               help="probability of delivering a new order by each candidate date")
    risk.add_argument("snapshot", metavar="SNAPSHOT", help="state snapshot JSON")
    risk.add_argument("--product", required=True, help="product id")
    risk.add_argument("--quantity", type=int, required=True, help="units")
    risk.add_argument("--segment", help="customer segment (default: the one buying most of the product)")
    risk.add_argument("--dates", required=True, metavar="D1,D2,...",
                      help="candidate promised dates, days from the snapshot (e.g. 7,14,21)")
    risk.add_argument("--reps", type=int, default=20, help="replications per date (default 20)")
    risk.add_argument("--scenario", help="the company (default: the scenario the snapshot was taken from, "
                      "from the run.json beside it)")
    risk.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    risk.add_argument("--workers", type=int, default=1,
                      help="worker processes (default 1; the answer does not depend on it)")
    risk.add_argument("--confidence", type=float, default=0.95, help="interval level (default 0.95)")
    risk.add_argument("--json", action="store_true", help="print JSON instead of a table")
    risk.set_defaults(func=cmd_promise_risk)
