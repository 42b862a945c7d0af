"""Prepayment terms: the request at confirmation, the wait for the payment, invoices settled against it.

The variants are the around-the-clock company over 90 days: ``regular`` puts 30 % of its
orders on prepayment terms whose release waits for the payment, ``strategic`` (invoiced
monthly) 50 % whose shipments wait for it; the company without prepayment is the reference
for common random numbers. Everything about orders and money is read back from the saved
``events.parquet`` and ``orders.parquet``.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from ordercycle.scenarios.loader import ScenarioError, load, parse
from ordercycle.sim.cli import main
from ordercycle.sim.invariants import check_run
from ordercycle.sim.run import RunResult, kpis_json, simulate, write_outputs

PAYS_IN_FIVE_DAYS = {"dist": "exponential", "mean": 5.0}
RELEASE_WAITS = {"share": 0.3, "delay_days": PAYS_IN_FIVE_DAYS}
UP_TO_EIGHT_DAYS = {"dist": "uniform", "low": 0.0, "high": 8.0}
SHIPMENTS_WAIT = {"share": 0.5, "delay_days": UP_TO_EIGHT_DAYS, "blocks": "shipment"}


def company(horizon: float = 90, policies: dict | None = None, **terms: dict) -> dict:
    """The around-the-clock company as a dict, with ``terms`` as the prepayment of those segments."""
    data = load("around-the-clock").model_dump(mode="json")
    data["horizon_days"], data["warmup_days"] = horizon, 10
    for segment in data["segments"]:
        if segment["id"] in terms:
            segment["prepayment"] = terms[segment["id"]]
    data["policies"].update(policies or {})
    return data


def saved(result: RunResult, folder) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The run's events and orders as written to and read back from its output folder."""
    write_outputs(result, folder)
    return pd.read_parquet(folder / "events.parquet"), pd.read_parquet(folder / "orders.parquet")


@pytest.fixture(scope="module")
def credit() -> RunResult:
    return simulate(parse(company()), seed=0)


@pytest.fixture(scope="module")
def prepaid() -> RunResult:
    return simulate(parse(company(regular=RELEASE_WAITS, strategic=SHIPMENTS_WAIT)), seed=0)


@pytest.fixture(scope="module")
def tables(prepaid, tmp_path_factory) -> tuple[pd.DataFrame, pd.DataFrame]:
    return saved(prepaid, tmp_path_factory.mktemp("prepaid"))


def first(events: pd.DataFrame, activity: str) -> pd.Series:
    """Time of each order's first ``activity`` event."""
    rows = events[events["activity"] == activity]
    return rows.groupby(rows["order_id"].astype("int64"))["time"].min()


def amounts(events: pd.DataFrame, *activities: str) -> float:
    return float(events.loc[events["activity"].isin(activities), "amount"].astype(float).sum())


def test_every_invariant_holds(prepaid):
    assert check_run(prepaid) == []


def test_the_prepayment_fate_has_its_own_stream(credit, prepaid):
    """The same inquiries (times, customers, products, quantities) with and without prepayment terms."""
    columns = ["order_id", "customer_id", "segment", "product_id", "quantity", "inquiry_time"]
    pd.testing.assert_frame_equal(credit.orders[columns], prepaid.orders[columns])


def test_the_share_of_orders_on_prepayment_terms_is_the_segments(tables, prepaid):
    _, orders = tables
    for segment, share in (("regular", 0.3), ("strategic", 0.5), ("occasional", 0.0)):
        drawn = orders.loc[orders["segment"] == segment, "pays_in_advance"]
        sigma = math.sqrt(share * (1 - share) / len(drawn))
        assert len(drawn) > 800 and abs(drawn.mean() - share) <= 4 * sigma + 1e-12, (segment, drawn.mean())
    cohort = orders[
        (orders["inquiry_time"] >= 10)
        & orders["decision_time"].notna()
        & (orders["final_state"] != "rejected")
    ]
    assert prepaid.kpis["prepaid_order_share"] == pytest.approx(cohort["pays_in_advance"].mean())


