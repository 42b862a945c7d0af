"""Reading the files ordercycle is given: bounded in size, depth and integer length, UTF-8 only.

Every file the command line and the service read — scenarios and experiment files
(YAML), bundles, result records, snapshots, experiment records and mappings — goes
through this module, so that a hostile or damaged file ends in one ``path: reason``
line (:class:`InputFileError`) instead of a traceback, a hang or an exhausted memory:

- only regular files are read (``/dev/zero``, a pipe or a folder is refused before it
  is opened), and at most ``max_bytes`` of them (:data:`MAX_FILE_BYTES` by default);
- the text must be UTF-8 (a UTF-8 byte-order mark is skipped); UTF-16 or UTF-32, NUL
  bytes and invalid sequences are named with their offset;
- containers nest at most :data:`MAX_DEPTH` levels, integers have at most
  :data:`MAX_INT_DIGITS` digits (Python's own limit, 4,300, would raise a bare
  ``ValueError``), and JSON's ``NaN`` / ``Infinity`` (and numbers that overflow to
  them) are refused unless the format allows them;
- YAML is read with the safe loader, its aliases expanded at most to
  :data:`MAX_YAML_NODES` nodes (an alias bomb fails at once, before anything walks the
  expansion), and ``1e3``-style numbers are numbers (YAML 1.2), not strings.

The module imports nothing else of ordercycle: scenarios, policies and the simulator
all read through it (the import contracts in ``pyproject.toml`` allow exactly this).
"""

from __future__ import annotations

import codecs
import json
import math
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

MAX_FILE_BYTES = 64 * 1024 * 1024
"""Largest file read by default (a snapshot of a large company, a bundle embedding one)."""
MAX_YAML_BYTES = 4 * 1024 * 1024
"""Largest YAML file (scenarios, experiment files, mappings: a few kilobytes in practice)."""
MAX_DEPTH = 64
"""Deepest nesting of lists and mappings (the formats need fewer than 12 levels)."""
MAX_INT_DIGITS = 30
"""Longest integer literal, in digits (ids, counts and seeds need fewer than 20)."""
MAX_YAML_NODES = 250_000
"""Most nodes a YAML document may have once its aliases are expanded."""

_UTF16_32_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
                  (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"))


class InputFileError(ValueError):
    """A file that cannot be read as the format it should have; one ``path: reason`` line per problem."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def _size(limit: int) -> str:
    if limit % (1024 * 1024) == 0:
        return f"{limit // (1024 * 1024)} MiB"
    if limit % 1024 == 0:
        return f"{limit // 1024} KiB"
    return f"{limit} bytes"


def check_file(path: str | Path, max_bytes: int = MAX_FILE_BYTES) -> None:
    """Refuse, without opening it, anything but a regular file of at most ``max_bytes`` bytes
    (a reader given ``/dev/zero`` or a pipe would never finish, or never start).

    Raises:
        InputFileError: a missing or unreadable file, not a regular file, or a larger one.
    """
    where = str(path)
    try:
        info = os.stat(path)
    except OSError as error:
        raise InputFileError([f"{where}: cannot read ({error.strerror or error})"]) from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "a device, pipe or socket"
        raise InputFileError([f"{where}: not a regular file ({kind})"])
    if info.st_size > max_bytes:
        raise InputFileError([f"{where}: {info.st_size:,} bytes, larger than the {_size(max_bytes)} read"])


def read_bytes(path: str | Path, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The content of a regular file of at most ``max_bytes`` bytes.

    Raises:
        InputFileError: a missing or unreadable file, not a regular file, or a larger one.
    """
    where = str(path)
    check_file(path, max_bytes)
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)  # the file may have grown since stat
    except OSError as error:
        raise InputFileError([f"{where}: cannot read ({error.strerror or error})"]) from None
    if len(data) > max_bytes:
        raise InputFileError([f"{where}: larger than the {_size(max_bytes)} read"])
    return data


def decode_utf8(data: bytes, where: str) -> str:
    """``data`` as UTF-8 text (a leading UTF-8 byte-order mark dropped).

    Raises:
        InputFileError: naming UTF-16 / UTF-32 text, NUL bytes or the first invalid byte.
    """
    for bom, encoding in _UTF16_32_BOMS:
        if data.startswith(bom):
            raise InputFileError([f"{where}: {encoding} text (byte-order mark); save the file as UTF-8"])
    data = data.removeprefix(codecs.BOM_UTF8)
    nul = data.find(b"\x00")
    if nul >= 0:
        hint = "UTF-16 text without a byte-order mark, or a binary file"
        raise InputFileError([f"{where}: NUL byte at offset {nul} ({hint}); save the file as UTF-8"])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        byte = data[error.start]
        raise InputFileError([f"{where}: not UTF-8 text (byte 0x{byte:02x} at offset {error.start}); "
                              "save the file as UTF-8"]) from None


def read_text(path: str | Path, max_bytes: int = MAX_FILE_BYTES) -> str:
    """The UTF-8 text of a regular file of at most ``max_bytes`` bytes (see :func:`read_bytes`)."""
    return decode_utf8(read_bytes(path, max_bytes), str(path))


def check_depth(value: Any, where: str, max_depth: int = MAX_DEPTH) -> None:
    """Refuse ``value`` (parsed JSON or YAML) if lists and mappings nest deeper than ``max_depth``."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list | tuple):
            children = node
        else:
            continue
        if depth > max_depth:
            raise InputFileError([f"{where}: nested deeper than {max_depth} levels"])
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list | tuple))


class _Refused(ValueError):
    """Raised by the JSON decoder's hooks; carries the reason."""


