"""Invariants of a finished run: what must hold in its output tables, whatever the policies.

:func:`check_run` takes a :class:`~ordercycle.sim.run.RunResult` and returns one
human-readable line per violation (an empty list: every invariant holds). The checks
read the output tables (``orders``, ``events``) and the scenario; the end state of the
model is used only where the tables cannot tell (which shipments have been invoiced).
Each line starts with the letter of its check:

(a) every inquiry appears exactly once in ``orders``, with one known final state;
(b) shipped units never exceed the quantity and equal the dispatched shipments;
(c) money ledgers: billed = issued + corrections, paid (payments and prepayments settled
    against invoices) and refunded = their events; consulting billing charges exactly the
    invoiced shipped units × agreed price; under any billing policy an order whose invoices
    are all settled is billed correctly; every invoice line is settled at most once, by
    exactly what it charges, and billed − paid is what the open lines charge (receivables);
(d) refunded ≤ billed, paid ≤ billed, returned units ≤ shipped units, and each refund
    is the returned units × the agreed price;
(e) every order has a state and an owner at the horizon; an open order is the
    customer's only while a quote awaits the customer's answer or the order its prepayment;
(f) delivered orders went inquiry → entry → first shipment → delivery in time order;
(g) the event log is in simulation time order, within [0, horizon];
(h) unattended time is between 0 and the order's age at the horizon;
(i) stock: per product, initial + received − issued = on hand at the end, never below 0;
    back-ordered units = filled + still open; an order lost for want of stock shipped
    nothing and was never back-ordered;
(j) machines: a machine works on one job at a time (from its changeover or start to its
    completion, or the horizon); a job's pauses at shift end alternate with resumes
    (``operation_paused`` first) and only a job not yet completed may be paused at the end;
(k) working time: at a work centre on a calendar every stretch a machine works (from a
    changeover, start, resume or repair to the job's next event) lies in the centre's
    shifts on working days (at the most shifts planned during the stretch) or in overtime.
(l) order lines (``lines``): every order has its lines and their quantities sum to the
    order's; per line 0 ≤ returned ≤ delivered ≤ shipped ≤ quantity (a return of one
    line refunds its units × the line's agreed price) and stock issued +
    back-ordered ≤ quantity; the lines' shipped units sum to the order's; a delivered
    order has every line shipped and delivered in full; the stock issued and back-ordered
    per line in the event log are the line's (a line of an order carried over from a state
    snapshot may hold more: what it took before time 0); an event naming a line names its
    order (a line has one owner: its order); a shipment carries lines of its own order only.
(m) prepayment: only orders on prepayment terms have prepayment events; what the customer
    paid in advance is what was asked, and what is settled against invoices plus what was
    paid back never exceeds it; such an order never pays an invoice as well; nothing of it
    is picked before its payment (nor released, when the release waits for it); a cancelled
    order was never paid, released, shipped or invoiced; a prepaid order lost for want of
    stock got its prepayment back.
(n) staff working time: every task a calendared staff pool starts (a ``*_started`` event with
    the pool as resource) starts while the pool's calendar is open or in overtime granted to
    the pool (its ``overtime_granted`` events: from the closing for the hours granted).
(o) field reports (``information.field_requirements``): the units reported ahead of a
    period never exceed its demand, per product (what the field hears is demand to come).

Money of a multi-line order is checked against what its shipments cost at the lines'
agreed prices (the model's shipments): its ``unit_price`` is a mean per unit.

The run is observed at its horizon, so only what must hold *then* is checked: an
invoice may still be in dispute, a shipment not yet invoiced, a refund not yet paid.

A run that starts from a state snapshot carries orders over: each has an
``order_carried_over`` event instead of ``inquiry_received`` (its units shipped and money
billed before time 0), ``payment_carried_over`` / ``refund_carried_over`` for the money
paid and refunded before, and ``invoice_carried_over`` for each line of an invoice still
open at time 0. These opening balances count in (a)–(c) like the events they stand for.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ordercycle.scenarios.schema import STAFF_POOLS
from ordercycle.sim.calendar import scenario_calendars
from ordercycle.sim.entities import CANCELLED, FINAL_STATES

EPS = 1e-9
MAX_PER_CHECK = 20
"""At most this many lines per check; the rest are counted in one summary line."""
CONSULTING = "consult-shipping-sales"


def _cents(values: pd.Series) -> pd.Series:
    """Money in integer cents (``round(x * 100)``, missing as 0)."""
    return (values.astype("float64").fillna(0.0) * 100).round().astype("int64")


def _of(events: pd.DataFrame, *activities: str) -> pd.DataFrame:
    return events[events["activity"].isin(activities)]


def _per_order(events: pd.DataFrame, activity: str, column: str, index: pd.Index) -> pd.Series:
    """Sum of ``column`` (money in cents) over the ``activity`` events of each order (0 if none)."""
    rows = _of(events, activity)
    values = _cents(rows[column]) if column == "amount" else rows[column].astype("float64").fillna(0.0)
    return values.groupby(rows["order_id"].astype("int64").to_numpy()).sum().reindex(index, fill_value=0)


def _rows(mask: Any, frame: pd.DataFrame, text: str) -> list[str]:
    """One line per row selected by ``mask``; ``text`` is formatted with the row's fields."""
    mask = np.asarray(mask, dtype=bool)
    return [text.format(**row) for row in frame[mask].to_dict("records")] if mask.any() else []


