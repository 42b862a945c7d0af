"""Event logs of a company, read into one case view: flat CSV / parquet logs and OCEL 2.0 / 1.0.

A :class:`Mapping` (a small YAML file) says which columns hold what, which of the log's
activity names are which activities of the cycle (``ACTIVITY_STEP``) and, for OCEL, which
object types are orders, items, packages … Reading gives a :class:`CaseLog`: one row per
(event, order) with the cycle activity, the time in days since the log's first midnight,
the resource and the ids of the other objects, one row per order with its attributes,
and (OCEL) the orders' lines and what each package carries. Every event of the log is
accounted for: used, or counted per activity with the reason it is not
(:attr:`CaseLog.unused`); a malformed log raises :class:`LogError` naming every problem
with its column and rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ordercycle.policies.input_files import InputFileError, check_file, read_yaml
from ordercycle.scenarios.loader import format_validation_error
from ordercycle.sim.eventlog import ACTIVITY_STEP
from ordercycle.sim.twin.ocel import ID_TYPES, OcelError, read_ocel
from ordercycle.sim.twin.timestamps import format_names_a_day, partial, to_utc

OBJECT_COLUMNS = tuple(ID_TYPES)[1:]
"""Ids of the other objects an event may carry: shipment (package), invoice, return, ticket, job,
line (item)."""

CASE_ATTRIBUTES = ("segment", "customer", "product", "quantity", "price", "promised_date")
"""Order attributes calibration and validation use (all optional)."""

_CONFIG = ConfigDict(extra="forbid", frozen=True)
MAX_LISTED = 5
LOG_ONLY_ACTIVITIES = {"picking_completed": "fulfillment"}
"""Activities a log may hold that the model does not log, and their step: ``picking_completed`` (a
package packed, the end of picking) lets calibration fit ``task_hours.picking`` and the carriers'
``handling_hours``; validation compares only what the replications log too."""
KNOWN_ACTIVITIES = frozenset(ACTIVITY_STEP) | frozenset(LOG_ONLY_ACTIVITIES)
"""What a mapping may map a log's activity to."""


MAX_LOG_BYTES = 2 * 1024**3
"""Largest event log read (a year of a large company's events is a few hundred MB)."""


class LogError(ValueError):
    """A log that cannot be used; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class Columns(BaseModel):
    """Where each field is in the log: column names (flat) or attribute names (OCEL)."""

    model_config = _CONFIG
    case_id: str = Field("case_id", description="case (order) id column; flat logs only")
    activity: str = Field("activity", description="activity name column; flat logs only")
    timestamp: str = Field("timestamp", description="event time column; flat logs only")
    resource: str = Field("resource", description="who or what did the work (optional)")
    segment: str = Field("segment", description="customer segment of the order (optional)")
    customer: str = Field("customer", description="customer of the order (optional)")
    product: str = Field("product", description="product of the order (optional)")
    quantity: str = Field("quantity", description="units ordered (optional)")
    price: str = Field("price", description="agreed unit price (optional)")
    promised_date: str = Field("promised_date", description="promised delivery time (optional)")


class Mapping(BaseModel):
    """How to read a company's log: its columns and its activity names."""

    model_config = _CONFIG
    columns: Columns = Field(default_factory=Columns)
    timestamp_format: str | None = Field(
        None, description="strftime format of the timestamps; null: ISO 8601 and what pandas recognises"
    )
    case_object_type: str = Field("order", description="OCEL object type that is the case (an order)")
    object_types: dict[str, str] = Field(
        default_factory=dict,
        description="OCEL object type -> its role: order, item (an order line), package (a shipment), "
        "invoice, return, ticket, job, product, customer, resource; types not named play the role "
        "their name says (orders, items, packages, shipments …, see sim/twin/objects.py)",
    )
    activities: dict[str, str] = Field(
        default_factory=dict, description="log activity name -> cycle activity (see docs/outputs.md)"
    )
    identity: bool = Field(True, description="log names that are cycle activities map to themselves")
    ignore: list[str] = Field(default_factory=list, description="log activities left out on purpose")
    resources: dict[str, str] = Field(
        default_factory=dict, description="log resource -> staff pool or work centre it belongs to"
    )

    @field_validator("object_types")
    @classmethod
    def _roles(cls, roles: dict[str, str]) -> dict[str, str]:
        from ordercycle.sim.twin.objects import ROLE_NAMES

        unknown = sorted({role for role in roles.values() if role not in ROLE_NAMES})
        if unknown:
            raise ValueError(f"unknown roles {unknown} (known: {', '.join(ROLE_NAMES)})")
        return roles

    @field_validator("timestamp_format")
    @classmethod
    def _a_day(cls, time_format: str | None) -> str | None:
        if time_format is not None and not format_names_a_day(time_format):
            raise ValueError(f"{time_format!r} names no day (%d or %j): a timestamp must name its day")
        return time_format

    @field_validator("activities")
    @classmethod
    def _known(cls, activities: dict[str, str]) -> dict[str, str]:
        unknown = sorted({target for target in activities.values() if target not in KNOWN_ACTIVITIES})
        if unknown:
            raise ValueError(
                f"unknown cycle activities {unknown} (known: {', '.join(sorted(KNOWN_ACTIVITIES))})"
            )
        return activities

    def target(self, name: str) -> str | None:
        """The cycle activity of a log activity name, or None if unmapped."""
        if name in self.activities:
            return self.activities[name]
        if self.identity and name in KNOWN_ACTIVITIES:
            return name
        return None