def _bounded_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise _Refused(f"an integer of {digits:,} digits (at most {MAX_INT_DIGITS} are read)")
    return int(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"the number {text[:40]}{'…' if len(text) > 40 else ''} is too large")
    return value


def _no_constant(text: str) -> float:
    raise _Refused(f"{text} is not a number JSON allows here")


def parse_json(text: str, where: str, allow_nan: bool = False, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON text with bounded integers and nesting.

    Args:
        text: the JSON text.
        where: the file (or other source) named in messages.
        allow_nan: accept ``NaN`` and ``Infinity`` (the result store writes them for
            undefined KPIs); otherwise they, and numbers overflowing to infinity, are refused.
        max_depth: deepest nesting accepted.

    Raises:
        InputFileError: ``where: not valid JSON (…)`` or the limit that was exceeded.
    """
    hooks: dict[str, Callable[[str], Any]] = {"parse_int": _bounded_int}
    if not allow_nan:
        hooks.update(parse_float=_finite_float, parse_constant=_no_constant)
    try:
        value = json.loads(text, **hooks)  # type: ignore[arg-type]
    except _Refused as error:
        raise InputFileError([f"{where}: {error}"]) from None
    except json.JSONDecodeError as error:
        raise InputFileError([f"{where}: not valid JSON ({error})"]) from None
    except RecursionError:
        raise InputFileError([f"{where}: nested deeper than {max_depth} levels"]) from None
    if text.count("[") + text.count("{") > max_depth:  # only then can it be too deep
        check_depth(value, where, max_depth)
    return value


def read_json(path: str | Path, max_bytes: int = MAX_FILE_BYTES, allow_nan: bool = False) -> Any:
    """The parsed content of a JSON file, read through every bound of this module."""
    return parse_json(read_text(path, max_bytes), str(path), allow_nan)


# --- YAML --------------------------------------------------------------------------------

_YAML12_FLOAT = re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$")
"""Exponent floats without a dot (``1e3``, ``2E-4``): numbers in YAML 1.2, strings to PyYAML."""


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with bounded nesting, alias expansion and integer length."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0
        self._expanded: dict[int, tuple[int, int]] = {}  # id(node) -> (nodes once expanded, height)

    def _problem(self, message: str, mark: Any) -> yaml.MarkedYAMLError:
        return yaml.composer.ComposerError(None, None, message, mark)

    def compose_node(self, parent: Any, index: Any) -> Any:
        aliased = self.check_event(yaml.AliasEvent)
        mark = self.peek_event().start_mark
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise self._problem(f"nested deeper than {MAX_DEPTH} levels", mark)
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if aliased:
            if id(node) not in self._expanded:
                raise self._problem("an alias inside the node it names (a recursive structure)", mark)
            nodes, height = self._expanded[id(node)]
        else:
            nodes, height = 1, 1
            if isinstance(node, yaml.SequenceNode):
                children = node.value
            elif isinstance(node, yaml.MappingNode):
                children = [child for pair in node.value for child in pair]
            else:
                children = []
            for child in children:
                child_nodes, child_height = self._expanded[id(child)]
                nodes += child_nodes
                height = max(height, child_height + 1)
            self._expanded[id(node)] = (nodes, height)
        if self._depth + height > MAX_DEPTH:
            raise self._problem(f"nested deeper than {MAX_DEPTH} levels (aliases expanded)", mark)
        if nodes > MAX_YAML_NODES:
            raise self._problem(f"more than {MAX_YAML_NODES:,} values once its aliases are expanded "
                                "(an alias bomb?)", mark)
        return node

    def construct_yaml_int(self, node: Any) -> int:
        digits = sum(char.isalnum() for char in str(node.value))
        if digits > MAX_INT_DIGITS:
            raise yaml.constructor.ConstructorError(
                None, None, f"an integer of {digits:,} digits (at most {MAX_INT_DIGITS} are read)",
                node.start_mark)
        return super().construct_yaml_int(node)


_BoundedLoader.add_constructor("tag:yaml.org,2002:int", _BoundedLoader.construct_yaml_int)
_BoundedLoader.add_implicit_resolver("tag:yaml.org,2002:float", _YAML12_FLOAT, list("-+0123456789"))


def parse_yaml(text: str, where: str) -> Any:
    """Parse one YAML document with the bounded safe loader.

    Raises:
        InputFileError: ``where: not valid YAML: line L, column C: …``, or the limit exceeded.
    """
    loader = None
    try:
        loader = _BoundedLoader(text)  # the reader refuses control characters already here
        return loader.get_single_data()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        reason = ", ".join(part for part in (error.context, error.problem) if part)
        raise InputFileError([f"{where}: not valid YAML: {at}{reason}"]) from None
    except (yaml.YAMLError, ValueError, OverflowError) as error:  # e.g. a timestamp with month 13
        reason = " ".join(str(error).split())
        raise InputFileError([f"{where}: not valid YAML: {reason}"]) from None
    finally:
        if loader is not None:
            loader.dispose()


def read_yaml(path: str | Path, max_bytes: int = MAX_YAML_BYTES) -> Any:
    """The parsed content of a YAML file, read through every bound of this module."""
    return parse_yaml(read_text(path, max_bytes), str(path))
