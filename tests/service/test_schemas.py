"""The two forms of a route's request schema agree: the pydantic model that documents it
(and the OpenAPI document) and the validator that parses bodies straight into the
context dataclasses. Every example context of the conformance suite, and every leaf of
it replaced by a value of the wrong kind or out of bounds, is accepted or refused alike,
with the same fields at fault, and accepted bodies give the same dataclass."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from ordercycle.policies.examples import DECISION_SPECS, example_contexts
from ordercycle.policies.service.schemas import MAX_NUMBER, MAX_STRING, route_schemas

MAX_ITEMS = 12
SCHEMAS = route_schemas(MAX_ITEMS)
BAD_VALUES: tuple[Any, ...] = ("x" * (MAX_STRING + 1), "7", True, None, 3.0, 2.5, -1, 10 * MAX_NUMBER, -0.0,
                               [], {}, {"unknown": 1})


def leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Paths of every value in a JSON document (containers included)."""
    if path:
        yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:2]):
            yield from leaves(item, (*path, index))


def replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A copy of ``document`` with the value at ``path`` replaced."""
    result = copy.deepcopy(document)
    target = result
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return result


def outcome(validate: Any, body: bytes, convert: Any = None) -> tuple[str, Any]:
    """("ok", the context) or ("refused", sorted error locations)."""
    try:
        value = validate(body)
    except ValidationError as error:
        return "refused", sorted(tuple(map(str, item["loc"])) for item in error.errors())
    return "ok", convert(value) if convert else value


@pytest.mark.parametrize("kind", list(DECISION_SPECS))
def test_the_documented_model_and_the_body_validator_agree(kind):
    schema = SCHEMAS[kind]
    documents = [schema.context_dict(context) for context in example_contexts(kind)]
    cases = [json.dumps(document) for document in documents]
    first = documents[0]
    for path in leaves(first):
        for value in BAD_VALUES:
            cases.append(json.dumps(replaced(first, path, value)))
        if isinstance(path[-1], str):
            cases.append(json.dumps(replaced(first, path[:-1] + ("extra_field",), 1)))
    cases += ["{not json", "[]", "{}", json.dumps({**first, "padding": "x"}),
              json.dumps({key: value for key, value in first.items() if key != next(iter(first))})]
    refused = 0
    for body in cases:
        raw = body.encode()
        documented = outcome(schema.request_model.model_validate_json, raw, schema.to_context)
        served = outcome(schema.context_from_body, raw)
        assert documented == served, (kind, body[:300])
        refused += documented[0] == "refused"
    assert 0 < refused < len(cases)