def test_nothing_of_a_prepaid_order_is_picked_before_its_payment(tables):
    events, orders = tables
    paid = first(events, "prepayment_received")
    ahead = orders.set_index("order_id")["pays_in_advance"]
    for activity in ("picking_started", "shipment_dispatched"):
        moved = first(events, activity)
        moved = moved[ahead.reindex(moved.index).to_numpy()]
        assert len(moved) > 300
        assert (moved >= paid.reindex(moved.index)).all(), activity  # NaN (never paid) compares False
    # where the release waits, nothing is even released (no stock taken, no job queued) before it
    regular = orders[orders["pays_in_advance"] & (orders["segment"] == "regular")].set_index("order_id")
    released = first(events, "order_prioritized").reindex(regular.index).dropna()
    assert len(released) > 300 and (released >= paid.reindex(released.index)).all()
    stock = events[(events["activity"] == "stock_issued") & events["order_id"].isin(regular.index)]
    assert (stock["time"].to_numpy() >= paid.reindex(stock["order_id"].astype("int64")).to_numpy()).all()


def test_where_only_the_shipments_wait_production_starts_at_once(tables):
    events, orders = tables
    strategic = orders[orders["pays_in_advance"] & (orders["segment"] == "strategic")].set_index("order_id")
    paid = first(events, "prepayment_received").reindex(strategic.index)
    released = first(events, "order_prioritized").reindex(strategic.index)
    picked = first(events, "picking_started").reindex(strategic.index)
    assert (released < paid).sum() > 50  # released before the payment came
    assert (picked == paid).sum() > 10  # ready first, a shipment waited for the payment


def test_the_wait_for_the_payment_is_in_the_order_lead_time(tables, credit, prepaid):
    _, orders = tables
    regular = orders[
        orders["pays_in_advance"]
        & (orders["segment"] == "regular")
        & orders["prepayment_invoiced_time"].notna()
    ]
    wait = regular["prepayment_received_time"] - regular["prepayment_invoiced_time"]
    assert len(regular) > 500 and (orders["final_state"] != "rejected")[regular.index].all()
    # the request goes out with the confirmation; the release waits for exactly the payment
    assert np.allclose(regular["prepayment_invoiced_time"], regular["decision_time"])
    released = regular["released_time"].notna()
    assert np.allclose((regular["released_time"] - regular["decision_time"])[released], wait[released])
    delivered = regular[regular["delivered_time"].notna()]
    lead = delivered["delivered_time"] - delivered["entered_time"]
    assert (lead >= wait[delivered.index] - 1e-9).all()
    assert prepaid.kpis["mean_prepayment_wait_days"] == pytest.approx(5.0, rel=0.15)
    others = orders[~orders["pays_in_advance"] & orders["delivered_time"].notna()]
    gap = lead.mean() - (others["delivered_time"] - others["entered_time"]).mean()
    assert gap > 3.0  # the prepaid orders take longer by about the wait
    assert prepaid.kpis["mean_lead_time_days"] > credit.kpis["mean_lead_time_days"]


def test_the_promise_runs_from_the_payment(prepaid):
    for order in prepaid.model.orders:
        if order.pays_in_advance and order.prepayment_received_time == order.prepayment_received_time:
            promised = order.entered_time + order.quoted_lead_days  # as entered
            moved = order.prepayment_received_time - order.prepayment_invoiced_time
            assert order.promised_date == pytest.approx(promised + moved)


