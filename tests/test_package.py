"""The package layout: one installable package, every subpackage listed, no bare imports."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"sim": "ordercycle.sim", "policies": "ordercycle.policies",
           "reports": "ordercycle.reports", "scenarios": "ordercycle.scenarios"}


def test_every_subpackage_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    assert config["package-dir"] == {name: folder for folder, name in FOLDERS.items()}
    for folder, package in FOLDERS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / folder).parts
            assert ".".join([package, *relative]) in listed, f"{init} is not listed in pyproject.toml"


def test_importing_everything_never_imports_bare_folder_names():
    for package in FOLDERS.values():
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, prefix=f"{package}."):
            importlib.import_module(info.name)
    for bare in FOLDERS:
        assert bare not in sys.modules, f"bare module {bare!r} was imported; use ordercycle.{bare}"


def test_policies_never_import_the_simulator():
    for path in (ROOT / "policies").rglob("*.py"):
        text = path.read_text()
        assert "ordercycle.sim" not in text and "import simpy" not in text, path
        assert "ordercycle.reports" not in text, path
