"""Reading object-centric event logs: OCEL 2.0 (JSON, XML, SQLite) and OCEL 1.0 (JSON, XML).

:func:`read_ocel` finds the format from the file's content (its suffix only breaks ties)
and gives :class:`~ordercycle.sim.twin.ocel.OcelTables`, whatever the format:

- **OCEL 2.0 JSON** (``objectTypes``, ``eventTypes``, ``objects``, ``events``), as the
  standard's examples and ``pm4py.write_ocel2_json`` write it; an object's ``attributes``
  and ``relationships`` may be left out.
- **OCEL 2.0 XML** (``<log>`` with ``<object-types>``, ``<event-types>``, ``<objects>``,
  ``<events>``), as ``pm4py.write_ocel2_xml`` and the standard write it; values are text,
  typed by the attribute types the log declares. XML (2.0 and 1.0) is read entry by entry
  (:mod:`~ordercycle.sim.twin.ocel_xml`), never as a whole tree.
- **OCEL 2.0 SQLite**: tables ``event``, ``object``, ``event_object``, ``object_object``,
  ``event_map_type``, ``object_map_type`` and one ``event_<Type>`` / ``object_<Type>`` per
  type. The standard's object tables have ``ocel_time`` and ``ocel_changed_field`` (an
  object's first row, at 1970-01-01, holds its initial values, later rows one changed
  attribute each); ``pm4py.write_ocel2_sqlite`` leaves both columns out of a type whose
  objects never change, leaves the initial rows' time empty, and adds an ``ocel:activity``
  column to the event tables. All of these are read.
- **OCEL 1.0 JSON** (``ocel:events``, ``ocel:objects``: ``ocel:omap``, ``ocel:vmap``,
  ``ocel:ovmap``; pm4py's extensions ``ocel:typedOmap``, ``ocel:o2o``,
  ``ocel:objectChanges`` when present) and **OCEL 1.0 XML** (``<global>``, ``<events>`` of
  ``<string key="id">``, ``<date key="timestamp">``, ``<list key="omap">`` …). OCEL 1.0 has
  no object-to-object relations; :mod:`~ordercycle.sim.twin.objects` links objects through
  the events they share.
- pm4py's own SQLite of OCEL 1.0 (``pm4py.write_ocel_sqlite``: tables ``EVENTS``,
  ``OBJECTS``, ``RELATIONS``).

An attribute that changes over time is read at its latest value. A problem raises
:class:`~ordercycle.sim.twin.ocel.OcelError` naming the file and where in it: the key
path (JSON), the element (XML), the table and column (SQLite).
"""

from __future__ import annotations

import gzip
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ordercycle.policies.input_files import InputFileError, check_file, decode_utf8, parse_json, read_bytes
from ordercycle.sim.twin.ocel import OcelError, OcelTables
from ordercycle.sim.twin.ocel_xml import read_xml
from ordercycle.sim.twin.timestamps import parse_times

E2O_COLUMNS = ["ocel_event_id", "ocel_object_id", "ocel_qualifier"]
O2O_COLUMNS = ["ocel_source_id", "ocel_target_id", "ocel_qualifier"]
SQLITE_TABLES = ("event", "object", "event_object", "object_object", "event_map_type", "object_map_type")
"""Tables every OCEL 2.0 SQLite file has."""
_SQLITE_MAGIC = b"SQLite format 3\x00"

MAX_OCEL_BYTES = 2 * 1024**3
"""Largest OCEL file read (a log of millions of events is well below it)."""


def _time_key(text: Any) -> datetime:
    """Sort key of an attribute's time (unreadable or missing: the start, as the initial value)."""
    try:
        stamp = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return datetime.min
    return stamp.replace(tzinfo=None) if stamp.tzinfo is None else stamp.astimezone(None).replace(tzinfo=None)


def _typed(value: Any, kind: str | None) -> Any:
    """XML text as the attribute type the log declares (text kept when it does not convert)."""
    if value is None or kind is None:
        return value
    try:
        if kind == "integer":
            return int(value)
        if kind == "float":
            return float(value)
    except ValueError:
        return value
    if kind == "boolean":
        return str(value).strip().lower() in ("true", "1", "yes")
    return value


def _latest(rows: list[tuple[str, Any, Any]]) -> dict[str, Any]:
    """Attribute name -> its latest value, from (name, time, value) triples."""
    values: dict[str, Any] = {}
    for name, _, value in sorted(rows, key=lambda row: _time_key(row[1])):
        values[name] = value
    return values