def test_money_is_conserved_with_prepayment(tables, prepaid):
    events, orders = tables
    invoiced = amounts(events, "invoice_issued", "invoice_corrected")
    settled = amounts(events, "payment_received", "prepayment_applied")
    open_lines = (
        sum(
            charged
            for invoice in prepaid.model.open_invoices.values()
            for order_id, charged in invoice.charged_cents.items()
            if order_id not in invoice.settled_orders
        )
        / 100
    )
    assert invoiced == pytest.approx(settled + open_lines, abs=0.005)  # invoices = payments + receivables
    ahead = orders[orders["pays_in_advance"]]
    # every prepayment is what its order costs at the agreed prices, paid once, and nothing is paid twice
    assert (ahead["prepaid"] > 0).sum() > 500
    payments = events[events["activity"] == "payment_received"]
    assert not payments["order_id"].isin(ahead["order_id"]).any()
    received = amounts(events, "prepayment_received")
    applied, back = amounts(events, "prepayment_applied"), amounts(events, "prepayment_refunded")
    assert received == pytest.approx(applied + back + prepaid.kpis["unsettled_prepayments"], abs=0.005)
    assert (ahead["prepayment_applied"] <= ahead["prepaid"] + 1e-9).all()

    # an order delivered in full whose every invoice line is settled used up exactly its prepayment
    def lines(*activities: str) -> set[tuple[int, int]]:
        rows = events[events["activity"].isin(activities)]
        return set(zip(rows["order_id"].astype(int), rows["invoice_id"].astype(int), strict=True))

    open_orders = {order for order, _ in lines("invoice_issued") - lines("prepayment_applied")}
    done = ahead[
        (ahead["final_state"] == "delivered")
        & ~ahead["order_id"].isin(open_orders)
        & (ahead["billed"] > 0)
        & (ahead["shipped_units"] == ahead["quantity"])
    ]
    assert len(done) > 400
    assert np.allclose(done["prepayment_applied"], done["prepaid"], atol=0.005)
    assert np.allclose(done["prepaid"], done["quantity"] * done["unit_price"], atol=0.005)


def test_returned_prepaid_lines_are_refunded_at_their_price(tables, prepaid):
    events, orders = tables
    ahead = set(orders.loc[orders["pays_in_advance"], "order_id"])
    refunds = events[(events["activity"] == "refund_paid") & events["order_id"].isin(ahead)]
    assert len(refunds) >= 5
    received = events[events["activity"] == "return_received"].set_index("return_id")["quantity"]
    price = orders.set_index("order_id")["unit_price"]
    owed = received.reindex(refunds["return_id"]).to_numpy(dtype=float) * price.reindex(
        refunds["order_id"]
    ).to_numpy(dtype=float)
    assert np.allclose(refunds["amount"].to_numpy(dtype=float), owed, atol=0.005)
    # a refund is paid after the invoice of what came back was settled against the prepayment
    by_order = orders.set_index("order_id")
    refunded = refunds.groupby(refunds["order_id"].astype("int64"))["amount"].sum()
    assert (refunded <= by_order.loc[refunded.index, "prepayment_applied"] + 1e-9).all()
    assert check_run(prepaid) == []


def test_prepayment_shortens_order_to_cash_and_days_sales_outstanding(credit, prepaid):
    assert prepaid.kpis["mean_order_to_cash_days"] < credit.kpis["mean_order_to_cash_days"] - 3
    assert prepaid.kpis["days_sales_outstanding"] < credit.kpis["days_sales_outstanding"] - 3
    assert prepaid.kpis["prepaid_order_to_cash_days"] < 10


def test_a_company_without_prepayment_has_neither_its_columns_nor_its_kpis(credit):
    assert "pays_in_advance" not in credit.orders and "cancelled" not in credit.kpis["final_states"]
    assert not {"prepaid_order_share", "orders_cancelled"} & set(credit.kpis)
    activities = set(credit.events["activity"].cat.categories)
    assert not {a for a in activities if a.startswith("prepayment")}


def test_an_order_not_paid_in_time_is_cancelled():
    terms = {**RELEASE_WAITS, "share": 0.5, "cancel_after_days": 4.0}
    run = simulate(parse(company(regular=terms)), seed=1)
    assert check_run(run) == []
    orders = run.orders[run.orders["pays_in_advance"] & run.orders["prepayment_invoiced_time"].notna()]
    cancelled = orders[orders["final_state"] == "cancelled"]
    share = len(cancelled) / len(orders[orders["prepayment_invoiced_time"] < 86])  # limit within the horizon
    assert share == pytest.approx(math.exp(-4.0 / 5.0), abs=0.05)
    assert (cancelled["shipments"] == 0).all() and cancelled["released_time"].isna().all()
    assert (cancelled["billed"] == 0).all() and (cancelled["prepaid"] == 0).all()
    assert (cancelled["owner_at_horizon"] == "sales").all()
    cohort = run.orders[run.orders["inquiry_time"] >= 10]
    assert (
        run.kpis["orders_cancelled"]
        == run.kpis["final_states"]["cancelled"]
        == int((cohort["final_state"] == "cancelled").sum())
        > 0
    )


