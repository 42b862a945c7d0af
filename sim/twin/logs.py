"""Event logs of a company, read into one case view: flat CSV / parquet logs and OCEL 2.0.

A :class:`Mapping` (a small YAML file) says which columns hold what and which of the
log's activity names are which activities of the cycle (``ACTIVITY_STEP``). Reading
gives a :class:`CaseLog`: one row per (event, order) with the cycle activity, the time
in days since the log's first midnight, the resource and the ids of the other objects,
plus one row per order with its attributes. Activities the mapping does not know are
listed (never silently dropped); a malformed log raises :class:`LogError` naming every
problem with its column and rows.
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
from ordercycle.sim.twin.ocel import ID_TYPES, LEGACY_TYPES, OcelError, OcelTables, read_ocel

OBJECT_COLUMNS = tuple(ID_TYPES)[1:]
"""Ids of the other objects an event may carry: shipment (package), invoice, return, ticket, job,
line (item)."""

CASE_ATTRIBUTES = ("segment", "customer", "product", "quantity", "price", "promised_date")
"""Order attributes calibration and validation use (all optional)."""

_CONFIG = ConfigDict(extra="forbid", frozen=True)
MAX_LISTED = 5


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
    activities: dict[str, str] = Field(
        default_factory=dict, description="log activity name -> cycle activity (see docs/outputs.md)"
    )
    identity: bool = Field(True, description="log names that are cycle activities map to themselves")
    ignore: list[str] = Field(default_factory=list, description="log activities left out on purpose")
    resources: dict[str, str] = Field(
        default_factory=dict, description="log resource -> staff pool or work centre it belongs to"
    )

    @field_validator("activities")
    @classmethod
    def _known(cls, activities: dict[str, str]) -> dict[str, str]:
        unknown = sorted({target for target in activities.values() if target not in ACTIVITY_STEP})
        if unknown:
            raise ValueError(
                f"unknown cycle activities {unknown} (known: {', '.join(sorted(ACTIVITY_STEP))})"
            )
        return activities

    def target(self, name: str) -> str | None:
        """The cycle activity of a log activity name, or None if unmapped."""
        if name in self.activities:
            return self.activities[name]
        if self.identity and name in ACTIVITY_STEP:
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

    def activity(self, *names: str) -> pd.DataFrame:
        """The events of these activities."""
        return self.events[self.events["activity"].isin(names)]


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


def _parse_time(values: pd.Series, time_format: str | None) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values
    else:
        text = values.astype("string")
        parsed = pd.to_datetime(text, errors="coerce", utc=True, format=time_format or "mixed")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed


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
    if "ocel_event_id" in frame:
        where = f"events {', '.join(repr(str(e)) for e in frame['ocel_event_id'][early][:MAX_LISTED])}"
        where += " …" if early.sum() > MAX_LISTED else ""
        example = f"event {row['ocel_event_id']!r}"
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


def _finish(
    frame: pd.DataFrame, cases: pd.DataFrame, mapping: Mapping, source: str, notes: list[str]
) -> CaseLog:
    """Map activities, set the time origin, and build the case log from a normalised frame."""
    names = frame["source_activity"]
    target = names.map(lambda name: mapping.target(name))
    ignored_mask = names.isin(mapping.ignore) & target.isna()
    unmapped_mask = target.isna() & ~ignored_mask
    unmapped = {str(k): int(v) for k, v in names[unmapped_mask].value_counts().sort_index().items()}
    ignored = {str(k): int(v) for k, v in names[ignored_mask].value_counts().sort_index().items()}
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
    ]
    for column in columns:
        if column not in frame:
            frame[column] = None
    return CaseLog(frame[columns], cases, origin, span, source, unmapped, ignored, notes)


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
        cases["promised_date"] = _parse_time(cases["promised_date"], mapping.timestamp_format)
    for attr in ("segment", "customer", "product"):
        if attr in cases:
            cases[attr] = cases[attr].astype("string")
    return cases


def read_flat(path: Path, mapping: Mapping) -> CaseLog:
    """Read a flat CSV or parquet log: one row per event, one case id per row."""
    try:
        if path.suffix.lower() == ".parquet":
            raw = pd.read_parquet(path)
        elif path.suffix.lower() in (".csv", ".txt"):
            raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        else:
            raise LogError(
                [
                    f"{path}: unknown log format {path.suffix!r} (use .csv, .parquet, "
                    ".json / .jsonocel or .sqlite)"
                ]
            )
    except (OSError, ValueError, pd.errors.ParserError) as error:
        if isinstance(error, LogError):
            raise
        raise LogError([f"{path}: cannot read the log: {error}".replace("\n", " ")]) from None
    names = mapping.columns
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
            "timestamp": _parse_time(raw[names.timestamp], mapping.timestamp_format),
        }
    )
    for attr, column in (("case_id", names.case_id), ("source_activity", names.activity)):
        empty = frame[attr].isna().to_numpy() | (frame[attr].fillna("").str.strip() == "").to_numpy()
        if empty.any():
            problems.append(f"{path}: column {column!r}: {int(empty.sum())} empty values, {_rows(empty)}")
    bad_time = (frame["timestamp"].isna() & raw[names.timestamp].notna()).to_numpy()
    missing_time = raw[names.timestamp].isna().to_numpy()
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
    return _finish(frame, cases, mapping, str(path), [])


def from_ocel(tables: OcelTables, mapping: Mapping, source: str) -> CaseLog:
    """Flatten an OCEL log on the case object type (``order``): one row per (event, order).

    An event related to several objects of one type (the items of a package) keeps the first.
    """
    kinds = tables.objects.set_index("ocel_id")["ocel_type"].replace(LEGACY_TYPES)
    relations = tables.e2o.assign(kind=tables.e2o["ocel_object_id"].map(kinds))
    case_type = mapping.case_object_type
    case_rel = relations[relations["kind"] == case_type]
    if case_rel.empty:
        found = ", ".join(sorted(tables.objects["ocel_type"].unique()))
        raise LogError(
            [
                f"{source}: no event relates to an object of type {case_type!r} "
                f"(set case_object_type in the mapping; object types: {found})"
            ]
        )
    events = tables.events.reset_index(drop=True).assign(row=lambda f: np.arange(len(f)))
    notes = []
    orphan = events[~events["ocel_id"].isin(case_rel["ocel_event_id"])]
    if len(orphan):
        counts = orphan["ocel_type"].value_counts().sort_index()
        notes.append(
            f"{len(orphan)} events relate to no {case_type} and are not used: "
            + ", ".join(f"{k} ({v})" for k, v in counts.items())
        )
    frame = case_rel[["ocel_event_id", "ocel_object_id"]].merge(
        events, left_on="ocel_event_id", right_on="ocel_id", how="inner"
    )
    frame = frame.rename(
        columns={"ocel_object_id": "case_id", "ocel_type": "source_activity", "ocel_time": "timestamp"}
    )
    names = mapping.columns
    frame["resource"] = frame[names.resource].astype("string") if names.resource in frame else None
    for column, kind in ID_TYPES.items():
        if column == "order_id":
            continue
        related = relations[relations["kind"] == kind].drop_duplicates("ocel_event_id")
        frame[column] = frame["ocel_event_id"].map(related.set_index("ocel_event_id")["ocel_object_id"])
    for column in ("quantity", "amount"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce") if column in frame else np.nan
    attributes = tables.object_attributes.get(case_type, pd.DataFrame({"ocel_id": []}))
    attributes = attributes.rename(columns={"ocel_id": "case_id"})
    problems: list[str] = []
    ids = pd.DataFrame({"case_id": sorted(frame["case_id"].unique())})
    cases = _case_attributes(
        ids.merge(attributes, on="case_id", how="left"), mapping, problems, f"{source}: order attribute ",
        by_id=True,
    )
    if problems:
        raise LogError(problems)
    return _finish(frame, cases, mapping, source, notes)


def read_log(path: str | Path, mapping: Mapping | None = None) -> CaseLog:
    """Read a log: ``.csv`` / ``.parquet`` (flat), ``.json`` / ``.jsonocel`` / ``.sqlite`` (OCEL 2.0)."""
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
