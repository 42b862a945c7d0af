"""Benchmark: the decision service under a bounded load on loopback, next to in-process calls;
an interleaved A/B of server variants.

Starts one ``ordercycle serve`` per **variant** on free loopback ports with the baseline's
policies (priority: ``--priority``, default ``importance-capacity``) and a fresh decision
log each, then, in ``--rounds`` rounds, measures every variant in turn (interleaved, so
that a change in the machine's load falls on all of them alike): for each route a fixed
number of requests (``--requests``, after ``--warmup`` unmeasured ones) from
``--clients`` threads with keep-alive connections, stopping early if ``--max-seconds``
pass. Variants (``--variants``, comma-separated):

* ``h11``: one worker, uvicorn's pure-Python stack (``--http h11 --loop asyncio``);
* ``standard``: one worker, ``uvicorn[standard]``'s C parts (``--http httptools --loop
  uvloop``; needs ``pip install 'ordercycle[fast]'``);
* ``standard-2w``: the same with ``--workers 2`` (uvicorn's supervisor; the kernel spreads
  connections over the workers, so it shows with ``--clients 2`` or more).

Routes:

* ``POST /v1/prioritize`` with 100 open orders;
* ``POST /v1/select`` with a senior's context.

Prints per variant and route, pooled over the rounds (and the spread of the rounds):

* **client**: requests done, errors (any non-200 or transport error), requests/s and
  the p50 / p99 / max latency seen by the client (full round trip: JSON encoding, HTTP,
  validation, the policy, the SQLite commit of the decision log, the answer);
* **server**: p50 / p99 of the service's own time per request (its ``Server-Timing``
  header: from the request entering the application to the start of the answer), and
  the share of the measured requests within the goal by ``/metrics``' histogram (the
  difference of two scrapes, so the warm-up is not counted; one worker's view);
* **server CPU**: p50 / p99 of the CPU time the serving process spent per request
  (``Server-Timing``'s ``cpu``; exact with one client thread), the figure that the other
  jobs on a shared machine do not disturb;
* **in-process**: the floor, the same policy method called on the same context.

Then each variant's client p99 and rate relative to the first variant (the ratio of one
interleaved run is the honest figure on a shared machine), the verdict on the goal —
``/v1/prioritize`` (100 orders), one worker: client p99 <= 8 ms and >= 400 requests/s —
and the load average. The client is the standard library's ``http.client`` (one
keep-alive connection per thread): ``--client httpx`` uses httpx, which costs the client
about half a millisecond more per request. Exits 1 if any request failed. Run from the
repository root::

    python benchmarks/bench_service.py [--requests 2000] [--rounds 2] [--clients 1] \
        [--variants h11,standard,standard-2w] [--priority importance-capacity] [--db postgresql://…]

A quick try: ``--requests 100 --warmup 20 --rounds 1``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from ordercycle.policies.bundle import load_bundle, make_bundle, write_bundle
from ordercycle.policies.contexts import OrderView, RankingContext, SelectionContext
from ordercycle.policies.service.schemas import route_schemas
from ordercycle.scenarios.loader import content_hash, load

TOKEN = "bench-token"
GOAL_P99_MS = 8.0
GOAL_RATE = 400.0
WITHIN_MS = 20.0
"""The share of requests the server answered within this time (a bucket of the histogram)."""

VARIANTS = {
    "h11": ["--http", "h11", "--loop", "asyncio"],
    "standard": ["--http", "httptools", "--loop", "uvloop"],
    "standard-2w": ["--http", "httptools", "--loop", "uvloop", "--workers", "2"],
    "h11-2w": ["--http", "h11", "--loop", "asyncio", "--workers", "2"],
}
"""Variant name -> the options of ``ordercycle serve`` it adds."""


def ranking_context(orders: int, seed: int = 0) -> RankingContext:
    """``orders`` open orders with spread due dates, sizes and importance."""
    rng = np.random.default_rng(seed)
    views = tuple(
        OrderView(order_id=1000 + k, released_at=float(rng.uniform(0, 10)),
                  due_date=float(rng.uniform(5, 40)), importance=float(rng.choice([0.5, 1.0, 3.0])),
                  quantity=int(rng.integers(1, 50)),
                  remaining_hours=float(rng.uniform(1, 40)), expedited=bool(rng.random() < 0.05),
                  operation_hours=float(rng.uniform(0.5, 8)), remaining_days=float(rng.uniform(0.2, 5)),
                  route_load_days=float(rng.uniform(0, 3)))
        for k in range(orders))
    return RankingContext(10.0, views)


SELECTION = SelectionContext(7, 12.0, "senior", "regular", "valve", 10, 1200.0, 1.0, 0.25, False, 120.0, 14.0,
                             projected_lead_days=10.0)


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def in_process(method: Any, context: Any, count: int) -> dict[str, float]:
    """p50 / p99 milliseconds of ``method(context)``."""
    times = []
    for _ in range(count):
        started = time.perf_counter()
        method(context)
        times.append((time.perf_counter() - started) * 1000)
    return {"p50": percentile(times, 50), "p99": percentile(times, 99)}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(bundle: Path, db: Path | str, options: list[str]) -> tuple[subprocess.Popen[bytes], str]:
    """``ordercycle serve`` with ``options`` on a free port, once ``/healthz`` answers."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "ordercycle.sim.cli", "serve", str(bundle), "--port", str(port),
         "--db", str(db), *options],
        env={**os.environ, "ORDERCYCLE_TOKEN": TOKEN}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"serve exited: {process.stderr.read().decode() if process.stderr else ''}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                time.sleep(0.5 if "--workers" in options else 0)  # let every worker come up
                return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("serve did not start within 120 s")