def check_inquiries(orders: pd.DataFrame, events: pd.DataFrame) -> list[str]:
    """(a) One row per inquiry, one final state each, as many rows as inquiry events."""
    counts = orders["order_id"].value_counts()
    lines = [f"order {i} appears {n} times in orders" for i, n in counts[counts > 1].items()]
    inquiries = _of(events, "inquiry_received", "order_carried_over")["order_id"].astype("int64")
    if len(inquiries) != len(orders):
        lines.append(f"{len(orders)} orders but {len(inquiries)} inquiry_received events")
    known = set(orders["order_id"])
    lines += [f"inquiry {i} is missing from orders" for i in sorted(set(inquiries) - known)]
    lines += [f"order {i} has no inquiry_received (or order_carried_over) event"
              for i in sorted(known - set(inquiries))]
    state = orders["final_state"].astype(object)
    return lines + _rows(~state.isin([*FINAL_STATES, CANCELLED]), orders,
                         "order {order_id}: final_state {final_state!r}")


def check_shipments(orders: pd.DataFrame, events: pd.DataFrame) -> list[str]:
    """(b) shipped ≤ quantity; shipped = Σ dispatched; delivered orders shipped in full."""
    index = pd.Index(orders["order_id"])
    dispatched = (_per_order(events, "shipment_dispatched", "quantity", index)
                  + _per_order(events, "order_carried_over", "quantity", index)).to_numpy()
    count = _of(events, "shipment_dispatched").groupby("order_id").size().reindex(index, fill_value=0)
    shipped, quantity = orders["shipped_units"].to_numpy(), orders["quantity"].to_numpy()
    done = orders["final_state"].isin(["delivered", "returned"]).to_numpy()
    frame = orders.assign(dispatched=dispatched, count=count.to_numpy())
    return (
        _rows(shipped > quantity, frame,
              "order {order_id}: shipped_units {shipped_units} > quantity {quantity}")
        + _rows(np.abs(shipped - dispatched) > EPS, frame,
                "order {order_id}: shipped_units {shipped_units} != {dispatched:g} dispatched")
        + _rows(frame["shipments"] < frame["count"], frame,
                "order {order_id}: {shipments} shipments but {count} shipment_dispatched events")
        + _rows(done & (shipped != quantity), frame,
                "order {order_id}: {final_state} with {shipped_units} of {quantity} units shipped")
    )


def _settled(events: pd.DataFrame, index: pd.Index, *done: str) -> np.ndarray:
    """Orders all of whose invoice lines have one of the ``done`` events (vacuously: no invoice)."""
    def lines(*activities: str) -> set[tuple[int, int]]:
        rows = _of(events, *activities)
        return set(zip(rows["order_id"].astype("int64"), rows["invoice_id"].astype("int64"), strict=True))

    unsettled = {order_id for order_id, _ in lines("invoice_issued", "invoice_carried_over") - lines(*done)}
    return ~index.isin(list(unsettled))


