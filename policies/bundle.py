"""Policy bundles: the policies chosen in simulation, with the evidence that chose them.

A bundle is a plain JSON document (schema below). Loading one resolves every policy by
its registered name and validates its parameters through the registry: nothing is
unpickled and no code path named in the file is imported. A bundle carries a content
hash (SHA-256 of its canonical JSON without the ``content_hash`` key), so a bundle
edited after export is refused.

Schema, version 1::

    {
      "schema_version": 1,
      "kind": "ordercycle-policy-bundle",
      "created_at": "2025-01-01T00:00:00Z",
      "package_version": "0.1.0",
      "policies": {decision: {"name": str, "version": int, "params": {...}}, ...},
      "scenario": {...}, "scenario_name": str, "scenario_hash": hex,
      "evidence": {...},            # free-form: seeds, replications, summary, ranking
      "content_hash": hex
    }

``policies`` may cover any non-empty subset of the decision kinds; a service built from
the bundle answers exactly those.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ordercycle.policies.base import Policy, PolicyParameterError
from ordercycle.policies.input_files import MAX_FILE_BYTES, InputFileError, read_json
from ordercycle.policies.registry import DECISIONS, lookup, make

SCHEMA_VERSION = 1
BUNDLE_KIND = "ordercycle-policy-bundle"
MAX_BUNDLE_BYTES = MAX_FILE_BYTES
"""Largest bundle file read (its scenario may embed a snapshot)."""
REQUIRED_KEYS = ("schema_version", "kind", "created_at", "package_version", "policies", "scenario",
                 "scenario_name", "scenario_hash", "evidence", "content_hash")


class BundleError(ValueError):
    """A bundle that cannot be loaded; one ``path: reason`` line per problem."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def finite_json(value: Any) -> Any:
    """``value`` with every non-finite float replaced by ``None`` (JSON has no NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): finite_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_json(v) for v in value]
    return value


def canonical_json(value: Any) -> str:
    """Canonical JSON text: sorted keys, no whitespace, NaN refused (what is hashed)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def bundle_hash(document: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``document`` without its ``content_hash`` key."""
    body = {key: value for key, value in document.items() if key != "content_hash"}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def policy_entry(decision: str, name: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """The bundle entry of one decision: registered name, class version, validated parameters.

    Raises:
        PolicyParameterError: for an unknown decision or policy, or a bad parameter.
    """
    policy = make(decision, name, params or {})
    return {"name": name, "version": type(policy).version, "params": finite_json(policy.get_params())}


def make_bundle(policies: dict[str, dict[str, Any]], *, scenario: dict[str, Any], scenario_name: str,
                scenario_hash: str, evidence: dict[str, Any], package_version: str,
                created_at: str) -> dict[str, Any]:
    """A complete bundle document (with its content hash).

    Args:
        policies: ``{decision: {"name": …, "params": {…}}}``; validated here.
        scenario: the scenario the policies were evaluated on, as JSON.
        scenario_name: its name.
        scenario_hash: its content hash.
        evidence: what selected the policies (seeds, replications, KPI summary, ranking).
        package_version: the ordercycle version that produced the evidence.
        created_at: ISO 8601 creation time.

    Raises:
        PolicyParameterError: naming every unknown policy or bad parameter.
    """
    entries: dict[str, Any] = {}
    problems: list[str] = []
    for decision in sorted(policies):
        choice = policies[decision]
        try:
            entries[decision] = policy_entry(decision, choice["name"], choice.get("params"))
        except PolicyParameterError as error:
            problems.extend(error.problems)
    if problems:
        raise PolicyParameterError(problems)
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "kind": BUNDLE_KIND,
        "created_at": created_at,
        "package_version": package_version,
        "policies": entries,
        "scenario": finite_json(scenario),
        "scenario_name": scenario_name,
        "scenario_hash": scenario_hash,
        "evidence": finite_json(evidence),
    }
    document["content_hash"] = bundle_hash(document)
    return document


@dataclass(frozen=True)
class Bundle:
    """A loaded, verified bundle.

    Attributes:
        document: the bundle's JSON document, as read.
        policies: decision kind -> the built policy (only the decisions the bundle covers).
        content_hash: the verified content hash.
        source: where it was read from (for messages), or ``""``.
    """

    document: dict[str, Any]
    policies: dict[str, Policy]
    content_hash: str
    source: str = ""

    def policy_id(self, decision: str) -> str:
        """Versioned id of the policy deciding ``decision``, e.g. ``selection/strategic@1``."""
        return self.policies[decision].policy_id()

    def summary(self) -> dict[str, Any]:
        """What is deployed: policies, hash, scenario, creation time (without the scenario body)."""
        return {
            "content_hash": self.content_hash,
            "created_at": self.document["created_at"],
            "package_version": self.document["package_version"],
            "scenario_name": self.document["scenario_name"],
            "scenario_hash": self.document["scenario_hash"],
            "policies": self.document["policies"],
        }


def _check_header(document: Any) -> list[str]:
    if not isinstance(document, dict):
        return [f"bundle: must be a JSON object, got {type(document).__name__}"]
    problems = [f"{key}: missing" for key in REQUIRED_KEYS if key not in document]
    problems += [f"{key}: unknown key" for key in sorted(set(document) - set(REQUIRED_KEYS))]
    if problems:
        return problems
    if document["kind"] != BUNDLE_KIND:
        problems.append(f"kind: must be {BUNDLE_KIND!r}, got {document['kind']!r}")
    if document["schema_version"] != SCHEMA_VERSION:
        problems.append(f"schema_version: this ordercycle reads version {SCHEMA_VERSION}, "
                        f"got {document['schema_version']!r}")
    if not isinstance(document["policies"], dict) or not document["policies"]:
        problems.append("policies: must be a non-empty object {decision: {name, version, params}}")
    if not isinstance(document["content_hash"], str):
        problems.append("content_hash: must be a hex string")
    return problems


def _build_policies(entries: dict[str, Any]) -> tuple[dict[str, Policy], list[str]]:
    policies: dict[str, Policy] = {}
    problems: list[str] = []
    for decision in sorted(entries):
        entry, where = entries[decision], f"policies.{decision}"
        if decision not in DECISIONS:
            problems.append(f"{where}: unknown decision {decision!r} (known: {', '.join(DECISIONS)})")
            continue
        if not isinstance(entry, dict) or set(entry) != {"name", "version", "params"}:
            problems.append(f"{where}: must be an object with exactly name, version and params")
            continue
        if not isinstance(entry["name"], str) or not isinstance(entry["params"], dict):
            problems.append(f"{where}: name must be a string and params an object")
            continue
        try:
            cls = lookup(decision, entry["name"], where)
            if entry["version"] != cls.version:
                problems.append(
                    f"{where}.version: the bundle was exported with {cls.policy_id().split('@')[0]}"
                    f"@{entry['version']}, this installation has @{cls.version}")
                continue
            policies[decision] = make(decision, entry["name"], entry["params"])
        except PolicyParameterError as error:
            problems.extend(line.replace(f"policies.{decision}.params", f"{where}.params")
                            for line in error.problems)
    return policies, problems


def verify_bundle(document: Any, source: str = "") -> Bundle:
    """Check a bundle document and build its policies.

    Checks, in order: the header (kind, schema version, keys), the content hash, then
    every policy by registered name, class version and parameters.

    Raises:
        BundleError: listing every problem as ``path: reason``.
    """
    problems = _check_header(document)
    if problems:
        raise BundleError(problems)
    try:
        computed = bundle_hash(document)
    except ValueError as error:  # NaN or infinity somewhere: not canonical JSON
        raise BundleError([f"bundle: not canonical JSON ({error})"]) from None
    if computed != document["content_hash"]:
        raise BundleError([
            f"content_hash: does not match the bundle's content (recorded {document['content_hash'][:12]}…, "
            f"computed {computed[:12]}…): the bundle was changed after export; export it again"
        ])
    policies, problems = _build_policies(document["policies"])
    if problems:
        raise BundleError(problems)
    return Bundle(document, policies, computed, source)


def load_bundle(path: str | Path) -> Bundle:
    """Read and verify a bundle file.

    Raises:
        BundleError: naming the file and every problem (unreadable, not a regular file,
            too large, not UTF-8, not JSON, too deep, tampered, unknown policy, bad
            parameter).
    """
    path = Path(path)
    try:
        document = read_json(path, MAX_BUNDLE_BYTES)
    except InputFileError as error:
        raise BundleError(error.problems) from None
    try:
        return verify_bundle(document, str(path))
    except BundleError as error:
        raise BundleError([f"{path}: {line}" for line in error.problems]) from None


def write_bundle(document: dict[str, Any], path: str | Path) -> Path:
    """Write a bundle document as indented JSON (sorted keys, trailing newline)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8")
    return path
