"""State snapshots of orders of several lines: captured from the baseline, restored, continued.

A run continued from a snapshot cannot equal the uninterrupted run event for event: its
random streams start afresh at the snapshot (new inquiries, task times, carriers), the
orders' fates are drawn again from the ``snapshot.*`` streams, and a task in progress
restarts. What the snapshot carries over is compared exactly instead: every line
(product, quantity, price, units from stock, back-ordered, in shipments), every
shipment (what it carries, when it left and arrived), the shipments in transit (they
arrive when they would have), the money of the orders settled in both runs, and every
invariant of the continued run (``sim/invariants.py``: orders, quantities, money, lines).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from ordercycle.policies.bundle import make_bundle, write_bundle
from ordercycle.scenarios.loader import content_hash, load, override
from ordercycle.sim.cli import main
from ordercycle.sim.invariants import check_run
from ordercycle.sim.model import CompanyModel
from ordercycle.sim.placement import capture, write_snapshot
from ordercycle.sim.run import simulate
from ordercycle.sim.snapshot import Snapshot, SnapshotError, parse_snapshot, read_snapshot, starting_from

TAKEN_AT = 25.0
AHEAD = 20.0


@pytest.fixture(scope="module")
def company():
    """The baseline (orders of one to three lines, shipped complete) over 45 days, no warm-up."""
    return override(load("baseline"), horizon_days=TAKEN_AT + AHEAD, warmup_days=0.0)


@pytest.fixture(scope="module")
def uninterrupted(company):
    """The run the snapshot is taken of (seed 3), at day 25; it goes on to day 45."""
    return simulate(company, seed=3, snapshot_at=TAKEN_AT)


@pytest.fixture(scope="module")
def taken(uninterrupted):
    return uninterrupted.snapshot


@pytest.fixture(scope="module")
def continued(company, taken):
    """The run continued from the snapshot to day 45."""
    return simulate(starting_from(company, taken, AHEAD), seed=3)


def _multi(snapshot):
    return [order for order in snapshot.orders if len(order.lines) > 1]


def test_the_snapshot_holds_multi_line_orders_at_every_step(taken):
    multi = _multi(taken)
    steps = {order.step for order in multi}
    assert {"awaiting_customer", "production", "shipping", "in_transit", "installation", "delivered"} <= steps
    pending = {line.pending for order in multi for line in order.lines}
    assert {"none", "production"} <= pending
    assert any(line.ready_units for order in multi for line in order.lines), "ready lines held back"
    stages = {s.stage for order in multi for s in order.shipments}
    assert stages == {"picking", "in_transit", "delivered"}
    assert all(
        s.transit_days_left is not None for order in multi for s in order.shipments if s.stage == "in_transit"
    )
    assert any(s.invoice_id for order in multi for s in order.shipments)


def test_every_line_and_shipment_is_what_the_run_had_at_that_day(taken, uninterrupted):
    lines = uninterrupted.lines.set_index("line_id")
    shipped = uninterrupted.shipment_lines
    for order in _multi(taken):
        for state in order.lines:
            row = lines.loc[state.line_id]
            assert (row["order_id"], row["product_id"], row["quantity"]) == (
                order.order_id,
                state.product,
                state.quantity,
            )
            if order.step not in ("inquiry", "estimating", "awaiting_customer", "entry"):  # (entry may
                assert row["unit_price"] == state.unit_price  # renegotiate the prices)
            if order.step not in ("inquiry", "estimating", "awaiting_customer", "entry", "selection"):
                # set at release, never changed later
                assert (row["from_stock_units"], row["backordered_units"]) == (
                    state.from_stock_units,
                    state.backordered_units,
                )
        left = shipped[(shipped["order_id"] == order.order_id) & (shipped["dispatched_time"] < TAKEN_AT)]
        listed = {
            (s.shipment_id, part.line_id, part.units)
            for s in order.shipments
            if s.stage != "picking"
            for part in s.lines
        }
        assert listed == set(zip(left["shipment_id"], left["line_id"], left["units"], strict=True))
        for s in order.shipments:
            run = shipped[shipped["shipment_id"] == s.shipment_id].iloc[0]
            if s.stage != "picking":
                assert s.dispatched_day == pytest.approx(run["dispatched_time"] - TAKEN_AT, abs=1e-9)
            assert (s.stage == "delivered") == (run["delivered_time"] < TAKEN_AT)


def test_placing_then_capturing_gives_the_same_snapshot(company, taken):
    model = CompanyModel(starting_from(company, taken, AHEAD), seed=1)
    model.start()
    again = capture(model).model_dump()
    first = taken.model_dump()
    assert again.pop("description") != first.pop("description")  # (it says when and from what)
    assert again == first


def test_the_continued_run_keeps_every_invariant_and_every_carried_line(continued, taken):
    assert check_run(continued) == []
    lines = continued.lines.set_index("line_id")
    after = continued.shipment_lines
    new_units = after[after["dispatched_time"] >= 0].groupby("line_id")["units"].sum()
    orders = continued.orders.set_index("order_id")
    carried_units = 0
    for order in _multi(taken):
        before = {line.line_id: 0 for line in order.lines}
        for s in order.shipments:
            for part in s.lines:
                before[part.line_id] += part.units if s.stage != "picking" else 0
        for state in order.lines:
            row = lines.loc[state.line_id]
            assert (row["order_id"], row["product_id"], row["quantity"]) == (
                order.order_id,
                state.product,
                state.quantity,
            )
            # units shipped before the snapshot + units shipped after it = the line's shipped units
            assert row["shipped_units"] == before[state.line_id] + new_units.get(state.line_id, 0)
            carried_units += state.quantity
        if orders.at[order.order_id, "final_state"] == "delivered":
            assert (
                lines.loc[[line.line_id for line in order.lines], "delivered_units"]
                == [line.quantity for line in order.lines]
            ).all()
    assert carried_units == lines.loc[[x.line_id for o in _multi(taken) for x in o.lines], "quantity"].sum()
    fulfilling = [o.order_id for o in _multi(taken) if o.step in ("production", "shipping", "in_transit")]
    assert orders.loc[fulfilling, "final_state"].isin(["delivered", "returned"]).mean() > 0.8


def test_shipments_in_transit_arrive_when_they_would_have(continued, taken, uninterrupted):
    moving = {s.shipment_id for o in _multi(taken) for s in o.shipments if s.stage == "in_transit"}
    assert len(moving) >= 5
    run = uninterrupted.shipment_lines.drop_duplicates("shipment_id").set_index("shipment_id")
    after = continued.shipment_lines.drop_duplicates("shipment_id").set_index("shipment_id")
    for shipment_id in sorted(moving):
        assert after.at[shipment_id, "delivered_time"] + TAKEN_AT == pytest.approx(
            run.at[shipment_id, "delivered_time"], abs=1e-9
        )


def test_orders_settled_in_both_runs_are_billed_alike(continued, taken, uninterrupted):
    """Billing charges the shipments at the lines' prices however the run went on."""
    ids = [o.order_id for o in _multi(taken) if o.step != "awaiting_customer"]
    a = uninterrupted.orders.set_index("order_id").loc[ids]
    b = continued.orders.set_index("order_id").loc[ids]
    settled = (
        (a["shipped_units"] == a["quantity"])
        & (a["paid"] == a["billed"])
        & (b["shipped_units"] == b["quantity"])
        & (b["paid"] == b["billed"])
        & (a["billed"] > 0)
    )
    assert settled.sum() > 50
    assert (a.loc[settled, "billed"] == b.loc[settled, "billed"]).all()


