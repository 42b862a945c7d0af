"""Fulfilment policies: what of an order leaves when only part of it is ready.

An order has one or more lines; each becomes ready in parts (what stock covers at
release, a filled back-order, a finished production run). The model asks the
fulfilment policy at release and whenever a further part becomes ready while some of
the order is still not ready; the decision is what leaves now, in one shipment of this
order (a shipment never carries lines of another order: there is no consolidation
across orders). When everything left is ready, it ships without asking.

- ``ship-complete`` waits until every line is ready and ships the order at once. With
  ``ship_stock_at_release`` (the default, the behaviour of every earlier version) what
  stock covers at release leaves at once and only the rest waits to ship complete;
  with it off, an order leaves in exactly one shipment.
- ``ship-partial`` ships every ready part as it becomes ready (each line, or its stock
  part, as soon as it can).
- ``by-customer`` follows the customer master: partial to customers who accept partial
  deliveries (``accepts_partial_deliveries``, the segment's flag), as ``ship-partial`` does;
  complete, in one shipment, to those who do not. The two policies above are one rule for
  the whole company and ignore the flag (as every earlier version did).
"""

from __future__ import annotations

from typing import ClassVar

from ordercycle.policies.base import Policy
from ordercycle.policies.contexts import FulfilmentContext, FulfilmentDecision, ShipmentLine


class FulfilmentPolicy(Policy):
    """Decides what of one order ships now.

    ``honours_partial_deliveries`` declares that the policy never ships part of an order to a
    customer who does not accept partial deliveries; the conformance suite holds a policy that
    declares it to that (``check_fulfilment_honours_partial_deliveries``).
    """

    decision = "fulfilment"
    honours_partial_deliveries: ClassVar[bool] = False

    def ship(self, context: FulfilmentContext) -> FulfilmentDecision:
        """Return the lines (and units) that leave now in one shipment."""
        raise NotImplementedError


def ready_lines(context: FulfilmentContext) -> tuple[ShipmentLine, ...]:
    """Every ready unit of the order, line by line."""
    return tuple(ShipmentLine(line.line_id, line.ready_units) for line in context.lines if line.ready_units)


class ShipComplete(FulfilmentPolicy):
    """Ship the order complete: wait until every line is ready (the stock part may go first)."""

    name = "ship-complete"
    summary = "ship an order when all its lines are ready (what stock covers at release may leave first)"

    def __init__(self, ship_stock_at_release: bool = True):
        self.ship_stock_at_release = ship_stock_at_release

    def ship(self, context: FulfilmentContext) -> FulfilmentDecision:
        """At release, the stock part when allowed; later, nothing until all is ready."""
        if context.at_release and self.ship_stock_at_release:
            lines = ready_lines(context)
            return FulfilmentDecision(lines, "what stock covers leaves at release" if lines
                                      else "nothing ready at release")
        open_units = sum(line.quantity - line.shipped_units - line.ready_units for line in context.lines)
        if open_units == 0:
            return FulfilmentDecision(ready_lines(context), "every line is ready")
        return FulfilmentDecision((), f"waiting for {open_units} units to ship complete")


class ShipPartial(FulfilmentPolicy):
    """Ship each line, or part of a line, as soon as it is ready."""

    name = "ship-partial"
    summary = "ship every ready line (or part of one) at once; the rest follows as it is ready"

    def __init__(self) -> None:
        pass

    def ship(self, context: FulfilmentContext) -> FulfilmentDecision:
        """Everything ready, now."""
        lines = ready_lines(context)
        return FulfilmentDecision(lines, f"{sum(line.units for line in lines)} ready units leave now")


def open_units(context: FulfilmentContext) -> int:
    """Units of the order neither ready nor given to a shipment yet."""
    return sum(line.quantity - line.shipped_units - line.ready_units for line in context.lines)


class ByCustomer(FulfilmentPolicy):
    """Partial deliveries to customers who accept them, complete ones to the others."""

    name = "by-customer"
    summary = ("ship partial to customers who accept partial deliveries, complete (one shipment) to "
               "those who do not")
    honours_partial_deliveries = True

    def __init__(self) -> None:
        pass

    def ship(self, context: FulfilmentContext) -> FulfilmentDecision:
        """Everything ready, now, if the customer takes partial deliveries; else all or nothing."""
        waiting = open_units(context)
        if context.accepts_partial_deliveries or waiting == 0:
            lines = ready_lines(context)
            who = "the customer accepts partial deliveries" if waiting else "every line is ready"
            units = sum(line.units for line in lines)
            return FulfilmentDecision(lines, f"{who}: {units} ready units leave now")
        return FulfilmentDecision(
            (), f"the customer takes complete deliveries only: waiting for {waiting} units")
