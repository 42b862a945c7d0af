"""Sub-commands of the decision service: ``export``, ``serve``, ``decisions``, ``replay``.

``export`` turns a results directory of ``ordercycle compare`` into a policy bundle;
``serve`` runs the bundle's policies as an HTTP service (FastAPI under uvicorn) with a
decision log; ``decisions`` lists or summarises the log; ``replay`` re-decides logged
contexts with a candidate bundle. Bad input exits 2 with ``path: reason`` lines.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import ipaddress
import json
import os
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ordercycle.sim.cli.common import BadInput

EXPERIMENT_KEYS = ("schema_version", "kind", "scenario", "scenario_name", "scenario_hash", "sets",
                   "reference", "seed", "replications", "warmup_days", "horizon_days", "confidence",
                   "package_version")
SUMMARY_COLUMNS = ("set", "kpi", "n", "mean", "std", "ci_low", "ci_high", "diff_mean", "diff_ci_low",
                   "diff_ci_high", "p_value")


# --- export ---------------------------------------------------------------------------


def _read_json(path: Path) -> Any:
    from ordercycle.policies.input_files import InputFileError, read_json

    if not path.exists():
        raise BadInput([f"{path}: missing (is this a results directory of `ordercycle compare`?)"])
    try:
        return read_json(path)
    except InputFileError as error:
        raise BadInput(error.problems) from None


def _read_experiment(results: Path) -> dict[str, Any]:
    experiment = _read_json(results / "experiment.json")
    where = results / "experiment.json"
    if not isinstance(experiment, dict):
        raise BadInput([f"{where}: must be a JSON object"])
    problems = [f"{where}: {key}: missing" for key in EXPERIMENT_KEYS if key not in experiment]
    if problems:
        raise BadInput(problems)
    if experiment["kind"] != "compare":
        problems.append(f"{where}: kind: must be 'compare', got {experiment['kind']!r}")
    if experiment["schema_version"] != 1:
        problems.append(f"{where}: schema_version: this ordercycle reads version 1, "
                        f"got {experiment['schema_version']!r}")
    if not isinstance(experiment["sets"], dict) or not experiment["sets"]:
        problems.append(f"{where}: sets: must be a non-empty object {{set name: policy set}}")
    if problems:
        raise BadInput(problems)
    return experiment


def _check_scenario(experiment: dict[str, Any], where: Path) -> None:
    from pydantic import ValidationError

    from ordercycle.scenarios.loader import content_hash
    from ordercycle.scenarios.schema import Scenario

    try:
        scenario = Scenario.model_validate(experiment["scenario"])
    except ValidationError as error:
        first = error.errors()[0]
        path = ".".join(["scenario", *(str(part) for part in first["loc"])])
        raise BadInput([f"{where}: {path}: {first['msg']}"]) from None
    computed = content_hash(scenario)
    if computed != experiment["scenario_hash"]:
        raise BadInput([f"{where}: scenario_hash: {experiment['scenario_hash'][:12]}… does not match the "
                        f"scenario it records ({computed[:12]}…): the results were edited"])


def _summary_rows(results: Path) -> dict[str, list[dict[str, Any]]]:
    """The rows of ``summary.parquet`` by set, sorted by KPI."""
    import pandas as pd

    path = results / "summary.parquet"
    if not path.is_file():
        raise BadInput([f"{path}: missing (is this a results directory of `ordercycle compare`?)"])
    try:
        table = pd.read_parquet(path)
    except (OSError, ValueError) as error:
        raise BadInput([f"{path}: not a parquet table ({error})"]) from None
    missing = [column for column in SUMMARY_COLUMNS if column not in table.columns]
    if missing:
        raise BadInput([f"{path}: missing columns {', '.join(missing)}"])
    by_set: dict[str, list[dict[str, Any]]] = {}
    for name, rows in table[list(SUMMARY_COLUMNS)].groupby("set", sort=False):
        by_set[str(name)] = [{key: (value.item() if hasattr(value, "item") else value)
                              for key, value in row.items()}
                             for row in rows.sort_values("kpi").to_dict(orient="records")]
    return by_set


def _created_at() -> str:
    """Now in UTC, or ``SOURCE_DATE_EPOCH`` when set (reproducible bundles)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = datetime.fromtimestamp(int(epoch), UTC) if epoch and epoch.isdigit() else datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def export_bundle(results_dir: str | Path, set_name: str | None = None,
                  winner: bool = False, decisions: list[str] | None = None) -> dict[str, Any]:
    """A bundle document for one policy set of a ``compare`` results directory.

    With ``decisions`` the bundle ships only those decision kinds of the set (a service
    built from it answers only those routes); the evidence, about the whole set as it was
    simulated, records which were shipped.

    Before anything is written, the evidence is verified
    (:func:`~ordercycle.sim.experiments.evidence.check_evidence`): every set's policies are
    those whose replications it cites, every cited record is in the result store and the
    summary is computed from them. The bundle's evidence records the run keys.

    Raises:
        BadInput: naming the file and field at fault (missing files, no winner, unknown
            set, edited results or evidence, unknown policy or bad parameter).
    """
    from ordercycle.policies.base import PolicyParameterError
    from ordercycle.policies.bundle import make_bundle
    from ordercycle.sim.run import package_version

    results = Path(results_dir)
    if not results.is_dir():
        raise BadInput([f"{results}: no such results directory"])
    experiment = _read_experiment(results)
    ranking = _read_json(results / "ranking.json")
    if not isinstance(ranking, dict) or "ranking" not in ranking or "winner" not in ranking:
        raise BadInput([f"{results / 'ranking.json'}: must be an object with ranking and winner"])
    if winner:
        set_name = ranking["winner"]
        if set_name is None:
            raise BadInput([f"{results / 'ranking.json'}: winner: null — no policy set met the objective's "
                            "constraints; export one explicitly with --set NAME"])
        selected_by = "winner"
    else:
        selected_by = "set"
    if set_name not in experiment["sets"]:
        known = ", ".join(sorted(experiment["sets"]))
        where = results / "experiment.json"
        raise BadInput([f"--set {set_name}: no such policy set in {where} (sets: {known})"])
    _check_scenario(experiment, results / "experiment.json")
    summary = _summary_rows(results)
    if set_name not in summary:
        where = results / "summary.parquet"
        raise BadInput([f"{where}: no rows for set {set_name!r}: no evidence to export"])
    entry = next((row for row in ranking["ranking"] if row.get("set") == set_name), None)
    evidence = {
        "source": {"kind": "compare", "results_dir": str(results.resolve()), "selected_by": selected_by,
                   "set": set_name, "reference": experiment["reference"],
                   "package_version": experiment["package_version"]},
        "seed": experiment["seed"], "replications": experiment["replications"],
        "warmup_days": experiment["warmup_days"], "horizon_days": experiment["horizon_days"],
        "confidence": experiment["confidence"],
        "objective": ranking.get("objective"), "rank": entry, "winner": ranking["winner"],
        "ranking": ranking["ranking"],
        "summary": summary[set_name],
        "run_keys": experiment.get("run_keys"),
    }
    policies = experiment["sets"][set_name]
    if decisions is not None:
        policies = _subset(policies, decisions, results / "experiment.json", set_name)
        evidence["source"]["decisions"] = sorted(policies)
    try:
        document = make_bundle(
            policies, scenario=experiment["scenario"],
            scenario_name=experiment["scenario_name"], scenario_hash=experiment["scenario_hash"],
            evidence=evidence, package_version=package_version(), created_at=_created_at(),
        )
    except PolicyParameterError as error:
        where = results / "experiment.json"
        raise BadInput([f"{where}: sets.{set_name}.{line.removeprefix('policies.')}"
                        for line in error.problems]) from None
    from ordercycle.sim.experiments.evidence import check_evidence

    problems = check_evidence(results, experiment, summary)
    if problems:
        raise BadInput(problems)
    return document


