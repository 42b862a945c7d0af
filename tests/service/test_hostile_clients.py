"""The decision service against hostile and unlucky clients (issue 18 item 1): each finding of
the issue reproduced — authentication before any body is read, bounded time for headers and
body, a connection limit, metric labels from a closed set, tokens, the read-only log path,
and OpenAPI examples that match their own schema."""

from __future__ import annotations

import asyncio
import json
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import uvicorn
from fastapi.testclient import TestClient
from service_helpers import AUTH, TOKEN, bundle_document, bundle_of

from ordercycle.policies.bundle import write_bundle
from ordercycle.policies.examples import example_contexts
from ordercycle.policies.service import server as server_module
from ordercycle.policies.service.app import ServiceSettings, create_app
from ordercycle.policies.service.schemas import route_schemas
from ordercycle.policies.service.server import ServerLimits, uvicorn_config
from ordercycle.policies.service.tokens import parse_tokens, public_problems
from ordercycle.sim.cli import main

SCHEMAS = route_schemas()
MIB = 1024 * 1024


def body(kind: str, index: int = 0) -> dict:
    return SCHEMAS[kind].context_dict(example_contexts(kind)[index])


# --- the ASGI application: what it reads, and when ------------------------------------------


def call(app: Any, method: str, path: str, headers: dict[str, str], receive: Any) -> tuple[int, dict, bytes]:
    """One request straight into the ASGI app: status, headers, body of the answer."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "scheme": "http",
             "headers": [(name.lower().encode(), value.encode()) for name, value in headers.items()],
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}
    messages: list[dict] = []

    async def send(message: dict) -> None:
        messages.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(m for m in messages if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, content


@pytest.fixture()
def app(baseline, tmp_path) -> Any:
    settings = ServiceSettings(db_path=str(tmp_path / "log.sqlite"), token=TOKEN, body_timeout=0.3)
    return create_app(bundle_of(baseline), settings)


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", f"Basic {TOKEN}"])
def test_an_unauthenticated_body_is_never_read(app, authorization):
    reads = []

    async def receive() -> dict:
        reads.append(1)
        return {"type": "http.request", "body": b" " * (4 * MIB - 1), "more_body": True}

    headers = {"content-type": "application/json", "content-length": str(4 * MIB)}
    if authorization:
        headers["authorization"] = authorization
    status, answer_headers, content = call(app, "POST", "/v1/select", headers, receive)
    assert status == 401 and reads == []
    assert answer_headers["connection"] == "close" and answer_headers["www-authenticate"] == "Bearer"
    assert json.loads(content)["detail"] == "missing or wrong bearer token"


def test_the_body_is_capped_while_it_streams_in(app):
    reads = []

    async def receive() -> dict:  # a chunked upload without Content-Length, never ending
        reads.append(1)
        return {"type": "http.request", "body": b" " * 65536, "more_body": True}

    headers = {**AUTH, "content-type": "application/json", "transfer-encoding": "chunked"}
    status, answer_headers, content = call(app, "POST", "/v1/select", headers, receive)
    assert status == 413 and answer_headers["connection"] == "close"
    assert len(reads) == 4 * MIB // 65536 + 1  # stopped at the first chunk past the limit
    status, _, _ = call(app, "POST", "/v1/select", {**AUTH, "content-length": str(4 * MIB + 1)}, receive)
    assert status == 413 and len(reads) == 4 * MIB // 65536 + 1  # a declared length: not read at all


def test_a_body_that_does_not_arrive_in_time_gets_408(app):
    first = True

    async def receive() -> dict:  # ten bytes of a declared thousand, then nothing
        nonlocal first
        if first:
            first = False
            return {"type": "http.request", "body": b"0123456789", "more_body": True}
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    started = time.monotonic()
    headers = {**AUTH, "content-type": "application/json", "content-length": "1000"}
    status, answer_headers, content = call(app, "POST", "/v1/select", headers, receive)
    assert status == 408 and answer_headers["connection"] == "close"
    assert 0.3 <= time.monotonic() - started < 2
    assert json.loads(content)["errors"][0]["reason"] == "the body must arrive within 0.3 s"


# --- a real server: headers deadline, connection limit, uploads cut short -------------------


@pytest.fixture()
def live_server(baseline, tmp_path) -> Iterator[int]:
    """The service under uvicorn in a thread with short deadlines; yields its port."""
    settings = ServiceSettings(db_path=str(tmp_path / "log.sqlite"), token=TOKEN, body_timeout=0.5)
    limits = ServerLimits(header_timeout=0.5, keep_alive=5, limit_concurrency=6)
    server = uvicorn.Server(uvicorn_config(create_app(bundle_of(baseline), settings), "127.0.0.1", 0, limits))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive()
        time.sleep(0.02)
    yield server.servers[0].sockets[0].getsockname()[1]
    server.should_exit = True
    thread.join(10)


def exchange(port: int, raw: bytes, wait: float = 5.0) -> tuple[bytes, float]:
    """Send ``raw``; everything the server sends until it closes, and the seconds that took."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as connection:
        started = time.monotonic()
        if raw:
            connection.sendall(raw)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks), time.monotonic() - started