def load_mapping(path: str | Path | None) -> Mapping:
    """The mapping in a YAML file (None: the default mapping, for logs in the cycle's own names)."""
    if path is None:
        return Mapping()
    path = Path(path)
    try:
        data = read_yaml(path) or {}
    except InputFileError as error:
        raise LogError(error.problems) from None
    try:
        return Mapping.model_validate(data)
    except ValidationError as error:
        raise LogError([f"{path}: {line}" for line in format_validation_error(error)]) from None


@dataclass
class CaseLog:
    """A log in the cycle's terms, one row per (event, order), time in days since ``origin``."""

    events: pd.DataFrame
    cases: pd.DataFrame
    origin: pd.Timestamp
    span_days: float
    source: str
    unmapped: dict[str, int] = field(default_factory=dict)
    ignored: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    lines: pd.DataFrame | None = None
    """One row per order line (OCEL items): ``line_id``, ``case_id``, ``product``, ``quantity``,
    ``price``, ``line`` (its number on the order, when the log says); None: the log has no lines."""
    contents: pd.DataFrame | None = None
    """What each package carries: ``shipment_id``, ``line_id``, ``case_id``; None: the log does not say."""
    totals: dict[str, int] = field(default_factory=dict)
    """Events in the log per activity name of the log."""
    mapped: dict[str, str] = field(default_factory=dict)
    """Activity name of the log -> the cycle activity it maps to."""
    unused: dict[str, dict[str, int]] = field(default_factory=dict)
    """Activity name of the log -> why some of its events are not in :attr:`events` -> how many."""
    source_format: str = "flat"

    def activity(self, *names: str) -> pd.DataFrame:
        """The events of these activities."""
        return self.events[self.events["activity"].isin(names)]

    def drop(self, source_activity: str, reason: str, count: int) -> None:
        """Count ``count`` events of a log activity as not used, for ``reason``."""
        if count:
            reasons = self.unused.setdefault(str(source_activity), {})
            reasons[reason] = reasons.get(reason, 0) + int(count)


def _rows(mask: np.ndarray, values: pd.Series | None = None, ids: pd.Series | None = None) -> str:
    """``rows 3, 7, 12 …`` (1-based data rows, header not counted), with values when given.

    With ``ids`` (OCEL logs, where rows mean nothing to the user) the objects are named
    instead: ``objects 'order:3', 'order:7' …``.
    """
    where = np.flatnonzero(mask)[:MAX_LISTED]
    if ids is None:
        labels = [str(i + 1) for i in where]
        noun = "row"
    else:
        labels = [repr(str(ids.iloc[i])) for i in where]
        noun = "object"
    if values is not None:
        labels = [f"{label} ({values.iloc[i]!r})" for label, i in zip(labels, where, strict=True)]
    more = " …" if mask.sum() > MAX_LISTED else ""
    return f"{noun}{'s' if mask.sum() > 1 else ''} {', '.join(labels)}{more}"


