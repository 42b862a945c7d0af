"""The event recorder: flat event records in columnar buffers, written as parquet.

Each record is one row: time (days), activity, order, department, resource, and the
ids of the other objects involved (shipment, invoice, return, ticket, job, product), plus a
quantity and an amount. The activity names the step of the cycle it belongs to
(:data:`ACTIVITY_STEP`), so the log maps onto object-centric event logs (OCEL 2.0):
each id column is an object type.
"""

from __future__ import annotations

import pandas as pd

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


class Recorder:
    """Appends events into per-column lists; :meth:`table` builds the DataFrame."""

    def __init__(self) -> None:
        self.time: list[float] = []
        self.activity: list[str] = []
        self.department: list[str] = []
        self.resource: list[str | None] = []
        self.order_id: list[int | None] = []
        self.shipment_id: list[int | None] = []
        self.invoice_id: list[int | None] = []
        self.return_id: list[int | None] = []
        self.ticket_id: list[int | None] = []
        self.job_id: list[int | None] = []
        self.product: list[str | None] = []
        self.quantity: list[float | None] = []
        self.amount: list[float | None] = []

    def log(
        self,
        time: float,
        activity: str,
        department: str,
        order_id: int | None = None,
        resource: str | None = None,
        *,
        shipment: int | None = None,
        invoice: int | None = None,
        return_: int | None = None,
        ticket: int | None = None,
        job: int | None = None,
        product: str | None = None,
        quantity: float | None = None,
        amount: float | None = None,
    ) -> None:
        """Append one event."""
        self.time.append(time)
        self.activity.append(activity)
        self.department.append(department)
        self.resource.append(resource)
        self.order_id.append(order_id)
        self.shipment_id.append(shipment)
        self.invoice_id.append(invoice)
        self.return_id.append(return_)
        self.ticket_id.append(ticket)
        self.job_id.append(job)
        self.product.append(product)
        self.quantity.append(quantity)
        self.amount.append(amount)

    def __len__(self) -> int:
        return len(self.time)

    def table(self) -> pd.DataFrame:
        """The event log as a DataFrame, in the order events happened."""
        activity = pd.Categorical(self.activity, categories=sorted(ACTIVITY_STEP))
        step = pd.Categorical(
            pd.Series(self.activity).map(ACTIVITY_STEP), categories=list(STEPS)
        )
        columns: dict[str, object] = {
            "time": pd.Series(self.time, dtype="float64"),
            "step": step,
            "activity": activity,
            "department": pd.Categorical(self.department),
            "resource": pd.Series(self.resource, dtype="string"),
        }
        for name in _ID_COLUMNS:
            columns[name] = pd.array(getattr(self, name), dtype="Int64")
        columns["product_id"] = pd.Series(self.product, dtype="string")
        columns["quantity"] = pd.array(self.quantity, dtype="Float64")
        columns["amount"] = pd.array(self.amount, dtype="Float64")
        return pd.DataFrame(columns)