# --- a snapshot written by hand: one line delivered, one back-ordered; a line in production ----------


def _by_hand(**changes):
    """Order 7: its valve line delivered and billed on open invoice 9, its filter line back-ordered (1 of 4
    allocated); order 8: its pump line in production at assembly, its valve line in transit (0.5 days
    left, not yet billed). A filter batch at assembly will fill the back-order."""
    data = {
        "stock": {"filter": 0},
        "replenishments": [{"product": "filter", "units": 50, "routing_step": 1, "step_progress": 0.5}],
        "orders": [
            {
                "order_id": 7,
                "customer_id": "regular-3",
                "segment": "regular",
                "product": "valve",
                "quantity": 7,
                "step": "backordered",
                "inquiry_day": -6.0,
                "unit_price": 75.43,
                "promised_day": 3.0,
                "entered_day": -5.0,
                "released_day": -4.5,
                "shipped_units": 3,
                "invoiced_units": 3,
                "billed": 360.0,
                "first_ship_day": -3.0,
                "lines": [
                    {
                        "line_id": 11,
                        "product": "valve",
                        "quantity": 3,
                        "unit_price": 120.0,
                        "from_stock_units": 3,
                    },
                    {
                        "line_id": 12,
                        "product": "filter",
                        "quantity": 4,
                        "unit_price": 42.0,
                        "backordered_units": 4,
                        "pending": "backorder",
                        "backorder_allocated": 1,
                    },
                ],
                "shipments": [
                    {
                        "shipment_id": 5,
                        "lines": [{"line_id": 11, "units": 3}],
                        "stage": "delivered",
                        "dispatched_day": -3.0,
                        "delivered_day": -2.0,
                        "billed": True,
                        "invoice_id": 9,
                    }
                ],
            },
            {
                "order_id": 8,
                "customer_id": "strategic-2",
                "segment": "strategic",
                "product": "pump",
                "quantity": 7,
                "step": "production",
                "inquiry_day": -9.0,
                "promised_day": 6.0,
                "entered_day": -8.0,
                "shipped_units": 5,
                "first_ship_day": -1.0,
                "lines": [
                    {
                        "line_id": 21,
                        "product": "pump",
                        "quantity": 2,
                        "unit_price": 900.0,
                        "pending": "production",
                        "routing_step": 2,
                        "step_progress": 0.25,
                    },
                    {
                        "line_id": 22,
                        "product": "valve",
                        "quantity": 5,
                        "unit_price": 110.0,
                        "from_stock_units": 5,
                    },
                ],
                "shipments": [
                    {
                        "shipment_id": 6,
                        "lines": [{"line_id": 22, "units": 5}],
                        "stage": "in_transit",
                        "dispatched_day": -1.0,
                        "transit_days_left": 0.5,
                    }
                ],
            },
        ],
        "invoices": [
            {
                "invoice_id": 9,
                "customer_id": "regular-3",
                "issued_day": -2.0,
                "lines": [{"order_id": 7, "units": 3, "amount": 360.0}],
            }
        ],
    }
    data.update(changes)
    return data