def _check_inquiry_first(frame: pd.DataFrame, source: str) -> None:
    """Refuse a log where an order has events before its ``inquiry_received`` (the case's first event).

    This is the ordering check that means something in OCEL too, where the standard gives
    events no file order (the SQLite format even stores them per event type): one
    order's events out of time order can only show against the cycle's own precedence.
    Flat logs are checked in file order as well (:func:`read_flat`).
    """
    inquiry = frame[frame["activity"] == "inquiry_received"].groupby("case_id")["timestamp"].min()
    if inquiry.empty:
        return
    early = (frame["timestamp"] < frame["case_id"].map(inquiry)).to_numpy()
    if not early.any():
        return
    first = int(np.flatnonzero(early)[0])
    row = frame.iloc[first]
    if "ocel_id" in frame:  # OCEL: events by id
        where = f"events {', '.join(repr(str(e)) for e in frame['event_id'][early][:MAX_LISTED])}"
        where += " …" if early.sum() > MAX_LISTED else ""
        example = f"event {row['event_id']!r}"
    else:
        where = _rows(early)
        example = f"row {int(row['row']) + 1}"
    cases = frame["case_id"][early].unique()
    raise LogError(
        [
            f"{source}: events out of order: {int(early.sum())} events of {len(cases)} orders come before "
            f"the order's inquiry_received, {where}; e.g. order {row['case_id']!r}: {example} "
            f"({row['source_activity']}, {row['timestamp']}) precedes its inquiry "
            f"({inquiry[row['case_id']]})"
        ]
    )


ONCE_PER_ORDER = frozenset({
    "inquiry_received", "sales_contact_started", "sales_contact_completed", "estimation_started",
    "quote_sent", "quote_accepted", "quote_lost", "entry_started", "order_entered", "selection_started",
    "order_accepted", "order_rejected", "order_prioritized", "order_delivered", "prepayment_invoiced",
    "prepayment_received", "order_cancelled",
})
"""Activities an order has once: of several (``confirm order`` per item), the first is the order's."""
ONCE_PER_PACKAGE = frozenset({"picking_started", "picking_completed", "shipment_dispatched",
                              "shipment_delivered"})
"""Activities a package has once: of several (``pick item`` per item it carries), the first is its."""


def _once(frame: pd.DataFrame, log_drop: dict[str, dict[str, int]]) -> pd.DataFrame:
    """The first event of each once-per-order and once-per-package activity; the others counted."""
    order_level = frame["activity"].isin(ONCE_PER_ORDER)
    package_level = frame["activity"].isin(ONCE_PER_PACKAGE) & frame["shipment_id"].notna()
    repeat = pd.Series(False, index=frame.index)
    repeat[order_level] = frame[order_level].duplicated(["case_id", "activity"])
    repeat[package_level] = frame[package_level].duplicated(["case_id", "activity", "shipment_id"])
    for (source, activity), rows in frame[repeat].groupby(["source_activity", "activity"]):
        what = "package" if activity in ONCE_PER_PACKAGE else "order"
        reason = f"a further event of the same {what} (its first marks {activity})"
        reasons = log_drop.setdefault(str(source), {})
        reasons[reason] = reasons.get(reason, 0) + int(rows["event_id"].nunique())
    return frame[~repeat]