def _subset(policies: Any, decisions: list[str], where: Path, set_name: str) -> dict[str, Any]:
    """The set's policies for ``decisions`` only.

    Raises:
        BadInput: for a decision kind that is unknown or that the set does not choose.
    """
    from ordercycle.policies.registry import DECISIONS

    if not isinstance(policies, dict):
        raise BadInput([f"{where}: sets.{set_name}: must be an object {{decision: policy}}"])
    problems = [f"--decisions {kind}: unknown decision (known: {', '.join(DECISIONS)})"
                for kind in decisions if kind not in DECISIONS]
    problems += [f"--decisions {kind}: set {set_name!r} in {where} chooses no {kind} policy"
                 for kind in decisions if kind in DECISIONS and kind not in policies]
    if not decisions:
        problems.append("--decisions: name at least one decision kind (e.g. selection,pricing)")
    if problems:
        raise BadInput(problems)
    return {kind: policies[kind] for kind in decisions}


def cmd_export(args: argparse.Namespace) -> int:
    """``ordercycle export RESULTS_DIR (--set NAME | --winner) [--decisions KIND,…] --out bundle.json``."""
    from ordercycle.policies.bundle import write_bundle

    decisions = None if args.decisions is None else [kind for kind in args.decisions.split(",") if kind]
    document = export_bundle(args.results_dir, args.set, args.winner, decisions)
    out = write_bundle(document, args.out)
    source = document["evidence"]["source"]
    print(f"bundle {document['content_hash'][:12]} of set {source['set']!r} ({source['selected_by']}) "
          f"for {len(document['policies'])} decisions -> {out}")
    return 0


