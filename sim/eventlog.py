"""The event recorder: flat event records in columnar buffers, written as parquet.

Each record is one row: time (days), activity, order, department, resource, and the
ids of the other objects involved (shipment, invoice, return, ticket, job, product), plus a
quantity and an amount. The activity names the step of the cycle it belongs to
(:data:`ACTIVITY_STEP`), so the log maps onto object-centric event logs (OCEL 2.0):
each id column is an object type.
"""

from __future__ import annotations

from operator import itemgetter

import numpy as np
import pandas as pd
import pyarrow as pa

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
    "operation_started": "production",
    "operation_completed": "production",
    "machine_breakdown": "production",
    "machine_repaired": "production",
    "stock_initial": "fulfillment",
    "stock_received": "fulfillment",
    "stock_issued": "fulfillment",
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
}
"""Every activity the model logs, and the step of the cycle it belongs to."""

_ID_COLUMNS = ("order_id", "shipment_id", "invoice_id", "return_id", "ticket_id", "job_id")
COLUMNS = ("time", "activity", "department", "resource", *_ID_COLUMNS, "product_id", "quantity", "amount")
"""Columns of a record, in the order :meth:`Recorder.log` stores them."""

_ARROW_TYPES = {
    "time": pa.float64(), "activity": pa.string(), "department": pa.string(), "resource": pa.string(),
    **{name: pa.int64() for name in _ID_COLUMNS},
    "product_id": pa.string(), "quantity": pa.float64(), "amount": pa.float64(),
}
CHUNK_ROWS = 4_096
"""Records staged as tuples before they become one Arrow record batch (small: the
transposition then reads rows that are still in the CPU cache)."""
NAN = float("nan")
COLUMNS_LIST = list(COLUMNS)


def _ids(values: list[int]) -> pa.Array:
    array = np.array(values, dtype=np.int64)
    return pa.array(array, mask=array < 0)


def _amounts(values: list[float]) -> pa.Array:
    array = np.array(values, dtype=np.float64)
    return pa.array(array, mask=np.isnan(array))


def _times(values: list[float]) -> pa.Array:
    return pa.array(np.array(values, dtype=np.float64))


def _strings(values: list[str | None]) -> pa.Array:
    return pa.array(values, type=pa.string())


_CONVERT = {
    "time": _times, "activity": _strings, "department": _strings, "resource": _strings,
    **{name: _ids for name in _ID_COLUMNS}, "product_id": _strings,
    "quantity": _amounts, "amount": _amounts,
}
"""Column -> conversion of its staged Python values to an Arrow array (-1 ids and NaN amounts: null)."""


class Recorder:
    """Collects flat event records into columnar (Arrow) chunks.

    :meth:`log` appends one tuple to a small staging list; every ``CHUNK_ROWS``
    records the staging list is transposed into Arrow arrays (one record batch), so the log is held
    column by column, never as an object per event. Missing ids are passed as -1 and
    missing quantities as NaN (cheap to convert); both become nulls in the table.
    """

    def __init__(self) -> None:
        self._rows: list[tuple[object, ...]] = []
        self._chunks: list[pa.RecordBatch] = []
        self._flushed = 0

    def log(
        self,
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
        product: str | None = None,
        quantity: float = NAN,
        amount: float = NAN,
    ) -> None:
        """Append one event (ids -1 and amounts NaN mean "none")."""
        self._rows.append((time, activity, department, resource, order_id, shipment, invoice,
                           return_, ticket, job, product, quantity, amount))
        if len(self._rows) >= CHUNK_ROWS:
            self._flush()

    def _flush(self) -> None:
        rows = self._rows
        if not rows:
            return
        # one pass per column while the staged rows are still in the cache (a small
        # chunk, read with map + itemgetter: transposing with zip(*rows) is twice as slow)
        arrays = [_CONVERT[name](list(map(itemgetter(i), rows))) for i, name in enumerate(COLUMNS)]
        self._chunks.append(pa.RecordBatch.from_arrays(arrays, names=COLUMNS_LIST))
        self._flushed += len(rows)
        self._rows = []

    def __len__(self) -> int:
        return self._flushed + len(self._rows)

    def arrow(self) -> pa.Table:
        """The log as an Arrow table (raw columns, no categories)."""
        self._flush()
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
        frame["activity"] = pd.Categorical(activity_codes, categories=sorted(ACTIVITY_STEP))
        frame["department"] = pd.Categorical(frame["department"].astype(object))
        step = pd.Categorical(activity_codes.map(ACTIVITY_STEP), categories=list(STEPS))
        frame.insert(1, "step", step)
        return frame