def test_a_connection_that_sends_nothing_is_closed_after_the_header_deadline(live_server):
    answer, seconds = exchange(live_server, b"")
    assert answer == b"" and 0.4 <= seconds < 3


def test_headers_that_do_not_arrive_in_time_get_408(live_server):
    answer, seconds = exchange(live_server, b"POST /v1/select HTTP/1.1\r\nHost: x\r\nContent-Le")
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout") and 0.4 <= seconds < 3
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["detail"] == "request headers not received in time"


def test_a_slow_body_gets_408_and_the_connection_closes(live_server):
    request = (b"POST /v1/select HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN.encode()
               + b"\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n0123456789")
    answer, seconds = exchange(live_server, request)
    assert answer.startswith(b"HTTP/1.1 408 ") and 0.4 <= seconds < 3


def test_unauthenticated_uploads_are_answered_at_once_and_cut_short(live_server):
    head = (b"POST /v1/select HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(4 * MIB).encode() + b"\r\n\r\n")
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", live_server), timeout=5) as connection:
            connection.sendall(head)
            answer = connection.recv(65536)
            assert answer.startswith(b"HTTP/1.1 401 ") and b"connection: close" in answer.lower()
            with pytest.raises(OSError):  # the server closed: the body is never taken in
                for _ in range(64):
                    connection.sendall(b" " * 65536)
                    time.sleep(0.01)


def test_beyond_the_connection_limit_requests_get_503(live_server):
    idle = [socket.create_connection(("127.0.0.1", live_server)) for _ in range(6)]
    try:
        answer, _ = exchange(live_server, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 503 ")
    finally:
        for connection in idle:
            connection.close()
    time.sleep(0.2)
    answer, _ = exchange(live_server, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 ")


# --- metrics: labels from a closed set -------------------------------------------------------


def test_invented_methods_and_paths_do_not_grow_the_metrics(client):
    for number in range(300):
        assert client.request(f"M{number:05d}", "/v1/select").status_code == 401
        assert client.get(f"/invented/{number}").status_code == 401
        assert client.request(f"X{number}", f"/v1/x{number}", headers=AUTH).status_code in (404, 405)
    text = client.get("/metrics", headers=AUTH).text
    requests = [line for line in text.splitlines() if line.startswith("ordercycle_http_requests_total")]
    assert 'ordercycle_http_requests_total{route="/v1/select",method="other",status="401"} 300' in requests
    assert 'ordercycle_http_requests_total{route="unmatched",method="GET",status="401"} 300' in requests
    assert len(requests) <= 6, requests
    assert len(text) < 10_000 and "M00001" not in text and "/invented/" not in text


def test_every_labelled_metric_takes_its_values_from_a_closed_set(baseline, tmp_path):
    from ordercycle.policies.outcomes import OUTCOMES

    settings = ServiceSettings(db_path=str(tmp_path / "log.sqlite"), token=TOKEN)
    with TestClient(create_app(bundle_of(baseline), settings, bundle_of(baseline))) as client:
        for kind, schema in SCHEMAS.items():
            for index in range(len(example_contexts(kind))):
                client.post(schema.path, json=body(kind, index), headers=AUTH)
            client.post(schema.path, json={"junk": "x" * 100}, headers=AUTH)
        metrics = client.app.state.metrics
    operations = {"unmatched", "/healthz", "/metrics", "/v1/bundle", "/openapi.json", "/docs"}
    labels = {"route": {s.path for s in SCHEMAS.values()} | operations,
              "decision": set(SCHEMAS), "policy": {bundle_of(baseline).policy_id(k) for k in SCHEMAS},
              "agreement": {"agree", "disagree"}}
    for family in (metrics.requests, metrics.latency, metrics.decisions, metrics.shadow, metrics.errors):
        series = family._values if hasattr(family, "_values") else family._counts
        for values in series:
            for name, value in zip(family.label_names, values, strict=True):
                if name in labels:
                    assert value in labels[name], (family.name, name, value)
                elif name == "status":
                    assert value.isdigit() and len(value) == 3
                elif name == "outcome":
                    words = value.replace(" ", "").replace(",", "").replace("=", "")
                    assert len(value) < 40 and words.isalpha(), value
    assert set(OUTCOMES) <= set(SCHEMAS)


# --- tokens -------------------------------------------------------------------------------


def test_tokens_are_stripped_with_a_warning_and_may_be_several():
    assert parse_tokens("secret-token\n", "$T") == (("secret-token",), [
        "$T: surrounding whitespace removed (a newline from a secret file?); clients must send the token "
        "without it"], [])
    tokens, warnings, problems = parse_tokens("new-token, old-token", "$T")
    assert tokens == ("new-token", "old-token") and warnings[0].startswith("$T: token 2: surrounding")
    assert parse_tokens("a,,b", "$T")[2] == ["$T: token 2: empty (tokens are separated by single commas)"]
    assert parse_tokens("tök", "$T")[2] == ["$T: must be printable ASCII without spaces (RFC 6750 b64token)"]
    assert parse_tokens("", "$T") == ((), [], [])
    assert public_problems(("0123456789abcdef",), "$T", "0.0.0.0") == []
    weak = public_problems(("x", "passwordpassword"), "$T", "0.0.0.0")
    assert weak[0].startswith("$T: token 1: too weak for --host 0.0.0.0: 1 characters, ~0 bits")
    assert weak[1].startswith("$T: token 2: too weak for --host 0.0.0.0: 16 characters, ~45 bits")


@pytest.fixture()
def served(monkeypatch) -> dict[str, Any]:
    """``ordercycle serve`` up to the point it would listen: what it would serve."""
    captured: dict[str, Any] = {}

    def fake_serve(app: Any, host: str, port: int, limits: ServerLimits, log_level: str,
                   **options: Any) -> None:
        captured.update(app=app, host=host, port=port, limits=limits, options=options)

    monkeypatch.setattr(server_module, "serve", fake_serve)
    return captured


def test_serve_refuses_a_weak_token_beyond_loopback(baseline, tmp_path, monkeypatch, capsys, served):
    bundle = write_bundle(bundle_document(baseline), tmp_path / "bundle.json")
    monkeypatch.setenv("ORDERCYCLE_TOKEN", "x")
    db = tmp_path / "log.sqlite"
    assert main(["serve", str(bundle), "--host", "0.0.0.0", "--db", str(db)]) == 2
    assert "error: $ORDERCYCLE_TOKEN: too weak for --host 0.0.0.0: 1 characters" in capsys.readouterr().err
    assert not served and not db.exists()
    assert main(["serve", str(bundle), "--db", str(db)]) == 0  # loopback: any token
    assert served["host"] == "127.0.0.1"


def test_serve_strips_a_trailing_newline_and_accepts_every_rotated_token(baseline, tmp_path, monkeypatch,
                                                                        capsys, served):
    bundle = write_bundle(bundle_document(baseline), tmp_path / "bundle.json")
    new, old = "n3w-" + "0123456789abcdef" * 2, "0ld-" + "fedcba9876543210" * 2
    monkeypatch.setenv("ORDERCYCLE_TOKEN", f"{new},{old}\n")
    assert main(["serve", str(bundle), "--host", "0.0.0.0", "--db", str(tmp_path / "log.sqlite")]) == 0
    err = capsys.readouterr().err
    assert "warning: $ORDERCYCLE_TOKEN: token 2: surrounding whitespace removed" in err
    assert "auth: 2 bearer tokens from $ORDERCYCLE_TOKEN" in err
    assert served["limits"] == ServerLimits()  # the defaults of the command are the module's
    with TestClient(served["app"]) as client:
        for token, status in ((new, 200), (old, 200), (f"{old}\n".strip() + "x", 401), ("", 401)):
            headers = {"Authorization": f"Bearer {token}"}
            response = client.post("/v1/select", json=body("selection"), headers=headers)
            assert response.status_code == status, token


def test_serve_refuses_bad_limits(baseline, tmp_path, capsys, served):
    bundle = write_bundle(bundle_document(baseline), tmp_path / "bundle.json")
    assert main(["serve", str(bundle), "--header-timeout", "0", "--body-timeout", "-1", "--keep-alive", "0",
                 "--limit-concurrency", "0"]) == 2
    err = capsys.readouterr().err
    for option in ("--header-timeout", "--body-timeout", "--keep-alive", "--limit-concurrency"):
        assert f"error: {option}: must be" in err


def test_serve_dev_zero_refuses_without_reading(tmp_path, capsys, served):
    started = time.monotonic()
    assert main(["serve", "/dev/zero", "--db", str(tmp_path / "log.sqlite")]) == 2
    assert capsys.readouterr().err == "error: /dev/zero: not a regular file (a device, pipe or socket)\n"
    assert time.monotonic() - started < 5 and not served


# --- the decision log is opened exactly as named, read-only ----------------------------------


def test_decisions_opens_exactly_the_named_file_read_only(filled_log_in_odd_path, capsys):
    odd, neighbour = filled_log_in_odd_path
    assert main(["decisions", str(odd), "--format", "json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 1 and rows[0]["decision"] == "selection"
    assert not neighbour.exists()  # SQLite read 'log' + query '?x=1.sqlite?mode=ro' before: created it
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        from ordercycle.policies.service.log import open_readonly

        open_readonly(odd).execute("DELETE FROM decisions")


@pytest.fixture()
def filled_log_in_odd_path(baseline, tmp_path) -> tuple[Path, Path]:
    folder = tmp_path / "dir"
    folder.mkdir()
    odd = folder / "log?x=1#%41.sqlite"
    settings = ServiceSettings(db_path=str(odd), token=TOKEN)
    with TestClient(create_app(bundle_of(baseline), settings)) as client:
        assert client.post("/v1/select", json=body("selection"), headers=AUTH).status_code == 200
    return odd, folder / "log"


# --- the OpenAPI document's examples match their schemas -------------------------------------


def test_every_documented_example_is_valid_against_its_schema_and_says_what_it_means(client):
    document = client.get("/openapi.json", headers=AUTH).json()
    checked = 0
    for path, item in document["paths"].items():
        for operation in item.values():
            for content in (operation.get("requestBody") or {}).get("content", {}).values():
                schema = {**content["schema"], "components": document["components"]}
                validator = jsonschema_rs.validator_for(schema)
                kind = next((k for k, s in SCHEMAS.items() if s.path == path), None)
                for name, example in (content.get("examples") or {}).items():
                    errors = [str(error).splitlines()[0] for error in validator.iter_errors(example["value"])]
                    assert not errors, (path, name, errors)
                    if kind is not None:
                        intended = SCHEMAS[kind].openapi_examples()[name]["value"]
                        assert example["value"] == intended, (path, name)
                    checked += 1
    assert checked == sum(len(example_contexts(kind)) for kind in SCHEMAS)
    fresh = document["paths"]["/v1/dispatch"]["post"]["requestBody"]["content"]["application/json"]
    assert fresh["examples"]["fresh-machine"]["value"]["current_family"] is None
