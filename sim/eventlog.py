"""The event recorder: flat event records in columnar buffers, written as parquet.

Each record is one row: time (days), activity, order, department, resource, and the
ids of the other objects involved (shipment, invoice, return, ticket, job, order line, product), plus a
quantity and an amount. The activity names the step of the cycle it belongs to
(:data:`ACTIVITY_STEP`), so the log maps onto object-centric event logs (OCEL 2.0):
each id column is an object type.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa

CALENDAR_ACTIVITIES = frozenset({"operation_paused", "operation_resumed", "overtime_granted"})
"""Activities of work centres on working calendars: categories of the log only when they occur,
so the logs of scenarios without centre calendars keep their bytes."""
PREPAYMENT_ACTIVITIES = frozenset({"prepayment_invoiced", "prepayment_received", "prepayment_applied",
                                   "prepayment_refunded", "order_cancelled"})
"""Activities of orders on prepayment terms: categories of the log only when they occur, so the
logs of scenarios without prepayment keep their bytes."""
OPTIONAL_ACTIVITIES = CALENDAR_ACTIVITIES | PREPAYMENT_ACTIVITIES
"""Activities that are categories of the log's ``activity`` column only when they occur."""

STEPS = (
    "planning", "generation", "quoting", "entry", "selection", "prioritization",
    "scheduling", "production", "fulfillment", "billing", "returns", "service",
)
"""The steps of the cycle, in order (scheduling and production are one step of the essay)."""

ACTIVITY_STEP: dict[str, str] = {
    "forecast_made": "planning",
    "capacity_planned": "planning",
    "replenishment_released": "planning",
    "inquiry_received": "generation",
    "sales_contact_started": "generation",
    "sales_contact_completed": "generation",
    "estimation_started": "quoting",
    "quote_sent": "quoting",
    "quote_accepted": "quoting",
    "quote_lost": "quoting",
    "entry_started": "entry",
    "order_entered": "entry",
    "selection_started": "selection",
    "order_accepted": "selection",
    "order_rejected": "selection",
    "order_prioritized": "prioritization",
    "expedite_requested": "scheduling",
    "expedite_granted": "scheduling",
    "expedite_refused": "scheduling",
    "operation_queued": "scheduling",
    "plan_changed": "scheduling",
    "changeover_started": "production",
    "expedite_changeover": "production",
    "operation_started": "production",
    "operation_completed": "production",
    "machine_breakdown": "production",
    "machine_repaired": "production",
    **{activity: "production" for activity in ("operation_paused", "operation_resumed", "overtime_granted")},
    "stock_initial": "fulfillment",
    "stock_received": "fulfillment",
    "stock_issued": "fulfillment",
    "backorder_created": "fulfillment",
    "backorder_filled": "fulfillment",
    "sale_lost": "fulfillment",
    "customer_grievance": "service",
    "price_changed": "entry",
    "pickup_booking_started": "returns",
    "refund_chase_started": "returns",
    "picking_started": "fulfillment",
    "shipment_dispatched": "fulfillment",
    "shipment_delivered": "fulfillment",
    "installation_started": "service",
    "installation_completed": "service",
    "order_delivered": "fulfillment",
    "invoice_started": "billing",
    "invoice_issued": "billing",
    "invoice_disputed": "billing",
    "dispute_rework_started": "billing",
    "invoice_corrected": "billing",
    "payment_received": "billing",
    **{activity: "billing" for activity in sorted(PREPAYMENT_ACTIVITIES)},
    "return_requested": "returns",
    "return_approval_started": "returns",
    "return_approved": "returns",
    "return_refused": "returns",
    "return_received": "returns",
    "refund_started": "returns",
    "refund_paid": "returns",
    "ticket_opened": "service",
    "service_started": "service",
    "service_completed": "service",
    "debrief_held": "service",
    "requirements_reported": "service",
    "order_carried_over": "generation",
    "payment_carried_over": "billing",
    "refund_carried_over": "returns",
    "invoice_carried_over": "billing",
}
"""Every activity the model logs, and the step of the cycle it belongs to."""

_ID_COLUMNS = ("order_id", "shipment_id", "invoice_id", "return_id", "ticket_id", "job_id", "line_id")
COLUMNS = ("time", "activity", "department", "resource", *_ID_COLUMNS, "product_id", "quantity", "amount")
"""Columns of a record, in the order :meth:`Recorder.log` stores them."""

_ARROW_TYPES = {
    "time": pa.float64(), "activity": pa.string(), "department": pa.string(), "resource": pa.string(),
    **{name: pa.int64() for name in _ID_COLUMNS},
    "product_id": pa.string(), "quantity": pa.float64(), "amount": pa.float64(),
}
CHUNK_ROWS = 32_768
"""Records per Arrow record batch."""
NAN = float("nan")

_PACKED = ("time", *_ID_COLUMNS, "quantity", "amount", "activity", "department", "resource", "product_id")
"""Fields of a packed record, in packing order: numbers first, then the codes of the strings."""
_ROW = struct.Struct("<d7qdd4i")
"""Binary layout of one record (little-endian, no padding): time, seven ids, quantity, amount, and
the codes of activity, department, resource and product (-1: none)."""
_ROW_DTYPE = np.dtype([(name, kind) for name, kind in zip(
    _PACKED, ("<f8", *["<i8"] * 7, "<f8", "<f8", *["<i4"] * 4), strict=True)])
_STRING_COLUMNS = ("activity", "department", "resource", "product_id")
assert _ROW_DTYPE.itemsize == _ROW.size
_ROW_SIZE = _ROW.size