@pytest.fixture(scope="module")
def partial_company():
    """The baseline over 12 days, shipping each part as it is ready (what the snapshot by hand needs)."""
    return override(
        load("baseline"),
        horizon_days=12.0,
        warmup_days=0.0,
        policies={"fulfilment": {"name": "ship-partial", "params": {}}},
    )


@pytest.fixture(scope="module")
def by_hand(partial_company):
    snapshot = parse_snapshot(_by_hand(), partial_company)
    return snapshot, simulate(starting_from(partial_company, snapshot, 12.0), seed=0)


def test_a_back_ordered_line_is_filled_shipped_and_the_order_completed(by_hand):
    _, result = by_hand
    assert check_run(result) == []
    events = result.events
    line = events[events["line_id"] == 12]
    created = line[line["activity"] == "backorder_created"]
    assert created["time"].tolist() == [0.0] and created["quantity"].tolist() == [3.0]  # 1 of 4 allocated
    assert line[line["activity"] == "backorder_filled"]["quantity"].sum() == 3.0
    dispatched = line[line["activity"] == "shipment_dispatched"]
    assert dispatched["quantity"].tolist() == [4.0] and (dispatched["shipment_id"] > 6).all()
    lines = result.lines.set_index("line_id")
    assert lines.loc[11, ["shipped_units", "delivered_units", "shipments"]].tolist() == [3, 3, 1]
    assert lines.loc[12, ["shipped_units", "delivered_units", "backordered_units"]].tolist() == [4, 4, 4]
    order = result.orders.set_index("order_id").loc[7]
    assert order["final_state"] == "delivered" and order["shipments"] == 2
    # the new shipment is invoiced per shipment at the line's price
    issued = events[(events["order_id"] == 7) & (events["activity"] == "invoice_issued")]
    assert issued["amount"].tolist() == [168.0] and order["billed"] == 360.0 + 168.0
    assert 9 in result.model.open_invoices  # issued 2 days before, on 30 days' terms: still open


