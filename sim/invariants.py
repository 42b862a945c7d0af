"""Invariants of a finished run: what must hold in its output tables, whatever the policies.

:func:`check_run` takes a :class:`~ordercycle.sim.run.RunResult` and returns one
human-readable line per violation (an empty list: every invariant holds). The checks
read the output tables (``orders``, ``events``) and the scenario; the end state of the
model is used only where the tables cannot tell (which shipments have been invoiced).
Each line starts with the letter of its check:

(a) every inquiry appears exactly once in ``orders``, with one known final state;
(b) shipped units never exceed the quantity and equal the dispatched shipments;
(c) money ledgers: billed = issued + corrections, paid and refunded = their events;
    consulting billing charges exactly the invoiced shipped units × agreed price;
    under any billing policy an order whose invoices are all settled is billed correctly;
(d) refunded ≤ billed, paid ≤ billed, returned units ≤ shipped units;
(e) every order has a state and an owner at the horizon;
(f) delivered orders went inquiry → entry → first shipment → delivery in time order;
(g) the event log is in simulation time order, within [0, horizon];
(h) unattended time is between 0 and the order's age at the horizon.

The run is observed at its horizon, so only what must hold *then* is checked: an
invoice may still be in dispute, a shipment not yet invoiced, a refund not yet paid.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ordercycle.sim.entities import FINAL_STATES

EPS = 1e-9
MAX_PER_CHECK = 20
"""At most this many lines per check; the rest are counted in one summary line."""

CONSULTING = "consult-shipping-sales"


def _cents(values: pd.Series) -> pd.Series:
    """Money in integer cents (``round(x * 100)``, missing as 0)."""
    return (values.astype("float64").fillna(0.0) * 100).round().astype("int64")


def _per_order(events: pd.DataFrame, activity: str, column: str, index: pd.Index) -> pd.Series:
    """Sum of ``column`` over the ``activity`` events of each order (0 when none)."""
    rows = events[events["activity"] == activity]
    if column == "amount":
        values = _cents(rows[column])
    else:
        values = rows[column].astype("float64").fillna(0.0)
    sums = values.groupby(rows["order_id"].astype("int64").to_numpy()).sum()
    return sums.reindex(index, fill_value=0)


def _report(problems: list[str], tag: str, lines: list[str]) -> None:
    """Append ``lines`` (prefixed by the check's tag), capped at :data:`MAX_PER_CHECK`."""
    problems.extend(f"({tag}) {line}" for line in lines[:MAX_PER_CHECK])
    if len(lines) > MAX_PER_CHECK:
        problems.append(f"({tag}) ... and {len(lines) - MAX_PER_CHECK} more")


def _rows(mask: pd.Series | np.ndarray, orders: pd.DataFrame, text: str) -> list[str]:
    """One line per order selected by ``mask``; ``text`` is formatted with the row's fields."""
    return [text.format(**row) for row in orders[np.asarray(mask, dtype=bool)].to_dict("records")]


def check_inquiries(orders: pd.DataFrame, events: pd.DataFrame) -> list[str]:
    """(a) One row per inquiry, one final state each, as many rows as inquiry events."""
    lines = []
    counts = orders["order_id"].value_counts()
    lines += [f"order {i} appears {n} times in orders" for i, n in counts[counts > 1].items()]
    inquiries = events.loc[events["activity"] == "inquiry_received", "order_id"].astype("int64")
    if len(inquiries) != len(orders):
        lines.append(f"{len(orders)} orders but {len(inquiries)} inquiry_received events")
    known = set(orders["order_id"])
    lines += [f"inquiry {i} is missing from orders" for i in sorted(set(inquiries) - known)]
    lines += [f"order {i} has no inquiry_received event" for i in sorted(known - set(inquiries))]
    state = orders["final_state"].astype(object)
    lines += _rows(~state.isin(FINAL_STATES), orders, "order {order_id}: final_state {final_state!r}")
    return lines


def check_shipments(orders: pd.DataFrame, events: pd.DataFrame) -> list[str]:
    """(b) shipped ≤ quantity; shipped = Σ dispatched; delivered orders shipped in full."""
    index = pd.Index(orders["order_id"])
    dispatched = _per_order(events, "shipment_dispatched", "quantity", index).to_numpy()
    count = events[events["activity"] == "shipment_dispatched"].groupby("order_id").size()
    count = count.reindex(index, fill_value=0).to_numpy()
    shipped = orders["shipped_units"].to_numpy()
    done = orders["final_state"].isin(["delivered", "returned"]).to_numpy()
    frame = orders.assign(dispatched=dispatched, count=count)
    return (
        _rows(shipped > orders["quantity"], frame,
              "order {order_id}: shipped_units {shipped_units} > quantity {quantity}")
        + _rows(np.abs(shipped - dispatched) > EPS, frame,
                "order {order_id}: shipped_units {shipped_units} != {dispatched:g} dispatched")
        + _rows(orders["shipments"].to_numpy() < count, frame,
                "order {order_id}: {shipments} shipments but {count} shipment_dispatched events")
        + _rows(done & (shipped != orders["quantity"].to_numpy()), frame,
                "order {order_id}: {final_state} with {shipped_units} of {quantity} units shipped")
    )


def _invoiced_units(model: Any, index: pd.Index) -> pd.Series | None:
    """Units of each order on issued invoices (from the model's shipments), if known."""
    if model is None:
        return None
    units = {o.order_id: sum(s.units for s in o.shipments if s.billed) for o in model.orders}
    return pd.Series(units, dtype="int64").reindex(index, fill_value=0)


def _settled(events: pd.DataFrame, index: pd.Index, done: tuple[str, ...]) -> pd.Series:
    """Orders all of whose invoice lines have one of the ``done`` events (vacuously: no invoice)."""
    def pairs(activities: list[str]) -> set[tuple[int, int]]:
        rows = events[events["activity"].isin(activities)]
        return set(zip(rows["order_id"].astype("int64"), rows["invoice_id"].astype("int64"), strict=True))

    open_lines = pairs(["invoice_issued"]) - pairs(list(done))
    unsettled = {order_id for order_id, _ in open_lines}
    return pd.Series(~index.isin(list(unsettled)), index=index)


def check_billing(orders: pd.DataFrame, events: pd.DataFrame, policy: str, model: Any) -> list[str]:
    """(c) Ledgers in cents; exact billing when consulting; correct billing once settled."""
    index = pd.Index(orders["order_id"])
    billed = _cents(orders["billed"]).to_numpy()
    price = _cents(orders["unit_price"]).to_numpy()
    ledger = (_per_order(events, "invoice_issued", "amount", index)
              + _per_order(events, "invoice_corrected", "amount", index)).to_numpy()
    paid = _per_order(events, "payment_received", "amount", index).to_numpy()
    refunded = _per_order(events, "refund_paid", "amount", index).to_numpy()
    frame = orders.assign(ledger=ledger / 100, paid_ev=paid / 100, refunded_ev=refunded / 100,
                          due=orders["shipped_units"].to_numpy() * price / 100)
    lines = (
        _rows(billed != ledger, frame,
              "order {order_id}: billed {billed:.2f} != {ledger:.2f} issued + corrected")
        + _rows(_cents(orders["paid"]).to_numpy() != paid, frame,
                "order {order_id}: paid {paid:.2f} != {paid_ev:.2f} in payment_received")
        + _rows(_cents(orders["refunded"]).to_numpy() != refunded, frame,
                "order {order_id}: refunded {refunded:.2f} != {refunded_ev:.2f} in refund_paid")
    )
    invoiced = _invoiced_units(model, index)
    if policy == CONSULTING:
        lines += _rows(billed > orders["shipped_units"].to_numpy() * price, frame,
                       "order {order_id}: billed {billed:.2f} > shipped x agreed price {due:.2f}")
        disputed = events.loc[events["activity"] == "invoice_disputed", "order_id"]
        lines += [f"order {i}: invoice disputed although billing consults" for i in disputed]
    if invoiced is not None:
        frame["correct"] = invoiced.to_numpy() * price / 100
        wrong = billed != invoiced.to_numpy() * price
        if policy == CONSULTING:
            lines += _rows(wrong, frame, "order {order_id}: billed {billed:.2f} != "
                           "invoiced shipped units x agreed price {correct:.2f} (consulting billing)")
        else:
            settled = _settled(events, index, ("invoice_corrected", "payment_received")).to_numpy()
            lines += _rows(wrong & settled, frame, "order {order_id}: billed {billed:.2f} != "
                           "{correct:.2f} shipped x agreed price after every dispute settled")
    all_paid = _settled(events, index, ("payment_received",)).to_numpy()
    lines += _rows(all_paid & (billed != paid), frame,
                   "order {order_id}: every invoice paid but billed {billed:.2f} != paid {paid:.2f}")
    return lines


def check_bounds(orders: pd.DataFrame) -> list[str]:
    """(d) refunded ≤ billed, paid ≤ billed (cents), 0 ≤ returned ≤ shipped units."""
    billed = _cents(orders["billed"])
    return (
        _rows(_cents(orders["refunded"]) > billed, orders,
              "order {order_id}: refunded {refunded:.2f} > billed {billed:.2f}")
        + _rows(_cents(orders["paid"]) > billed, orders,
                "order {order_id}: paid {paid:.2f} > billed {billed:.2f}")
        + _rows(orders[["billed", "paid", "refunded"]].lt(0).any(axis=1), orders,
                "order {order_id}: negative money billed {billed} paid {paid} refunded {refunded}")
        + _rows(orders["returned_units"] > orders["shipped_units"], orders,
                "order {order_id}: returned_units {returned_units} > shipped_units {shipped_units}")
        + _rows(orders["returned_units"] < 0, orders, "order {order_id}: returned_units {returned_units}")
    )


def _blank(column: pd.Series) -> pd.Series:
    return column.isna() | (column.astype(object).astype(str).str.strip() == "")


def check_ownership(orders: pd.DataFrame) -> list[str]:
    """(e) A state and an owner for every order; open orders are never ownerless."""
    open_ = orders["final_state"].astype(object) == "open"
    return (
        _rows(_blank(orders["state_at_horizon"]), orders, "order {order_id}: no state_at_horizon")
        + _rows(_blank(orders["owner_at_horizon"]), orders, "order {order_id}: no owner_at_horizon")
        + _rows(open_ & _blank(orders["owner_at_horizon"]), orders,
                "order {order_id}: open at the horizon with no owner (state {state_at_horizon!r})")
    )


def check_times(orders: pd.DataFrame, horizon: float) -> list[str]:
    """(f) inquiry ≤ entered ≤ first shipment ≤ delivered ≤ horizon for delivered orders."""
    done = orders[orders["final_state"].isin(["delivered", "returned"])]
    chain = done[["inquiry_time", "entered_time", "first_ship_time", "delivered_time"]].to_numpy(float)
    bad = np.isnan(chain).any(axis=1) | (np.diff(chain, axis=1) < -EPS).any(axis=1)
    bad |= chain[:, -1] > horizon + EPS
    return _rows(bad, done, "order {order_id}: {final_state} but times inquiry {inquiry_time:.4f}, "
                 "entered {entered_time:.4f}, first ship {first_ship_time:.4f}, "
                 "delivered {delivered_time:.4f} out of order")


def check_event_order(events: pd.DataFrame, horizon: float) -> list[str]:
    """(g) Event times never decrease in log order and lie in [0, horizon]."""
    times = events["time"].to_numpy(dtype=float)
    lines = [f"event {i} ({events['activity'].iloc[i]}) at {times[i]:.6f} after one at {times[i - 1]:.6f}"
             for i in np.flatnonzero(np.diff(times) < 0) + 1]
    outside = np.flatnonzero(np.isnan(times) | (times < 0) | (times > horizon + EPS))
    lines += [f"event {i} ({events['activity'].iloc[i]}) at {times[i]} outside [0, {horizon:g}]"
              for i in outside]
    return lines


def check_unattended(orders: pd.DataFrame, horizon: float) -> list[str]:
    """(h) 0 ≤ unattended hours ≤ the order's age at the horizon."""
    age = (horizon - orders["inquiry_time"]) * 24
    frame = orders.assign(age=age)
    hours = orders["unattended_hours"]
    return (
        _rows(hours.isna() | (hours < 0), frame, "order {order_id}: unattended_hours {unattended_hours}")
        + _rows(hours > age + 1e-6, frame,
                "order {order_id}: unattended {unattended_hours:.2f} h > age {age:.2f} h at the horizon")
    )


def check_run(result: Any) -> list[str]:
    """Every violated invariant of a finished run, one line each (``[]``: all hold).

    Args:
        result: a :class:`~ordercycle.sim.run.RunResult` (``orders``, ``events``,
            ``scenario`` and, optionally, ``model``).
    """
    orders, events = result.orders, result.events
    horizon = float(result.scenario.horizon_days)
    policy = result.scenario.policies.billing.name
    problems: list[str] = []
    _report(problems, "a", check_inquiries(orders, events))
    _report(problems, "b", check_shipments(orders, events))
    _report(problems, "c", check_billing(orders, events, policy, getattr(result, "model", None)))
    _report(problems, "d", check_bounds(orders))
    _report(problems, "e", check_ownership(orders))
    _report(problems, "f", check_times(orders, horizon))
    _report(problems, "g", check_event_order(events, horizon))
    _report(problems, "h", check_unattended(orders, horizon))
    return problems
