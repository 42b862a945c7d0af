"""Issue 18 item 4: with ``serve --workers N`` a scrape of ``/metrics`` reaches one worker, and
must count them all. Each worker writes its values into a file of the run's directory; every
worker's ``/metrics`` sums the files."""

from __future__ import annotations

import json
import re
import threading

import httpx
from serve_process import Server
from service_helpers import AUTH, bundle_document

from ordercycle.policies.examples import example_contexts
from ordercycle.policies.service.metrics import ServiceMetrics, SharedValues, read_values, summed_values
from ordercycle.policies.service.schemas import route_schemas

SCHEMAS = route_schemas()
DECIDED = re.compile(r'^ordercycle_decisions_total\{decision="selection",[^}]*\} (\S+)$', re.M)
ANSWERED = re.compile(
    r'^ordercycle_http_requests_total\{route="/v1/select",method="POST",status="200"\} (\S+)$', re.M)
LATENCY_COUNT = re.compile(
    r'^ordercycle_http_request_duration_seconds_count\{route="/v1/select"\} (\S+)$', re.M)


def decided(text: str) -> float:
    return sum(float(value) for value in DECIDED.findall(text))


def test_two_workers_on_one_directory_render_the_sum_of_both(tmp_path):
    first, second = ServiceMetrics(tmp_path), ServiceMetrics(tmp_path)
    alone = ServiceMetrics()
    for metrics, times in ((first, 3), (second, 4), (alone, 7)):
        for _ in range(times):
            metrics.decisions.inc("selection", "selection/accept-all@1", "accept")
            metrics.latency.observe(0.004, "/v1/select")
    second.latency.observe(7.0, "/v1/select")
    alone.latency.observe(7.0, "/v1/select")
    first.errors.inc("pricing")
    alone.errors.inc("pricing")
    # both workers render what one process that saw every request renders
    assert first.render() == second.render() == alone.render()
    second.close()  # a stopped worker's counts stay in the run's totals
    assert first.render() == alone.render()


def test_a_file_that_grows_past_its_first_mapping_reads_back_every_value(tmp_path):
    shared = SharedValues(tmp_path)
    expected = {}
    for index in range(3000):  # ~100 bytes a key: several remaps beyond 64 KiB
        key = json.dumps(["family", [f"label-{index}" * 3], index])
        shared.set(key, float(index))
        expected[key] = float(index)
        if index % 997 == 0:
            assert read_values(shared.path) == expected  # a reader at any moment sees whole entries
    shared.set(next(iter(expected)), 42.0)
    expected[next(iter(expected))] = 42.0
    assert summed_values(tmp_path) == expected
    assert shared.path.stat().st_size > 64 * 1024
    shared.close()


def test_a_scrape_of_serve_with_two_workers_counts_the_requests_of_both(baseline, tmp_path):
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps(bundle_document(baseline)))
    run_dir = tmp_path / "tmp"
    run_dir.mkdir()
    server = Server(bundle, tmp_path / "log.sqlite", tmp_path / "serve.log", extra=["--workers", "2"],
                    env={"TMPDIR": str(run_dir)}).wait_ready()
    body = SCHEMAS["selection"].context_dict(example_contexts("selection")[0])
    sent = 0
    lock = threading.Lock()

    def post(count: int) -> None:
        nonlocal sent
        for _ in range(count):  # a new connection each time: the kernel spreads them over the workers
            response = httpx.post(f"{server.url}/v1/select", json=body, headers=AUTH, timeout=30)
            assert response.status_code == 200
            with lock:
                sent += 1

    try:
        (metrics_dir,) = run_dir.glob("ordercycle-metrics-*")
        per_worker: list[float] = []
        while len([count for count in per_worker if count > 0]) < 2 and sent < 600:
            threads = [threading.Thread(target=post, args=(15,)) for _ in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            per_worker = [sum(value for key, value in read_values(path).items()
                              if key.startswith('["ordercycle_decisions_total"'))
                          for path in metrics_dir.glob("worker-*.metrics")]
        assert len(per_worker) == 2 and all(count > 0 for count in per_worker), per_worker
        assert sum(per_worker) == sent
        for _ in range(12):  # scrapes land on either worker: each must see every decision
            text = httpx.get(f"{server.url}/metrics", headers=AUTH, timeout=30).text
            assert decided(text) == sent
            assert float(ANSWERED.search(text).group(1)) == sent
            assert float(LATENCY_COUNT.search(text).group(1)) == sent
    finally:
        server.stop()
    assert not list(run_dir.glob("ordercycle-metrics-*"))  # the run's directory goes with the run