def test_a_line_in_production_resumes_at_its_operation_and_a_shipment_arrives_on_time(by_hand):
    _, result = by_hand
    events = result.events
    queued = events[(events["line_id"] == 21) & (events["activity"] == "operation_queued")]
    assert queued["resource"].tolist() == ["assembly", "testing"]  # not cutting or machining again
    arrived = events[(events["shipment_id"] == 6) & (events["activity"] == "shipment_delivered")]
    assert arrived["time"].tolist() == [0.5] and arrived["line_id"].tolist() == [22]
    order = events[events["order_id"] == 8]
    assert {"installation_started", "order_delivered"} <= set(order["activity"])
    monthly = result.model.pending_invoices.get("strategic-2", [])
    assert {s.shipment_id for s in monthly} >= {6}  # billed in the customer's monthly run


BAD = {
    "units do not add up": (
        {"orders.0.lines.1.backorder_allocated": None, "orders.0.lines.1.ready_units": 1},
        "orders.0.lines.1: ready_units 1 + 0 units in shipments + 4 pending != quantity 4",
    ),
    "unknown line in a shipment": (
        {"orders.0.shipments.0.lines.0.line_id": 99},
        "orders.0.shipments.0.lines.0.line_id: 99 is not a line",
    ),
    "shipped units": (
        {"orders.0.shipped_units": 2},
        "orders.0.shipped_units: 2, but its shipments dispatched 3",
    ),
    "back-order of a made-to-order line": (
        {"orders.1.lines.0.pending": "backorder", "orders.1.lines.0.backordered_units": 2},
        "orders.1.lines.0.pending: 'pump' is made to order",
    ),
    "billed": ({"orders.0.billed": 300.0}, "orders.0.billed: 300.00 differs from what its billed shipments"),
    "picked yet billed": (
        {
            "orders.1.shipments.0.stage": "picking",
            "orders.1.shipments.0.dispatched_day": None,
            "orders.1.shipments.0.transit_days_left": None,
            "orders.1.shipped_units": 0,
            "orders.1.shipments.0.billed": True,
        },
        "orders.1.shipments.0: a shipment being picked has not left",
    ),
    "invoice units": (
        {"invoices.0.lines.0.units": 2},
        "invoices.0.lines.0.units: 2, but the shipments of order 7 on invoice 9 carry 3",
    ),
    "a line twice": ({"orders.1.lines.1.line_id": 11}, "orders.1.lines.1.line_id: line 11 is also orders.0"),
    "quantity": ({"orders.1.quantity": 9}, "orders.1.quantity: 9, but its lines hold 7 units"),
    "step": ({"orders.1.step": "in_transit"}, "orders.1.step: in_transit needs every unit"),
    "version 1": ({"schema_version": 1}, "orders.0.lines: needs schema_version 2"),
}


def _set(data, path, value):
    keys = path.split(".")
    target = data
    for key in keys[:-1]:
        target = target[int(key)] if key.isdigit() else target[key]
    if value is None:
        target.pop(keys[-1], None)
    else:
        target[keys[-1]] = value


