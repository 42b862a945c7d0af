"""Helpers of the workbench tests: an app over a temporary results folder, driven without a browser."""

from __future__ import annotations

import html as markup
import re
from pathlib import Path

from fastapi.testclient import TestClient

from ordercycle.sim.ui.app import WorkbenchSettings, create_app

SMALL_SETS = "reference: fifo\nsets:\n  fifo: {}\n  edd: {priority: edd}\n"
"""Two sets that differ in one decision: the small comparison of the tests."""


def client_for(results: Path, token: str | None = None, **settings) -> TestClient:
    """A test client of the workbench over ``results``, posting as its own origin."""
    app = create_app(WorkbenchSettings(results=results, token=token, **settings))
    return TestClient(
        app, base_url="http://127.0.0.1", headers={"origin": "http://127.0.0.1"}, follow_redirects=True
    )


def field_block(html: str, name: str) -> str:
    """The ``<label>`` block of the input named ``name`` (its problems are inside it)."""
    start = html.index(f'name="{name}"')
    opening = html.rfind("<label", 0, start)
    return markup.unescape(html[opening : html.index("</label>", start)])


def texts(html: str, css_class: str) -> list[str]:
    """The list items of every ``<ul class=css_class>``."""
    found = []
    for block in re.findall(rf'<ul class="{css_class}"[^>]*>(.*?)</ul>', html, flags=re.S):
        found += [
            markup.unescape(re.sub(r"<[^>]+>", "", item))
            for item in re.findall(r"<li>(.*?)</li>", block, flags=re.S)
        ]
    return found
