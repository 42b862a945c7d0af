"""Order lines and shipments in a state snapshot: their schema and their checks.

An open order of a snapshot (:class:`~ordercycle.sim.snapshot.OrderState`) may list its
``lines`` (format version 2; an order of several lines must). Once the order is
accepted, every line says where its units are — taken from stock at release,
back-ordered, in production, ready to ship, or in one of the order's ``shipments`` —
and every shipment what it carries (lines and units), whether it is being picked, in
transit or delivered, and whether it is billed (and on which open invoice). A line's
units add up: ``ready_units`` + its units in shipments + the units its back-order or
production still owes = ``quantity``.

:func:`check_order_lines` returns the ``path: reason`` problems of one such order;
:func:`ordercycle.sim.snapshot.check` calls it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ordercycle.sim.model import cents

_CONFIG = ConfigDict(extra="forbid", frozen=True)
DISPATCHED = ("in_transit", "delivered")
"""Stages of a shipment that has left."""


class LineState(BaseModel):
    """One line of an open order: a product in a quantity at a price, and where its units are."""

    model_config = _CONFIG
    line_id: int = Field(ge=1, description="line id (new lines of the run get larger ids)")
    product: str = Field(description="product id")
    quantity: int = Field(ge=1, description="units of the line")
    unit_price: float | None = Field(
        None, gt=0, description="quoted / agreed unit price (from awaiting_customer on)"
    )
    from_stock_units: int = Field(0, ge=0, description="units stock covered at release")
    backordered_units: int = Field(0, ge=0, description="units the line back-ordered at release")
    pending: Literal["none", "backorder", "production"] = Field(
        "none",
        description="what the units not yet ready wait for: the line's back-order (all its "
        "backordered_units) or its production (every unit stock did not cover)",
    )
    backorder_allocated: int = Field(
        0,
        ge=0,
        description="backorder: units of receipts already allocated to it (they become ready with the rest)",
    )
    routing_step: int = Field(
        0, ge=0, description="production: index of the routing operation the line's units are at, from 0"
    )
    step_progress: float = Field(0.0, ge=0, lt=1, description="production: fraction of that operation done")
    ready_units: int = Field(0, ge=0, description="units ready to ship and in no shipment yet")
    ready_day: float | None = Field(None, le=0, description="when the last unit became ready, relative days")
    returned_units: int = Field(0, ge=0, description="units of the line received back so far")
    installed: bool = Field(
        False, description="its installation visit is done (products with installation skills)"
    )


class ShipmentLine(BaseModel):
    """Units of one line in a shipment."""

    model_config = _CONFIG
    line_id: int = Field(description="a line of the order")
    units: int = Field(ge=1, description="units of the line carried")


class ShipmentState(BaseModel):
    """One shipment of an order: what it carries and where it is."""

    model_config = _CONFIG
    shipment_id: int = Field(ge=1, description="shipment id (new shipments of the run get larger ids)")
    lines: list[ShipmentLine] = Field(min_length=1, description="the lines it carries")
    stage: Literal["picking", "in_transit", "delivered"] = Field(
        description="being picked or loaded (not yet dispatched), in transit, or delivered"
    )
    dispatched_day: float | None = Field(None, le=0, description="dispatch, relative days")
    delivered_day: float | None = Field(None, le=0, description="delivery, relative days")
    transit_days_left: float | None = Field(
        None, ge=0, description="in_transit: days until delivery (default: a fresh transit draw)"
    )
    billed: bool = Field(False, description="on an invoice already (issued; paid or open)")
    invoice_id: int | None = Field(
        None, ge=1, description="the open invoice (of `invoices`) that bills it, if it is not paid yet"
    )

    @property
    def units(self) -> int:
        """Units carried."""
        return sum(part.units for part in self.lines)


def pending_units(line: LineState) -> int:
    """Units of ``line`` its back-order or its production still owes."""
    if line.pending == "backorder":
        return line.backordered_units
    if line.pending == "production":
        return line.quantity - line.from_stock_units - line.backordered_units
    return 0


def mean_unit_price(lines: list[LineState]) -> float:
    """The order's unit price: its lines' quantity-weighted mean per unit (the model's arithmetic)."""
    units = sum(line.quantity for line in lines)
    return sum(cents(line.unit_price or 0.0) * line.quantity for line in lines) / 100 / units


def _check_line(
    path: str, line: LineState, product: Any, accepted: bool, quoted: bool, step: str
) -> list[str]:
    """Problems of one line on its own: price, stock and back-order, production, installation."""
    problems = []
    if quoted and line.unit_price is None:
        problems.append(f"{path}.unit_price: required from step awaiting_customer on (step {step})")
    if not accepted and (
        line.from_stock_units
        or line.backordered_units
        or line.ready_units
        or line.pending != "none"
        or line.returned_units
        or line.installed
    ):
        problems.append(
            f"{path}: nothing of a line is stocked, made or shipped before the order is "
            f"accepted (step {step})"
        )
    if line.from_stock_units + line.backordered_units > line.quantity:
        problems.append(
            f"{path}: from_stock_units {line.from_stock_units} + backordered_units "
            f"{line.backordered_units} > quantity {line.quantity}"
        )
    if line.pending == "backorder":
        if product.stocking != "make_to_stock":
            problems.append(f"{path}.pending: {line.product!r} is made to order, it has no back-orders")
        if not line.backordered_units:
            problems.append(f"{path}.backordered_units: a line waiting for its back-order back-ordered units")
        elif line.backorder_allocated >= line.backordered_units:
            problems.append(
                f"{path}.backorder_allocated: {line.backorder_allocated} >= backordered_units "
                f"{line.backordered_units} (a back-order allocated in full is filled)"
            )
    elif line.backorder_allocated:
        problems.append(f"{path}.backorder_allocated: only a line waiting for its back-order has one")
    if line.pending == "production":
        if line.backordered_units:
            problems.append(f"{path}.backordered_units: a line in production back-ordered nothing")
        if line.routing_step >= len(product.routing):
            problems.append(
                f"{path}.routing_step: {line.routing_step} is beyond the routing of "
                f"{line.product!r} ({len(product.routing)} operations)"
            )
        if pending_units(line) <= 0:
            problems.append(f"{path}.pending: stock covered every unit, nothing is in production")
    if line.installed and not product.installation_skills:
        problems.append(f"{path}.installed: product {line.product!r} needs no installation")
    return problems


def _check_shipment(
    path: str, shipment: ShipmentState, lines: dict[int, LineState], invoices: dict[int, Any], order_id: int
) -> list[str]:
    """Problems of one shipment: its lines, its stage's fields, its invoice, its times."""
    problems = []
    seen: set[int] = set()
    for j, part in enumerate(shipment.lines):
        if part.line_id not in lines:
            problems.append(f"{path}.lines.{j}.line_id: {part.line_id} is not a line of the order")
        elif part.line_id in seen:
            problems.append(f"{path}.lines.{j}.line_id: line {part.line_id} is in the shipment twice")
        seen.add(part.line_id)
    if shipment.stage == "picking" and (
        shipment.dispatched_day is not None
        or shipment.delivered_day is not None
        or shipment.billed
        or shipment.transit_days_left is not None
    ):
        problems.append(
            f"{path}: a shipment being picked has not left (no dispatched_day, delivered_day, "
            "transit_days_left or billed)"
        )
    if shipment.stage != "in_transit" and shipment.transit_days_left is not None:
        problems.append(f"{path}.transit_days_left: only a shipment in transit has transit left")
    if shipment.stage == "in_transit" and shipment.delivered_day is not None:
        problems.append(f"{path}.delivered_day: a shipment in transit is not delivered yet")
    if (
        shipment.dispatched_day is not None
        and shipment.delivered_day is not None
        and shipment.delivered_day < shipment.dispatched_day
    ):
        problems.append(
            f"{path}.delivered_day: {shipment.delivered_day:g} is before dispatched_day "
            f"{shipment.dispatched_day:g}"
        )
    if shipment.invoice_id is not None:
        invoice = invoices.get(shipment.invoice_id)
        if not shipment.billed:
            problems.append(f"{path}.invoice_id: a shipment on an invoice is billed")
        if invoice is None:
            problems.append(f"{path}.invoice_id: no open invoice {shipment.invoice_id} in `invoices`")
        elif all(line.order_id != order_id for line in invoice.lines):
            problems.append(
                f"{path}.invoice_id: invoice {shipment.invoice_id} has no line for order {order_id}"
            )
    return problems


def check_order_lines(
    at: str, order: Any, products: dict[str, Any], invoices: dict[int, Any], rank: int, disputed: bool
) -> list[str]:
    """Every problem of an order that lists its lines (and shipments), as ``path: reason`` lines.

    Args:
        at: the order's path (``orders.3``).
        order: the :class:`~ordercycle.sim.snapshot.OrderState`.
        products: the scenario's products by id.
        invoices: the snapshot's open invoices by id.
        rank: the order's step's index in :data:`ordercycle.sim.snapshot.STEPS` (2:
            awaiting_customer, 5: production …).
        disputed: an open disputed invoice covers the order (its ``billed`` may be wrong).
    """
    problems: list[str] = []
    step, accepted, quoted = order.step, rank >= 5, rank >= 2
    for name in ("routing_step", "step_progress", "transit_days_left", "line_id"):
        if getattr(order, name) not in (None, 0, 0.0):
            problems.append(f"{at}.{name}: an order that lists its lines gives it per line or shipment")
    lines: dict[int, LineState] = {}
    for j, line in enumerate(order.lines):
        path = f"{at}.lines.{j}"
        if line.line_id in lines:
            problems.append(f"{path}.line_id: duplicate id {line.line_id}")
        lines[line.line_id] = line
        product = products.get(line.product)
        if product is None:
            problems.append(f"{path}.product: unknown product {line.product!r}")
            continue
        problems += _check_line(path, line, product, accepted, quoted, step)
    if order.lines and order.product != order.lines[0].product:
        problems.append(
            f"{at}.product: {order.product!r}, but its first line is of {order.lines[0].product!r}"
        )
    total = sum(line.quantity for line in order.lines)
    if total != order.quantity:
        problems.append(f"{at}.quantity: {order.quantity}, but its lines hold {total} units")
    if quoted and order.unit_price is not None and all(line.unit_price for line in order.lines):
        mean = mean_unit_price(order.lines)
        if abs(order.unit_price - mean) > 0.005 + 1e-9:
            problems.append(
                f"{at}.unit_price: {order.unit_price:g} is not its lines' mean price per unit "
                f"({mean:.4f}); leave it out"
            )
    if order.shipments and not accepted:
        problems.append(f"{at}.shipments: nothing is shipped before the order is accepted (step {step})")
    carried = dict.fromkeys(lines, 0)
    delivered = dict.fromkeys(lines, 0)
    dispatched = billed_units = billed_cents = 0
    for k, shipment in enumerate(order.shipments):
        problems += _check_shipment(f"{at}.shipments.{k}", shipment, lines, invoices, order.order_id)
        for part in shipment.lines:
            if part.line_id in carried:
                carried[part.line_id] += part.units
                if shipment.stage == "delivered":
                    delivered[part.line_id] += part.units
        if shipment.stage in DISPATCHED:
            dispatched += shipment.units
        if shipment.billed:
            billed_units += shipment.units
            billed_cents += sum(
                part.units * cents(lines[part.line_id].unit_price or 0.0)
                for part in shipment.lines
                if part.line_id in lines
            )
    for j, line in enumerate(order.lines):
        owed = pending_units(line)
        if accepted and line.ready_units + carried[line.line_id] + owed != line.quantity:
            problems.append(
                f"{at}.lines.{j}: ready_units {line.ready_units} + {carried[line.line_id]} units "
                f"in shipments + {owed} pending != quantity {line.quantity}"
            )
        if line.returned_units > delivered[line.line_id]:
            problems.append(
                f"{at}.lines.{j}.returned_units: {line.returned_units} > the "
                f"{delivered[line.line_id]} units of the line delivered"
            )
    if order.shipped_units != dispatched:
        problems.append(
            f"{at}.shipped_units: {order.shipped_units}, but its shipments dispatched {dispatched}"
        )
    if order.invoiced_units != billed_units:
        problems.append(
            f"{at}.invoiced_units: {order.invoiced_units}, but its billed shipments carry {billed_units}"
        )
    returned = sum(line.returned_units for line in order.lines)
    if order.returned_units != returned:
        problems.append(
            f"{at}.returned_units: {order.returned_units}, but its lines' returned_units sum to {returned}"
        )
    if quoted and not disputed and cents(order.billed) != billed_cents:
        problems.append(
            f"{at}.billed: {order.billed:.2f} differs from what its billed shipments cost at the "
            f"lines' prices ({billed_cents / 100:.2f}) and no open disputed invoice covers the order"
        )
    return problems + _check_step(at, order, products, accepted)


def _check_step(at: str, order: Any, products: dict[str, Any], accepted: bool) -> list[str]:
    """The order's step agrees with where its lines and shipments are."""
    if not accepted:
        return []
    step, lines = order.step, order.lines
    waiting = {line.pending for line in lines}
    everything_left = not any(line.ready_units or line.pending != "none" for line in lines) and all(
        s.stage in DISPATCHED for s in order.shipments
    )
    all_delivered = everything_left and all(s.stage == "delivered" for s in order.shipments)
    to_install = [
        line.line_id
        for line in lines
        if line.product in products and products[line.product].installation_skills and not line.installed
    ]
    problems = []
    if step == "production" and "production" not in waiting:
        problems.append(f"{at}.step: production, but no line is in production")
    elif step == "backordered" and "backorder" not in waiting:
        problems.append(f"{at}.step: backordered, but no line waits for its back-order")
    elif step in ("in_transit", "installation", "delivered") and not everything_left:
        problems.append(f"{at}.step: {step} needs every unit of every line dispatched")
    elif step in ("installation", "delivered") and not all_delivered:
        problems.append(f"{at}.step: {step} needs every shipment delivered")
    elif step == "installation" and not to_install:
        problems.append(f"{at}.step: installation, but no line awaits its installation")
    elif step == "delivered" and to_install:
        problems.append(f"{at}.step: delivered, but lines {to_install} are not installed")
    return problems
