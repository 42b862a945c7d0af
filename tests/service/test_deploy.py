"""Deployment: the token from a secret file, the container recipe's files and health check,
the documented production command, and a bundle swapped on a running service.

There is no container runtime on the test machines, so the recipe is checked for what
can go wrong without building it: every file it copies exists, the extras it installs
are declared, the final stage runs as an unprivileged user, and its ``HEALTHCHECK``
command — run here as it is written — passes against a live service and fails without
one. The swap runs ``ordercycle serve --workers 2`` (uvicorn's supervisor), replaces the
bundle file and sends ``SIGHUP``: the supervisor brings up a new worker before it retires
an old one, so a client that retries a dropped keep-alive connection with the same
``Idempotency-Key`` gets every request answered, and decided once; a damaged bundle file
leaves the old workers serving.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path

import httpx
import pytest
from serve_process import Server, free_port
from service_helpers import AUTH, TOKEN, bundle_document

from ordercycle.policies.bundle import bundle_hash, write_bundle
from ordercycle.policies.contexts import SelectionContext
from ordercycle.policies.service.schemas import route_schemas
from ordercycle.sim.cli.parser import build_parser

ROOT = Path(__file__).resolve().parents[2]
CONTAINERFILE = ROOT / "Containerfile"
CANDIDATE = {"selection": {"name": "size-threshold", "params": {"min_units": 50}}}
SELECT = route_schemas()["selection"]


@pytest.fixture(scope="module")
def deployment(baseline, tmp_path_factory):
    """``serve --workers 2`` with the token in a file (ending in a newline, as ``echo`` writes it)."""
    folder = tmp_path_factory.mktemp("deploy")
    token_file = folder / "token"
    token_file.write_text(TOKEN + "\n")
    bundle = write_bundle(bundle_document(baseline), folder / "bundle.json")
    server = Server(bundle, folder / "decisions.sqlite", folder / "serve.log",
                    extra=["--workers", "2", "--token-file", str(token_file)], env={"ORDERCYCLE_TOKEN": None})
    try:
        yield server.wait_ready(), folder
    finally:
        server.stop(signal.SIGTERM)


def test_the_token_comes_from_a_file_with_its_newline_stripped(deployment):
    server, _ = deployment
    assert httpx.get(f"{server.url}/healthz", timeout=10).json() == {"status": "ok"}  # no token needed
    assert httpx.get(f"{server.url}/v1/bundle", timeout=10).status_code == 401
    assert httpx.get(f"{server.url}/v1/bundle", headers=AUTH, timeout=10).status_code == 200


def test_serve_refuses_a_token_given_twice_or_an_empty_token_file(tmp_path, baseline, capsys, monkeypatch):
    bundle = write_bundle(bundle_document(baseline), tmp_path / "bundle.json")
    empty = tmp_path / "empty"
    empty.write_text("\n")
    from ordercycle.sim.cli import main

    monkeypatch.setenv("ORDERCYCLE_TOKEN", TOKEN)
    assert main(["serve", str(bundle), "--token-file", str(empty), "--db", str(tmp_path / "x.sqlite")]) == 2
    assert "$ORDERCYCLE_TOKEN is set too" in capsys.readouterr().err
    monkeypatch.delenv("ORDERCYCLE_TOKEN")
    assert main(["serve", str(bundle), "--token-file", str(empty), "--db", str(tmp_path / "x.sqlite")]) == 2
    assert f"--token-file {empty}: empty" in capsys.readouterr().err
    monkeypatch.setenv("ORDERCYCLE_TOKEN_FILE", str(empty))
    assert build_parser().parse_args(["serve", str(bundle)]).token_file == str(empty)  # the container's way


def instructions(path: Path) -> list[tuple[str, str]]:
    """(instruction, arguments) of a Containerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", "\n".join(line for line in path.read_text().splitlines()
                                          if not line.lstrip().startswith("#")))
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip() if " " in line.strip() else "")
            for line in text.splitlines() if line.strip()]


