"""Benchmark: the decision service under a bounded load on loopback, next to in-process calls.

Starts ``ordercycle serve`` (uvicorn, one process) on a free loopback port with the
baseline's policies (priority: ``--priority``, default ``importance-capacity``) and a
fresh decision log, then for each route sends a fixed number of requests
(``--requests``, after ``--warmup`` unmeasured ones) from ``--clients`` threads with
keep-alive connections, stopping early if ``--max-seconds`` pass. Routes:

* ``POST /v1/prioritize`` with 100 open orders;
* ``POST /v1/select`` with a senior's context.

Prints per route, side by side from one run:

* **client**: requests done, errors (any non-200 or transport error), requests/s and
  the p50 / p99 / max latency seen by the client (full round trip: JSON encoding, HTTP,
  validation, the policy, the SQLite commit of the decision log, the answer);
* **server**: p50 / p99 / max of the service's own time per request (its
  ``Server-Timing`` header: from the request entering the application to the start of
  the answer), and the share of the measured requests that ``/metrics``'s latency
  histogram puts within the goal (the difference of two scrapes, so the warm-up is not
  counted);
* **server CPU**: p50 / p99 of the CPU time the service process spent per request
  (``Server-Timing``'s ``cpu``; exact with one client thread), the figure that the
  other jobs on a shared machine do not disturb;
* **in-process**: the floor, the same policy method called on the same context
  (p50 / p99 per call).

The gap between client and server is HTTP (uvicorn, the client library) and the
scheduling of two processes on a shared machine. Exits 1 if any request failed. The
goal: p99 < 20 ms for prioritising 100 orders. Run from the repository root::

    python benchmarks/bench_service.py [--requests 2000] [--clients 1] [--priority importance-capacity]

A quick try: ``--requests 50 --warmup 10``.
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
GOAL_P99_MS = 20.0


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


def start_server(bundle: Path, db: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "ordercycle.sim.cli", "serve", str(bundle), "--port", str(port),
         "--db", str(db)],
        env={**os.environ, "ORDERCYCLE_TOKEN": TOKEN}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"serve exited: {process.stderr.read().decode() if process.stderr else ''}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
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


def load_route(url: str, path: str, body: dict[str, Any], requests: int, clients: int,
               max_seconds: float) -> dict[str, Any]:
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
        with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
            for _ in counter:
                if time.monotonic() > deadline:
                    return
                started = time.perf_counter()
                timing = None
                try:
                    response = client.post(path, content=payload)
                    ok = response.status_code == 200
                    timing = response.headers.get("server-timing")
                except httpx.TransportError:
                    ok = False
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    latencies.append(elapsed)
                    errors[0] += not ok
                    if timing:
                        durations = dict(item.strip().split(";dur=") for item in timing.split(","))
                        server.append(float(durations["app"]))
                        server_cpu.append(float(durations["cpu"]))

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    nan = float("nan")
    return {"done": len(latencies), "errors": errors[0], "rate": len(latencies) / wall,
            "p50": percentile(latencies, 50), "p99": percentile(latencies, 99), "max": max(latencies),
            "server_p50": percentile(server, 50) if server else nan,
            "server_p99": percentile(server, 99) if server else nan,
            "server_max": max(server) if server else nan,
            "cpu_p50": percentile(server_cpu, 50) if server_cpu else nan,
            "cpu_p99": percentile(server_cpu, 99) if server_cpu else nan}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000,
                        help="measured requests per route (default 2000)")
    parser.add_argument("--warmup", type=int, default=200, help="unmeasured requests first (default 200)")
    parser.add_argument("--clients", type=int, default=1, help="concurrent client threads (default 1)")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="time bound per route (default 120)")
    parser.add_argument("--orders", type=int, default=100, help="open orders to prioritise (default 100)")
    parser.add_argument("--priority", default="importance-capacity", help="priority policy deployed")
    args = parser.parse_args()

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
    process, url = start_server(bundle_path, folder / "decisions.sqlite")
    results = []
    try:
        for label, schema, context, method in cases:
            body = schema.context_dict(context)
            load_route(url, schema.path, body, args.warmup, args.clients, args.max_seconds)
            before = scrape_latency(url, schema.path)
            served = load_route(url, schema.path, body, args.requests, args.clients, args.max_seconds)
            served["within_goal"] = share_within(before, scrape_latency(url, schema.path), GOAL_P99_MS / 1000)
            results.append((label, schema.path, served, in_process(method, context, args.requests)))
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)

    fast = [name for name in ("httptools", "uvloop") if importlib.util.find_spec(name)]
    print(f"decision service on loopback: {args.requests} requests per route after {args.warmup} warm-up, "
          f"{args.clients} client thread(s), bundle policies priority={args.priority}, "
          f"selection=capacity-aware; one uvicorn process ({' + '.join(fast) or 'h11 + asyncio'}), "
          f"SQLite log (WAL, synchronous=NORMAL)")
    print(f"{'':<26}{'client':>51}{'server':>28}{'server CPU':>24}{'in-process':>20}")
    print(f"{'route':<26}{'done':>6}{'errors':>8}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
          f"{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'<=20ms':>8}{'p50 ms':>11}{'p99 ms':>9}"
          f"{'p50 ms':>11}{'p99 ms':>9}")
    failed = False
    for label, path, served, floor in results:
        name = f"{path} ({args.orders} orders)" if label == "prioritize" else path
        print(f"{name:<26}{served['done']:>6}{served['errors']:>8}{served['rate']:>9.0f}{served['p50']:>9.2f}"
              f"{served['p99']:>9.2f}{served['max']:>9.2f}{served['server_p50']:>9.2f}"
              f"{served['server_p99']:>9.2f}{served['server_max']:>9.2f}{served['within_goal']:>8.1%}"
              f"{served['cpu_p50']:>11.2f}{served['cpu_p99']:>9.2f}{floor['p50']:>11.3f}{floor['p99']:>9.3f}")
        failed |= served["errors"] > 0 or served["done"] < args.requests
    prioritize = results[0][2]
    verdict = "met" if prioritize["p99"] < GOAL_P99_MS else "NOT met"
    print(f"goal p99 < {GOAL_P99_MS:g} ms for prioritising {args.orders} orders: {verdict} "
          f"(client p99 {prioritize['p99']:.2f} ms, server p99 {prioritize['server_p99']:.2f} ms)")
    print(f"load average during the run: {' '.join(f'{x:.1f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} cores")
    if failed:
        print("FAILED: some requests erred or the time bound cut the run short", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
