"""Benchmark: discounts on real idle capacity (K2) and promises from the whole path (K4).

The baseline with production and the warehouse sharing their information
(``information.production_shares_capacity`` and ``warehouse_shares_stock``), over
``--days`` (default 120, warm-up 28) for one ``--seed`` (default 0). For each pricing
case it prints, on the KPI cohort (inquiries after the warm-up): the share of quotes
discounted, profit, orders received, on-time rate, the share of delivered orders that
are late, the mean days from the last ``shipment_dispatched`` to ``order_delivered`` of
the late ones, and how many late orders had been dispatched by their promise (late
because of the carrier). The cases:

- ``informed-sales@1``: version 1's rule (discount when ``surplus_capacity_hours`` ≥ 40 h),
  restated here as a policy that hides the new ``idle_capacity_hours``;
- ``informed-sales@2``: the discount on idle capacity;
- ``capable-to-promise`` with the mean transit (``carrier_transit_quantile`` unset) and
  with the published transit at p90 and p95;
- ``list-price`` as it is and with ``add_transit`` at p90.

Run from the repository root::

    python benchmarks/bench_pricing_path.py [--days 120] [--seed 0] [--json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import Any

from ordercycle.policies.commercial import InformedSales
from ordercycle.policies.contexts import Quote, QuoteContext
from ordercycle.policies.registry import register
from ordercycle.scenarios.loader import load, override
from ordercycle.sim.run import RunResult, simulate

SHARED = {"production_shares_capacity": True, "warehouse_shares_stock": True}


class InformedSalesVersion1(InformedSales):
    """``informed-sales`` as version 1 decided: on ``surplus_capacity_hours`` (idle capacity hidden)."""

    name = "informed-sales-version-1"
    version = 1
    summary = "informed-sales of version 1 (surplus capacity against the threshold), for comparison"

    def quote(self, context: QuoteContext) -> Quote:
        """Version 2's quote of the context without ``idle_capacity_hours`` (version 1's rule)."""
        return super().quote(dataclasses.replace(context, idle_capacity_hours=None))


CASES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "informed-sales@1 (surplus >= 40 h)": ({"name": InformedSalesVersion1.name}, {}),
    "informed-sales@2 (idle capacity >= 40 h)": ({"name": "informed-sales"}, {}),
    "list-price": ({"name": "list-price"}, {}),
    "capable-to-promise, mean transit": ({"name": "capable-to-promise"}, {}),
    "capable-to-promise, published p90": ({"name": "capable-to-promise"}, {"carrier_transit_quantile": 0.9}),
    "capable-to-promise, published p95": ({"name": "capable-to-promise"}, {"carrier_transit_quantile": 0.95}),
    "list-price, add_transit, p90": ({"name": "list-price", "params": {"add_transit": True}},
                                     {"carrier_transit_quantile": 0.9}),
}


def figures(result: RunResult, warmup: float) -> dict[str, Any]:
    """The K2 and K4 figures of one run, on the orders inquired after ``warmup``."""
    orders, events, kpis = result.orders, result.events, result.kpis
    cohort = orders[orders["inquiry_time"] >= warmup]
    quoted = cohort[cohort["quote_time"].notna()]
    delivered = cohort[cohort["delivered_time"].notna()]
    late = delivered[delivered["delivered_time"] > delivered["promised_date"] + 1e-9]
    dispatched = events[events["activity"] == "shipment_dispatched"].groupby("order_id")["time"].max()
    delivered_at = events[events["activity"] == "order_delivered"].groupby("order_id")["time"].max()
    last_dispatch = dispatched.reindex(late["order_id"]).to_numpy()
    after_dispatch = delivered_at.reindex(late["order_id"]).to_numpy() - last_dispatch
    by_carrier = int((last_dispatch <= late["promised_date"].to_numpy() + 1e-9).sum())
    return {
        "quotes": len(quoted),
        "discounted": round(float((quoted["unit_price"] < quoted["list_price"] - 1e-9).mean()), 4),
        "profit": round(kpis["profit"]),
        "orders_received": kpis["orders_received"],
        "on_time": round(kpis["on_time_delivery_rate"], 4),
        "late": round(len(late) / len(delivered), 4),
        "late_days_after_dispatch": round(float(after_dispatch.mean()), 2) if len(late) else None,
        "late_by_carrier": f"{by_carrier}/{len(late)}",
    }


def main() -> None:
    """Run every case and print one row (or JSON line) per case."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=120.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    args = parser.parse_args()
    register(InformedSalesVersion1)
    warmup = min(28.0, args.days / 4)
    if not args.json:
        print(f"{'case':42} {'disc.':>6} {'profit':>10} {'orders':>7} {'on time':>8} {'late':>6} "
              f"{'d after':>8} {'by carrier':>11}")
    for label, (pricing, information) in CASES.items():
        scenario = override(load("baseline"), horizon_days=args.days, warmup_days=warmup,
                            information={**SHARED, **information}, policies={"pricing": pricing})
        row = figures(simulate(scenario, seed=args.seed), warmup)
        if args.json:
            print(json.dumps({"case": label, **row}))
        else:
            print(f"{label:42} {row['discounted']:6.1%} {row['profit']:10,} {row['orders_received']:7} "
                  f"{row['on_time']:8.3f} {row['late']:6.1%} {row['late_days_after_dispatch']!s:>8} "
                  f"{row['late_by_carrier']:>11}")


if __name__ == "__main__":
    main()