def _finish(
    frame: pd.DataFrame, cases: pd.DataFrame, mapping: Mapping, source: str, notes: list[str],
    totals: dict[str, int] | None = None, unused: dict[str, dict[str, int]] | None = None,
    lines: pd.DataFrame | None = None, contents: pd.DataFrame | None = None, source_format: str = "flat",
) -> CaseLog:
    """Map activities, set the time origin, and build the case log from a normalised frame.

    ``frame`` has one row per (event, case) with ``event_id``; ``totals`` counts the log's
    events per activity name (by default, those of ``frame``) and ``unused`` holds the
    reasons events were left out before (events that reach no order).
    """
    unused = {k: dict(v) for k, v in (unused or {}).items()}
    names = frame["source_activity"]
    distinct = frame.drop_duplicates("event_id")
    totals = totals or {str(k): int(v) for k, v in distinct["source_activity"].value_counts().items()}
    target = names.map(lambda name: mapping.target(name))
    mapped = {str(n): str(t) for n, t in zip(names, target, strict=True) if isinstance(t, str)}
    ignored_mask = names.isin(mapping.ignore) & target.isna()
    unmapped_mask = target.isna() & ~ignored_mask
    unmapped, ignored = {}, {}
    for mask, counted, reason in ((unmapped_mask, unmapped, "not mapped to an activity of the cycle"),
                                  (ignored_mask, ignored, "ignored by the mapping")):
        per_name = frame[mask].drop_duplicates("event_id")["source_activity"].value_counts().sort_index()
        for name, count in per_name.items():
            counted[str(name)] = int(count)
            unused.setdefault(str(name), {})[reason] = int(count)
    frame = frame.assign(activity=target)[target.notna()]
    if "resource" not in frame:
        frame["resource"] = pd.Series(pd.NA, index=frame.index, dtype="string")
    frame["resource_name"] = frame["resource"]
    if mapping.resources:  # people or machines of the log -> the pool or centre they belong to
        frame["resource"] = frame["resource"].map(lambda r: mapping.resources.get(r, r) if pd.notna(r) else r)
    _check_inquiry_first(frame, source)
    origin = frame["timestamp"].min().normalize() if len(frame) else pd.Timestamp("1970-01-01")
    frame = frame.assign(time=(frame["timestamp"] - origin) / pd.Timedelta(days=1))
    frame = frame.sort_values(["time", "row"], kind="stable").reset_index(drop=True)
    for column in OBJECT_COLUMNS:
        if column not in frame:
            frame[column] = None
    frame = _once(frame, unused).reset_index(drop=True)
    span = float(frame["time"].max()) if len(frame) else 0.0
    if "promised_date" in cases and pd.api.types.is_datetime64_any_dtype(cases["promised_date"]):
        cases["promised_date"] = (cases["promised_date"] - origin) / pd.Timedelta(days=1)
    columns = [
        "case_id",
        "activity",
        "source_activity",
        "time",
        "timestamp",
        "resource",
        "resource_name",
        *OBJECT_COLUMNS,
        "quantity",
        "amount",
        "row",
        "event_id",
    ]
    for column in columns:
        if column not in frame:
            frame[column] = None
    return CaseLog(frame[columns], cases, origin, span, source, unmapped, ignored, notes, lines, contents,
                   totals, mapped, unused, source_format)


def _case_attributes(
    frame: pd.DataFrame, mapping: Mapping, problems: list[str], where: str, by_id: bool = False
) -> pd.DataFrame:
    """Per case, the first non-empty value of each attribute column; numbers checked.

    A problem names the rows of ``frame`` (flat logs) or, with ``by_id``, the case ids (OCEL).
    """
    names = mapping.columns
    present = {attr: getattr(names, attr) for attr in CASE_ATTRIBUTES if getattr(names, attr) in frame}
    cases = (
        frame.groupby("case_id", sort=True).first()[list(present.values())]
        if present
        else pd.DataFrame(index=pd.Index(sorted(frame["case_id"].unique()), name="case_id"))
    )
    cases = cases.rename(columns={column: attr for attr, column in present.items()})
    for attr in ("quantity", "price"):
        if attr in cases:
            column = frame[present[attr]]
            numbers = pd.to_numeric(column, errors="coerce")
            bad = (numbers.isna() & column.notna()).to_numpy()
            if bad.any():
                problems.append(
                    f"{where}column {present[attr]!r} ({attr}): {int(bad.sum())} values are not "
                    f"numbers, {_rows(bad, column, frame['case_id'] if by_id else None)}"
                )
            cases[attr] = pd.to_numeric(cases[attr], errors="coerce")
    if "promised_date" in cases:
        cases["promised_date"] = to_utc(cases["promised_date"], mapping.timestamp_format)
    for attr in ("segment", "customer", "product"):
        if attr in cases:
            cases[attr] = cases[attr].astype("string")
    return cases