def test_a_prepaid_order_lost_for_want_of_stock_gets_its_prepayment_back():
    lost_sales = {
        "inventory": {
            "name": "reorder-point",
            "params": {
                "reorder_points": {"valve": 40, "filter": 30},
                "quantities": {"valve": 60, "filter": 50},
                "shortage": "lost-sales",
            },
        }
    }
    run = simulate(parse(company(60, lost_sales, regular={**RELEASE_WAITS, "share": 0.6})), seed=0)
    assert check_run(run) == []
    lost = run.orders[run.orders["pays_in_advance"] & (run.orders["final_state"] == "lost_sale")]
    assert len(lost) > 0
    assert (lost["prepayment_refunded"] == lost["prepaid"]).all() and (lost["prepaid"] > 0).all()
    assert (lost["billed"] == 0).all()


def test_the_customer_owns_an_order_waiting_for_its_prepayment(prepaid):
    waiting = prepaid.orders[prepaid.orders["state_at_horizon"] == "awaiting_prepayment"]
    assert len(waiting) > 0 and (waiting["owner_at_horizon"] == "customer").all()
    assert (waiting["final_state"] == "open").all() and waiting["prepayment_received_time"].isna().all()


@pytest.mark.parametrize(
    ("terms", "message"),
    [
        (
            {**SHIPMENTS_WAIT, "cancel_after_days": 10.0},
            "segments.1.prepayment.cancel_after_days: an order whose shipments wait",
        ),
        (
            {**RELEASE_WAITS, "share": 1.5},
            "segments.1.prepayment.share: input should be less than or equal to 1",
        ),
        ({"share": 0.2}, "segments.1.prepayment.delay_days: field required"),
        (
            {**RELEASE_WAITS, "blocks": "invoice"},
            "segments.1.prepayment.blocks: input should be 'release' or 'shipment'",
        ),
        (
            {**RELEASE_WAITS, "cancel_after_days": 0},
            "segments.1.prepayment.cancel_after_days: input should be greater than 0",
        ),
    ],
)
def test_bad_prepayment_terms_are_named(terms, message):
    with pytest.raises(ScenarioError) as error:
        parse(company(regular=terms))
    assert any(line.startswith(message) for line in error.value.problems), error.value.problems


def test_a_snapshot_of_a_company_with_prepayment_is_refused_by_field(tmp_path, capsys):
    path = tmp_path / "prepaid.yaml"
    import yaml

    path.write_text(yaml.safe_dump(company(regular=RELEASE_WAITS)))
    code = main(
        [
            "run",
            str(path),
            "--horizon",
            "20",
            "--snapshot-at",
            "10",
            "--out",
            str(tmp_path / "o"),
            "--quiet",
            "--no-report",
        ]
    )
    assert code == 2
    assert (
        "--snapshot-at: a state snapshot holds no orders on prepayment terms yet, and "
        "segments.1.prepayment" in capsys.readouterr().err
    )


# --- the prepayment invariants bite ----------------------------------------------------------


def _problems(
    run: RunResult, events: pd.DataFrame | None = None, orders: pd.DataFrame | None = None, tag: str = "m"
) -> list[str]:
    edited = dataclasses.replace(
        run, events=run.events if events is None else events, orders=run.orders if orders is None else orders
    )
    return [line for line in check_run(edited) if line.startswith(f"({tag})")]


def _shipped_prepaid(run: RunResult) -> int:
    """A delivered order of the per-shipment segment paid in advance."""
    orders = run.orders
    return int(
        orders.loc[
            orders["pays_in_advance"]
            & (orders["segment"] == "regular")
            & (orders["final_state"] == "delivered"),
            "order_id",
        ].iloc[0]
    )