def test_the_container_recipe_copies_files_that_exist_and_runs_unprivileged():
    steps = instructions(CONTAINERFILE)
    stages = [index for index, (name, _) in enumerate(steps) if name == "FROM"]
    assert len(stages) >= 2, "multi-stage: build, then a run stage without the build tools"
    final = steps[stages[-1]:]
    for name, arguments in steps:
        if name == "COPY" and "--from=" not in arguments:
            *sources, _ = shlex.split(arguments)
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: no such file in the repository"
    users = [arguments for name, arguments in final if name == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    extras = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"])
    for _, arguments in steps:
        for wanted in re.findall(r"'\.\[([^\]]+)\]'", arguments):
            assert set(wanted.split(",")) <= extras, wanted
    entry = json.loads(dict(final)["ENTRYPOINT"]) + json.loads(dict(final)["CMD"])
    assert entry[:2] == ["ordercycle", "serve"]
    build_parser().parse_args(entry[1:])  # the command's options exist
    dockerignore = (ROOT / ".dockerignore").read_text()
    assert all(f"!{source.rstrip('/')}" in dockerignore for name, arguments in steps if name == "COPY"
               and "--from=" not in arguments for source in shlex.split(arguments)[:-1])


def health_check() -> list[str]:
    """The ``HEALTHCHECK`` command of the recipe (exec form)."""
    arguments = dict(instructions(CONTAINERFILE))["HEALTHCHECK"]
    return json.loads(arguments[arguments.index("CMD") + 3:].strip())


def test_the_recipes_health_check_passes_on_a_live_service_and_fails_without_one(deployment):
    server, _ = deployment
    command = [sys.executable if part == "python" else part for part in health_check()]
    alive = subprocess.run(command, env={**os.environ, "ORDERCYCLE_PORT": str(server.port)}, timeout=30,
                           capture_output=True)
    assert alive.returncode == 0, alive.stderr
    dead = subprocess.run(command, env={**os.environ, "ORDERCYCLE_PORT": str(free_port())}, timeout=30,
                          capture_output=True)
    assert dead.returncode != 0


def documented_commands() -> list[list[str]]:
    """The ``ordercycle serve`` command lines in docs/service.md's "Deploying" section
    (shell blocks and the systemd unit's ``ExecStart``)."""
    text = (ROOT / "docs" / "service.md").read_text()
    section = text[text.index("## Deploying"):]
    section = section[:section.index("\n## ", 4)] if "\n## " in section[4:] else section
    commands = []
    for block in re.findall(r"```(?:bash|ini)\n(.*?)```", section, re.S):
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():
            line = line.removeprefix("ExecStart=")
            words = shlex.split(line, comments=True)
            while words and "=" in words[0] and not words[0].startswith("-"):  # VAR=value prefixes
                words.pop(0)
            if words[:1] and words[0].endswith("ordercycle") and words[1:2] == ["serve"]:
                commands.append(words[1:])
    return commands


def test_the_documented_production_command_and_unit_use_options_that_exist():
    commands = documented_commands()
    assert len(commands) >= 2, "the production command and the systemd unit's ExecStart"
    for words in commands:
        options = build_parser().parse_args(words)
        assert options.workers >= 2 and options.host != "127.0.0.1" and options.token_file


def post_until_answered(client: httpx.Client, url: str, key: str, sent: dict,
                        retries: list[str]) -> httpx.Response:
    """POST with an idempotency key; a dropped connection (a worker retiring) is retried with it."""
    for _ in range(20):
        try:
            return client.post(f"{url}{SELECT.path}", json=sent, headers={"Idempotency-Key": key})
        except httpx.TransportError:
            retries.append(key)
            time.sleep(0.05)
    raise AssertionError(f"{key}: not answered after 20 tries")


def test_sighup_swaps_the_bundle_worker_by_worker_answering_every_request_once(deployment, baseline):
    server, folder = deployment
    old_hash = bundle_document(baseline)["content_hash"]
    new_document = bundle_document(baseline, {**baseline.policies.model_dump(mode="json"), **CANDIDATE})
    assert bundle_hash(new_document) != old_hash
    answered: list[tuple[str, int, int]] = []
    retries: list[str] = []
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(headers=AUTH, timeout=30) as client:
            index = 0
            while not stop.is_set():
                context = SelectionContext(index, float(index), "junior", "regular", "valve", 1 + index % 90,
                                           120.0)
                key = f"swap-{index}"
                response = post_until_answered(client, server.url, key, SELECT.context_dict(context), retries)
                answered.append((key, response.status_code, int(response.headers.get("X-Decision-Id", 0))))
                index += 1

    client_thread = threading.Thread(target=load)
    client_thread.start()
    try:
        while len(answered) < 50:
            time.sleep(0.01)
        broken = {**new_document, "content_hash": "0" * 64}  # a damaged file must change nothing
        write_bundle(broken, folder / "bundle.json.new")
        os.replace(folder / "bundle.json.new", folder / "bundle.json")
        server.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 180
        while "aborting the restart" not in server.logs.read_text():
            assert time.monotonic() < deadline and server.process.poll() is None, server.logs.read_text()
            time.sleep(0.1)
        assert re.search(r"worker not started: .*bundle\.json: content_hash: does not match",
                         server.logs.read_text())
        kept = len(answered)
        while len(answered) < kept + 20:  # still answering, with the old bundle
            time.sleep(0.01)
        staged = folder / "bundle.json.new"
        write_bundle(new_document, staged)
        os.replace(staged, folder / "bundle.json")  # atomic: a worker reads the old or the new file
        server.process.send_signal(signal.SIGHUP)
        deadline, consecutive = time.monotonic() + 180, 0
        while consecutive < 10:  # new connections reach both workers: both serve the new bundle
            assert time.monotonic() < deadline, f"the bundle was not swapped: {server.logs.read_text()}"
            live = httpx.get(f"{server.url}/v1/bundle", headers=AUTH, timeout=30).json()["live"]
            consecutive = consecutive + 1 if live["content_hash"] == new_document["content_hash"] else 0
            time.sleep(0.05 if consecutive else 0.2)
        swapped_at = len(answered)
        while len(answered) < swapped_at + 50:
            time.sleep(0.01)
    finally:
        stop.set()
        client_thread.join(timeout=60)
    assert server.process.poll() is None, "the supervisor stopped"
    assert all(status == 200 for _, status, _ in answered), [a for a in answered if a[1] != 200][:5]
    with sqlite3.connect(folder / "decisions.sqlite") as connection:
        rows = connection.execute("SELECT idempotency_key, bundle_hash FROM decisions "
                                  "WHERE idempotency_key LIKE 'swap-%' ORDER BY id").fetchall()
    assert len(rows) == len({key for key, _ in rows}) == len(answered)  # every request decided once
    hashes = [bundle for _, bundle in rows]
    assert set(hashes[:kept + 20]) == {old_hash} and set(hashes[-40:]) == {new_document["content_hash"]}
    assert set(hashes) == {old_hash, new_document["content_hash"]}
    assert len(retries) <= 10, f"{len(retries)} retries"