def _read_table(path: Path) -> pd.DataFrame:
    """The raw table of a flat log; a CSV whose last row is cut (no final line break) is refused."""
    try:
        if path.suffix.lower() == ".parquet":
            return pd.read_parquet(path)
        if path.suffix.lower() in (".csv", ".txt"):
            with path.open("rb") as handle:
                handle.seek(0, 2)
                size = handle.tell()
                handle.seek(max(0, size - 1))
                last = handle.read(1)
            raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
            if size and last not in (b"\n", b"\r") and len(raw):
                raise LogError([f"{path}: the file ends inside data row {len(raw)} (no line break after it): "
                                "it looks cut off; export the log again"])
            return raw
        raise LogError(
            [f"{path}: unknown log format {path.suffix!r} (use .csv, .parquet, .json / .jsonocel, "
             ".xml / .xmlocel or .sqlite)"]
        )
    except (OSError, ValueError, pd.errors.ParserError) as error:
        if isinstance(error, LogError):
            raise
        raise LogError([f"{path}: cannot read the log: {error}".replace("\n", " ")]) from None


def _truncated(frame: pd.DataFrame, source: str) -> list[str]:
    """A warning when the file lists its cases one after another and its last case looks cut short.

    A CSV cut at a row boundary is still valid CSV; what gives it away is a file grouped by
    case whose last case is the latest to arrive and has fewer events than most cases.
    """
    if frame["case_id"].nunique() < 10:
        return []
    runs = int((frame["case_id"] != frame["case_id"].shift()).fillna(True).to_numpy(dtype=bool).sum())
    if runs != frame["case_id"].nunique():  # some case's rows are not together
        return []
    last = frame["case_id"].iloc[-1]
    first_times = frame.groupby("case_id", sort=False)["timestamp"].min()
    sizes = frame.groupby("case_id", sort=False).size()
    if first_times[last] < first_times.max() or sizes[last] >= sizes.median():
        return []
    rows = frame.index[frame["case_id"] == last]
    return [
        f"warning: {source} lists its cases one after another, and the last one (case {last!r}, rows "
        f"{rows[0] + 1}–{rows[-1] + 1}) has {int(sizes[last])} events where half the cases have "
        f"{sizes.median():g} or more: the file may be truncated after row {rows[-1] + 1}; its later "
        "cases would be missing (the arrivals are fitted only up to the last one it has)"
    ]