# --- serve ----------------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    """Whether ``host`` names only the loopback interface."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _load_bundle(path: str, option: str) -> Any:
    from ordercycle.policies.bundle import BundleError, load_bundle

    try:
        return load_bundle(path)
    except BundleError as error:
        raise BadInput([f"{option} {line}" if option else line for line in error.problems]) from None


def _promise_estimator(args: argparse.Namespace, live: Any) -> Any:
    """The promise-risk estimator from ``--snapshot``: the live bundle's policies on its scenario
    (or ``--promise-scenario``), started from the snapshot."""
    from ordercycle.scenarios.loader import load
    from ordercycle.sim.snapshot import read_snapshot
    from ordercycle.sim.twin.promise import service_estimator
    from ordercycle.sim.twin.whatif import deployed_scenario

    if args.promise_max_reps < 1:
        raise BadInput([f"--promise-max-reps: must be >= 1, got {args.promise_max_reps}"])
    company = deployed_scenario(live, load(args.promise_scenario) if args.promise_scenario else None)
    return service_estimator(company, read_snapshot(args.snapshot, company))


TOKEN_FILE_ENV = "ORDERCYCLE_TOKEN_FILE"
"""Environment variable naming a file that holds the bearer token (``--token-file``'s default),
e.g. a container secret: ``/run/secrets/ordercycle_token``."""
MAX_TOKEN_FILE_BYTES = 4096
SERVE_CONFIG_ENV = "ORDERCYCLE_SERVE_CONFIG"
"""How ``serve --workers N`` hands its options to the worker processes (JSON of the parsed
options; the token itself stays in its environment variable or file)."""
SERVE_OPTIONS = ("bundle", "shadow", "db", "synchronous", "token_env", "token_file", "max_body_bytes",
                 "max_items", "snapshot", "promise_scenario", "promise_max_reps", "host", "body_timeout",
                 "header_timeout", "db_connections")
"""The options of ``serve`` a worker needs to build the application."""
WORKER_START_SECONDS = 120
"""How long uvicorn's supervisor waits for a new worker to be ready (it imports the package
and loads the bundle: seconds on a busy machine) before it keeps the old one."""


def _token_text(args: argparse.Namespace) -> tuple[str | None, str]:
    """The raw bearer token text and where it came from: ``--token-file`` or the environment
    variable ``--token-env`` names (never both)."""
    from_env = os.environ.get(args.token_env) or None
    if not args.token_file:
        return from_env, f"${args.token_env}"
    if from_env is not None:
        raise BadInput([f"--token-file {args.token_file}: ${args.token_env} is set too; give the token "
                        "one way"])
    path = Path(args.token_file)
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_TOKEN_FILE_BYTES + 1)
    except OSError as error:
        raise BadInput([f"--token-file {path}: cannot read ({error.strerror or error})"]) from None
    if len(raw) > MAX_TOKEN_FILE_BYTES:
        raise BadInput([f"--token-file {path}: larger than {MAX_TOKEN_FILE_BYTES} bytes: not a token file"])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput([f"--token-file {path}: not UTF-8 text"]) from None
    if not text.strip():
        raise BadInput([f"--token-file {path}: empty"])
    return text, f"--token-file {path}"