def _tables(path: Path, kind: str, events: list[dict[str, Any]], objects: list[tuple[str, str]],
            e2o: list[tuple[str, str, str]], o2o: list[tuple[str, str, str]],
            attributes: dict[str, list[dict[str, Any]]], event_types: dict[str, str] | None = None,
            object_types: dict[str, dict[str, str]] | None = None) -> OcelTables:
    """The tables of a log read entry by entry; event times parsed (unparsable ones refused)."""
    frame = pd.DataFrame(events) if events else pd.DataFrame(columns=["ocel_id", "ocel_type", "ocel_time"])
    frame["ocel_time"] = parse_times(frame["ocel_time"], f"{path}: events.time", frame["ocel_id"])
    return OcelTables(
        frame,
        pd.DataFrame(objects, columns=["ocel_id", "ocel_type"]),
        pd.DataFrame(e2o, columns=E2O_COLUMNS),
        pd.DataFrame(o2o, columns=O2O_COLUMNS),
        {name: pd.DataFrame(rows) for name, rows in attributes.items()},
        dict(event_types or {}),
        dict(object_types or {}),
        source_format=kind,
    )


# --- JSON ------------------------------------------------------------------------------------------


def _entry(document: Any, where: str) -> Any:
    if not isinstance(document, dict):
        raise KeyError(f"{where} is not an object")
    return document


def _json_2(path: Path, document: dict[str, Any]) -> OcelTables:
    where = "document"
    try:
        where = "eventTypes"
        event_types = {
            str(t["name"]): str(a["type"])
            for t in document["eventTypes"] for a in (t.get("attributes") or [])
        }
        where = "objectTypes"
        object_types = {
            str(t["name"]): {str(a["name"]): str(a["type"]) for a in (t.get("attributes") or [])}
            for t in document["objectTypes"]
        }
        events, e2o = [], []
        for i, event in enumerate(document["events"]):
            where = f"events[{i}]" + (f" (id {event.get('id')!r})" if isinstance(event, dict) else "")
            _entry(event, where)
            row = {"ocel_id": str(event["id"]), "ocel_type": str(event["type"]), "ocel_time": event["time"]}
            for attribute in event.get("attributes") or []:
                row.setdefault(str(attribute["name"]), attribute.get("value"))
            events.append(row)
            e2o += [(row["ocel_id"], str(r["objectId"]), str(r.get("qualifier") or ""))
                    for r in event.get("relationships") or []]
        objects, o2o, attributes = [], [], {}
        for i, obj in enumerate(document["objects"]):
            where = f"objects[{i}]" + (f" (id {obj.get('id')!r})" if isinstance(obj, dict) else "")
            _entry(obj, where)
            object_id, kind = str(obj["id"]), str(obj["type"])
            objects.append((object_id, kind))
            rows = [(str(a["name"]), a.get("time"), a.get("value")) for a in obj.get("attributes") or []]
            attributes.setdefault(kind, []).append({"ocel_id": object_id, **_latest(rows)})
            o2o += [(object_id, str(r["objectId"]), str(r.get("qualifier") or ""))
                    for r in obj.get("relationships") or []]
    except (KeyError, TypeError, AttributeError) as error:
        raise OcelError([f"{path}: malformed OCEL 2.0 JSON entry {where}: missing or wrong key {error}"]
                        ) from None
    return _tables(path, "OCEL 2.0 JSON", events, objects, e2o, o2o, attributes, event_types, object_types)