def test_picking_before_the_payment_is_reported(prepaid):
    victim, events = _shipped_prepaid(prepaid), prepaid.events.copy()
    pick = events.index[(events["activity"] == "picking_started") & (events["order_id"] == victim)][0]
    paid = events.loc[(events["activity"] == "prepayment_received") & (events["order_id"] == victim), "time"]
    events.loc[pick, "time"] = float(paid.iloc[0]) - 0.5
    assert any(f"order {victim}: picked at day" in line for line in _problems(prepaid, events))
    assert any(
        f"order {victim}: released at day" in line
        for line in _problems(
            prepaid,
            events.assign(
                time=np.where(
                    events["activity"].eq("order_prioritized") & events["order_id"].eq(victim),
                    float(paid.iloc[0]) - 0.1,
                    events["time"],
                )
            ),
        )
    )


def test_a_missing_prepayment_is_reported(prepaid):
    victim = _shipped_prepaid(prepaid)
    events = prepaid.events
    events = events[~((events["activity"] == "prepayment_received") & (events["order_id"] == victim))]
    lines = _problems(prepaid, events)
    assert any(f"order {victim}: prepaid" in line and "in prepayment_received" in line for line in lines)
    assert any(f"order {victim}: picked at day" in line for line in lines)
    assert any(f"order {victim}:" in line and "settled against" in line for line in lines)


def test_a_prepaid_order_paying_an_invoice_as_well_is_reported(prepaid):
    victim, events = _shipped_prepaid(prepaid), prepaid.events.copy()
    applied = events.index[(events["activity"] == "prepayment_applied") & (events["order_id"] == victim)][0]
    events.loc[applied, "activity"] = "payment_received"
    orders = prepaid.orders.copy()
    orders.loc[orders["order_id"] == victim, "prepayment_applied"] -= float(events.loc[applied, "amount"])
    assert any(
        f"order {victim}: on prepayment terms, yet it paid an invoice too" in line
        for line in _problems(prepaid, events, orders)
    )


def test_money_billed_but_neither_paid_nor_open_is_reported(prepaid):
    victim, orders = _shipped_prepaid(prepaid), prepaid.orders.copy()
    orders.loc[orders["order_id"] == victim, "billed"] += 1.0
    lines = _problems(prepaid, orders=orders, tag="c")
    assert any(f"order {victim}: billed" in line and "by its open invoice lines" in line for line in lines)


def test_prepayment_events_in_a_run_without_the_terms_are_reported(prepaid):
    orders = prepaid.orders.drop(columns=["pays_in_advance"])
    assert any("in a run without prepayment terms" in line for line in _problems(prepaid, orders=orders))


def test_terms_with_a_share_of_zero_change_nothing_but_add_their_columns(credit):
    """So a sweep over the share keeps its columns and KPIs at 0."""
    zero = simulate(parse(company(regular={**RELEASE_WAITS, "share": 0.0})), seed=0)
    pd.testing.assert_frame_equal(zero.events, credit.events)
    pd.testing.assert_frame_equal(
        zero.orders[list(credit.orders.columns)].drop(columns="final_state"),
        credit.orders.drop(columns="final_state"),
    )
    assert not zero.orders["pays_in_advance"].any()
    added = set(zero.kpis) - set(credit.kpis)
    assert added == {
        "prepaid_order_share",
        "mean_prepayment_wait_days",
        "prepaid_order_to_cash_days",
        "orders_cancelled",
        "unsettled_prepayments",
    }
    assert zero.kpis["prepaid_order_share"] == 0.0 and zero.kpis["orders_cancelled"] == 0
    same = {k: v for k, v in zero.kpis.items() if k not in added and k != "final_states"}
    assert kpis_json(same) == kpis_json({k: v for k, v in credit.kpis.items() if k != "final_states"})
    assert zero.kpis["final_states"] == {**credit.kpis["final_states"], "cancelled": 0}
