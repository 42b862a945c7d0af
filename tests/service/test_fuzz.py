"""Property-based fuzzing of the HTTP API from its own OpenAPI document (schemathesis).

Every operation gets schema-conforming and schema-violating requests (schemathesis
also sends them without the token). Checks: no 5xx, only documented status codes and
content types, every response body matches its documented schema, schema-violating
requests are rejected, and auth is never ignored. Left out: "schema-valid requests are
accepted" — a context can be valid JSON and still one the deployed policy cannot
decide (a junior's context, without margin, sent to a margin-based selection policy);
the service answers those 422 with the policy's reason, as documented. Lists are
bounded to 12 items here: a re-planning request's cost grows with centres × jobs (the
CP-SAT time limit bounds the solver, not the dispatching hints it starts from).

The examples are derandomised (the same on every run); run longer with
``ORDERCYCLE_FUZZ_EXAMPLES=500 pytest tests/service/test_fuzz.py``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from service_helpers import AUTH, TOKEN, bundle_document

from ordercycle.policies.bundle import verify_bundle
from ordercycle.policies.service.app import ServiceSettings, create_app
from ordercycle.policies.service.log import DecisionLog
from ordercycle.scenarios.loader import load

EXAMPLES = int(os.environ.get("ORDERCYCLE_FUZZ_EXAMPLES", "20"))
POLICIES = {  # informed policies: they read the optional fields that plain ones ignore
    "pricing": {"name": "capable-to-promise", "params": {}},
    "selection": {"name": "capacity-aware", "params": {}},
    "priority": {"name": "atc", "params": {}},
    "dispatch": {"name": "setup-aware", "params": {}},
    "schedule": {"name": "cpsat", "params": {"time_limit_seconds": 0.2, "deterministic_time": 0.02}},
    "billing": {"name": "consult-shipping-sales", "params": {}},
    "forecast": {"name": "holt-winters", "params": {}},
}


def fuzzed_app():
    """The service deploying the baseline's policies with informed ones in place."""
    scenario = load("baseline")
    policies = {**scenario.policies.model_dump(mode="json"), **POLICIES}
    bundle = verify_bundle(bundle_document(scenario, policies))
    db = Path(tempfile.mkdtemp(prefix="ordercycle-fuzz-")) / "log.sqlite"
    app = create_app(bundle, ServiceSettings(db_path=str(db), token=TOKEN, max_items=12))
    app.state.decision_log = DecisionLog(db)  # the ASGI client does not run the lifespan
    return app


schema = schemathesis.openapi.from_asgi("/openapi.json", fuzzed_app(), headers=AUTH)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None,
          derandomize=True)
def test_api_never_fails_on_any_input(case):
    case.call_and_validate(headers=AUTH, excluded_checks=[schemathesis.checks.positive_data_acceptance])
