"""OCEL XML (2.0 and 1.0) read incrementally: one object or event element at a time.

:func:`read_xml` parses the file with :func:`xml.etree.ElementTree.iterparse` and handles each
entry — ``<object-type>``, ``<event-type>``, ``<object>``, ``<event>`` (OCEL 2.0), or an
OCEL 1.0 ``<event>`` / ``<object>`` of keyed children — when its end tag is read, then drops
it, so a log's element tree is never held whole (an element costs some ten times its bytes:
a 1 GB log would need about 10 GB as a tree). What an entry holds is kept as plain rows;
values are typed at the end by the attribute types the log declares, wherever in the file the
declarations are. The version is told by the sections (``<object-types>`` / ``<event-types>``:
2.0, ``<global>``: 1.0) or else by the first event (keyed children: 1.0). Problems name the
element as the whole-tree reader did (``events/event[3] (id 'e4'): <event> without attribute
'time'``). Gzipped files are unpacked as they are read; at most ``max_bytes`` bytes of XML are
read either way.
"""

from __future__ import annotations

import gzip
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import IO, Any

from ordercycle.sim.twin.ocel import OcelError, OcelTables

_TYPES_1 = {"float": "float", "int": "integer", "boolean": "boolean"}


class _Bounded:
    """A binary stream that refuses to give more than ``limit`` bytes (a gzip bomb stops there)."""

    def __init__(self, stream: IO[bytes], limit: int, where: str):
        self.stream, self.limit, self.given, self.where = stream, limit, 0, where

    def read(self, size: int = -1) -> bytes:
        """At most ``size`` bytes (all that is left without one); refused past the limit."""
        data = self.stream.read(size if size >= 0 else self.limit + 1 - self.given)
        self.given += len(data)
        if self.given > self.limit:
            raise OcelError([f"{self.where}: more than the {self.limit:,} bytes of XML read"])
        return data


def _need(element: ElementTree.Element, name: str, where: str) -> str:
    value = element.get(name)
    if value is None:
        raise OcelError([f"{where}: <{element.tag}> without attribute {name!r}"])
    return value


def _keyed(node: ElementTree.Element) -> dict[str, ElementTree.Element]:
    """Children of an OCEL 1.0 element by their ``key`` (``ocel:`` prefix dropped)."""
    return {str(child.get("key", "")).removeprefix("ocel:"): child for child in node}