def _json_1(path: Path, document: dict[str, Any]) -> OcelTables:
    where = "ocel:events"
    try:
        events, e2o = [], []
        for event_id, event in _entry(document["ocel:events"], where).items():
            where = f"ocel:events[{event_id!r}]"
            _entry(event, where)
            row = {"ocel_id": str(event_id), "ocel_type": str(event["ocel:activity"]),
                   "ocel_time": event["ocel:timestamp"]}
            row.update({str(k): v for k, v in (event.get("ocel:vmap") or {}).items() if k not in row})
            events.append(row)
            typed = event.get("ocel:typedOmap")
            if typed:
                e2o += [(str(event_id), str(r["ocel:oid"]), str(r.get("ocel:qualifier") or ""))
                        for r in typed]
            else:
                e2o += [(str(event_id), str(o), "") for o in event["ocel:omap"]]
        objects, o2o, attributes = [], [], {}
        where = "ocel:objects"
        kinds = {}
        for object_id, obj in _entry(document["ocel:objects"], where).items():
            where = f"ocel:objects[{object_id!r}]"
            _entry(obj, where)
            kind = kinds[str(object_id)] = str(obj["ocel:type"])
            objects.append((str(object_id), kind))
            rows = [(str(k), None, v) for k, v in (obj.get("ocel:ovmap") or {}).items()]
            attributes.setdefault(kind, []).append({"ocel_id": str(object_id), **_latest(rows)})
            o2o += [(str(object_id), str(r["ocel:oid"]), str(r.get("ocel:qualifier") or ""))
                    for r in obj.get("ocel:o2o") or []]
        changes = document.get("ocel:objectChanges") or []
        if changes:  # pm4py's extension: later values of attributes
            latest: dict[tuple[str, str], tuple[datetime, Any]] = {}
            for i, change in enumerate(changes):
                where = f"ocel:objectChanges[{i}]"
                field = str(change["ocel:field"])
                key = (str(change["ocel:oid"]), field)
                moment = _time_key(change.get("ocel:timestamp"))
                if key not in latest or moment >= latest[key][0]:
                    latest[key] = (moment, change.get(field))
            by_id = {row["ocel_id"]: row for rows in attributes.values() for row in rows}
            for (object_id, field), (_, value) in latest.items():
                if object_id in by_id:
                    by_id[object_id][field] = value
    except (KeyError, TypeError, AttributeError) as error:
        raise OcelError([f"{path}: malformed OCEL 1.0 JSON entry {where}: missing or wrong key {error}"]
                        ) from None
    return _tables(path, "OCEL 1.0 JSON", events, objects, e2o, o2o, attributes)


def _read_json(path: Path, text: str) -> OcelTables:
    try:  # the bounded parser every input file goes through: depth, integer size, no NaN
        document = parse_json(text, str(path))
    except InputFileError as error:
        raise OcelError(error.problems) from None
    if isinstance(document, dict) and ("ocel:events" in document or "ocel:global-log" in document):
        missing = [key for key in ("ocel:events", "ocel:objects") if key not in document]
        if missing:
            raise OcelError([f"{path}: not OCEL 1.0 JSON, missing key(s) {', '.join(missing)}"])
        return _json_1(path, document)
    missing = [key for key in ("objectTypes", "eventTypes", "objects", "events")
               if not isinstance(document, dict) or key not in document]
    if missing:
        raise OcelError([f"{path}: not OCEL 2.0 JSON, missing key(s) {', '.join(missing)}"])
    return _json_2(path, document)


# --- XML: read entry by entry in ocel_xml ----------------------------------------------------------


# --- SQLite ----------------------------------------------------------------------------------------