def scrape_latency(url: str, path: str) -> dict[float, int]:
    """Cumulative counts of the latency histogram of ``path`` in ``/metrics`` (bound -> count)."""
    text = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30).text
    prefix = f'ordercycle_http_request_duration_seconds_bucket{{route="{path}",le="'
    counts = {}
    for line in text.splitlines():
        if line.startswith(prefix):
            bound, count = line[len(prefix):].split('"}')
            counts[float(bound)] = int(count)
    return counts


def share_within(before: dict[float, int], after: dict[float, int], seconds: float) -> float:
    """Share of the requests observed between two scrapes that took at most ``seconds``
    (the histogram's bucket of that bound; ``nan`` if it has none)."""
    total = after.get(float("inf"), 0) - before.get(float("inf"), 0)
    if seconds not in after or total == 0:
        return float("nan")
    return (after[seconds] - before.get(seconds, 0)) / total


class StdlibClient:
    """One keep-alive connection of the standard library's ``http.client``: POST -> (status, timing)."""

    def __init__(self, url: str, headers: dict[str, str]):
        import http.client
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        self.headers = headers

    def post(self, path: str, payload: bytes) -> tuple[int, str | None]:
        self.connection.request("POST", path, body=payload, headers=self.headers)
        response = self.connection.getresponse()
        response.read()
        return response.status, response.getheader("server-timing")

    def close(self) -> None:
        self.connection.close()


class HttpxClient:
    """An ``httpx.Client`` with keep-alive: POST -> (status, timing)."""

    def __init__(self, url: str, headers: dict[str, str]):
        self.client = httpx.Client(base_url=url, headers=headers, timeout=30)

    def post(self, path: str, payload: bytes) -> tuple[int, str | None]:
        response = self.client.post(path, content=payload)
        return response.status_code, response.headers.get("server-timing")

    def close(self) -> None:
        self.client.close()


CLIENTS = {"http.client": StdlibClient, "httpx": HttpxClient}


def load_route(url: str, path: str, body: dict[str, Any], requests: int, clients: int,
               max_seconds: float, client_kind: str = "http.client") -> dict[str, Any]:
    """Send ``requests`` POSTs from ``clients`` threads; client and server latencies (ms),
    errors, rate."""
    payload = json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    latencies: list[float] = []
    server: list[float] = []
    server_cpu: list[float] = []
    errors = [0]
    lock = threading.Lock()
    counter = iter(range(requests))
    deadline = time.monotonic() + max_seconds

    def worker() -> None:
        client = CLIENTS[client_kind](url, headers)
        try:
            for _ in counter:
                if time.monotonic() > deadline:
                    return
                started = time.perf_counter()
                timing = None
                try:
                    status, timing = client.post(path, payload)
                    ok = status == 200
                except (OSError, httpx.TransportError, ConnectionError):
                    ok = False
                    client.close()
                    client = CLIENTS[client_kind](url, headers)
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    latencies.append(elapsed)
                    errors[0] += not ok
                    if timing:
                        durations = dict(item.strip().split(";dur=") for item in timing.split(","))
                        server.append(float(durations["app"]))
                        server_cpu.append(float(durations["cpu"]))
        finally:
            client.close()

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return {"done": len(latencies), "errors": errors[0], "rate": len(latencies) / wall,
            "latencies": latencies, "server": server, "server_cpu": server_cpu}


