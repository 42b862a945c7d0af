"""The import rules of docs/architecture.md, as import-linter contracts in pyproject.toml.

The contracts are kept on the code as it is, and each forbidden arrow, added to the real
import graph, breaks the contract that names it: a rule that nothing could break would
check nothing.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from importlinter import cli
from importlinter.application import use_cases
from importlinter.application.app_config import settings
from importlinter.configuration import configure

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
CONFIG = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]
CONTRACTS = {contract["id"]: contract for contract in CONFIG["contracts"]}


def test_lint_imports_keeps_every_contract(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert cli.lint_imports(config_filename=str(PYPROJECT), no_cache=True, no_logo=True) == 0


def test_the_engine_layer_and_the_engine_contract_name_the_same_modules():
    engine_layer = CONTRACTS["sim-layers"]["layers"][-1]
    layer_modules = {f"ordercycle.sim.{name.strip()}" for name in engine_layer.split(":")}
    assert layer_modules == set(CONTRACTS["engine-alone"]["source_modules"])


class _GraphWithExtraImport:
    """Hands import-linter the real import graph with one import added that the code does not have."""

    def __init__(self, graph, importer: str, imported: str):
        self.graph, self.importer, self.imported = graph, importer, imported
        self.added_module = imported not in graph.modules

    def build(self, **options):
        if self.added_module:
            self.graph.add_module(self.imported, is_squashed="." not in self.imported)
        self.graph.add_import(importer=self.importer, imported=self.imported, line_number=1,
                              line_contents=f"import {self.imported}")
        return self.graph

    def undo(self) -> None:
        self.graph.remove_import(importer=self.importer, imported=self.imported)
        if self.added_module:
            self.graph.remove_module(self.imported)


@pytest.fixture(scope="module")
def real_graph():
    import grimp

    return grimp.build_graph(*CONFIG["root_packages"], include_external_packages=True)


# (importer, imported, the contract that must break)
FORBIDDEN_ARROWS = [
    ("ordercycle.sim.model", "ordercycle.reports.kpis", "engine-alone"),
    ("ordercycle.sim.steps.sales", "ordercycle.policies.service.app", "engine-alone"),
    ("ordercycle.sim.eventlog", "matplotlib", "engine-alone"),
    ("ordercycle.sim.model", "ordercycle.sim.twin.calibrate", "sim-layers"),
    ("ordercycle.sim.placement", "ordercycle.sim.experiments.comparison", "sim-layers"),
    ("ordercycle.sim.run", "ordercycle.sim.cli.common", "sim-layers"),
    ("ordercycle.sim.experiments.comparison", "ordercycle.sim.twin.whatif", "sim-layers"),
    ("ordercycle.sim.twin.calibrate", "ordercycle.sim.cli.twin", "sim-layers"),
    ("ordercycle.policies.registry", "ordercycle.sim.model", "no-simulator-below"),
    ("ordercycle.policies.service.app", "simpy", "no-simulator-below"),
    ("ordercycle.scenarios.loader", "ordercycle.sim.snapshot", "no-simulator-below"),
    ("ordercycle.reports.kpis", "ordercycle.sim.run", "no-simulator-below"),
    ("ordercycle.policies.service.log", "ordercycle.reports.statistics", "policies-alone"),
    ("ordercycle.policies.commercial", "ordercycle.scenarios.schema", "policies-alone"),
    ("ordercycle.reports.comparison_report", "ordercycle.policies.registry", "reports-on-tables"),
    ("ordercycle.scenarios.schema", "ordercycle.policies.registry", "scenarios-read-through-input-files"),
    ("ordercycle.scenarios.loader", "ordercycle.policies.bundle", "scenarios-read-through-input-files"),
    ("ordercycle.policies.input_files", "ordercycle.policies.base", "input-files-leaf"),
    ("ordercycle.policies.input_files", "ordercycle.scenarios.schema", "input-files-leaf"),
]


@pytest.mark.parametrize(("importer", "imported", "contract"), FORBIDDEN_ARROWS,
                         ids=[f"{a}->{b}" for a, b, _ in FORBIDDEN_ARROWS])
def test_a_forbidden_arrow_breaks_its_contract(real_graph, importer, imported, contract):
    configure()
    saved = settings.GRAPH_BUILDER
    mutated = _GraphWithExtraImport(real_graph, importer, imported)
    assert not real_graph.direct_import_exists(importer=importer, imported=imported)
    settings.configure(GRAPH_BUILDER=mutated)
    try:
        use_cases._register_built_in_contract_types()
        report = use_cases.create_report(use_cases.read_user_options(str(PYPROJECT)), cache_dir=None)
    finally:
        settings.configure(GRAPH_BUILDER=saved)
        mutated.undo()
    broken = {c.name for c, check in report.get_contracts_and_checks() if not check.kept}
    assert broken, f"{importer} -> {imported} broke no contract"
    assert CONTRACTS[contract]["name"] in broken
