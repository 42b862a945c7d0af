"""The one bounded, decoding-safe path every input file is read through (policies/input_files.py)."""

from __future__ import annotations

import codecs
import json
import os
import time
from pathlib import Path

import pytest

from ordercycle.policies.input_files import (
    MAX_DEPTH,
    MAX_INT_DIGITS,
    InputFileError,
    parse_json,
    parse_yaml,
    read_json,
    read_text,
    read_yaml,
)


def refused(call, *args, **kwargs) -> str:
    """The one problem line ``call`` refuses with."""
    with pytest.raises(InputFileError) as caught:
        call(*args, **kwargs)
    assert len(caught.value.problems) == 1
    return caught.value.problems[0]


def alias_bomb(levels: int = 9, fan_out: int = 10) -> str:
    """The billion-laughs document: each level lists the previous one ``fan_out`` times."""
    lines = ["l0: &l0 [" + ", ".join(["lol"] * fan_out) + "]"]
    for level in range(1, levels + 1):
        lines.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * fan_out) + "]")
    return "\n".join(lines) + "\n"


def test_only_regular_files_are_read_and_no_more_than_the_limit(tmp_path):
    assert refused(read_text, "/dev/zero").endswith("not a regular file (a device, pipe or socket)")
    assert refused(read_text, tmp_path).endswith("not a regular file (a folder)")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    started = time.monotonic()
    assert "not a regular file" in refused(read_text, fifo)  # refused without opening: no blocking
    assert time.monotonic() - started < 1
    assert refused(read_text, tmp_path / "none.json").endswith("cannot read (No such file or directory)")
    big = tmp_path / "big.json"
    big.write_bytes(b" " * 2049)
    assert refused(read_text, big, max_bytes=2048) == f"{big}: 2,049 bytes, larger than the 2 KiB read"
    assert read_text(big, max_bytes=4096) == " " * 2049


@pytest.mark.parametrize(("content", "reason"), [
    ('{"a": 1}'.encode("utf-16"), "UTF-16 text (byte-order mark); save the file as UTF-8"),
    ('{"a": 1}'.encode("utf-32"), "UTF-32 text (byte-order mark); save the file as UTF-8"),
    ('{"a": 1}'.encode("utf-16-le"), "NUL byte at offset 1 (UTF-16 text without a byte-order mark, or a "
                                     "binary file); save the file as UTF-8"),
    (b'{"name": "caf\xe9"}', "not UTF-8 text (byte 0xe9 at offset 13); save the file as UTF-8"),
])
def test_text_must_be_utf8_and_the_error_says_what_it_is(tmp_path, content, reason):
    path = tmp_path / "file.json"
    path.write_bytes(content)
    assert refused(read_json, path) == f"{path}: {reason}"


def test_a_utf8_byte_order_mark_is_skipped(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(codecs.BOM_UTF8 + b'{"a": 1}')
    assert read_json(path) == {"a": 1}


def test_json_depth_integers_and_non_finite_numbers_are_bounded():
    assert refused(parse_json, "[" * 100_000, "f.json") == f"f.json: nested deeper than {MAX_DEPTH} levels"
    deep = '{"a":' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1)
    assert refused(parse_json, deep, "f.json") == f"f.json: nested deeper than {MAX_DEPTH} levels"
    ok = '{"a":' * (MAX_DEPTH - 1) + "1" + "}" * (MAX_DEPTH - 1)
    assert parse_json(ok, "f.json")
    assert refused(parse_json, "1" * 5000, "f.json") == (
        f"f.json: an integer of 5,000 digits (at most {MAX_INT_DIGITS} are read)")
    assert parse_json("9" * MAX_INT_DIGITS, "f.json") == int("9" * MAX_INT_DIGITS)
    assert refused(parse_json, "[NaN]", "f.json") == "f.json: NaN is not a number JSON allows here"
    assert refused(parse_json, "[-Infinity]", "f.json") == (
        "f.json: -Infinity is not a number JSON allows here")
    assert refused(parse_json, "[1e400]", "f.json") == "f.json: the number 1e400 is too large"
    assert [str(v) for v in parse_json("[NaN, Infinity]", "f.json", allow_nan=True)] == ["nan", "inf"]
    assert refused(parse_json, "{not json", "f.json").startswith("f.json: not valid JSON (Expecting")


def test_a_yaml_alias_bomb_fails_at_once_without_printing_its_expansion():
    started = time.monotonic()
    problem = refused(parse_yaml, alias_bomb(), "bomb.yaml")
    assert time.monotonic() - started < 1
    assert problem.startswith("bomb.yaml: not valid YAML: line 6, column 5: more than 250,000 values once "
                              "its aliases are expanded")
    assert len(problem) < 200
    assert parse_yaml(alias_bomb(levels=2), "ok.yaml")["l2"][9][9][9] == "lol"  # aliases are allowed


@pytest.mark.parametrize(("text", "reason"), [
    ("x: " + "1" * 5000, "line 1, column 4: an integer of 5,000 digits (at most 30 are read)"),
    ("[" * 5000, f"line 1, column {MAX_DEPTH + 1}: nested deeper than {MAX_DEPTH} levels"),
    ("a: &a [*a]", "line 1, column 8: an alias inside the node it names (a recursive structure)"),
    ("when: 2025-13-01", "month must be in 1..12"),
    ("name: [unclosed\n", "line 2, column 1: while parsing a flow sequence, expected ',' or ']', but got "
                          "'<stream end>'"),
    ("\x01name: x", "unacceptable character #x0001: special characters are not allowed in "
                     "\"<unicode string>\", position 0"),
    ("run: !!python/object/apply:os.system [ls]",
     "line 1, column 6: could not determine a constructor for the tag "
     "'tag:yaml.org,2002:python/object/apply:os.system'"),
])
def test_yaml_limits_and_errors_are_one_line_naming_the_place(text, reason):
    assert refused(parse_yaml, text, "f.yaml") == f"f.yaml: not valid YAML: {reason}"


def test_yaml_reads_exponent_numbers_as_numbers():
    assert parse_yaml("a: 1e3\nb: -2E-4\nc: 1.5e+2\nd: '1e3'\ne: 1_000", "f.yaml") == {
        "a": 1000.0, "b": -0.0002, "c": 150.0, "d": "1e3", "e": 1000}


def test_read_yaml_goes_through_the_same_bounds(tmp_path: Path):
    path = tmp_path / "s.yaml"
    path.write_bytes(b"name: caf\xe9\n")
    assert refused(read_yaml, path) == (
        f"{path}: not UTF-8 text (byte 0xe9 at offset 9); save the file as UTF-8")
    path.write_text(json.dumps({"a": [1, 2]}))
    assert read_yaml(path) == {"a": [1, 2]}
