"""A strategist's walk through the workbench in a real browser: steps 1–5 on a small scenario.

``ordercycle ui`` runs as a process; Playwright drives the system Chromium (``executable_path``,
no browser download) through the forms as a person would: a lever refused with the schema's
reason beside it, then set; a policy set composed from the registry, a parameter refused with
its bound, then set; a comparison started (20 days, 2 replications per set, one worker),
its live progress watched until the page turns to the report; the report read in the page
and downloaded; the winner exported and the ``serve`` command shown. No console message of
level error, no request to another host, and every screenshot is a picture (more than ten
colours). ``ORDERCYCLE_WORKBENCH_SCREENSHOTS=DIR`` keeps the screenshots (``docs/workbench/``).

Skipped with the reason where no Chromium (or the ``playwright`` package) is found, unless
``ORDERCYCLE_REQUIRE_BROWSER=1`` (set by ``.ci/run``): then their absence fails.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REQUIRED = os.environ.get("ORDERCYCLE_REQUIRE_BROWSER") == "1"
BROWSER = next((path for path in map(shutil.which, ("chromium", "chromium-browser")) if path), None)
try:
    import playwright.sync_api  # noqa: F401

    PLAYWRIGHT = True
except ImportError:
    PLAYWRIGHT = False
pytestmark = pytest.mark.skipif(
    (BROWSER is None or not PLAYWRIGHT) and not REQUIRED,
    reason="no Chromium or no playwright package found (install Debian's `chromium` and "
    "`pip install -e '.[test]'` to walk the workbench in a browser; ORDERCYCLE_REQUIRE_BROWSER=1 "
    "makes their absence a failure)",
)
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SETS = "sets"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def workbench(tmp_path_factory):
    """``ordercycle ui`` on a free loopback port over an empty results folder: its address and folder."""
    if BROWSER is None or not PLAYWRIGHT:
        pytest.fail(
            "chromium and the playwright package are required (ORDERCYCLE_REQUIRE_BROWSER=1): "
            "`apt-get install -y chromium` and `pip install -e '.[test]'`"
        )
    home = tmp_path_factory.mktemp("walk")
    port = _free_port()
    log = open(home / "ui.log", "wb")  # noqa: SIM115 - closed at teardown
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ordercycle.sim.cli",
            "ui",
            "--port",
            str(port),
            "--results",
            "out",
            "--workers",
            "1",
        ],
        cwd=home,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    address = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{address}/healthz", timeout=2):
                break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the workbench did not start:\n" + (home / "ui.log").read_text())
            time.sleep(0.3)
    yield address, home
    server.terminate()
    server.wait(timeout=20)
    log.close()


def _not_blank(path: Path) -> None:
    from PIL import Image

    image = Image.open(io.BytesIO(path.read_bytes())).convert("RGB")
    assert image.size[0] >= 1000
    colours = image.getcolors(maxcolors=1_000_000)
    assert colours is None or len(colours) > 10, f"{path.name} is blank"


def test_a_strategist_walks_steps_one_to_five(workbench, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    address, home = workbench
    shots = Path(os.environ.get("ORDERCYCLE_WORKBENCH_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    console: list[str] = []
    foreign: list[str] = []
    taken: list[Path] = []

    def shot(page, name: str, element=None, **options) -> None:
        path = shots / f"workbench-{name}.png"
        if element is None:
            page.screenshot(path=str(path), **options)
        else:
            # an element's own picture: Playwright scrolls it into view and waits until it
            # stops moving (the report frame above it grows when it loads, which once left
            # a viewport shot of the page background)
            page.wait_for_load_state("load")
            element.screenshot(path=str(path), **options)
        taken.append(path)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=BROWSER, args=CHROMIUM_FLAGS)
        context = browser.new_context(viewport={"width": 1280, "height": 860}, accept_downloads=True)
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
        page.on("request", lambda r: foreign.append(r.url) if not r.url.startswith(address) else None)

        # 1. the company in words; a lever refused beside its field, then set
        page.goto(f"{address}/scenario")
        expect(page.locator("#company")).to_contain_text("strategic: 25 customers of importance 3")
        expect(page.locator("#company")).to_contain_text("Policies in force")
        page.locator("summary", has_text="Staff").click()
        clerks = page.locator('input[name="staff.entry_clerks"]')
        clerks.fill("0")
        page.get_by_role("button", name="Save the levers").click()
        problem = page.locator("label", has=page.locator('input[name="staff.entry_clerks"]')).locator(
            ".problems"
        )
        expect(problem).to_have_text("staff.entry_clerks: input should be greater than or equal to 1 (got 0)")
        problem.scroll_into_view_if_needed()
        shot(page, "lever-refused")
        page.locator('input[name="staff.entry_clerks"]').fill("5")
        page.get_by_role("button", name="Save the levers").click()
        expect(page.get_by_role("status")).to_contain_text("Saved.")
        expect(page.locator("#company")).to_contain_text("5 entry clerks")
        shot(page, "scenario")

        # 2. a set composed from the registry, a parameter refused with its bound
        page.get_by_role("link", name="2 · Policy sets").click()
        page.locator("#add-set input[name=name]").fill("due-dates")
        page.locator("#add-set").get_by_role("button", name="Add").click()
        card = page.locator('[data-set="due-dates"]')
        card.locator("select[name=choice]").select_option("priority/edd")
        card.get_by_role("button", name="Choose…").click()
        page.get_by_role("button", name="Use it in due-dates").click()
        card = page.locator('[data-set="due-dates"]')
        expect(card.locator(".in-words")).to_contain_text(
            "priority: edd — earliest due (promised) date first"
        )
        card.locator("select[name=choice]").select_option("expedite/bounded")
        card.get_by_role("button", name="Choose…").click()
        page.locator('input[name="max_per_period"]').fill("-1")
        page.get_by_role("button", name="Use it in due-dates").click()
        refused = page.locator("label", has=page.locator('input[name="max_per_period"]')).locator(".problems")
        expect(refused).to_contain_text("max_per_period: input should be greater than or equal to 0 (got -1)")
        shot(page, "policy-refused")
        page.locator('input[name="max_per_period"]').fill("3")
        page.get_by_role("button", name="Use it in due-dates").click()
        expect(page.locator('[data-set="due-dates"] .in-words')).to_contain_text(
            "expedite: bounded (max_per_period = 3)"
        )
        shot(page, "sets", full_page=True)

        # 3. a comparison started, watched, finished
        page.get_by_role("link", name="3 · Run").click()
        form = page.locator("#compare-form")
        form.locator("input[name=folder]").fill("walk")
        for name, value in (("reps", "2"), ("workers", "1"), ("horizon_days", "20"), ("warmup_days", "5")):
            form.locator(f"input[name={name}]").fill(value)
        shot(page, "run")
        form.get_by_role("button", name="Start the comparison").click()
        expect(page).to_have_url(f"{address}/runs/walk")
        expect(page.locator("#command")).to_contain_text(
            "ordercycle compare out/walk/scenario.yaml --sets out/walk/sets.yaml --reps 2"
        )
        expect(page.locator("table.live")).to_contain_text(re.compile(r"[12] / 2"), timeout=240_000)
        shot(page, "progress")
        expect(page.locator("h1 .state")).to_have_text("finished", timeout=240_000)

        # 4. the report in the page, and its files
        report = page.frame_locator("#report")
        for section in (
            "In plain words",
            "Ranking by the objective",
            "Means with confidence intervals",
            "Trade-off",
            "Read with care",
            "What each set is",
        ):
            expect(report.locator("body")).to_contain_text(section)
        frame = page.frame(url=f"{address}/runs/walk/files/report.html")
        assert frame.evaluate("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
        assert frame.evaluate("document.images.length") >= 3
        page.locator("#report").scroll_into_view_if_needed()
        shot(page, "report")
        report.locator("h2", has_text="Means with confidence intervals").scroll_into_view_if_needed()
        shot(page, "report-forest")
        with page.expect_download() as download:
            page.locator("#downloads").get_by_role("link", name="report.html").click()
        saved = tmp_path / "report.html"
        download.value.save_as(saved)
        assert saved.read_bytes() == (home / "out" / "walk" / "report.html").read_bytes()
        with page.expect_download() as download:
            page.locator("#downloads").get_by_role("link", name="sets.yaml").click()
        download.value.save_as(tmp_path / "sets.yaml")
        assert "due-dates" in (tmp_path / "sets.yaml").read_text()

        # 5. the winner exported, the serve command shown
        page.locator("#export-form").get_by_role("button", name="Export the bundle").click()
        expect(page.locator("#serve")).to_contain_text(
            "ordercycle serve out/walk/bundle.json --port 8000 --db out/walk/decisions.sqlite"
        )
        expect(page.locator("#bundle")).to_contain_text("(winner)")
        shot(page, "deploy", element=page.locator("#deploy"))
        page.get_by_role("link", name="4 · Results").click()
        expect(page.locator("#runs")).to_contain_text("walk")
        browser.close()

    assert (home / "out" / "walk" / "bundle.json").is_file()
    assert not console, "console errors:\n" + "\n".join(console)
    assert not foreign, f"requests to other hosts: {foreign}"
    for path in taken:
        _not_blank(path)