@pytest.mark.parametrize("case", sorted(BAD))
def test_contradicting_lines_and_shipments_are_refused_by_field(partial_company, case):
    changes, expected = BAD[case]
    data = json.loads(json.dumps(_by_hand()))
    for path, value in changes.items():
        _set(data, path, value)
    with pytest.raises(SnapshotError) as error:
        parse_snapshot(data, partial_company, "today.json")
    assert any(line.startswith("today.json: ") and expected in line for line in error.value.problems), (
        error.value.problems
    )


def test_a_claim_names_a_delivered_shipment_and_a_line_it_carries(partial_company):
    claim = {"return_id": 4, "order_id": 7, "units": 2, "stage": "approval", "shipment_id": 5, "line_id": 12}
    with pytest.raises(SnapshotError, match="returns.0.line_id: shipment 5 carries no line 12"):
        parse_snapshot(_by_hand(returns=[claim]), partial_company)
    snapshot = parse_snapshot(_by_hand(returns=[{**claim, "line_id": 11}]), partial_company)
    result = simulate(starting_from(partial_company, snapshot, 12.0), seed=0)
    assert check_run(result) == []
    claim_events = result.events[result.events["return_id"] == 4]
    assert set(claim_events["shipment_id"]) == {5} and set(claim_events["line_id"].dropna()) == {11}


# --- versions, files, command line -------------------------------------------------------------------


