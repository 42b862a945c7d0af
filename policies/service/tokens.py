"""Bearer tokens of the decision service: read from the environment, checked, compared.

The token variable (``ORDERCYCLE_TOKEN`` by default) holds one token, or several separated
by commas so that a token can be rotated without downtime: deploy ``new,old``, move the
clients to ``new``, then deploy ``new`` alone. Each token is stripped of surrounding
whitespace — a secret file read into the variable often ends in a newline, which no
client would send — with a warning, and must be printable ASCII without spaces (the
``b64token`` of RFC 6750; a comma cannot be part of one).

A service that listens beyond loopback needs tokens an attacker cannot guess: at least
:data:`MIN_PUBLIC_LENGTH` characters and about :data:`MIN_PUBLIC_BITS` bits, estimated as
length × log2(distinct characters) — 16 random hex digits pass, a word repeated does not.
"""

from __future__ import annotations

import hmac
import math
from collections.abc import Callable, Sequence

MIN_PUBLIC_LENGTH = 16
"""Fewest characters of a token for a service listening beyond loopback."""
MIN_PUBLIC_BITS = 64
"""Least estimated entropy (bits) of a token for a service listening beyond loopback."""
GENERATE = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
"""How to make a good token."""


def parse_tokens(value: str | None, where: str) -> tuple[tuple[str, ...], list[str], list[str]]:
    """The tokens in the variable's ``value``, the warnings and the problems (``where: …`` lines).

    ``where`` names the variable in messages (``$ORDERCYCLE_TOKEN``). An unset or empty
    variable holds no token (no auth).
    """
    if value is None or not value.strip():
        return (), [], []
    parts = value.split(",")
    tokens: list[str] = []
    warnings, problems = [], []
    for number, part in enumerate(parts, start=1):
        label = f"{where}: token {number}" if len(parts) > 1 else where
        token = part.strip()
        if not token:
            problems.append(f"{label}: empty (tokens are separated by single commas)")
            continue
        if token != part:
            warnings.append(f"{label}: surrounding whitespace removed (a newline from a secret file?); "
                            "clients must send the token without it")
        if not all(33 <= ord(char) <= 126 for char in token):
            problems.append(f"{label}: must be printable ASCII without spaces (RFC 6750 b64token)")
            continue
        tokens.append(token)
    return tuple(dict.fromkeys(tokens)), warnings, problems


def estimated_bits(token: str) -> float:
    """A rough entropy estimate: length × log2 of the number of distinct characters."""
    distinct = len(set(token))
    return len(token) * math.log2(distinct) if distinct > 1 else 0.0


def public_problems(tokens: Sequence[str], where: str, host: str) -> list[str]:
    """Why ``tokens`` are too weak for a service on ``host`` (beyond loopback), as lines."""
    problems = []
    for number, token in enumerate(tokens, start=1):
        label = f"{where}: token {number}" if len(tokens) > 1 else where
        bits = estimated_bits(token)
        if len(token) < MIN_PUBLIC_LENGTH or bits < MIN_PUBLIC_BITS:
            problems.append(
                f"{label}: too weak for --host {host}: {len(token)} characters, ~{bits:.0f} bits (at least "
                f"{MIN_PUBLIC_LENGTH} characters and ~{MIN_PUBLIC_BITS} bits); make one with {GENERATE}")
    return problems


def token_matcher(tokens: str | Sequence[str] | None) -> Callable[[str | None], bool]:
    """Whether an ``Authorization`` header carries ``Bearer <token>`` for one of ``tokens``
    (constant-time comparison with every token); with no token, every request passes."""
    accepted = (tokens,) if isinstance(tokens, str) else tuple(tokens or ())
    if not accepted:
        return lambda header: True
    expected = [token.encode("utf-8") for token in accepted]

    def matches(header: str | None) -> bool:
        scheme, _, given = (header or "").partition(" ")
        offered = given.encode("utf-8", "surrogateescape")
        found = False
        for token in expected:  # no early exit: the time does not tell which token came close
            found |= hmac.compare_digest(offered, token)
        return scheme.lower() == "bearer" and found

    return matches