def service_tokens(args: argparse.Namespace, quiet: bool = False) -> tuple[str, ...]:
    """The bearer tokens of ``serve`` (from ``--token-file`` or ``--token-env``; several,
    comma-separated, for rotation), checked for the ``--host`` it binds, printing a warning
    for each token whose surrounding whitespace (a secret file's final newline) was removed."""
    from ordercycle.policies.service.tokens import parse_tokens, public_problems

    text, where = _token_text(args)
    tokens, warnings, problems = parse_tokens(text, where)
    for warning in warnings if not quiet else ():
        print(f"warning: {warning}", file=sys.stderr)
    if not is_loopback(args.host):
        if not tokens and not problems:
            problems.append(f"--host {args.host}: refusing to listen beyond loopback without a bearer token; "
                            f"set the environment variable {args.token_env} or give --token-file")
        problems += public_problems(tokens, where, args.host)
    if problems:
        raise BadInput(problems)
    return tokens


def build_app(args: argparse.Namespace, tokens: tuple[str, ...], metrics_dir: str | None = None) -> Any:
    """The decision service's application for the options of ``serve`` (bundles loaded and
    verified, the promise-risk estimator built): every input read before the log is opened.

    Raises:
        BadInput: naming the option at fault.
    """
    from ordercycle.policies.service.app import ServiceSettings, create_app

    live = _load_bundle(args.bundle, "")
    shadow = _load_bundle(args.shadow, "--shadow") if args.shadow else None
    estimator = _promise_estimator(args, live) if args.snapshot else None
    settings = ServiceSettings(db_path=args.db, token=tokens[0] if tokens else None, tokens=tokens[1:],
                               max_body_bytes=args.max_body_bytes, max_items=args.max_items,
                               synchronous=args.synchronous, body_timeout=args.body_timeout,
                               metrics_dir=metrics_dir, db_connections=args.db_connections)
    return create_app(live, settings, shadow, promise_risk=estimator, promise_max_reps=args.promise_max_reps)


