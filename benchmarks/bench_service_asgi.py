"""Benchmark: where a decision request's time goes inside the service, without HTTP.

Drives the ASGI application of the decision service directly (no socket, no HTTP
parser, no client library; the lifespan runs, the decision log commits every row) with
``POST /v1/prioritize`` of ``--orders`` open orders, ``--requests`` times after
``--warmup``, and prints:

* p50 / p90 / p99 / max of the wall-clock time and of the CPU time per request;
* for the slowest 1 % of the requests: their total time, the CPU time they used, and
  the time spent in the decision log's ``append`` (insert + commit) and in garbage
  collection (``gc.callbacks``) while they ran: on a shared machine, wall-clock time
  that is neither CPU nor I/O of the request is time the process waited to be scheduled;
* with ``--profile``, the top functions by cumulative time (cProfile; it inflates
  Python-heavy code, so read proportions, not absolute times).

Run from the repository root::

    python benchmarks/bench_service_asgi.py [--requests 2000] [--orders 100] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_service import percentile, ranking_context

from ordercycle.policies.bundle import make_bundle, verify_bundle
from ordercycle.policies.service.app import ServiceSettings, create_app
from ordercycle.policies.service.schemas import route_schemas
from ordercycle.scenarios.loader import content_hash, load

TOKEN = "bench-token"


class GcTimer:
    """Total time spent in garbage collection, from ``gc.callbacks``."""

    def __init__(self) -> None:
        self.total_ms = 0.0
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.total_ms += (time.perf_counter() - self._started) * 1000


def build_app(orders: int, folder: Path) -> tuple[Any, bytes]:
    """The service deploying the baseline's policies (importance-capacity priority), and
    the body of a ranking request of ``orders`` orders."""
    scenario = load("baseline")
    policies = {**scenario.policies.model_dump(mode="json"),
                "priority": {"name": "importance-capacity", "params": {}}}
    document = json.loads(json.dumps(make_bundle(
        policies, scenario=scenario.model_dump(mode="json"), scenario_name=scenario.name,
        scenario_hash=content_hash(scenario), evidence={"source": "bench_service_asgi"},
        package_version="bench", created_at="2025-01-01T00:00:00Z")))
    app = create_app(verify_bundle(document),
                     ServiceSettings(db_path=str(folder / "decisions.sqlite"), token=TOKEN))
    body = json.dumps(route_schemas()["priority"].context_dict(ranking_context(orders))).encode()
    return app, body


async def post(app: Any, path: str, body: bytes) -> int:
    """One request through the ASGI application; its status."""
    headers = [(b"host", b"bench"), (b"authorization", f"Bearer {TOKEN}".encode()),
               (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": headers, "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80), "state": {}}
    delivered = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def run(args: argparse.Namespace) -> int:
    app, body = build_app(args.orders, Path(tempfile.mkdtemp(prefix="ordercycle-bench-asgi-")))
    startup: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    started = asyncio.Event()
    await startup.put({"type": "lifespan.startup"})

    async def lifespan_send(message: dict[str, Any]) -> None:
        if message["type"] == "lifespan.startup.complete":
            started.set()

    lifespan = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}},
                                       startup.get, lifespan_send))
    await started.wait()
    log = app.state.decision_log
    appended = log.append
    append_ms = [0.0]

    def timed_append(**fields: Any) -> int:
        begun = time.perf_counter()
        try:
            return appended(**fields)
        finally:
            append_ms[0] += (time.perf_counter() - begun) * 1000

    log.append = timed_append
    for _ in range(args.warmup):
        await post(app, "/v1/prioritize", body)
    collector = GcTimer()
    profiler = cProfile.Profile() if args.profile else None
    wall, cpu, in_log, in_gc, failed = [], [], [], [], 0
    if profiler:
        profiler.enable()
    for _ in range(args.requests):
        log_before, gc_before = append_ms[0], collector.total_ms
        cpu_started, started_at = time.process_time(), time.perf_counter()
        failed += await post(app, "/v1/prioritize", body) != 200
        wall.append((time.perf_counter() - started_at) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
        in_log.append(append_ms[0] - log_before)
        in_gc.append(collector.total_ms - gc_before)
    if profiler:
        profiler.disable()
    await startup.put({"type": "lifespan.shutdown"})
    await lifespan

    print(f"/v1/prioritize with {args.orders} orders through the ASGI app (no HTTP), {args.requests} "
          f"requests after {args.warmup} warm-up, decision log committed per request")
    for name, values in (("wall ms", wall), ("CPU ms", cpu)):
        print(f"{name:<8} p50 {percentile(values, 50):7.3f}  p90 {percentile(values, 90):7.3f}  "
              f"p99 {percentile(values, 99):7.3f}  max {max(values):7.3f}")
    slowest = sorted(range(len(wall)), key=wall.__getitem__)[-max(1, len(wall) // 100):]
    def summed(values: list[float]) -> float:
        return sum(values[i] for i in slowest)

    print(f"slowest 1% ({len(slowest)} requests): {summed(wall):.1f} ms in all, of which CPU "
          f"{summed(cpu):.1f} ms, decision-log append {summed(in_log):.1f} ms, "
          f"garbage collection {summed(in_gc):.1f} ms")
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="measured requests (default 2000)")
    parser.add_argument("--warmup", type=int, default=200, help="unmeasured requests first (default 200)")
    parser.add_argument("--orders", type=int, default=100, help="open orders to prioritise (default 100)")
    parser.add_argument("--profile", action="store_true", help="print the top functions (cProfile)")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
