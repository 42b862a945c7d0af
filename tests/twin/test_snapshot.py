"""State snapshots: captured from a run, restarted, checked against the scenario."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from ordercycle.scenarios.loader import content_hash, load, override, parse
from ordercycle.sim.cli import main
from ordercycle.sim.invariants import check_run
from ordercycle.sim.model import CompanyModel
from ordercycle.sim.placement import capture, write_snapshot
from ordercycle.sim.run import simulate
from ordercycle.sim.snapshot import (
    FULFILMENT,
    Snapshot,
    SnapshotError,
    parse_snapshot,
    read_snapshot,
    starting_from,
)

TAKEN_AT = 25.0
AHEAD = 30.0


@pytest.fixture(scope="module")
def company():
    """The baseline over 40 days (no warm-up)."""
    return override(load("around-the-clock"), horizon_days=40, warmup_days=0.0)


@pytest.fixture(scope="module")
def taken(company):
    """A snapshot of the baseline at day 25 (seed 4)."""
    return simulate(company, seed=4, snapshot_at=TAKEN_AT).snapshot


@pytest.fixture(scope="module")
def restarted(company, taken):
    return simulate(starting_from(company, taken, AHEAD), seed=9)


def test_a_snapshot_holds_orders_at_many_steps(taken):
    steps = {order.step for order in taken.orders}
    assert {"awaiting_customer", "production", "in_transit", "delivered"} <= steps
    assert taken.invoices and taken.machines and taken.taken_at_day == TAKEN_AT


def test_restart_keeps_every_order_and_the_invariants(restarted, taken):
    assert check_run(restarted) == []
    orders = restarted.orders.set_index("order_id")
    carried = [order.order_id for order in taken.orders]
    assert set(carried) <= set(orders.index)
    for state in taken.orders:
        row = orders.loc[state.order_id]
        if state.step in FULFILMENT or state.step == "delivered":  # accepted orders are never lost
            assert row["final_state"] in ("delivered", "returned", "open")
            assert row["promised_date"] == pytest.approx(state.promised_day)
    fulfilling = [o.order_id for o in taken.orders if o.step in FULFILMENT]
    delivered = orders.loc[fulfilling, "final_state"].isin(["delivered", "returned"])
    assert delivered.mean() > 0.5, "most orders in fulfilment are delivered within 30 days"


def test_new_ids_continue_after_the_snapshot(restarted, taken):
    events = restarted.events
    new = events[events["activity"] == "inquiry_received"]["order_id"]
    assert new.min() > max(o.order_id for o in taken.orders)
    issued = events[events["activity"] == "invoice_issued"]["invoice_id"]
    if taken.invoices and len(issued):
        assert issued.min() > max(v.invoice_id for v in taken.invoices)


def test_carried_over_opening_balances_are_logged_once_per_order(restarted, taken):
    events = restarted.events
    opened = events[events["activity"] == "order_carried_over"]
    assert sorted(opened["order_id"]) == sorted(o.order_id for o in taken.orders)
    assert (opened["time"] == 0).all()
    billed = {o.order_id: o.billed for o in taken.orders}
    assert opened.set_index("order_id")["amount"].astype(float).to_dict() == pytest.approx(billed)


def test_same_seed_same_bytes(company, taken, restarted):
    again = simulate(starting_from(company, taken, AHEAD), seed=9)
    assert again.events.equals(restarted.events)
    assert again.orders.equals(restarted.orders)


def test_placing_then_capturing_gives_the_snapshot_back(company, taken):
    model = CompanyModel(starting_from(company, taken, AHEAD), seed=1)
    model.start()
    again = capture(model)
    def key(o):
        return o.order_id, o.step, o.routing_step, o.shipped_units, o.invoiced_units

    assert [key(o) for o in again.orders] == [key(o) for o in taken.orders]
    assert again.stock == taken.stock
    assert [v.invoice_id for v in again.invoices] == [v.invoice_id for v in taken.invoices]
    assert [(m.work_centre, m.index, m.setup_family) for m in again.machines] == [
        (m.work_centre, m.index, m.setup_family) for m in taken.machines
    ]


def test_a_run_from_a_snapshot_can_be_snapshotted_again(company, taken):
    later = simulate(starting_from(company, taken, AHEAD), seed=2, snapshot_at=10.0).snapshot
    assert later.taken_at_day == TAKEN_AT + 10.0
    rerun = simulate(starting_from(company, later, 10.0), seed=3)
    assert check_run(rerun) == []


def test_written_snapshot_reads_back_equal(tmp_path, company, taken):
    path = write_snapshot(taken, tmp_path / "snapshot.json")
    assert read_snapshot(path, company) == taken
    assert json.loads(path.read_text())["kind"] == "ordercycle-state-snapshot"


def test_a_machine_down_in_the_snapshot_is_repaired_first(company):
    down = {"work_centre": "machining", "index": 0, "down_hours": 30}
    snapshot = Snapshot.model_validate({"machines": [down]})
    events = simulate(starting_from(company, snapshot, 5.0), seed=0).events
    machine = events[events["resource"] == "machining:0"]
    assert list(machine["activity"].iloc[:2]) == ["machine_breakdown", "machine_repaired"]
    assert machine["time"].iloc[1] == pytest.approx(30 / 24)
    started = machine[machine["activity"] == "operation_started"]["time"]
    assert started.empty or started.min() >= 30 / 24


def test_snapshot_stock_replaces_the_initial_stock(company):
    snapshot = Snapshot.model_validate({"stock": {"filter": 3}})
    events = simulate(starting_from(company, snapshot, 1.0), seed=0).events
    initial = events[events["activity"] == "stock_initial"].set_index("product_id")["quantity"]
    assert initial["filter"] == 3


# --- refused snapshots ---------------------------------------------------------------------------


def _order(**changes):
    order = {"order_id": 7, "customer_id": "key-1", "segment": "key", "product": "pump", "quantity": 4,
             "step": "production", "inquiry_day": -10.0, "unit_price": 100.0, "promised_day": 5.0,
             "routing_step": 1}
    order.update(changes)
    return order


BAD = {
    "unknown product": ({"orders": [_order(product="widget")]}, "orders.0.product: unknown product 'widget'"),
    "unknown segment": ({"orders": [_order(segment="nobody")]}, "orders.0.segment: unknown segment"),
    "unknown step": ({"orders": [_order(step="dreaming")]}, "orders.0.step:"),
    "unknown work centre": ({"machines": [{"work_centre": "moon", "index": 0}]},
                            "machines.0.work_centre: unknown work centre 'moon'"),
    "machine index": ({"machines": [{"work_centre": "machining", "index": 99}]}, "machines.0.index:"),
    "negative stock": ({"stock": {"pump": -3}}, "stock.pump: must be >= 0, got -3"),
    "stock of unknown product": ({"stock": {"widget": 3}}, "stock.widget: unknown product"),
    "negative quantity": ({"orders": [_order(quantity=-2)]}, "orders.0.quantity:"),
    "beyond the routing": ({"orders": [_order(routing_step=9)]},
                           "orders.0.routing_step: 9 is beyond the routing"),
    "duplicate ids": ({"orders": [_order(), _order()]}, "orders.1.order_id: duplicate id 7"),
    "missing promise": ({"orders": [_order(promised_day=None)]}, "orders.0.promised_day: required"),
    "shipped too much": ({"orders": [_order(shipped_units=9)]}, "orders.0.shipped_units: 9 > quantity 4"),
    "paid more than billed": ({"orders": [_order(step="delivered", shipped_units=4, invoiced_units=4,
                                                 billed=400.0, paid=500.0)]},
                              "orders.0.paid: 500 > billed 400"),
    "unpaid money on no invoice": ({"orders": [_order(step="delivered", shipped_units=4, invoiced_units=4,
                                                      billed=400.0)]},
                                   "orders.0.paid: billed - paid = 400.00 must be on open invoices"),
    "two lines of one order": ({"orders": [_order(step="delivered", shipped_units=4, invoiced_units=4,
                                                  billed=400.0)],
                                "invoices": [{"invoice_id": 1, "customer_id": "key-1", "issued_day": -1,
                                              "lines": [{"order_id": 7, "units": 2, "amount": 200},
                                                        {"order_id": 7, "units": 2, "amount": 200}]}]},
                               "invoices.0.lines.1.order_id: order 7 has a line already"),
    "invoice of unknown order": ({"invoices": [{"invoice_id": 1, "customer_id": "key-1", "issued_day": -1,
                                                "lines": [{"order_id": 3, "units": 1, "amount": 5}]}]},
                                 "invoices.0.lines.0.order_id: unknown order 3"),
    "unknown key": ({"orders": [_order(colour="red")]}, "orders.0.colour: unknown key"),
    "ticket on an open order": ({"orders": [_order()], "tickets": [{"ticket_id": 1, "order_id": 7}]},
                                "tickets.0.order_id: a repair needs a delivered order"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_contradicting_snapshot_is_refused_by_field(company, case):
    data, expected = BAD[case]
    with pytest.raises(SnapshotError) as error:
        parse_snapshot(data, company, "today.json")
    assert any(line.startswith("today.json: ") and expected in line for line in error.value.problems), (
        error.value.problems
    )


def _scenario_file(folder: Path, snapshot: dict) -> Path:
    (folder / "state").mkdir(parents=True, exist_ok=True)
    (folder / "state" / "today.json").write_text(json.dumps(snapshot), encoding="utf-8")
    data = load("around-the-clock").model_dump(mode="json")
    data.update(name="from-today", horizon_days=2.0, warmup_days=0.0, start={"snapshot": "state/today.json"})
    path = folder / "from-today.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_a_scenario_names_its_snapshot_relative_to_its_file_and_hashes_its_content(tmp_path, monkeypatch):
    path = _scenario_file(tmp_path, {"stock": {"pump": 2}})
    monkeypatch.chdir(tmp_path / "state")  # not the scenario's folder
    first = load(path)
    assert first.start.state == {"stock": {"pump": 2}}
    assert content_hash(load(path)) == content_hash(first)
    (tmp_path / "state" / "today.json").write_text(json.dumps({"stock": {"pump": 3}}), encoding="utf-8")
    assert content_hash(load(path)) != content_hash(first)
    events = simulate(load(path), seed=0).events
    assert events[events["activity"] == "stock_initial"].set_index("product_id")["quantity"]["pump"] == 3


def test_cli_refuses_a_scenario_whose_snapshot_contradicts_it(tmp_path, capsys):
    path = _scenario_file(tmp_path, {"stock": {"pump": -1}, "orders": [_order(product="widget")]})
    assert main(["scenario", "check", str(path)]) == 2
    assert main(["run", str(path), "--quiet", "--no-report", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "stock.pump: must be >= 0, got -1" in err and "orders.0.product: unknown product 'widget'" in err
    assert "Traceback" not in err


def test_cli_run_writes_a_snapshot_that_a_scenario_can_start_from(tmp_path):
    out = tmp_path / "run"
    # the baseline's orders have one to three lines: the snapshot holds them with their lines
    assert main(["run", "baseline", "--horizon", "12", "--warmup", "0", "--snapshot-at", "6", "--quiet",
                 "--no-report", "--out", str(out)]) == 0
    folder = tmp_path / "scenario"
    folder.mkdir()
    shutil.copy(out / "snapshot.json", folder / "today.json")
    snapshot = read_snapshot(folder / "today.json", load("baseline"))
    assert any(len(order.lines) > 1 for order in snapshot.orders)
    data = load("baseline").model_dump(mode="json")
    data.update(name="t", horizon_days=3.0, warmup_days=0.0, start={"snapshot": "today.json"})
    (folder / "t.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    result = simulate(load(folder / "t.yaml"), seed=0)
    assert check_run(result) == []
    assert (result.events["activity"] == "order_carried_over").sum() == len(snapshot.orders)


def test_the_example_snapshot_fits_the_baseline_and_runs():
    path = Path(__file__).resolve().parents[2] / "scenarios" / "twin" / "example-snapshot.json"
    baseline = load("around-the-clock")
    snapshot = read_snapshot(path, baseline)
    assert len({order.step for order in snapshot.orders}) >= 6
    result = simulate(starting_from(baseline, snapshot, 14.0), seed=0)
    assert check_run(result) == []
    undelivered = sum(1 for o in snapshot.orders if o.step != "delivered")
    assert result.kpis["carried_over"]["open_orders"] == undelivered


# --- CSV tables --------------------------------------------------------------------------------------


def test_csv_tables_read_back_as_the_same_snapshot(tmp_path, company, taken):
    from ordercycle.sim.snapshot_tables import write_tables

    folder = write_tables(taken, tmp_path / "today")
    assert (folder / "orders.csv").read_text().count("\n") == len(taken.orders) + 1
    assert read_snapshot(folder, company) == taken


@pytest.mark.parametrize(("files", "expected"), [
    ({"stock.csv": "product,units\npump,-2\n"}, "stock.pump: must be >= 0, got -2"),
    ({"orders.csv": "order_id,colour\n1,red\n"}, "orders.0.colour: unknown key"),
    ({"invoice_lines.csv": "invoice_id,order_id,units,amount\n4,1,1,10\n"},
     "invoice_lines.0.invoice_id: no invoice '4' in invoices.csv"),
    ({"stuff.csv": "a\n1\n"}, "unknown tables ['stuff.csv']"),
])
def test_bad_csv_tables_are_refused_by_field(tmp_path, company, files, expected):
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(SnapshotError) as error:
        read_snapshot(tmp_path, company)
    assert any(expected in line for line in error.value.problems), error.value.problems


def test_open_tickets_returns_and_disputed_invoices_are_resumed(company):
    delivered = {"customer_id": "strategic-1", "segment": "strategic", "product": "pump", "quantity": 4,
                 "step": "delivered", "inquiry_day": -30.0, "unit_price": 100.0, "promised_day": -5.0,
                 "shipped_units": 4, "invoiced_units": 4, "delivered_day": -6.0}
    snapshot = Snapshot.model_validate({
        "orders": [
            {**delivered, "order_id": 3, "billed": 400.0, "paid": 400.0},
            {**delivered, "order_id": 4, "billed": 440.0},  # over-billed: the open invoice is disputed
            {**delivered, "order_id": 5, "billed": 400.0, "paid": 400.0, "returned_units": 2},
        ],
        "invoices": [{"invoice_id": 8, "customer_id": "strategic-1", "issued_day": -4.0, "disputed": True,
                      "lines": [{"order_id": 4, "units": 4, "amount": 440.0}]}],
        "returns": [{"return_id": 2, "order_id": 3, "units": 1, "stage": "approval"},
                    {"return_id": 6, "order_id": 5, "units": 2, "stage": "refund"}],
        "tickets": [{"ticket_id": 9, "order_id": 3}],
    })
    result = simulate(starting_from(company, parse_snapshot(snapshot.model_dump(mode="json"), company), 40.0),
                      seed=0)
    assert check_run(result) == []
    events = result.events
    ticket = events[events["ticket_id"] == 9]["activity"].tolist()
    assert "service_started" in ticket and "ticket_opened" not in ticket  # opened before the snapshot
    corrected = events[(events["activity"] == "invoice_corrected") & (events["invoice_id"] == 8)]
    assert corrected["amount"].astype(float).tolist() == [-40.0]
    orders = result.orders.set_index("order_id")
    assert orders.loc[4, "billed"] == 400.0 and orders.loc[4, "paid"] in (0.0, 400.0)
    refunds = events[events["activity"] == "refund_paid"].set_index("return_id")["amount"].astype(float)
    assert refunds[6] == 200.0  # received before the snapshot: refunded at the agreed price
    assert events[events["return_id"] == 2]["activity"].iloc[0] == "return_approval_started"
    new_tickets = events[(events["activity"] == "ticket_opened")]["ticket_id"]
    assert new_tickets.empty or new_tickets.min() > 9


def test_backordered_orders_are_captured_and_wait_for_stock_again(company):
    """Under a stock policy that back-orders, a snapshot keeps the back-orders (with what was
    allocated to them back in stock) and the restarted run fills them from receipts."""
    data = company.model_dump(mode="json")
    data["policies"]["inventory"] = {"name": "min-max", "params": {
        "reorder_cover_days": 1, "order_up_to_cover_days": 4, "review_days": 7}}
    for product in data["products"]:
        product["initial_stock_units"] = min(product["initial_stock_units"], 20)
    short = parse(data)
    taken_short = simulate(short, seed=4, snapshot_at=20.0)
    snapshot = taken_short.snapshot
    backordered = [o for o in snapshot.orders if o.step == "backordered"]
    assert backordered, "the min-max policy leaves back-orders open at day 20"
    events = taken_short.events[taken_short.events["time"] <= 20.0]
    moves = events[events["activity"].isin(["stock_initial", "stock_received", "stock_issued"])]
    signed = moves["quantity"].where(moves["activity"] != "stock_issued", -moves["quantity"])
    on_hand = signed.groupby(moves["product_id"].astype(str)).sum()
    allocated = events[events["activity"] == "backorder_filled"].groupby("order_id")["quantity"].sum()
    open_ids = {o.order_id for o in backordered}
    for product, units in snapshot.stock.items():
        back = sum(allocated.get(o.order_id, 0) for o in backordered if o.product == product)
        assert units == on_hand.get(product, 0) + back, product
    assert open_ids
    restarted = simulate(starting_from(short, snapshot, AHEAD), seed=9)
    assert check_run(restarted) == []
    events = restarted.events
    created = set(events.loc[events["activity"] == "backorder_created", "order_id"])
    assert {o.order_id for o in backordered} <= created
    again = CompanyModel(starting_from(short, snapshot, AHEAD), seed=1)
    again.start()
    steps = [(o.order_id, o.step) for o in snapshot.orders]
    assert [(o.order_id, o.step) for o in capture(again).orders] == steps