def serve_app() -> Any:
    """uvicorn's application factory in each worker of ``serve --workers N``: the options
    from :data:`SERVE_CONFIG_ENV`, the bundle files read afresh — so a ``SIGHUP`` to the
    supervisor, which replaces the workers one by one, deploys the bundle file's new content
    without downtime. A bundle that does not load stops the new worker with its ``path:
    reason`` lines in the log; the supervisor then keeps the old workers serving."""
    from ordercycle.policies.service.metrics import METRICS_DIR_ENV
    from ordercycle.policies.service.server import HeaderDeadlineH11

    try:
        args = argparse.Namespace(**json.loads(os.environ[SERVE_CONFIG_ENV]))
        HeaderDeadlineH11.header_timeout = args.header_timeout  # this worker's protocol class
        return build_app(args, service_tokens(args, quiet=True), os.environ.get(METRICS_DIR_ENV))
    except BadInput as error:
        for line in error.problems:
            print(f"ordercycle serve: worker not started: {line}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None


def cmd_serve(args: argparse.Namespace) -> int:
    """``ordercycle serve bundle.json``: the decision service under uvicorn."""
    from ordercycle.policies.service import server
    from ordercycle.policies.service.log import DecisionLogError, open_log
    from ordercycle.policies.service.log_postgres import masked
    from ordercycle.policies.service.server import ServerLimits

    problems = []
    if not 0 <= args.port <= 65535:
        problems.append(f"--port: must be between 0 and 65535, got {args.port}")
    if args.max_body_bytes < 1024:
        problems.append(f"--max-body-bytes: must be >= 1024, got {args.max_body_bytes}")
    if args.max_items < 1:
        problems.append(f"--max-items: must be >= 1, got {args.max_items}")
    if args.workers < 1:
        problems.append(f"--workers: must be >= 1, got {args.workers}")
    for option, module in (("--http", args.http), ("--loop", args.loop)):
        if module in ("httptools", "uvloop") and importlib.util.find_spec(module) is None:
            problems.append(f"{option} {module}: not installed (pip install 'ordercycle[fast]')")
    for option, value in (("--header-timeout", args.header_timeout), ("--body-timeout", args.body_timeout)):
        if not 0 < value <= 3600:
            problems.append(f"{option}: must be between 0 and 3600 seconds, got {value:g}")
    if not 1 <= args.keep_alive <= 3600:
        problems.append(f"--keep-alive: must be between 1 and 3600 seconds, got {args.keep_alive}")
    if args.limit_concurrency < 1:
        problems.append(f"--limit-concurrency: must be >= 1, got {args.limit_concurrency}")
    if not 1 <= args.db_connections <= 64:
        problems.append(f"--db-connections: must be between 1 and 64, got {args.db_connections}")
    if problems:
        raise BadInput(problems)
    tokens = service_tokens(args)
    app = build_app(args, tokens)  # in the workers' case too: every input error here, before the log
    live, shadow = app.state.live, app.state.shadow
    try:
        open_log(args.db, args.synchronous, 1).close()
    except DecisionLogError as error:
        raise BadInput([f"--db {line}" for line in error.problems]) from None
    source = f"--token-file {args.token_file}" if args.token_file else f"${args.token_env}"
    count = f"{len(tokens)} bearer tokens" if len(tokens) > 1 else "bearer token"
    auth = f"{count} from {source}" if tokens else "none (loopback only)"
    shadowing = f"; shadow bundle {shadow.content_hash[:12]}" if shadow else ""
    workers = (f"; {args.workers} workers (SIGHUP: reload the bundle, worker by worker)"
               if args.workers > 1 else "")
    print(f"serving bundle {live.content_hash[:12]} ({', '.join(sorted(live.policies))}) on "
          f"http://{args.host}:{args.port}{shadowing}; decision log {masked(str(args.db))}; auth: {auth}"
          f"{workers}", file=sys.stderr)
    limits = ServerLimits(header_timeout=args.header_timeout, keep_alive=args.keep_alive,
                          limit_concurrency=args.limit_concurrency)
    options: dict[str, Any] = {"proxy_headers": True, "forwarded_allow_ips": args.forwarded_allow_ips,
                               "loop": args.loop, "http": args.http}
    if args.workers == 1:
        server.serve(app, args.host, args.port, limits, args.log_level, **options)
        return 0
    del app
    os.environ[SERVE_CONFIG_ENV] = json.dumps({name: getattr(args, name) for name in SERVE_OPTIONS})
    server.serve_workers("ordercycle.sim.cli.service:serve_app", args.workers, args.host, args.port, limits,
                         args.log_level, start_seconds=WORKER_START_SECONDS, **options)
    return 0


# --- decisions and replay ----------------------------------------------------------------


def parse_time(text: str | None, option: str) -> float | None:
    """Unix time of an ISO 8601 date or time (UTC unless it says otherwise)."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        example = "e.g. 2025-03-01T12:00"
        raise BadInput([f"{option}: not an ISO 8601 date or time: {text!r} ({example})"]) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _filters(args: argparse.Namespace, newest_first: bool = False) -> Any:
    from ordercycle.policies.registry import DECISIONS
    from ordercycle.policies.service.log import Filters

    if args.decision is not None and args.decision not in DECISIONS:
        raise BadInput([f"--decision: unknown decision {args.decision!r} (known: {', '.join(DECISIONS)})"])
    limit = getattr(args, "limit", None)
    if limit is not None and limit < 1:
        raise BadInput([f"--limit: must be >= 1, got {limit}"])
    return Filters(since=parse_time(args.since, "--since"), until=parse_time(args.until, "--until"),
                   decision=args.decision, outcome=getattr(args, "outcome", None),
                   policy=getattr(args, "policy", None), order_id=getattr(args, "order", None), limit=limit,
                   newest_first=newest_first)


def _print_table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    def text(value: Any) -> str:
        if value is None:
            return "-"
        return f"{value:.3f}" if isinstance(value, float) else str(value)

    cells = [[text(row[column]) for column in columns] for row in rows]
    widths = [max([len(column), *(len(line[i]) for line in cells)]) for i, column in enumerate(columns)]
    print("  ".join(column.ljust(width) for column, width in zip(columns, widths, strict=True)))
    for line in cells:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))


def _csv_cell(value: Any) -> Any:
    """A CSV cell: JSON values (requests, responses) as compact JSON text."""
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return value


def cmd_decisions(args: argparse.Namespace) -> int:
    """``ordercycle decisions DB``: the decision log as a table, CSV or JSON lines."""
    from ordercycle.policies.service.log import COLUMNS, DecisionLogError, query, summary

    filters = _filters(args)
    try:
        if args.summary:
            rows = summary(args.db, filters)
            columns = ["decision", "policy", "outcome", "n", "mean_latency_ms", "shadowed", "disagreements",
                       "shadow_disagreement_rate"]
        else:
            rows = list(query(args.db, filters))
            columns = list(COLUMNS)
    except DecisionLogError as error:
        raise BadInput(error.problems) from None
    except sqlite3.Error as error:  # a damaged database page, text that is not UTF-8
        raise BadInput([f"{args.db}: cannot read the decision log ({error})"]) from None
    if args.format == "csv":  # the JSON columns as compact JSON text
        writer = csv.DictWriter(sys.stdout, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows({column: _csv_cell(row[column]) for column in columns} for row in rows)
    elif args.format == "json":  # request and response nested as JSON values
        for row in rows:
            print(json.dumps({column: row[column] for column in columns}, sort_keys=True))
    else:
        if not args.summary:
            columns = ["id", "at", "context_at", "decision", "order_id", "policy", "outcome", "latency_ms",
                       "shadow_outcome", "shadow_agrees"]
        _print_table(rows, columns)
        print(f"\n{len(rows)} rows", file=sys.stderr)
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    """``ordercycle replay DB --bundle candidate.json``: how a candidate would have decided."""
    from ordercycle.policies.service.log import DecisionLogError
    from ordercycle.policies.service.replay import replay

    filters = _filters(args)
    candidate = _load_bundle(args.bundle, "--bundle")
    try:
        report = replay(args.db, candidate, filters)
    except DecisionLogError as error:
        raise BadInput(error.problems) from None
    except sqlite3.Error as error:
        raise BadInput([f"{args.db}: cannot read the decision log ({error})"]) from None
    if args.format == "json":
        print(json.dumps(report.as_dict(), indent=2, sort_keys=True, default=str))
        return 0
    print(f"candidate bundle {candidate.content_hash[:12]} on {args.db}")
    rows = [report.as_dict() for report in sorted(report.kinds.values(), key=lambda r: r.decision)]
    _print_table(rows, ["decision", "replayed", "differing", "difference_rate", "errors"])
    for row in rows:
        for change, count in row["outcome_changes"].items():
            examples = row["examples"].get(change, [])
            shown = f" e.g. {', '.join(map(str, examples))}" if examples else ""
            print(f"  {row['decision']}: {change}: {count}{shown}")
        if row["differing"]:
            means = ", ".join(f"{name} {value:+.3f}" for name, value in row["mean_changes"].items())
            if means:
                print(f"  {row['decision']}: mean change per decision: {means}")
    for kind, count in sorted(report.skipped.items()):
        print(f"  {kind}: {count} logged decisions skipped (the candidate does not cover {kind})")
    return 0


# --- parsers --------------------------------------------------------------------------


def _add_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", metavar="TIME",
                        help="from this ISO 8601 time (UTC unless given), inclusive")
    parser.add_argument("--until", metavar="TIME", help="before this ISO 8601 time, exclusive")
    parser.add_argument("--decision", metavar="KIND", help="only this decision kind (e.g. selection)")


def register(commands: Any) -> None:
    """Add ``export``, ``serve``, ``decisions`` and ``replay`` to the CLI's sub-parsers."""
    export = commands.add_parser("export", help="write a policy bundle from a compare results directory")
    export.add_argument("results_dir", metavar="RESULTS_DIR", help="output directory of `ordercycle compare`")
    choice = export.add_mutually_exclusive_group(required=True)
    choice.add_argument("--set", metavar="NAME", help="export this policy set")
    choice.add_argument("--winner", action="store_true", help="export the ranking's winner")
    export.add_argument("--decisions", metavar="KIND[,KIND…]",
                        help="ship only these decisions of the set (e.g. selection,pricing): the service "
                             "answers only their routes (default: every decision of the set)")
    export.add_argument("--out", default="bundle.json", help="bundle file to write (default bundle.json)")
    export.set_defaults(func=cmd_export)

    serve = commands.add_parser("serve", help="serve a bundle's policies as an HTTP decision service")
    serve.add_argument("bundle", help="policy bundle (JSON) to deploy")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument("--db", default="decisions.sqlite",
                       help="decision log: a SQLite file (default decisions.sqlite) or a postgresql:// URL, "
                            "which several instances can share")
    serve.add_argument("--snapshot", metavar="SNAPSHOT.json",
                       help="state snapshot: enables POST /v1/promise-risk (look-ahead simulations from it)")
    serve.add_argument("--promise-scenario", metavar="SCENARIO",
                       help="company for promise risk (default: the bundle's scenario with its policies)")
    serve.add_argument("--promise-max-reps", type=int, default=50,
                       help="cap on replications per date of a promise-risk request (default 50)")
    serve.add_argument("--shadow", metavar="BUNDLE",
                       help="also decide every request with this bundle; log both")
    serve.add_argument("--token-env", default="ORDERCYCLE_TOKEN",
                       help="environment variable holding the bearer token, or several separated by "
                            "commas for rotation (default ORDERCYCLE_TOKEN)")
    serve.add_argument("--max-body-bytes", type=int, default=4 * 1024 * 1024,
                       help="largest request body accepted (default 4 MiB)")
    serve.add_argument("--header-timeout", type=float, default=10.0,
                       help="seconds a client has to send a request's line and headers (default 10)")
    serve.add_argument("--body-timeout", type=float, default=15.0,
                       help="seconds a client has to send a request's body (default 15)")
    serve.add_argument("--keep-alive", type=int, default=5,
                       help="seconds an idle connection stays open between requests (default 5)")
    serve.add_argument("--limit-concurrency", type=int, default=64,
                       help="open connections or running requests beyond which the service answers "
                            "503 (default 64)")
    serve.add_argument("--max-items", type=int, default=10_000,
                       help="longest list accepted in a request (default 10000)")
    serve.add_argument("--db-connections", type=int, default=8, metavar="N",
                       help="connections of a PostgreSQL log per worker: up to N decisions commit at once "
                            "(default 8; 1: one at a time, logged on the event loop)")
    serve.add_argument("--synchronous", choices=["normal", "full"], default="normal",
                       help="SQLite synchronous mode of the log: normal survives a process crash, "
                            "full also a power loss (default normal; a PostgreSQL log follows the "
                            "server's synchronous_commit)")
    serve.add_argument("--token-file", metavar="PATH", default=os.environ.get(TOKEN_FILE_ENV) or None,
                       help="file holding the bearer token (e.g. a container secret; surrounding whitespace "
                            f"stripped); default ${TOKEN_FILE_ENV}")
    serve.add_argument("--workers", type=int, default=1,
                       help="worker processes (default 1); with 2 or more, SIGHUP to the supervisor replaces "
                            "them one by one, loading the bundle file afresh (a deployment without downtime)")
    serve.add_argument("--forwarded-allow-ips", metavar="IPS", default=None,
                       help="addresses of the reverse proxies whose X-Forwarded-For/-Proto headers are "
                            "trusted (comma-separated, '*' for any; default $FORWARDED_ALLOW_IPS or "
                            "127.0.0.1)")
    serve.add_argument("--http", choices=["auto", "h11", "httptools"], default="auto",
                       help="HTTP parser (default auto: httptools if installed, as with "
                            "pip install 'ordercycle[fast]')")
    serve.add_argument("--loop", choices=["auto", "asyncio", "uvloop"], default="auto",
                       help="event loop (default auto: uvloop if installed)")
    serve.add_argument("--log-level", default="warning",
                       choices=["critical", "error", "warning", "info", "debug"],
                       help="uvicorn log level (default warning)")
    serve.set_defaults(func=cmd_serve)

    decisions = commands.add_parser("decisions", help="query the decision log of `ordercycle serve`")
    decisions.add_argument("db", metavar="DB", help="decision log: a SQLite file or a postgresql:// URL")
    _add_filters(decisions)
    decisions.add_argument("--outcome", help="only this outcome (accept, reject, grant, refuse …)")
    decisions.add_argument("--policy", metavar="ID", help="only this policy id (e.g. selection/strategic@1)")
    decisions.add_argument("--order", type=int, metavar="ORDER_ID", help="only decisions about this order")
    decisions.add_argument("--limit", type=int, help="at most this many rows")
    decisions.add_argument("--summary", action="store_true",
                           help="counts per decision, policy and outcome, with the shadow disagreement rate")
    decisions.add_argument("--format", choices=["table", "csv", "json"], default="table",
                           help="table (default), csv (every column; request and response as JSON "
                                "text) or json lines (request and response as JSON values)")
    decisions.set_defaults(func=cmd_decisions)

    replay = commands.add_parser("replay", help="re-decide logged contexts with a candidate bundle")
    replay.add_argument("db", metavar="DB", help="decision log: a SQLite file or a postgresql:// URL")
    replay.add_argument("--bundle", required=True, help="candidate policy bundle")
    _add_filters(replay)
    replay.add_argument("--format", choices=["table", "json"], default="table",
                        help="table (default) or json")
    replay.set_defaults(func=cmd_replay)