def test_a_version_1_snapshot_still_reads_and_an_unknown_version_is_refused(tmp_path, capsys):
    example_path = Path(__file__).resolve().parents[2] / "scenarios" / "twin" / "example-snapshot.json"
    example = json.loads(example_path.read_text())
    assert example["schema_version"] == 1
    snapshot = read_snapshot(example_path, load("around-the-clock"))
    assert snapshot.schema_version == 1 and all(not o.lines for o in snapshot.orders)
    path = tmp_path / "future.json"
    path.write_text(json.dumps({**example, "schema_version": 3}))
    with pytest.raises(
        SnapshotError,
        match=r"schema_version: 3 is not a snapshot format this version of "
        r"ordercycle reads \(1, 2\)",
    ):
        read_snapshot(path, load("around-the-clock"))
    assert (
        main(
            [
                "promise-risk",
                str(path),
                "--scenario",
                "around-the-clock",
                "--product",
                "pump",
                "--quantity",
                "1",
                "--dates",
                "2",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "schema_version: 3" in err and "Traceback" not in err


def test_csv_tables_hold_the_lines_and_shipments(tmp_path, company, taken):
    from ordercycle.sim.snapshot_tables import write_tables

    folder = write_tables(taken, tmp_path / "today")
    rows = pd.read_csv(folder / "order_lines.csv")
    assert len(rows) == sum(len(o.lines) for o in taken.orders)
    assert read_snapshot(folder, company) == taken
    (folder / "shipment_lines.csv").write_text("shipment_id,line_id,units\n999999,1,1\n")
    with pytest.raises(SnapshotError, match="shipment_lines.0.shipment_id: no shipment '999999'"):
        read_snapshot(folder, company)


def _bundle(scenario, rule, path):
    document = make_bundle(
        {"priority": {"name": rule, "params": {}}},
        scenario=scenario.model_dump(mode="json"),
        scenario_name=scenario.name,
        scenario_hash=content_hash(scenario),
        evidence={"source": "test"},
        package_version="0.1.0",
        created_at="2026-01-01T00:00:00Z",
    )
    return write_bundle(document, path)


def test_the_cli_snapshots_the_baseline_and_the_twin_continues_from_it(tmp_path, capsys):
    out = tmp_path / "run"
    assert (
        main(["run", "--horizon", "60", "--snapshot-at", "30", "--quiet", "--no-report", "--out", str(out)])
        == 0
    )
    baseline = load("baseline")
    snapshot = read_snapshot(out / "snapshot.json", baseline)
    assert snapshot.taken_at_day == 30 and len(_multi(snapshot)) > 100
    bundles = [str(_bundle(baseline, rule, tmp_path / f"{rule}.json")) for rule in ("fifo", "edd")]
    assert (
        main(
            [
                "whatif",
                str(out / "snapshot.json"),
                "--bundle",
                bundles[0],
                "--bundle",
                bundles[1],
                "--scenario",
                "baseline",
                "--days",
                "3",
                "--reps",
                "2",
                "--executor",
                "serial",
                "--quiet",
                "--no-report",
                "--out",
                str(tmp_path / "whatif"),
            ]
        )
        == 0
    )
    assert "carried_over.open_orders" in capsys.readouterr().out
    assert (
        main(
            [
                "promise-risk",
                str(out / "snapshot.json"),
                "--product",
                "pump",
                "--quantity",
                "2",
                "--dates",
                "3,8",
                "--reps",
                "2",
                "--json",
            ]
        )
        == 0
    )
    answer = json.loads(capsys.readouterr().out)
    assert [d["replications"] for d in answer["dates"]] == [2, 2]


def test_a_written_snapshot_reads_back_equal(tmp_path, company, taken):
    path = write_snapshot(taken, tmp_path / "snapshot.json")
    data = json.loads(path.read_text())
    assert data["schema_version"] == 2
    assert read_snapshot(path, company) == taken
    assert Snapshot.model_validate(data) == taken


# --- back-orders of lines: a company short of stock ---------------------------------------------------


@pytest.fixture(scope="module")
def short_of_stock():
    """The around-the-clock company with orders of one to three lines, little stock and a min-max
    policy that leaves many lines back-ordered, snapshotted at day 23 and continued for 20 days."""
    data = load("around-the-clock").model_dump(mode="json")
    data.update(horizon_days=43.0, warmup_days=0.0)
    for segment in data["segments"]:
        segment["lines_per_order"] = {"dist": "uniform", "low": 0.0, "high": 3.0}
    data["policies"]["inventory"] = {
        "name": "min-max",
        "params": {"reorder_cover_days": 1, "order_up_to_cover_days": 4, "review_days": 7},
    }
    for product in data["products"]:
        product["initial_stock_units"] = min(product["initial_stock_units"], 20)
    company = override(load("around-the-clock"), **{k: v for k, v in data.items() if k != "name"})
    uninterrupted = simulate(company, seed=0, snapshot_at=23.0)
    snapshot = uninterrupted.snapshot
    return company, snapshot, simulate(starting_from(company, snapshot, 20.0), seed=1), uninterrupted


def test_back_ordered_lines_are_queued_again_in_the_order_they_were_released(short_of_stock):
    company, snapshot, continued, uninterrupted = short_of_stock
    waiting = [
        (o.released_day, o.order_id, number, line.line_id, line.product)
        for o in _multi(snapshot)
        for number, line in enumerate(o.lines)
        if line.pending == "backorder"
    ]
    assert len(waiting) > 50
    model = CompanyModel(starting_from(company, snapshot, 20.0), seed=1)
    model.start()
    again = capture(model).model_dump()
    first = snapshot.model_dump()
    again.pop("description"), first.pop("description")
    assert again == first
    assert check_run(continued) == []
    for run, since in ((continued, 0.0), (uninterrupted, 23.0)):  # the same queue in both runs
        events = run.events
        filled = events[(events["activity"] == "backorder_filled") & (events["time"] >= since)]
        first_fill = filled.drop_duplicates("line_id")
        for product in sorted({w[4] for w in waiting}):
            queued = [w[3] for w in sorted(w for w in waiting if w[4] == product)]
            fills = first_fill.loc[first_fill["product_id"] == product, "line_id"]
            order = [int(x) for x in fills if int(x) in queued]
            assert order == queued[: len(order)], product  # first come, first served
    lines = continued.lines.set_index("line_id")
    done = lines.loc[[w[3] for w in waiting]]
    assert (done["shipped_units"] == done["quantity"]).mean() > 0.8