def check_billing(orders: pd.DataFrame, events: pd.DataFrame, policy: str, model: Any) -> list[str]:
    """(c) Ledgers in cents; exact billing when consulting; correct billing once settled."""
    index = pd.Index(orders["order_id"])
    billed, price = _cents(orders["billed"]).to_numpy(), _cents(orders["unit_price"]).to_numpy()
    ledger = (_per_order(events, "invoice_issued", "amount", index)
              + _per_order(events, "invoice_corrected", "amount", index)
              + _per_order(events, "order_carried_over", "amount", index)).to_numpy()
    paid = (_per_order(events, "payment_received", "amount", index)
            + _per_order(events, "prepayment_applied", "amount", index)
            + _per_order(events, "payment_carried_over", "amount", index)).to_numpy()
    refunded = (_per_order(events, "refund_paid", "amount", index)
                + _per_order(events, "refund_carried_over", "amount", index)).to_numpy()
    shipped_due = orders["shipped_units"].to_numpy() * price
    # without the model a multi-line order's due is its units at the mean unit price, which is
    # rounded to cents: up to half a cent per unit off the lines' own prices
    slack = np.zeros(len(orders))
    if model is None and "lines" in orders:
        slack = np.where(orders["lines"].to_numpy() > 1, 0.5 * orders["shipped_units"].to_numpy(), 0.0)
    if model is not None:  # multi-line orders: what their shipments cost at the lines' prices
        amounts = {o.order_id: sum(s.amount_cents for s in o.shipments)
                   for o in model.orders if len(o.lines) > 1}
        if amounts:
            multi = pd.Series(amounts, dtype="int64").reindex(index).to_numpy(dtype=float)
            shipped_due = np.where(np.isnan(multi), shipped_due, multi)
    frame = orders.assign(ledger=ledger / 100, paid_ev=paid / 100, refunded_ev=refunded / 100,
                          due=shipped_due / 100)
    lines = (
        _rows(billed != ledger, frame,
              "order {order_id}: billed {billed:.2f} != {ledger:.2f} issued + corrected (+ carried over)")
        + _rows(_cents(orders["paid"]).to_numpy() != paid, frame,
                "order {order_id}: paid {paid:.2f} != {paid_ev:.2f} in payment_received "
                "(and prepayment_applied)")
        + _rows(_cents(orders["refunded"]).to_numpy() != refunded, frame,
                "order {order_id}: refunded {refunded:.2f} != {refunded_ev:.2f} in refund_paid")
        + _rows(_settled(events, index, "payment_received", "prepayment_applied") & (billed != paid), frame,
                "order {order_id}: every invoice paid but billed {billed:.2f} != paid {paid:.2f}")
    )
    if policy == CONSULTING:
        lines += _rows(billed > shipped_due + slack, frame,
                       "order {order_id}: billed {billed:.2f} > shipped x agreed price {due:.2f}")
        lines += [f"order {i}: invoice disputed although billing consults"
                  for i in _of(events, "invoice_disputed")["order_id"]]
    if model is not None:  # the units on issued invoices are known only to the model
        units = {o.order_id: sum(s.units for s in o.shipments if s.billed) for o in model.orders}
        correct = pd.Series(units, dtype="int64").reindex(index, fill_value=0).to_numpy() * price
        multi_billed = {o.order_id: sum(s.amount_cents for s in o.shipments if s.billed)
                        for o in model.orders if len(o.lines) > 1}
        if multi_billed:
            multi = pd.Series(multi_billed, dtype="int64").reindex(index).to_numpy(dtype=float)
            correct = np.where(np.isnan(multi), correct, multi)
        frame["correct"] = correct / 100
        if policy == CONSULTING:
            lines += _rows(billed != correct, frame, "order {order_id}: billed {billed:.2f} != invoiced "
                           "shipped units x agreed price {correct:.2f} (consulting billing)")
        else:
            settled = _settled(events, index, "invoice_corrected", "payment_received", "prepayment_applied")
            lines += _rows((billed != correct) & settled, frame, "order {order_id}: billed {billed:.2f} "
                           "!= {correct:.2f} shipped x agreed price after every dispute settled")
    return lines


def check_receivables(orders: pd.DataFrame, events: pd.DataFrame) -> list[str]:
    """(c) Each invoice line is settled (paid, or settled against a prepayment) at most once and
    by exactly what it charges; billed − paid = what the open lines charge (orders not carried
    over from a snapshot, whose opening balance has no lines)."""
    def by_line(*activities: str) -> pd.DataFrame:
        rows = _of(events, *activities)
        keys = [rows["order_id"].astype("int64").to_numpy(), rows["invoice_id"].astype("int64").to_numpy()]
        return _cents(rows["amount"]).groupby(keys).agg(["sum", "size"])

    charged = by_line("invoice_issued", "invoice_carried_over", "invoice_corrected")["sum"]
    settled = by_line("payment_received", "prepayment_applied")
    due = charged.reindex(settled.index, fill_value=0)
    problems = [f"order {o}: invoice {i} settled {n} times" for (o, i), n in settled["size"].items() if n > 1]
    problems += [f"order {o}: invoice {i} settled by {a / 100:.2f}, its line charges {due[(o, i)] / 100:.2f}"
                 for (o, i), a in settled["sum"].items() if a != due[(o, i)]]
    open_lines = charged[~charged.index.isin(settled.index)]
    receivable = open_lines.groupby(level=0).sum().reindex(orders["order_id"], fill_value=0).to_numpy()
    carried = set(_of(events, "order_carried_over")["order_id"].astype("int64"))
    frame = orders.assign(receivable=receivable / 100)
    outstanding = _cents(orders["billed"]).to_numpy() - _cents(orders["paid"]).to_numpy()
    return problems + _rows((outstanding != receivable) & ~orders["order_id"].isin(carried).to_numpy(), frame,
                            "order {order_id}: billed {billed:.2f} - paid {paid:.2f} != {receivable:.2f} "
                            "charged by its open invoice lines")


