"""Helpers of the decision-service tests: bundles built from scenarios, the test token."""

from __future__ import annotations

import json
from typing import Any

from ordercycle.policies.bundle import Bundle, make_bundle, verify_bundle
from ordercycle.scenarios.loader import content_hash
from ordercycle.scenarios.schema import Scenario

TOKEN = "test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def bundle_document(scenario: Scenario, policies: dict[str, Any] | None = None,
                    evidence: dict[str, Any] | None = None) -> dict[str, Any]:
    """A bundle document of ``scenario``'s policies (or ``policies``), JSON round-tripped."""
    document = make_bundle(
        policies if policies is not None else scenario.policies.model_dump(mode="json"),
        scenario=scenario.model_dump(mode="json"), scenario_name=scenario.name,
        scenario_hash=content_hash(scenario), evidence=evidence or {"source": "test"},
        package_version="0.1.0", created_at="2025-01-01T00:00:00Z",
    )
    return json.loads(json.dumps(document))


def bundle_of(scenario: Scenario, policies: dict[str, Any] | None = None) -> Bundle:
    """A verified bundle of ``scenario``'s policies (or ``policies``)."""
    return verify_bundle(bundle_document(scenario, policies))