def _select(connection: sqlite3.Connection, path: Path, table: str, required: tuple[str, ...],
            optional: tuple[str, ...] = (), everything: bool = False) -> pd.DataFrame:
    """The table's required and optional columns (``everything``: all), refusing missing required ones."""
    have = [row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')]
    missing = [column for column in required if column not in have]
    if missing:
        raise OcelError([f"{path}: table {table!r}: no column {', '.join(map(repr, missing))} "
                         f"(columns: {', '.join(have) or 'none'})"])
    wanted = have if everything else list(required) + [column for column in optional if column in have]
    names = ", ".join(f'"{column}"' for column in wanted)
    return pd.read_sql(f'SELECT {names} FROM "{table}"', connection)


def _object_values(frame: pd.DataFrame) -> pd.DataFrame:
    """Latest value of every attribute per object, from a standard object table (initial row + changes).

    A row with ``ocel_changed_field`` set changes that attribute only; rows are taken in the
    order of ``ocel_time`` (an empty time, as pm4py writes for initial values, comes first).
    """
    empty = pd.Series(None, index=frame.index, dtype="object")
    changed = frame["ocel_changed_field"] if "ocel_changed_field" in frame else empty
    if "ocel_time" in frame:
        order = pd.to_datetime(frame["ocel_time"].astype("string"), errors="coerce", utc=True, format="mixed")
        frame = frame.assign(_order=order.fillna(pd.Timestamp("1900-01-01", tz="UTC")))
        frame = frame.sort_values("_order", kind="stable")
        changed = changed.reindex(frame.index)
    kept = ("ocel_id", "ocel_time", "ocel_changed_field", "_order")
    ids = pd.Index(frame["ocel_id"].astype(str).unique(), name="ocel_id")
    result = pd.DataFrame(index=ids)
    for column in [c for c in frame.columns if c not in kept]:
        rows = frame[changed.isna() | (changed == column)].dropna(subset=[column])
        result[column] = rows.groupby(rows["ocel_id"].astype(str), sort=False)[column].last().reindex(ids)
    return result.reset_index()


def _type_table(lower: dict[str, str], path: Path, prefix: str, suffix: str, kind: str) -> str:
    table = lower.get(f"{prefix}_{suffix}".lower())
    if table is None:
        raise OcelError([f"{path}: table '{prefix}_{suffix}' ({prefix}s of type {kind!r}, named in "
                         f"{prefix}_map_type) is missing"])
    return table


def _sqlite_2(path: Path, connection: sqlite3.Connection, tables: set[str]) -> OcelTables:
    lower = {name.lower(): name for name in tables}
    event_map = _select(connection, path, "event_map_type", ("ocel_type", "ocel_type_map"))
    object_map = _select(connection, path, "object_map_type", ("ocel_type", "ocel_type_map"))
    frames = []
    for event_type, suffix in sorted(zip(event_map["ocel_type"], event_map["ocel_type_map"], strict=True)):
        table = _type_table(lower, path, "event", suffix, event_type)
        frame = _select(connection, path, table, ("ocel_id", "ocel_time"), everything=True)
        frame = frame.drop(columns=[c for c in ("ocel:activity", "ocel_type") if c in frame])
        frame.insert(1, "ocel_type", event_type)
        frame["ocel_id"] = frame["ocel_id"].astype(str)
        frames.append(frame)
    events = (pd.concat(frames, ignore_index=True) if frames
              else pd.DataFrame(columns=["ocel_id", "ocel_type", "ocel_time"]))
    listed = _select(connection, path, "event", ("ocel_id", "ocel_type")).astype(str)
    events = listed[["ocel_id"]].merge(events.drop_duplicates("ocel_id"), on="ocel_id", how="left")
    events["ocel_type"] = events["ocel_type"].fillna(listed["ocel_type"])
    events["ocel_time"] = parse_times(events["ocel_time"], f"{path}: event tables, column ocel_time",
                                      events["ocel_id"])
    attributes = {}
    for kind, suffix in sorted(zip(object_map["ocel_type"], object_map["ocel_type_map"], strict=True)):
        table = _type_table(lower, path, "object", suffix, kind)
        attributes[kind] = _object_values(_select(connection, path, table, ("ocel_id",), everything=True))
    e2o = _select(connection, path, "event_object", ("ocel_event_id", "ocel_object_id"), ("ocel_qualifier",))
    o2o = _select(connection, path, "object_object", ("ocel_source_id", "ocel_target_id"),
                  ("ocel_qualifier",))
    objects = _select(connection, path, "object", ("ocel_id", "ocel_type")).astype(str)
    e2o, o2o = (frame.assign(ocel_qualifier=frame.get("ocel_qualifier", "")).fillna("").astype(str)
                for frame in (e2o, o2o))
    return OcelTables(events, objects, e2o[E2O_COLUMNS], o2o[O2O_COLUMNS], attributes,
                      source_format="OCEL 2.0 SQLite")


def _sqlite_pm4py_1(path: Path, connection: sqlite3.Connection, tables: set[str]) -> OcelTables:
    events = _select(connection, path, "EVENTS", ("ocel:eid", "ocel:activity", "ocel:timestamp"),
                     everything=True)
    events = events.rename(columns={"ocel:eid": "ocel_id", "ocel:activity": "ocel_type",
                                    "ocel:timestamp": "ocel_time"})
    events["ocel_id"] = events["ocel_id"].astype(str)
    events["ocel_time"] = parse_times(events["ocel_time"], f"{path}: table 'EVENTS', column ocel:timestamp",
                                      events["ocel_id"])
    objects = _select(connection, path, "OBJECTS", ("ocel:oid", "ocel:type"), everything=True)
    objects = objects.rename(columns={"ocel:oid": "ocel_id", "ocel:type": "ocel_type"})
    objects[["ocel_id", "ocel_type"]] = objects[["ocel_id", "ocel_type"]].astype(str)
    attributes = {str(kind): rows.drop(columns="ocel_type").reset_index(drop=True)
                  for kind, rows in objects.groupby("ocel_type", sort=True)}
    relations = _select(connection, path, "RELATIONS", ("ocel:eid", "ocel:oid"), ("ocel:qualifier",))
    e2o = pd.DataFrame({"ocel_event_id": relations["ocel:eid"], "ocel_object_id": relations["ocel:oid"],
                        "ocel_qualifier": relations.get("ocel:qualifier", "")}).fillna("").astype(str)
    o2o = pd.DataFrame(columns=O2O_COLUMNS)
    if "O2O" in tables:
        links = _select(connection, path, "O2O", ("ocel:oid", "ocel:oid_2"), ("ocel:qualifier",))
        o2o = pd.DataFrame({"ocel_source_id": links["ocel:oid"], "ocel_target_id": links["ocel:oid_2"],
                            "ocel_qualifier": links.get("ocel:qualifier", "")}).fillna("").astype(str)
    return OcelTables(events, objects[["ocel_id", "ocel_type"]], e2o, o2o, attributes,
                      source_format="OCEL 1.0 SQLite (pm4py)")


def _read_sqlite(path: Path) -> OcelTables:
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as error:
        raise OcelError([f"{path}: not a readable SQLite file: {error}"]) from None
    try:
        if {"EVENTS", "OBJECTS", "RELATIONS"} <= tables:
            return _sqlite_pm4py_1(path, connection, tables)
        missing = sorted(set(SQLITE_TABLES) - tables)
        if missing:
            raise OcelError([f"{path}: not OCEL 2.0 SQLite, missing table(s) {', '.join(missing)}"])
        return _sqlite_2(path, connection, tables)
    except (sqlite3.DatabaseError, pd.errors.DatabaseError) as error:
        raise OcelError([f"{path}: malformed OCEL SQLite: {error}"]) from None
    finally:
        connection.close()


# --- dispatch --------------------------------------------------------------------------------------

SUFFIXES = (".json", ".jsonocel", ".xml", ".xmlocel", ".sqlite", ".sqlite3", ".db")
"""Suffixes of OCEL files (a trailing ``.gz`` is unpacked first for JSON and XML)."""


def _head(path: Path, size: int, gzipped: bool = False) -> bytes:
    """The first ``size`` bytes of the file (unpacked when gzipped)."""
    try:
        with (gzip.open(path, "rb") if gzipped else open(path, "rb")) as handle:
            return handle.read(size)
    except (OSError, EOFError) as error:
        kind = "gzip file" if gzipped else "file"
        raise OcelError([f"{path}: not a readable {kind}: {error}"]) from None


def read_ocel(path: str | Path) -> OcelTables:
    """Read an OCEL 2.0 or 1.0 file (JSON, XML or SQLite; JSON and XML may be gzipped)."""
    path = Path(path)
    if not path.exists():
        raise OcelError([f"{path}: no such file"])
    try:  # a regular file of at most MAX_OCEL_BYTES (never /dev/zero)
        check_file(path, MAX_OCEL_BYTES)
    except InputFileError as error:
        raise OcelError(error.problems) from None
    gzipped = _head(path, 2) == b"\x1f\x8b"
    head = _head(path, 512, gzipped)
    if head.startswith(_SQLITE_MAGIC):
        return _read_sqlite(path)
    head = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    suffixes = [s.lower() for s in path.suffixes]
    if head[:1] == b"<" or any(s in (".xml", ".xmlocel") for s in suffixes):
        return read_xml(path, gzipped, MAX_OCEL_BYTES)  # entry by entry: never the whole tree
    try:  # a regular file of at most MAX_OCEL_BYTES (never /dev/zero)
        data = read_bytes(path, MAX_OCEL_BYTES)
    except InputFileError as error:
        raise OcelError(error.problems) from None
    if gzipped:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as error:
            raise OcelError([f"{path}: not a readable gzip file: {error}"]) from None
    if head[:1] in (b"{", b"[") or any(s in (".json", ".jsonocel") for s in suffixes):
        try:  # the one UTF-8 decoder of input files: names the byte and its offset, a UTF-16 mark
            text = decode_utf8(data, str(path)).removeprefix("\ufeff")
        except InputFileError as error:
            raise OcelError(error.problems) from None
        return _read_json(path, text)
    return _read_sqlite(path)
