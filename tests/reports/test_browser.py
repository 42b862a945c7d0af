"""The reports render in headless Chromium with no console errors, every image decoded, and a non-blank page.

Needs Debian's ``chromium``. Where no browser is found the tests are skipped with that
reason (a fresh machine running the README's test command), unless
``ORDERCYCLE_REQUIRE_BROWSER=1`` says the browser must be there: ``.ci/run`` installs
Chromium and sets it, so in CI a missing browser fails the tests.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess

import pytest

REQUIRED = os.environ.get("ORDERCYCLE_REQUIRE_BROWSER") == "1"
BROWSER = next((path for path in map(shutil.which, ("chromium", "chromium-browser")) if path), None)
pytestmark = pytest.mark.skipif(
    BROWSER is None and not REQUIRED,
    reason="no Chromium found (install Debian's `chromium` to run the browser tests; "
           "ORDERCYCLE_REQUIRE_BROWSER=1 makes its absence a failure)",
)

# Appended to a copy of the page under test (the report itself has no scripts): an image
# the browser could not decode is reported on the console, which fails the test.
IMAGE_PROBE = """<script>
window.addEventListener("load", () => {
  const images = Array.from(document.images);
  const broken = images.filter(img => !img.complete || img.naturalWidth === 0);
  if (images.length === 0 || broken.length) { console.error("broken images: " + broken.length); }
  else { console.log("images-ok " + images.length); }
});
</script>"""


def chromium() -> str:
    """The browser executable; fails (not skips) when it is missing and required."""
    if BROWSER is None:
        pytest.fail("chromium is not installed but ORDERCYCLE_REQUIRE_BROWSER=1: `apt-get install -y chromium`")
    return BROWSER


def render(page, tmp_path) -> tuple[str, bytes]:
    """Load ``page`` headless: the console log lines, and a screenshot (PNG bytes)."""
    probe = tmp_path / "probe.html"
    probe.write_text(
        page.read_text(encoding="utf-8").replace("</body>", IMAGE_PROBE + "</body>"), encoding="utf-8"
    )
    shot = tmp_path / "shot.png"
    command = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-extensions",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        "--window-size=1200,1600",
        "--virtual-time-budget=5000",
        f"--screenshot={shot}",
        probe.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert shot.is_file(), f"no screenshot (exit {done.returncode}):\n{done.stderr[-2000:]}"
    return done.stderr, shot.read_bytes()


def assert_clean_and_not_blank(log: str, screenshot: bytes) -> None:
    console = [line for line in log.splitlines() if ":CONSOLE" in line]
    errors = [line for line in console if "images-ok" not in line]
    assert not errors, "console messages:\n" + "\n".join(errors)
    assert any("images-ok" in line for line in console), "the image probe did not run:\n" + log[-2000:]
    assert not re.search(r"Failed to load resource|net::ERR_", log)
    from PIL import Image

    image = Image.open(io.BytesIO(screenshot)).convert("RGB")
    assert image.size[0] >= 800
    colours = image.getcolors(maxcolors=1_000_000)
    assert colours is None or len(colours) > 10, "the screenshot is blank"


@pytest.fixture(scope="module")
def study_folder(tmp_path_factory):
    """A synthetic optimisation study and its report, no simulation (tests/experiments/study_helpers.py)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "experiments"))
    from study_helpers import synthetic_study

    folder = tmp_path_factory.mktemp("reports") / "study"
    synthetic_study(folder)
    return folder


@pytest.mark.parametrize("which", ["run_folder", "compare_folder", "study_folder", "sweep_folder"])
def test_report_renders_in_headless_chromium(which, request, tmp_path):
    folder = request.getfixturevalue(which)
    log, screenshot = render(folder / "report.html", tmp_path)
    assert_clean_and_not_blank(log, screenshot)


def test_the_probe_catches_a_broken_image(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text(
        '<!DOCTYPE html><html><body><h1>x</h1><img src="data:image/png;base64,AAAA"></body></html>'
    )
    log, _ = render(page, tmp_path)
    assert "broken images: 1" in log