def check_bounds(orders: pd.DataFrame, events: pd.DataFrame) -> list[str]:
    """(d) refunded ≤ billed, paid ≤ billed, 0 ≤ returned ≤ shipped; refund = returned × price."""
    billed = _cents(orders["billed"])
    refunds = _of(events, "refund_paid")[["order_id", "return_id", "amount"]].astype("float64")
    units = _of(events, "return_received").set_index("return_id")["quantity"].astype("float64")
    prices = _cents(orders.drop_duplicates("order_id").set_index("order_id")["unit_price"])
    refunds["owed"] = (units.reindex(refunds["return_id"]).to_numpy()
                       * prices.reindex(refunds["order_id"]).to_numpy()) / 100
    if "lines" in orders:  # a multi-line order's refund is its shipment's amount (checked in (l))
        counts = orders.drop_duplicates("order_id").set_index("order_id")["lines"]
        one_line = counts.reindex(refunds["order_id"]).to_numpy() == 1
        refunds.loc[~one_line, "owed"] = np.nan
    wrong = refunds["owed"].notna() & (_cents(refunds["amount"]) != _cents(refunds["owed"]))
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
        + _rows(wrong, refunds, "order {order_id:.0f}: refund of return {return_id:.0f} is {amount:.2f}, "
                "returned units x agreed price is {owed:.2f}")
    )


def _blank(column: pd.Series) -> pd.Series:
    return column.isna() | (column.astype(object).astype(str).str.strip() == "")