def _column(records: np.ndarray, name: str, strings: pa.Array) -> pa.Array:
    """One column of a batch of packed records as an Arrow array (-1 ids, NaN amounts, -1 codes: null)."""
    values = np.ascontiguousarray(records[name])
    if name == "time":
        return pa.array(values)
    if name in _STRING_COLUMNS:
        indices = pa.array(values, mask=values < 0)
        return pa.DictionaryArray.from_arrays(indices, strings).dictionary_decode()
    if values.dtype.kind == "f":
        return pa.array(values, mask=np.isnan(values))
    return pa.array(values, mask=values < 0)


class Recorder:
    """Collects flat event records into columnar (Arrow) chunks.

    :attr:`log` packs each record into a fixed-size binary row (numbers as C doubles
    and 64-bit integers, strings as small integer codes) written in place into one
    preallocated byte buffer (``struct.pack_into``: no bytes object per record);
    every ``CHUNK_ROWS`` records the buffer is read as a numpy record array and turned
    into one Arrow record batch. The log is thus held column by column, never as a
    Python object per event or per value (converting Python values one by one cost
    more than half of the log). Missing ids are passed as -1 and missing quantities
    as NaN; both become nulls in the table.

    ``log`` is a closure over the buffer, its fill and the string codes rather than a
    method: the model calls it ~20 times per inquiry, and reading five attributes of
    ``self`` on every call was a fifth of its cost.
    """

    def __init__(self) -> None:
        self._limit = CHUNK_ROWS * _ROW.size
        self._codes: dict[str | None, int] = {None: -1}
        """String (activity, department, resource, product) -> its code; None -> -1."""
        self._strings: list[str] = []
        """The strings, by code."""
        self._chunks: list[pa.RecordBatch] = []
        self._flushed = 0
        self.log, self._take, self._pending = self._logger()

    def _logger(self) -> tuple[Callable[..., None], Callable[[], tuple[bytearray, int]], Callable[[], int]]:
        """The ``log`` function; one that takes the buffer and the bytes of records it holds
        (leaving a fresh one); one that says how many records it holds."""
        codes, code = self._codes, self._code
        pack_into, size, limit = _ROW.pack_into, _ROW_SIZE, self._limit
        buffer, offset = bytearray(limit), 0

        def log(
            time: float,
            activity: str,
            department: str,
            order_id: int = -1,
            resource: str | None = None,
            *,
            shipment: int = -1,
            invoice: int = -1,
            return_: int = -1,
            ticket: int = -1,
            job: int = -1,
            line: int = -1,
            product: str | None = None,
            quantity: float = NAN,
            amount: float = NAN,
        ) -> None:
            """Append one event (ids -1 and amounts NaN mean "none")."""
            nonlocal buffer, offset
            try:  # plain dict lookups: only the first occurrence of a string is missing
                pack_into(buffer, offset, time, order_id, shipment, invoice, return_, ticket, job, line,
                          quantity, amount, codes[activity], codes[department], codes[resource],
                          codes[product])
            except KeyError:  # raised before anything is written
                pack_into(buffer, offset, time, order_id, shipment, invoice, return_, ticket, job, line,
                          quantity, amount, code(activity), code(department), code(resource), code(product))
            offset += size
            if offset >= limit:
                self._flush(buffer, offset)
                buffer, offset = bytearray(limit), 0  # the batch copied its columns: a fresh buffer

        def take() -> tuple[bytearray, int]:
            nonlocal buffer, offset
            held = buffer, offset
            if offset:
                buffer, offset = bytearray(limit), 0
            return held

        def pending() -> int:
            return offset // size

        return log, take, pending

    def _code(self, text: str | None) -> int:
        """The code of ``text``, a new one if it is new."""
        code = self._codes.get(text)
        if code is None:
            if not isinstance(text, str):
                raise TypeError(f"event log: expected a string or None, got {text!r}")
            code = self._codes[text] = len(self._strings)
            self._strings.append(text)
        return code

    def _flush(self, buffer: bytearray, offset: int) -> None:
        """Turn the ``offset`` bytes of records in ``buffer`` into one Arrow record batch."""
        if not offset:
            return
        records = np.frombuffer(buffer, dtype=_ROW_DTYPE, count=offset // _ROW_SIZE)
        strings = pa.array(self._strings, type=pa.string())
        arrays = [_column(records, name, strings) for name in COLUMNS]
        self._chunks.append(pa.RecordBatch.from_arrays(arrays, names=list(COLUMNS)))
        self._flushed += len(records)

    def __len__(self) -> int:
        return self._flushed + self._pending()

    def arrow(self) -> pa.Table:
        """The log as an Arrow table (raw columns, no categories)."""
        self._flush(*self._take())
        schema = pa.schema([(name, _ARROW_TYPES[name]) for name in COLUMNS])
        return pa.Table.from_batches(self._chunks, schema=schema)

    def table(self) -> pd.DataFrame:
        """The event log as a DataFrame, in the order events happened."""
        raw = self.arrow()
        activity_codes = raw.column("activity").to_pandas()
        nullable = {pa.int64(): pd.Int64Dtype(), pa.float64(): pd.Float64Dtype(),
                    pa.string(): pd.StringDtype()}
        frame = raw.to_pandas(types_mapper=nullable.get)
        frame["time"] = frame["time"].astype("float64")
        present = set(activity_codes.unique()) & OPTIONAL_ACTIVITIES
        categories = sorted(set(ACTIVITY_STEP) - OPTIONAL_ACTIVITIES | present)
        frame["activity"] = pd.Categorical(activity_codes, categories=categories)
        frame["department"] = pd.Categorical(frame["department"].astype(object))
        step = pd.Categorical(activity_codes.map(ACTIVITY_STEP), categories=list(STEPS))
        frame.insert(1, "step", step)
        return frame