def pooled(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Figures of several measured runs of one variant and route: percentiles of all their
    requests together, the rate of each run."""
    nan = float("nan")

    def joined(key: str) -> list[float]:
        return [value for run in runs for value in run[key]]

    latencies, server, cpu = joined("latencies"), joined("server"), joined("server_cpu")
    within = [run["within"] for run in runs if run["within"] == run["within"]]
    return {"done": sum(run["done"] for run in runs), "errors": sum(run["errors"] for run in runs),
            "rates": [run["rate"] for run in runs], "rate": sum(run["done"] for run in runs)
            / sum(run["done"] / run["rate"] for run in runs),
            "p50": percentile(latencies, 50), "p99": percentile(latencies, 99), "max": max(latencies),
            "round_p99": [percentile(run["latencies"], 99) for run in runs],
            "server_p50": percentile(server, 50) if server else nan,
            "server_p99": percentile(server, 99) if server else nan,
            "cpu_p50": percentile(cpu, 50) if cpu else nan, "cpu_p99": percentile(cpu, 99) if cpu else nan,
            "within": sum(within) / len(within) if within else nan}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000,
                        help="measured requests per route, variant and round (default 2000)")
    parser.add_argument("--warmup", type=int, default=200,
                        help="unmeasured requests first, every round (default 200)")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds (default 2)")
    parser.add_argument("--clients", type=int, default=1, help="concurrent client threads (default 1)")
    parser.add_argument("--client", choices=sorted(CLIENTS), default="http.client",
                        help="client library (default http.client)")
    parser.add_argument("--variants", default=None,
                        help=f"comma-separated, from {', '.join(VARIANTS)} (default: h11, and standard and "
                             "standard-2w where uvloop and httptools are installed)")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="time bound per run (default 120)")
    parser.add_argument("--orders", type=int, default=100, help="open orders to prioritise (default 100)")
    parser.add_argument("--priority", default="importance-capacity", help="priority policy deployed")
    parser.add_argument("--db", metavar="URL", default=None,
                        help="log every variant's decisions in this PostgreSQL database (postgresql://…) "
                             "instead of a fresh SQLite file each")
    args = parser.parse_args()
    fast = all(importlib.util.find_spec(name) for name in ("httptools", "uvloop"))
    names = (args.variants.split(",") if args.variants
             else ["h11", "standard", "standard-2w"] if fast else ["h11", "h11-2w"])
    unknown = [name for name in names if name not in VARIANTS]
    if unknown:
        parser.error(f"--variants: unknown {', '.join(unknown)} (known: {', '.join(VARIANTS)})")
    if not fast and any(name.startswith("standard") for name in names):
        parser.error("--variants standard…: needs uvloop and httptools (pip install 'ordercycle[fast]')")

    scenario = load("baseline")
    policies = {**scenario.policies.model_dump(mode="json"),
                "priority": {"name": args.priority, "params": {}},
                "selection": {"name": "capacity-aware", "params": {}}}
    folder = Path(tempfile.mkdtemp(prefix="ordercycle-bench-"))
    bundle_path = write_bundle(make_bundle(
        policies, scenario=scenario.model_dump(mode="json"), scenario_name=scenario.name,
        scenario_hash=content_hash(scenario), evidence={"source": "bench_service"}, package_version="bench",
        created_at="2025-01-01T00:00:00Z"), folder / "bundle.json")
    bundle = load_bundle(bundle_path)
    schemas = route_schemas()
    cases = [
        ("prioritize", schemas["priority"], ranking_context(args.orders), bundle.policies["priority"].rank),
        ("select", schemas["selection"], SELECTION, bundle.policies["selection"].select),
    ]
    load_before = os.getloadavg()
    servers = {name: start_server(bundle_path, args.db or folder / f"{name}.sqlite", VARIANTS[name])
               for name in names}
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    try:
        for round_number in range(args.rounds):
            for name in (names if round_number % 2 == 0 else names[::-1]):  # ABC, CBA, …
                _, url = servers[name]
                for label, schema, context, _ in cases:
                    body, path = schema.context_dict(context), schema.path
                    load_route(url, path, body, args.warmup, args.clients, args.max_seconds, args.client)
                    before = scrape_latency(url, path)
                    served = load_route(url, path, body, args.requests, args.clients, args.max_seconds,
                                        args.client)
                    served["within"] = share_within(before, scrape_latency(url, path), WITHIN_MS / 1000)
                    runs.setdefault((name, label), []).append(served)
    finally:
        for process, _ in servers.values():
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
    floors = {label: in_process(method, context, args.requests) for label, _, context, method in cases}

    print(f"decision service on loopback: {args.requests} requests per route, variant and round after "
          f"{args.warmup} warm-up, {args.rounds} interleaved rounds, {args.clients} client thread(s) "
          f"({args.client}), policies priority={args.priority}, selection=capacity-aware; "
          + ("PostgreSQL log" if args.db else "SQLite log (WAL, synchronous=NORMAL)"))
    print(f"{'':<38}{'client':>60}{'server':>18}{'server CPU':>18}{'in-process':>12}")
    print(f"{'variant / route':<38}{'done':>6}{'errors':>7}{'req/s':>9}{'req/s by round':>16}{'p50 ms':>8}"
          f"{'p99 ms':>8}{'max ms':>8}{'p50':>7}{'p99':>7}{f'<={WITHIN_MS:g}ms':>8}{'p50':>8}{'p99':>7}"
          f"{'p50 ms':>10}")
    failed = False
    figures = {}
    for name in names:
        for label, schema, _, _ in cases:
            figure = figures[name, label] = pooled(runs[name, label])
            route = f"{schema.path} ({args.orders} orders)" if label == "prioritize" else schema.path
            by_round = "/".join(f"{rate:.0f}" for rate in figure["rates"])
            print(f"{name + ' ' + route:<38}{figure['done']:>6}{figure['errors']:>7}{figure['rate']:>9.0f}"
                  f"{by_round:>16}{figure['p50']:>8.2f}{figure['p99']:>8.2f}{figure['max']:>8.1f}"
                  f"{figure['server_p50']:>7.2f}{figure['server_p99']:>7.2f}{figure['within']:>8.1%}"
                  f"{figure['cpu_p50']:>8.2f}{figure['cpu_p99']:>7.2f}{floors[label]['p50']:>10.3f}")
            failed |= figure["errors"] > 0 or figure["done"] < args.requests * args.rounds
    reference = names[0]
    for name in names[1:]:
        for label, schema, _, _ in cases:
            mine, theirs = figures[name, label], figures[reference, label]
            print(f"{name} / {reference} {schema.path}: client p99 x{mine['p99'] / theirs['p99']:.2f}, "
                  f"p50 x{mine['p50'] / theirs['p50']:.2f}, req/s x{mine['rate'] / theirs['rate']:.2f}, "
                  f"server CPU p50 x{mine['cpu_p50'] / theirs['cpu_p50']:.2f}")
    for name in names:
        if "--workers" in VARIANTS[name]:
            continue
        prioritize = figures[name, "prioritize"]
        met = prioritize["p99"] <= GOAL_P99_MS and prioritize["rate"] >= GOAL_RATE
        print(f"goal for {name} (one worker), /v1/prioritize with {args.orders} orders: client p99 <= "
              f"{GOAL_P99_MS:g} ms and >= {GOAL_RATE:g} req/s: {'met' if met else 'NOT met'} "
              f"(p99 {prioritize['p99']:.2f} ms, {prioritize['rate']:.0f} req/s)")
    print(f"load average before / after: {' '.join(f'{x:.1f}' for x in load_before)} / "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    if failed:
        print("FAILED: some requests erred or the time bound cut the run short", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