def read_flat(path: Path, mapping: Mapping) -> CaseLog:
    """Read a flat CSV or parquet log: one row per event, one case id per row."""
    raw = _read_table(path)
    if raw.empty:
        raise LogError([f"{path}: no data rows (columns: {', '.join(map(str, raw.columns)) or 'none'})"])
    names = mapping.columns
    columns = [str(c) for c in raw.columns]
    if names.case_id not in columns and ({"ocel:eid", "ocel:activity"} <= set(columns)
                                         or any(c.startswith(("ot:", "ocel:type:")) for c in columns)):
        raise LogError([f"{path}: an OCEL CSV (pm4py's flat layout: one row per event, object ids in "
                        f"{', '.join(c for c in columns if c.startswith(('ot:', 'ocel:type:')))[:80]}): its "
                        "object-to-object relations are lost; write it as OCEL 2.0 JSON, XML or SQLite "
                        "(pm4py.write_ocel2_json / write_ocel2_xml / write_ocel2_sqlite) and read that"])
    problems = []
    for attr in ("case_id", "activity", "timestamp"):
        column = getattr(names, attr)
        if column not in raw:
            problems.append(
                f"{path}: missing column {column!r} ({attr}; set columns.{attr} in the mapping); "
                f"the log has: {', '.join(map(str, raw.columns))}"
            )
    if problems:
        raise LogError(problems)
    frame = pd.DataFrame(
        {
            "row": np.arange(len(raw)),
            "case_id": raw[names.case_id].astype("string"),
            "source_activity": raw[names.activity].astype("string"),
            "timestamp": to_utc(raw[names.timestamp], mapping.timestamp_format),
        }
    )
    for attr, column in (("case_id", names.case_id), ("source_activity", names.activity)):
        empty = frame[attr].isna().to_numpy() | (frame[attr].fillna("").str.strip() == "").to_numpy()
        if empty.any():
            problems.append(f"{path}: column {column!r}: {int(empty.sum())} empty values, {_rows(empty)}")
    bad_time = (frame["timestamp"].isna() & raw[names.timestamp].notna()).to_numpy()
    missing_time = raw[names.timestamp].isna().to_numpy()
    vague = partial(raw[names.timestamp]) & ~bad_time & ~missing_time
    if not mapping.timestamp_format and vague.any():
        problems.append(
            f"{path}: column {names.timestamp!r}: {int(vague.sum())} timestamps name no day (a month or a "
            f"year), {_rows(vague, raw[names.timestamp])}"
        )
    if bad_time.any():
        fmt = f" with format {mapping.timestamp_format!r}" if mapping.timestamp_format else ""
        problems.append(
            f"{path}: column {names.timestamp!r}: {int(bad_time.sum())} unparsable timestamps{fmt}, "
            f"{_rows(bad_time, raw[names.timestamp])}"
        )
    if missing_time.any():
        problems.append(
            f"{path}: column {names.timestamp!r}: {int(missing_time.sum())} empty timestamps, "
            f"{_rows(missing_time)}"
        )
    if not problems:
        previous = frame.groupby("case_id", sort=False)["timestamp"].shift()
        backwards = (frame["timestamp"] < previous).to_numpy()
        if backwards.any():
            first = int(np.flatnonzero(backwards)[0])
            case = frame["case_id"].iloc[first]
            earlier = frame[(frame["case_id"] == case) & (frame["row"] < first)]["row"].iloc[-1]
            problems.append(
                f"{path}: events out of order within a case: {int(backwards.sum())} events come earlier than "
                f"the case's previous event, {_rows(backwards)}; e.g. case {case!r}: row {first + 1} "
                f"({frame['timestamp'].iloc[first]}) follows row {earlier + 1} "
                f"({frame['timestamp'].iloc[earlier]})"
            )
    if names.resource in raw:
        frame["resource"] = raw[names.resource].astype("string")
    for column in ("quantity", "amount"):
        if column in raw:
            frame[column] = pd.to_numeric(raw[column], errors="coerce")
    for column in OBJECT_COLUMNS:
        if column in raw:
            frame[column] = raw[column].astype("string")
    with_attrs = raw.assign(case_id=frame["case_id"].to_numpy())
    cases = _case_attributes(with_attrs, mapping, problems, f"{path}: ")
    if problems:
        raise LogError(problems)
    frame["event_id"] = (frame["row"] + 1).astype(str)
    return _finish(frame, cases, mapping, str(path), _truncated(frame, str(path)))


def read_log(path: str | Path, mapping: Mapping | None = None) -> CaseLog:
    """Read a log: ``.csv`` / ``.parquet`` (flat), else OCEL 2.0 or 1.0 (JSON, XML or SQLite)."""
    from ordercycle.sim.twin.ocel_log import from_ocel

    mapping = mapping or Mapping()
    path = Path(path)
    if not path.exists():
        raise LogError([f"{path}: no such log file"])
    try:
        check_file(path, MAX_LOG_BYTES)
    except InputFileError as error:
        raise LogError(error.problems) from None
    if path.suffix.lower() in (".csv", ".txt", ".parquet"):
        log = read_flat(path, mapping)
    else:
        try:
            tables = read_ocel(path)
        except OcelError as error:
            raise LogError(error.problems) from None
        if tables.events.empty:
            raise LogError([f"{path}: no events ({tables.source_format}, {len(tables.objects)} objects)"])
        log = from_ocel(tables, mapping, str(path))
    if log.events.empty:
        raise LogError(
            [
                f"{path}: no event maps to an activity of the cycle (unmapped: "
                + ", ".join(list(log.unmapped)[:10])
                + "); give an activities mapping"
            ]
        )
    return log
