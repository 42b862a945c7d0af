"""What hostile clients cost a running decision service: memory, open connections, metrics.

Starts a real ``ordercycle serve`` (a token set, loopback) and measures, from outside:

1. **stalled uploads**: 50 connections without an ``Authorization`` header, each declaring
   a 4 MiB body, sending 4 MiB − 1 byte and stalling: the server's resident memory at the
   peak (sampled every 50 ms for 3 s) and 2 s after the clients closed;
2. **slow clients**: a request that declares 1,000 bytes and sends 10, and a connection
   that never sends a request line — how long until the server answers or closes;
3. **invented methods**: 40,000 requests with made-up HTTP methods (keep-alive, 8
   connections), then the size of ``/metrics`` and the server's memory.

Run with ``PYTHONPATH`` pointing at another checkout to measure that one (the figures of
``docs/service.md`` are before/after pairs measured this way)::

    python benchmarks/bench_hostile_clients.py [--stall 50] [--methods 40000]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

TOKEN = "bench-token-" + "0123456789abcdef" * 2
MIB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` in MB (Linux ``/proc``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def request(port: int, raw: bytes, timeout: float = 30.0) -> bytes:
    """Send ``raw`` on a new connection; what the server answers before closing (or ``timeout``)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        connection.sendall(raw)
        chunks = []
        try:
            while chunk := connection.recv(65536):
                chunks.append(chunk)
                if b"\r\n\r\n" in b"".join(chunks) and b"content-length: 0" in b"".join(chunks).lower():
                    break
        except TimeoutError:
            pass
        return b"".join(chunks)


def start_server(folder: Path) -> tuple[subprocess.Popen, int]:
    from ordercycle.policies.bundle import make_bundle, write_bundle
    from ordercycle.scenarios.loader import content_hash, load

    scenario = load("baseline")
    policies = scenario.policies.model_dump(mode="json")
    document = make_bundle(policies, scenario=scenario.model_dump(mode="json"), scenario_name=scenario.name,
                           scenario_hash=content_hash(scenario), evidence={"source": "bench"},
                           package_version="0.1.0", created_at="2025-01-01T00:00:00Z")
    bundle = write_bundle(json.loads(json.dumps(document)), folder / "bundle.json")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "ordercycle.sim.cli", "serve", str(bundle), "--port", str(port),
         "--db", str(folder / "decisions.sqlite")],
        env={**os.environ, "ORDERCYCLE_TOKEN": TOKEN}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            health = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            if b"200 OK" in request(port, health, 2):
                return process, port
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not start")


def stalled_uploads(pid: int, port: int, connections: int) -> dict[str, float]:
    """Peak and after-close memory while ``connections`` stall an unauthenticated 4 MiB upload."""
    before = rss_mb(pid)
    head = (b"POST /v1/select HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(4 * MIB).encode() + b"\r\n\r\n")
    sockets, answered = [], 0

    def upload() -> None:
        nonlocal answered
        connection = socket.create_connection(("127.0.0.1", port), timeout=5)
        sockets.append(connection)
        try:
            connection.sendall(head)
            connection.sendall(b" " * (4 * MIB - 1))
        except OSError:
            answered += 1  # the server answered and closed: the rest was never read

    threads = [threading.Thread(target=upload) for _ in range(connections)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    peak = before
    while time.monotonic() - started < 3.0:
        peak = max(peak, rss_mb(pid))
        time.sleep(0.05)
    for thread in threads:
        thread.join()
    for connection in sockets:
        connection.close()
    time.sleep(2.0)
    return {"rss_before_mb": before, "rss_peak_mb": peak, "rss_after_close_mb": rss_mb(pid),
            "uploads_cut_short": answered}


def slow_clients(port: int) -> dict[str, float]:
    """Seconds until the server answers a slow body, and closes a silent connection."""
    started = time.monotonic()
    answer = request(port, b"POST /v1/select HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN.encode()
                     + b"\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n0123456789", 60)
    slow_body = time.monotonic() - started
    status = answer.split(b"\r\n", 1)[0].decode(errors="replace")
    started = time.monotonic()
    silent = request(port, b"", 60)
    return {"slow_body_seconds": slow_body, "slow_body_status": status,
            "silent_connection_closed_after_seconds": time.monotonic() - started,
            "silent_connection_answer": silent[:12].decode(errors="replace")}


def invented_methods(pid: int, port: int, count: int, connections: int = 8) -> dict[str, float]:
    """``count`` requests with made-up methods, then /metrics' size and the server's memory."""
    before = rss_mb(pid)

    def client(first: int) -> None:
        connection = socket.create_connection(("127.0.0.1", port), timeout=10)
        buffer = b""
        for number in range(first, count, connections):
            try:
                connection.sendall(f"M{number:07d} /v1/select HTTP/1.1\r\nHost: x\r\n\r\n".encode())
                while b"\r\n\r\n" not in buffer:
                    buffer += connection.recv(65536)
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                while len(buffer) < length:
                    buffer += connection.recv(65536)
                buffer = buffer[length:]
                if b"connection: close" in head.lower():
                    connection.close()
                    connection = socket.create_connection(("127.0.0.1", port), timeout=10)
                    buffer = b""
            except OSError:
                connection = socket.create_connection(("127.0.0.1", port), timeout=10)
                buffer = b""
        connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    metrics = request(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer "
                      + TOKEN.encode() + b"\r\n\r\n", 30)
    body = metrics.partition(b"\r\n\r\n")[2]
    lines = [line for line in body.decode(errors="replace").splitlines()
             if line.startswith("ordercycle_http_requests_total")]
    return {"rss_before_mb": before, "rss_after_mb": rss_mb(pid), "metrics_bytes": len(body),
            "request_counter_series": len(lines)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stall", type=int, default=50, help="stalled uploads (default 50)")
    parser.add_argument("--methods", type=int, default=40_000,
                        help="invented-method requests (default 40000)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        process, port = start_server(Path(folder))
        try:
            result = {"stalled_uploads": stalled_uploads(process.pid, port, args.stall)}
            result["slow_clients"] = slow_clients(port)
            result["invented_methods"] = invented_methods(process.pid, port, args.methods)
        finally:
            process.terminate()
            process.wait(10)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