class _Entries:
    """What the entries read so far hold, as rows (values typed in :meth:`tables`)."""

    def __init__(self, path: Path):
        self.path = path
        self.version: int | None = None
        self.declared: dict[str, dict[str, str]] = {}
        self.object_types: dict[str, dict[str, str]] = {}
        self.event_types: dict[str, str] = {}
        self.objects: list[tuple[str, str]] = []
        self.object_rows: list[tuple[str, str, list[tuple[str, Any, Any]]]] = []
        """(object id, type, its values): (name, time, text) in 2.0, (key, element tag, text) in 1.0."""
        self.events: list[tuple[dict[str, Any], list[tuple[Any, ...]]]] = []
        self.e2o: list[tuple[str, str, str]] = []
        self.o2o: list[tuple[str, str, str]] = []
        self.counts: dict[str, int] = {}
        self.sections: set[str] = set()

    def where(self, section: str, tag: str) -> str:
        index = self.counts.get(f"{section}/{tag}", 0)
        self.counts[f"{section}/{tag}"] = index + 1
        return f"{self.path}: {section}/{tag}[{index}]"

    def add(self, section: str, node: ElementTree.Element) -> None:
        """Handle one entry (a child of a section of ``<log>``) whose end tag was read."""
        tag = node.tag
        if section in ("object-types", "event-types") and tag == section[:-1]:
            self._type(section, node, self.where(section, tag))
        elif section == "events" and tag == "event":
            if self.version is None:
                self.version = 1 if node.find("string") is not None else 2
            (self._event_1 if self.version == 1 else self._event_2)(node, self.where(section, tag))
        elif section == "objects" and tag == "object":
            if self.version is None:
                self.version = 1 if node.find("string") is not None else 2
            (self._object_1 if self.version == 1 else self._object_2)(node, self.where(section, tag))

    def _type(self, section: str, node: ElementTree.Element, where: str) -> None:
        name = _need(node, "name", where)
        kinds = {_need(a, "name", where): _need(a, "type", where)
                 for a in node.findall("attributes/attribute")}
        self.declared[f"{section}:{name}"] = kinds
        if section == "object-types":
            self.object_types[name] = kinds
        else:
            self.event_types.update(kinds)

    def _object_2(self, node: ElementTree.Element, where: str) -> None:
        object_id, kind = _need(node, "id", where), _need(node, "type", where)
        where += f" (id {object_id!r})"
        self.objects.append((object_id, kind))
        self.object_rows.append((object_id, kind, [(_need(a, "name", where), a.get("time"), a.text)
                                                   for a in node.findall("attributes/attribute")]))
        self.o2o += [(object_id, _need(r, "object-id", where), r.get("qualifier") or "")
                     for r in node.findall("objects/relationship")]

    def _event_2(self, node: ElementTree.Element, where: str) -> None:
        event_id = _need(node, "id", where)
        where += f" (id {event_id!r})"
        kind = _need(node, "type", where)
        row = {"ocel_id": event_id, "ocel_type": kind, "ocel_time": _need(node, "time", where)}
        values = [(_need(a, "name", where), a.text) for a in node.findall("attributes/attribute")]
        self.events.append((row, values))
        self.e2o += [(event_id, _need(r, "object-id", where), r.get("qualifier") or "")
                     for r in node.findall("objects/relationship")]

    def _event_1(self, node: ElementTree.Element, where: str) -> None:
        keys = _keyed(node)
        missing = [key for key in ("id", "activity", "timestamp") if key not in keys]
        if missing:
            raise OcelError([f"{where}: no child with key {', '.join(map(repr, missing))}"])
        event_id = str(keys["id"].get("value"))
        row = {"ocel_id": event_id, "ocel_type": str(keys["activity"].get("value")),
               "ocel_time": keys["timestamp"].get("value")}
        values = [(str(child.get("key")), child.tag, child.get("value")) for child in keys.get("vmap", [])]
        self.events.append((row, values))
        self.e2o += [(event_id, str(child.get("value")), "") for child in keys.get("omap", [])]

    def _object_1(self, node: ElementTree.Element, where: str) -> None:
        keys = _keyed(node)
        missing = [key for key in ("id", "type") if key not in keys]
        if missing:
            raise OcelError([f"{where}: no child with key {', '.join(map(repr, missing))}"])
        object_id, kind = str(keys["id"].get("value")), str(keys["type"].get("value"))
        self.objects.append((object_id, kind))
        values = [(str(child.get("key")), child.tag, child.get("value")) for child in keys.get("ovmap", [])]
        self.object_rows.append((object_id, kind, values))

    def tables(self) -> OcelTables:
        """The log's tables, values typed by the declared attribute types."""
        from ordercycle.sim.twin.ocel_read import _latest, _tables, _typed  # (ocel_read imports this module)

        if self.version == 1:
            events = []
            for row, values in self.events:
                for name, tag, text in values:
                    row.setdefault(name, _typed(text, _TYPES_1.get(tag)))
                events.append(row)
            attributes_1: dict[str, list[dict[str, Any]]] = {}
            for object_id, kind, values in self.object_rows:
                attributes_1.setdefault(kind, []).append(
                    {"ocel_id": object_id,
                     **{name: _typed(text, _TYPES_1.get(tag)) for name, tag, text in values}})
            return _tables(self.path, "OCEL 1.0 XML", events, self.objects, self.e2o, [], attributes_1)
        attributes: dict[str, list[dict[str, Any]]] = {}
        for object_id, kind, rows in self.object_rows:
            types = self.declared.get(f"object-types:{kind}", {})
            typed = [(name, time, _typed(text, types.get(name))) for name, time, text in rows]
            attributes.setdefault(kind, []).append({"ocel_id": object_id, **_latest(typed)})
        events = []
        for row, values in self.events:
            types = self.declared.get(f"event-types:{row['ocel_type']}", {})
            for name, text in values:
                row.setdefault(name, _typed(text, types.get(name)))  # (the first of a repeated name)
            events.append(row)
        return _tables(self.path, "OCEL 2.0 XML", events, self.objects, self.e2o, self.o2o, attributes,
                       self.event_types, self.object_types)


def read_xml(path: Path, gzipped: bool, max_bytes: int) -> OcelTables:
    """Read an OCEL 2.0 or 1.0 XML file entry by entry (see the module's docstring)."""
    entries = _Entries(path)
    opener = gzip.open if gzipped else open
    try:
        with opener(path, "rb") as raw:
            stream = _Bounded(raw, max_bytes, str(path))
            stack: list[ElementTree.Element] = []
            for event, node in ElementTree.iterparse(stream, events=("start", "end")):
                if event == "start":
                    if not stack and node.tag != "log":
                        raise OcelError([f"{path}: not an OCEL XML log (root element <{node.tag}>, "
                                         "expected <log>)"])
                    stack.append(node)
                    if len(stack) == 2:
                        entries.sections.add(node.tag)
                        if node.tag in ("object-types", "event-types"):
                            entries.version = entries.version or 2
                        elif node.tag == "global":
                            entries.version = entries.version or 1
                    continue
                stack.pop()
                if len(stack) == 2:  # an entry of a section ends: read it, then let it go
                    entries.add(stack[1].tag, node)
                    stack[1].remove(node)
    except ElementTree.ParseError as error:
        raise OcelError([f"{path}: not a readable XML file: {error}"]) from None
    except (OSError, EOFError) as error:
        raise OcelError([f"{path}: not a readable {'gzip' if gzipped else 'XML'} file: {error}"]) from None
    if not entries.sections & {"events", "object-types", "event-types", "global"}:
        raise OcelError([f"{path}: not an OCEL XML log: no <events>, <object-types> or <global> element"])
    return entries.tables()
