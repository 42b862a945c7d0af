"""Benchmark: decisions per second with the decision log in PostgreSQL, one connection against a pool.

Starts a throw-away PostgreSQL server **with its durable defaults** (``fsync = on``,
``synchronous_commit = on``: a commit waits for the WAL to reach the disk, as in
production; the server of ``tests/service/postgres_server.py``, ``durable=True``) and, on a
database each, one ``ordercycle serve`` per variant (one worker, h11, the baseline's
policies with capacity-aware selection):

* ``before``: ``--db-connections 1`` — the log as it was: one connection, every decision
  committed on the event loop, one after the other;
* ``after``: ``--db-connections 8`` (the default) — a pool: the routes log from the thread
  pool, so concurrent requests commit together (PostgreSQL flushes the WAL once for every
  commit record written by then).

Every variant is measured in turn, round after round in alternating order (AB, BA), at each
``--clients`` level (threads with a keep-alive connection each, posting ``/v1/select``),
so that the shared machine's load falls on both alike. Prints, side by side per client
level: decisions/s by variant (pooled over the rounds, and by round), client p50 / p99, the
ratio after / before, and checks that every acknowledged decision is in the log (rows ==
answers: "committed before answering" still holds). Exits 1 on any error. Run from the
repository root::

    python benchmarks/bench_postgres_log.py [--requests 1500] [--rounds 2] [--clients 1,4,16]

Needs the PostgreSQL server binaries (``/usr/lib/postgresql/N/bin``, the PATH or
``$ORDERCYCLE_POSTGRES_BIN``) and psycopg. A quick try: ``--requests 300 --rounds 1``.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "service"))

from bench_service import SELECTION, load_route, percentile, start_server  # noqa: E402
from postgres_server import PostgresServer, binaries, wait_accepting  # noqa: E402

from ordercycle.policies.bundle import make_bundle, write_bundle  # noqa: E402
from ordercycle.policies.service.schemas import route_schemas  # noqa: E402
from ordercycle.scenarios.loader import content_hash, load  # noqa: E402

VARIANTS = {"before": ["--db-connections", "1"], "after": ["--db-connections", "8"]}
"""Variant -> the options of ``ordercycle serve`` it adds (besides one worker, h11)."""


def pooled(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Rate and latency of several runs of one variant and client level together."""
    latencies = [value for run in runs for value in run["latencies"]]
    return {"done": sum(run["done"] for run in runs), "errors": sum(run["errors"] for run in runs),
            "rate": sum(run["done"] for run in runs) / sum(run["done"] / run["rate"] for run in runs),
            "rates": [run["rate"] for run in runs], "p50": percentile(latencies, 50),
            "p99": percentile(latencies, 99)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1500,
                        help="measured decisions per variant, client level and round (default 1500)")
    parser.add_argument("--warmup", type=int, default=100, help="unmeasured requests first (default 100)")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds (default 2)")
    parser.add_argument("--clients", default="1,4,16", help="client thread counts (default 1,4,16)")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="time bound per run (default 120)")
    args = parser.parse_args()
    levels = [int(level) for level in args.clients.split(",")]
    bin_dir = binaries()
    if bin_dir is None:
        raise SystemExit("no PostgreSQL server binaries (initdb, pg_ctl): see the docstring")

    scenario = load("baseline")
    policies = {**scenario.policies.model_dump(mode="json"),
                "selection": {"name": "capacity-aware", "params": {}}}
    folder = Path(tempfile.mkdtemp(prefix="ordercycle-bench-pg-"))
    bundle = write_bundle(make_bundle(
        policies, scenario=scenario.model_dump(mode="json"), scenario_name=scenario.name,
        scenario_hash=content_hash(scenario), evidence={"source": "bench_postgres_log"},
        package_version="bench", created_at="2025-01-01T00:00:00Z"), folder / "bundle.json")
    schema = route_schemas()["selection"]
    body = schema.context_dict(SELECTION)
    database = PostgresServer(bin_dir, durable=True).start()
    load_before = os.getloadavg()
    servers: dict[str, Any] = {}
    runs: dict[tuple[str, int], list[dict[str, Any]]] = {}
    answered = dict.fromkeys(VARIANTS, 0)
    rows = {}
    try:
        wait_accepting(database.url())
        with psycopg.connect(database.url(), autocommit=True) as admin:
            settings = dict(admin.execute("SELECT name, setting FROM pg_settings WHERE name IN "
                                          "('fsync', 'synchronous_commit', 'wal_sync_method')").fetchall())
            for name in VARIANTS:
                admin.execute(f"CREATE DATABASE bench_{name}")
        for name, options in VARIANTS.items():
            servers[name] = start_server(bundle, database.url(f"bench_{name}"),
                                         ["--http", "h11", "--loop", "asyncio", *options])
        for round_number in range(args.rounds):
            for clients in levels:
                order = list(VARIANTS)
                if (round_number + levels.index(clients)) % 2:  # AB, BA, …
                    order.reverse()
                for name in order:
                    url = servers[name][1]
                    warm = load_route(url, schema.path, body, args.warmup, clients, args.max_seconds)
                    served = load_route(url, schema.path, body, args.requests, clients, args.max_seconds)
                    answered[name] += warm["done"] - warm["errors"] + served["done"] - served["errors"]
                    runs.setdefault((name, clients), []).append(served)
        for name in VARIANTS:
            with psycopg.connect(database.url(f"bench_{name}")) as reader:
                rows[name] = reader.execute("SELECT COUNT(*) FROM decisions").fetchone()[0]
    finally:
        for process, _ in servers.values():
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
        database.stop()

    print(f"PostgreSQL decision log (fsync={settings.get('fsync')}, synchronous_commit="
          f"{settings.get('synchronous_commit')}, wal_sync_method={settings.get('wal_sync_method')}): "
          f"POST {schema.path}, one worker (h11), {args.requests} decisions per variant, client level and "
          f"round after {args.warmup} warm-up, {args.rounds} interleaved rounds")
    print(f"{'clients':>8}  {'decisions/s before':>19}{'by round':>14}  {'decisions/s after':>18}"
          f"{'by round':>14}{'after/before':>14}  {'p50 / p99 ms before':>20}  {'p50 / p99 ms after':>19}")
    failed = False
    for clients in levels:
        before, after = pooled(runs["before", clients]), pooled(runs["after", clients])
        print(f"{clients:>8}  {before['rate']:>19.0f}{'/'.join(f'{r:.0f}' for r in before['rates']):>14}  "
              f"{after['rate']:>18.0f}{'/'.join(f'{r:.0f}' for r in after['rates']):>14}"
              f"{after['rate'] / before['rate']:>13.2f}x  "
              f"{before['p50']:>9.2f} / {before['p99']:<8.2f}  {after['p50']:>8.2f} / {after['p99']:<8.2f}")
        for figure in (before, after):
            failed |= figure["errors"] > 0 or figure["done"] < args.requests * args.rounds
    for name in VARIANTS:
        same = rows[name] == answered[name]
        failed |= not same
        print(f"{name}: {answered[name]} decisions acknowledged, {rows[name]} rows in the log"
              + ("" if same else "  <-- MISMATCH"))
    print(f"load average before / after: {' '.join(f'{x:.1f}' for x in load_before)} / "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    if failed:
        print("FAILED: some requests erred, the time bound cut a run short, or the log lacks a row",
              file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