def check_ownership(orders: pd.DataFrame) -> list[str]:
    """(e) A state and an owner for every order; an open order is never ownerless, and is
    the customer's only while it awaits the customer's answer to a quote."""
    open_ = orders["final_state"].astype(object) == "open"
    owner, state = orders["owner_at_horizon"], orders["state_at_horizon"]
    return (
        _rows(_blank(state), orders, "order {order_id}: no state_at_horizon")
        + _rows(_blank(owner), orders, "order {order_id}: no owner_at_horizon")
        + _rows(open_ & _blank(owner), orders,
                "order {order_id}: open at the horizon with no owner (state {state_at_horizon!r})")
        + _rows(open_ & (owner == "customer") & ~state.isin(["awaiting_customer", "awaiting_prepayment"]),
                orders,
                "order {order_id}: open at the horizon but owned by the customer "
                "(state {state_at_horizon!r}, {shipped_units} of {quantity} units shipped)")
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
    times, activity = events["time"].to_numpy(dtype=float), events["activity"].to_numpy()
    lines = [f"event {i} ({activity[i]}) at {times[i]:.6f} after one at {times[i - 1]:.6f}"
             for i in np.flatnonzero(np.diff(times) < 0) + 1]
    outside = np.flatnonzero(np.isnan(times) | (times < 0) | (times > horizon + EPS))
    return lines + [f"event {i} ({activity[i]}) at {times[i]} outside [0, {horizon:g}]" for i in outside]


def check_unattended(orders: pd.DataFrame, horizon: float) -> list[str]:
    """(h) 0 ≤ unattended hours ≤ the order's age at the horizon."""
    frame = orders.assign(age=(horizon - orders["inquiry_time"]) * 24)
    hours = orders["unattended_hours"]
    return (
        _rows(hours.isna() | (hours < 0), frame, "order {order_id}: unattended_hours {unattended_hours}")
        + _rows(hours > frame["age"] + 1e-6, frame,
                "order {order_id}: unattended {unattended_hours:.2f} h > age {age:.2f} h at the horizon")
    )


def check_stock(orders: pd.DataFrame, events: pd.DataFrame, model: Any) -> list[str]:
    """(i) Stock balances per product; back-orders are filled or still open; lost sales ship nothing."""
    lines: list[str] = []
    moves = _of(events, "stock_initial", "stock_received", "stock_issued")
    sign = np.where(moves["activity"] == "stock_issued", -1, 1)
    signed = pd.Series(sign * moves["quantity"].to_numpy(dtype=float), index=moves.index)
    for product, level in signed.groupby(moves["product_id"].astype(object)).cumsum().groupby(
            moves["product_id"].astype(object)):
        if (level < -EPS).any():
            lines.append(f"product {product}: stock falls to {level.min():g} units")
        if model is not None and abs(level.iloc[-1] - model.stock[product]) > EPS:
            lines.append(f"product {product}: events leave {level.iloc[-1]:g} units on hand, "
                         f"the model holds {model.stock[product]}")
    created = _of(events, "backorder_created").groupby("order_id")["quantity"].sum()
    filled = _of(events, "backorder_filled").groupby("order_id")["quantity"].sum()
    open_units = created.sub(filled.reindex(created.index, fill_value=0.0))
    if model is not None:
        owed: dict[int, int] = {}  # an order of several lines may owe several back-orders
        for queue in model.backorders.values():
            for b in queue:
                owed[b.order.order_id] = owed.get(b.order.order_id, 0) + b.open_units
        for order_id, units in open_units.items():
            if abs(units - owed.get(int(order_id), 0)) > EPS:
                lines.append(f"order {int(order_id)}: back-ordered {created[order_id]:g} units, filled "
                             f"{created[order_id] - units:g}, but {owed.get(int(order_id), 0)} still owed")
    lines += [f"order {int(i)}: back-order filled beyond its {created.get(i, 0):g} units"
              for i in filled.index if filled[i] > created.get(i, 0) + EPS]
    lost = orders[orders["final_state"] == "lost_sale"]
    lines += _rows(lost["shipped_units"].to_numpy() > 0, lost,
                   "order {order_id}: lost for want of stock but shipped {shipped_units} units")
    lines += [f"order {int(i)}: lost for want of stock but back-ordered"
              for i in lost["order_id"] if i in created.index]
    return lines


def check_machines(events: pd.DataFrame, horizon: float) -> list[str]:
    """(j) One job at a time per machine; pauses and resumes of each job alternate."""
    lines: list[str] = []
    production = events[(events["step"] == "production") & events["job_id"].notna()
                        & events["activity"].isin(["changeover_started", "operation_started",
                                                   "operation_completed", "operation_paused",
                                                   "operation_resumed"])]
    if production.empty:
        return lines
    activity = production["activity"].astype(str)
    pauses = production[activity.isin(["operation_paused", "operation_resumed"])]
    completed = set(production.loc[activity == "operation_completed", "job_id"].astype(int))
    for job_id, rows in pauses.groupby("job_id", sort=True):
        kinds = list(rows["activity"].astype(str))
        expected = ["operation_paused", "operation_resumed"] * (len(kinds) // 2 + 1)
        if kinds != expected[:len(kinds)]:
            lines.append(f"job {int(job_id)}: pauses and resumes out of turn: {kinds}")
        elif kinds[-1] == "operation_paused" and int(job_id) in completed:
            lines.append(f"job {int(job_id)}: completed while paused")
    spans = production[activity.isin(["changeover_started", "operation_started", "operation_completed"])]
    first = spans.groupby("job_id")["time"].min()
    last = spans[spans["activity"] == "operation_completed"].groupby("job_id")["time"].max()
    machine = spans[spans["activity"] == "operation_started"].groupby("job_id")["resource"].first()
    table = pd.DataFrame({"start": first, "end": last.reindex(first.index).fillna(horizon),
                          "machine": machine.reindex(first.index)}).dropna(subset=["machine"])
    for label, rows in table.sort_values("start", kind="stable").groupby("machine", sort=True):
        starts, ends = rows["start"].to_numpy(dtype=float), rows["end"].to_numpy(dtype=float)
        overlap = starts[1:] < ends[:-1] - EPS
        lines += [f"machine {label}: job {int(rows.index[k + 1])} began at {starts[k + 1]:.6f} before job "
                  f"{int(rows.index[k])} ended at {ends[k]:.6f}" for k in np.flatnonzero(overlap)]
    return lines


WORKING = frozenset({"changeover_started", "expedite_changeover", "operation_started", "operation_resumed",
                     "machine_repaired"})
"""Activities after which a machine works until the job's next event."""


def check_working_time(events: pd.DataFrame, model: Any) -> list[str]:
    """(k) Machines of calendared work centres work only in their shifts or in overtime."""
    centres = {cid: c for cid, c in getattr(model, "centres", {}).items() if c.shift_calendars is not None}
    if not centres:
        return []
    lines: list[str] = []
    grants = events[events["activity"] == "overtime_granted"]
    overtime: dict[str, list[tuple[float, float]]] = {}
    for centre_id, time, hours in zip(grants["resource"].astype(str), grants["time"], grants["quantity"],
                                      strict=True):
        overtime.setdefault(centre_id, []).append((float(time), float(time) + float(hours) / 24))
    plans: dict[str, list[tuple[float, int]]] = {}
    for row in model.plan_rows:
        plans.setdefault(row["work_centre"], []).append((row["period_start"], row["shifts"]))
    production = events[(events["step"] == "production") & events["job_id"].notna()]
    for job_id, rows in production.groupby("job_id", sort=True):
        centre_id = str(rows["resource"].iloc[0]).split(":")[0]
        if centre_id not in centres:
            continue
        acts, times = list(rows["activity"].astype(str)), list(rows["time"].astype(float))
        amounts = list(rows["quantity"].astype(float))
        for k in range(len(acts) - 1):
            a, b = times[k], times[k + 1]
            if acts[k] == "changeover_started":
                # a changeover's hours are known: one that ends at a close (e.g. with the overtime)
                # leaves the machine waiting, unlogged, for its next shift to start the operation
                b = min(b, a + amounts[k] / 24)
            if acts[k] not in WORKING or b - a < EPS:
                continue
            # the most shifts planned at any moment of the stretch: a shift change reaches a machine
            # when it next wakes, and fewer shifts are staffed within more (1 in 2 in 3)
            plan = plans.get(centre_id, [])
            at_start = [n for start, n in plan if start <= a + 1e-12][-1:]
            shifts = max([*at_start, *(n for start, n in plan if a + 1e-12 < start < b)]
                         or [centres[centre_id].shifts])
            calendar = centres[centre_id].shift_calendars[shifts]
            staffed = calendar.open_days(a, b)
            for lo, hi in overtime.get(centre_id, ()):  # overtime outside the shifts
                lo, hi = max(a, lo), min(b, hi)
                if hi > lo:
                    staffed += (hi - lo) - calendar.open_days(lo, hi)
            if abs(staffed - (b - a)) > 1e-7:
                lines.append(f"job {int(job_id)} at {centre_id}: worked {(b - a) * 24:.4f} h from "
                             f"{acts[k]} at day {a:.6f}, only {staffed * 24:.4f} h of it staffed")
    return lines


def check_staff_working_time(events: pd.DataFrame, scenario: Any, model: Any) -> list[str]:
    """(n) Calendared staff pools start tasks only in working time or in their granted overtime."""
    every = scenario_calendars(scenario, getattr(model, "start_day", 0.0))
    calendars = {pool: calendar for pool, calendar in every.items() if pool in STAFF_POOLS}
    if not calendars:
        return []
    resource = events["resource"].astype(str)
    grants = events[(events["activity"] == "overtime_granted") & resource.isin(tuple(calendars))]
    overtime: dict[str, list[tuple[float, float]]] = {}
    for pool, time, hours in zip(grants["resource"].astype(str), grants["time"], grants["quantity"],
                                 strict=True):
        overtime.setdefault(pool, []).append((float(time), float(time) + float(hours) / 24))
    is_start = events["activity"].astype(str).str.endswith("_started")
    started = events[is_start & resource.isin(tuple(calendars))]
    lines: list[str] = []
    for pool, activity, time in zip(started["resource"].astype(str), started["activity"].astype(str),
                                    started["time"].astype(float), strict=True):
        if calendars[pool].is_open(time):
            continue
        if any(lo - EPS <= time < hi - EPS for lo, hi in overtime.get(pool, ())):
            continue
        lines.append(f"{activity} at {pool} at day {time:.6f}: the pool is closed and has no overtime then")
    return lines


def check_lines(orders: pd.DataFrame, events: pd.DataFrame, lines: pd.DataFrame | None,
                model: Any) -> list[str]:
    """(l) Conservation of lines and of the quantities of every line; a line's one owner."""
    if lines is None:
        return []
    problems: list[str] = []
    per_order = lines.groupby("order_id").agg(count=("line_id", "size"), quantity=("quantity", "sum"),
                                              shipped=("shipped_units", "sum"))
    frame = orders.drop_duplicates("order_id").set_index("order_id")  # (a) reports duplicates
    count = per_order["count"].reindex(frame.index, fill_value=0)
    problems += [f"order {i}: {frame.at[i, 'lines']} lines in orders, {c:g} in lines"
                 for i, c in count.items() if c != frame.at[i, "lines"] or c < 1]
    quantity = per_order["quantity"].reindex(frame.index)
    problems += [f"order {i}: quantity {frame.at[i, 'quantity']} but its lines hold {q:g}"
                 for i, q in quantity.items() if q != frame.at[i, "quantity"]]
    shipped = per_order["shipped"].reindex(frame.index)
    problems += [f"order {i}: shipped {frame.at[i, 'shipped_units']} but its lines shipped {q:g}"
                 for i, q in shipped.items() if q != frame.at[i, "shipped_units"]]
    problems += _rows(lines["shipped_units"] > lines["quantity"], lines,
                      "line {line_id}: shipped {shipped_units} > quantity {quantity}")
    problems += _rows(lines["delivered_units"] > lines["shipped_units"], lines,
                      "line {line_id}: delivered {delivered_units} > shipped {shipped_units}")
    problems += _rows(lines["returned_units"] > lines["delivered_units"], lines,
                      "line {line_id}: returned {returned_units} > delivered {delivered_units}")
    problems += _rows(lines["from_stock_units"] + lines["backordered_units"] > lines["quantity"], lines,
                      "line {line_id}: {from_stock_units} from stock + {backordered_units} back-ordered "
                      "> quantity {quantity}")
    done = lines["order_id"].map(frame["final_state"].astype(object)).isin(["delivered", "returned"])
    problems += _rows(done & (lines["delivered_units"] != lines["quantity"]), lines,
                      "line {line_id}: order delivered with {delivered_units} of {quantity} units delivered")
    by_line = lines.set_index("line_id")
    carried = set(_of(events, "order_carried_over")["order_id"].astype("int64"))
    opening = by_line.index[by_line["order_id"].isin(carried)]  # lines that held units before time 0
    filled = _of(events, "backorder_filled").dropna(subset=["line_id"]).groupby("line_id")["quantity"].sum()
    for activity, column in (("stock_issued", "from_stock_units"),
                             ("backorder_created", "backordered_units")):
        logged = _of(events, activity).dropna(subset=["line_id"]).groupby("line_id")["quantity"].sum()
        if activity == "stock_issued":  # at release, and on receipts for the line's back-order
            logged = logged.sub(filled.reindex(logged.index, fill_value=0.0))
        expected = by_line[column]
        expected = expected[expected > 0]
        diff = logged.reindex(expected.index.union(logged.index), fill_value=0) - expected.reindex(
            expected.index.union(logged.index), fill_value=0)
        # a line carried over from a state snapshot counts its units from before time 0 too
        problems += [f"line {int(i)}: {activity} logs {logged.get(i, 0):g} units, the line has "
                     f"{expected.get(i, 0):g} {column}" for i, d in diff.items()
                     if d > EPS or (d < -EPS and i not in opening)]
    received = _of(events, "return_received").dropna(subset=["line_id"]).set_index("return_id")
    refunds = _of(events, "refund_paid").dropna(subset=["line_id"])
    if len(refunds):  # a line's return refunds its units at the line's agreed price
        units = received["quantity"].reindex(refunds["return_id"]).to_numpy(dtype=float)
        price = by_line["unit_price"].reindex(refunds["line_id"].astype("int64")).to_numpy(dtype=float)
        owed = units * np.round(price * 100)
        amount = np.round(refunds["amount"].to_numpy(dtype=float) * 100)
        rows = zip(refunds["line_id"], refunds["return_id"], amount, owed, strict=True)
        problems += [f"line {int(x)}: refund of return {int(r)} is {a / 100:.2f}, "
                     f"its units x price {o / 100:.2f}" for x, r, a, o in rows if not np.isnan(o) and a != o]
    named = events.dropna(subset=["line_id"])
    owner = by_line["order_id"].reindex(named["line_id"].astype("int64")).to_numpy()
    wrong = named[owner != named["order_id"].to_numpy(dtype="int64")]
    problems += [f"event {a} names line {int(x)} of order {o}, but is about order {int(e)}"
                 for a, x, e, o in zip(wrong["activity"], wrong["line_id"], wrong["order_id"],
                                       by_line["order_id"].reindex(wrong["line_id"].astype("int64")),
                                       strict=True)]
    if model is not None:
        for order in model.orders:
            for shipment in order.shipments:
                if any(line.order is not order for line, _ in shipment.lines):
                    problems.append(f"shipment {shipment.shipment_id} of order {order.order_id} carries a "
                                    "line of another order")
                if sum(units for _, units in shipment.lines) != shipment.units:
                    carried = sum(units for _, units in shipment.lines)
                    problems.append(f"shipment {shipment.shipment_id}: its lines carry {carried} units, "
                                    f"the shipment {shipment.units}")
    return problems


PREPAYMENT = ("prepayment_invoiced", "prepayment_received", "prepayment_applied", "prepayment_refunded",
              "order_cancelled")


def check_prepayment(orders: pd.DataFrame, events: pd.DataFrame, scenario: Any) -> list[str]:
    """(m) Prepayment: its money balances, it is paid once, nothing leaves (or is released) before it."""
    logged = _of(events, *PREPAYMENT)
    if "pays_in_advance" not in orders:
        return [f"order {o}: {a} in a run without prepayment terms" for a, o in
                zip(logged["activity"].astype(str), logged["order_id"], strict=True)]
    index = pd.Index(orders["order_id"])
    ahead = orders["pays_in_advance"].to_numpy(dtype=bool)

    def count(activity: str) -> np.ndarray:
        return _of(events, activity).groupby("order_id").size().reindex(index, fill_value=0).to_numpy()

    def first(activity: str) -> np.ndarray:
        return _of(events, activity).groupby("order_id")["time"].min().reindex(index).to_numpy(dtype=float)

    asked, received, applied, back = (_per_order(events, activity, "amount", index).to_numpy()
                                      for activity in PREPAYMENT[:4])
    paid_at, picked = first("prepayment_received"), first("picking_started")
    released = first("order_prioritized")
    blocks = {s.id: s.prepayment.blocks if s.prepayment is not None else "" for s in scenario.segments}
    at_release = orders["segment"].astype(object).map(blocks).to_numpy() == "release"
    cancelled = (orders["final_state"] == CANCELLED).to_numpy()
    frame = orders.assign(asked=asked / 100, received=received / 100, applied_ev=applied / 100,
                          back=back / 100, paid_at=paid_at, picked=picked, released=released)

    def early(times: np.ndarray) -> np.ndarray:  # happened before the payment came, or without it
        return ~np.isnan(times) & (np.isnan(paid_at) | (times < paid_at - EPS))

    return (
        _rows(~ahead & (count("prepayment_invoiced") + count("order_cancelled") > 0), frame,
              "order {order_id}: prepayment events, but it is not on prepayment terms")
        + _rows(_cents(orders["prepaid"]).to_numpy() != received, frame,
                "order {order_id}: prepaid {prepaid:.2f} != {received:.2f} in prepayment_received")
        + _rows(_cents(orders["prepayment_applied"]).to_numpy() != applied, frame, "order {order_id}: "
                "prepayment_applied {prepayment_applied:.2f} != {applied_ev:.2f} in its events")
        + _rows(_cents(orders["prepayment_refunded"]).to_numpy() != back, frame, "order {order_id}: "
                "prepayment_refunded {prepayment_refunded:.2f} != {back:.2f} in its events")
        + _rows((count("prepayment_received") > 1) | (count("prepayment_invoiced") > 1), frame,
                "order {order_id}: more than one prepayment request or payment")
        + _rows((count("prepayment_received") > 0) & (received != asked), frame,
                "order {order_id}: paid {received:.2f} in advance, {asked:.2f} were asked")
        + _rows(applied + back > received, frame, "order {order_id}: {applied_ev:.2f} settled against "
                "and {back:.2f} paid back of a prepayment of {received:.2f}")
        + _rows(ahead & (count("payment_received") > 0), frame,
                "order {order_id}: on prepayment terms, yet it paid an invoice too (payment_received)")
        + _rows(ahead & early(picked), frame, "order {order_id}: picked at day {picked:.4f}, before its "
                "prepayment came (day {paid_at:.4f})")
        + _rows(ahead & at_release & early(released), frame, "order {order_id}: released at day "
                "{released:.4f}, before its prepayment came (day {paid_at:.4f})")
        + _rows(cancelled & ((count("order_cancelled") != 1) | (count("prepayment_received") > 0)
                             | ~np.isnan(released) | (orders["shipments"].to_numpy() > 0)
                             | (_cents(orders["billed"]).to_numpy() != 0)), frame,
                "order {order_id}: cancelled, yet paid, released, shipped or billed (or no order_cancelled)")
        + _rows(ahead & (orders["final_state"] == "lost_sale").to_numpy() & (back != received), frame,
                "order {order_id}: lost for want of stock, {back:.2f} of {received:.2f} prepaid paid back")
    )


def check_field_reports(forecasts: pd.DataFrame | None) -> list[str]:
    """(o) Units reported ahead of each (period, product) are at most its demand."""
    if forecasts is None or "reported_units" not in forecasts:
        return []
    over = forecasts[forecasts["reported_units"] > forecasts["actual_units"] + 1e-9]
    return [f"period {r.period} {r.product_id}: {r.reported_units:g} units reported ahead, demand "
            f"{r.actual_units:g}" for r in over.itertuples()]


def check_run(result: Any) -> list[str]:
    """Every violated invariant of a finished run, one line each (``[]``: all hold).

    Args:
        result: a :class:`~ordercycle.sim.run.RunResult`, or anything with its
            ``orders``, ``events`` and ``scenario`` (and, optionally, ``model``).

    Each check reports at most :data:`MAX_PER_CHECK` lines, then how many more it found.
    """
    orders, events = result.orders, result.events
    horizon = float(result.scenario.horizon_days)
    policy = result.scenario.policies.billing.name
    checks = {
        "a": check_inquiries(orders, events),
        "b": check_shipments(orders, events),
        "c": check_billing(orders, events, policy, getattr(result, "model", None))
        + check_receivables(orders, events),
        "d": check_bounds(orders, events),
        "e": check_ownership(orders),
        "f": check_times(orders, horizon),
        "g": check_event_order(events, horizon),
        "h": check_unattended(orders, horizon),
        "i": check_stock(orders, events, getattr(result, "model", None)),
        "j": check_machines(events, horizon),
        "k": check_working_time(events, getattr(result, "model", None)),
        "l": check_lines(orders, events, getattr(result, "lines", None), getattr(result, "model", None)),
        "m": check_prepayment(orders, events, result.scenario),
        "n": check_staff_working_time(events, result.scenario, getattr(result, "model", None)),
        "o": check_field_reports(getattr(result, "forecasts", None)),
    }
    problems: list[str] = []
    for tag, lines in checks.items():
        problems.extend(f"({tag}) {line}" for line in lines[:MAX_PER_CHECK])
        if len(lines) > MAX_PER_CHECK:
            problems.append(f"({tag}) ... and {len(lines) - MAX_PER_CHECK} more")
    return problems
