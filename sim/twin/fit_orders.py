"""Calibrating the segments: when orders come, what they hold, how customers answer and pay.

Per segment of the log (or once for a log without segments, shared out over the base's
segments by their base rates): the arrival process over the **arrival window** (the days
in which orders arrive, not the log's tail of later events of earlier orders) with the
weekday and hourly profiles of the arrivals, units per line, lines per order, the product
mix, the customers' response days and quote acceptance, the payment delay after the
terms, prepayment (share of the orders paid before they ship, delay, what waits), and
whether the customers take partial deliveries. :func:`arrival_window` finds the window.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize

from ordercycle.scenarios.schema import Scenario
from ordercycle.sim.twin.calibration import Calibration, pair_durations, settled, use_pairs
from ordercycle.sim.twin.fitting import MIN_SAMPLES, fit_arrivals, fit_distribution, fit_order_size
from ordercycle.sim.twin.fitting_orders import (
    WEEKDAYS,
    fit_lines_per_order,
    fit_product_mix,
    hourly_profile,
    weekday_profile,
)
from ordercycle.sim.twin.logs import CaseLog

ALWAYS_ACCEPTED = 20.0
"""``base_utility`` of a segment whose log shows no lost quote: P(accept) > 1 − 1e-8 at list price."""
GAP_LEVEL = 0.001
"""Arrivals are taken to have stopped when a Poisson gap this long has a smaller probability."""


def _round(value: float) -> float:
    return float(f"{value:.6g}")


def arrival_times(log: CaseLog) -> tuple[pd.Series, str]:
    """Per case, when it arrived: its ``inquiry_received``, else its first event (with a note)."""
    inquiries = log.activity("inquiry_received")
    if len(inquiries):
        return inquiries.groupby("case_id")["time"].min(), "inquiry_received"
    return log.events.groupby("case_id")["time"].min(), "the first event of each case"


def arrival_window(times: pd.Series, span: float, record: Calibration) -> tuple[float, float]:
    """The days in which orders arrive: from the log's origin to the last arrival, or the log's end.

    A log often runs on after its last order arrived (the later events of earlier orders, or a
    file cut after its last case): when no arrival in the log's last days is too unlikely
    for the arrival rate (p < :data:`GAP_LEVEL`), the window ends at the last arrival, so a
    trend is fitted only where orders arrive, and validation judges that window.
    """
    if times.empty:
        return 0.0, span
    first, last = float(times.min()), float(times.max())
    rate = len(times) / max(last - math.floor(first), 1e-9)
    end = span
    if math.exp(-rate * (span - last)) < GAP_LEVEL:
        end = last
        record.notes.append(
            f"warning: no order arrives in the log's last {span - last:.1f} days (the last on day "
            f"{last:.2f}, "
            f"the log ends on day {span:.2f}; at {rate:.1f} a day a gap so long has p < {GAP_LEVEL:g}): "
            "the log holds the later events of earlier orders, or was cut; arrivals are fitted over "
            f"days 0–{last:.2f} and validation judges that window"
        )
    if first > 1.0 and math.exp(-rate * first) < GAP_LEVEL:
        record.notes.append(f"the first order arrives on day {first:.2f}: the log's first days hold only "
                            "events of orders that arrived before it began")
    return 0.0, end


def _day_weights(window: tuple[float, float], weekdays: dict[str, float] | None, hours: list[float] | None,
                 first_weekday: int) -> np.ndarray:
    """Per day of the window, the mean profile factor over its exposed part."""
    start, end = window
    days = max(1, math.ceil(end))
    weights = np.ones(days)
    hourly = np.asarray(hours if hours is not None else [1.0] * 24, dtype=float)
    for day in range(days):
        low, high = max(day, start), min(day + 1.0, end)
        if high <= low:
            continue
        edges = np.clip(np.arange(25) / 24 + day, low, high)
        exposure = np.diff(edges)
        factor = float(np.sum(exposure * hourly) / exposure.sum())
        if weekdays is not None:
            factor *= weekdays[WEEKDAYS[(day + first_weekday) % 7]]
        weights[day] = factor
    return weights


def _profiles(log: CaseLog, times: np.ndarray, window: tuple[float, float]) -> dict:
    """Weekday and hourly profiles of a segment's arrivals, kept when significant, and the day weights."""
    first_weekday = int(log.origin.weekday())
    inside = times[(times >= window[0]) & (times <= window[1])]
    weekdays = weekday_profile(inside, *window, first_weekday)
    hours = hourly_profile(inside, *window)
    return {"weekday_profile": weekdays["profile"], "hourly_profile": hours["profile"],
            "weights": _day_weights(window, weekdays["profile"], hours["profile"], first_weekday),
            "statistics": {"weekday": weekdays, "hourly": hours}}


def _lines_of(log: CaseLog, members: pd.Index) -> pd.DataFrame:
    """The lines of these cases: the log's items, else one line per case of the case's product and size."""
    cases = log.cases.reindex(members)
    if log.lines is not None:
        lines = log.lines[log.lines["case_id"].isin(members)].copy()
        single = lines.groupby("case_id")["line_id"].transform("size") == 1
        lines["quantity"] = pd.to_numeric(lines["quantity"], errors="coerce").astype(float)
        lines["product"] = lines["product"].astype("string")
        for attr, kind in (("quantity", float), ("product", "string")):  # an item without attributes:
            gap = lines[attr].isna() & single  # its order's, if it is the order's only line
            if attr in cases and gap.any():
                lines[attr] = lines[attr].where(~gap, lines["case_id"].map(cases[attr]).astype(kind))
        return lines
    quantity = cases["quantity"] if "quantity" in cases else pd.Series(np.nan, index=members)
    if quantity.isna().all():
        asked = log.activity("inquiry_received").groupby("case_id")["quantity"].first()
        quantity = asked.reindex(members)
    product = cases["product"] if "product" in cases else pd.Series(pd.NA, index=members, dtype="string")
    price = cases["price"] if "price" in cases else pd.Series(np.nan, index=members)
    return pd.DataFrame({"case_id": members, "line_id": members, "product": product.to_numpy(),
                         "quantity": quantity.to_numpy(), "price": price.to_numpy(), "line": 1.0})


def _mix(lines: pd.DataFrame, products: set[str], name: str, record: Calibration) -> tuple[dict, dict]:
    """The product mix (shares of the base's products) and its statistics."""
    known = lines.dropna(subset=["product"])
    if known.empty:
        return {}, {}
    ordered = bool(known["line"].notna().all()) if "line" in known else False
    if ordered:
        known = known.sort_values(["case_id", "line"], kind="stable")
    per_order = known.groupby("case_id", sort=False)["product"].agg(lambda p: tuple(dict.fromkeys(p)))
    shares = fit_product_mix(list(per_order), ordered)
    unknown = {p: v["count"] for p, v in shares.items() if p not in products}
    if unknown:
        record.notes.append(f"segment {name}: products not in the base (no routing) left out of the mix: "
                            f"{unknown}")
    mix = {p: _round(v["share"]) for p, v in shares.items() if p in products and v["share"] > 0}
    return mix, {"shares": shares, "orders": len(per_order),
                 "method": "first lines" if ordered else "without replacement, unordered sets (ML)"}


def _acceptance_utility(probability: float, offsets: np.ndarray) -> float:
    """base_utility b with mean over quotes of 1 / (1 + exp(-(b - offset))) = probability.

    Over the answered quotes this is the maximum-likelihood b of the logit with known
    offsets (its score equation is sum(accepted - p) = 0).
    """
    probability = min(max(probability, 1e-4), 1 - 1e-4)

    def gap(b: float) -> float:
        return float(np.mean(1 / (1 + np.exp(-(b - offsets))))) - probability

    return float(optimize.brentq(gap, -30, 30))


def _published_transit(data: dict[str, Any], segment: dict[str, Any]) -> float:
    """The transit the base's pricing policy adds to its promises (0 unless it publishes one)."""
    from ordercycle.scenarios.distributions import delayed_quantile
    from ordercycle.scenarios.schema import LogisticsProvider

    pricing = data.get("policies", {}).get("pricing") or {}
    level = (data.get("information") or {}).get("carrier_transit_quantile")
    adds = pricing.get("name") in ("list-price", "tier-discount") and (pricing.get("params") or {}).get(
        "add_transit")
    if level is None or not adds:
        return 0.0
    spec = next(p for p in data["logistics_providers"] if p["id"] == segment["logistics_provider"])
    provider = LogisticsProvider.model_validate(spec)
    return float(delayed_quantile(provider.transit_days, provider.reliability, provider.delay_days, level))


def _acceptance_offsets(base: Scenario, data: dict[str, Any], segment: dict[str, Any],
                        lines: pd.DataFrame, cases: pd.Index) -> np.ndarray:
    """Per quote, the utility the logit loses to price and promised lead.

    An order's price ratio is its amount over its amount at list prices (the lines'), its
    promise the longest of its lines' standard lead times plus the transit the base's
    pricing policy publishes (``add_transit``): what the list-price policy quotes. The log
    shows no promise for a lost quote, so other promises (load-dependent ones) and debrief
    bonuses are absorbed into ``base_utility``; see docs/twin.md.
    """
    products = {p.id: p for p in base.products}
    desired = float(segment["desired_lead_days"])
    transit = _published_transit(data, segment)
    known = lines[lines["product"].isin(list(products)) & lines["case_id"].isin(cases)]
    listed = known["product"].map(lambda p: products[p].list_price)
    lead = known["product"].map(lambda p: products[p].standard_lead_days)
    quantity = known["quantity"].fillna(1.0)
    price = (known["price"] if "price" in known else pd.Series(np.nan, index=known.index)).fillna(listed)
    grouped = known.assign(value=quantity * price, listed=quantity * listed, lead=lead).groupby("case_id")
    ratio = (grouped["value"].sum() / grouped["listed"].sum()).reindex(cases).fillna(1.0)
    promise = (grouped["lead"].max() + transit).reindex(cases).fillna(desired)
    offsets = (float(segment["price_sensitivity"]) * (ratio - 1)
               + float(segment["lead_time_sensitivity"]) * (promise - desired) / desired)
    return offsets.to_numpy() if len(offsets) else np.asarray([0.0])


def _remembered(log: CaseLog, data: dict[str, Any], answers: pd.DataFrame) -> np.ndarray:
    """Per answered quote, the utility its customer's remembered grievances take (base's ``goodwill``).

    The grievances the log shows: late deliveries (the order's delivery — ``order_delivered``,
    else its last package — after its promised date) and disputed invoices. Without them the
    fitted ``base_utility`` would absorb the customers' mean grudge.
    """
    goodwill = data.get("goodwill")
    if not goodwill or "customer" not in log.cases or not len(answers):
        return np.zeros(len(answers))
    delivered = log.activity("order_delivered").groupby("case_id")["time"].min()
    if delivered.empty:
        delivered = log.activity("shipment_delivered").groupby("case_id")["time"].max()
    grudges = []
    if "promised_date" in log.cases:
        promised = log.cases["promised_date"].reindex(delivered.index)
        late = delivered[delivered > promised + 1e-9]
        grudges.append(pd.DataFrame({"case_id": late.index, "time": late.to_numpy(),
                                     "penalty": float(goodwill.get("late_delivery", 0.0))}))
    disputed = log.activity("invoice_disputed")
    grudges.append(pd.DataFrame({"case_id": disputed["case_id"].to_numpy(),
                                 "time": disputed["time"].to_numpy(),
                                 "penalty": float(goodwill.get("wrong_invoice", 0.0))}))
    table = pd.concat(grudges, ignore_index=True)
    table["customer"] = table["case_id"].map(log.cases["customer"])
    memory = float(goodwill.get("memory_days", 90.0))
    by_customer = {c: rows for c, rows in table.dropna(subset=["customer"]).groupby("customer")}
    penalties = []
    for case, time in zip(answers["case_id"], answers["time"], strict=True):
        rows = by_customer.get(log.cases["customer"].get(case))
        if rows is None:
            penalties.append(0.0)
            continue
        remembered = (rows["time"] < time) & (rows["time"] + memory > time)
        penalties.append(float(rows.loc[remembered, "penalty"].sum()))
    return np.asarray(penalties)


def _payments(log: CaseLog, members: pd.Index, terms: float, record: Calibration, name: str) -> dict:
    """Days from each invoice (its last correction, if disputed) to its payment, less the terms."""
    bills = log.activity("invoice_issued", "invoice_corrected").dropna(subset=["invoice_id"])
    paid = log.activity("payment_received").dropna(subset=["invoice_id"])
    bills, paid = bills[bills["case_id"].isin(members)], paid[paid["case_id"].isin(members)]
    if bills.empty or paid.empty:
        return {"n": 0}
    first_paid = paid.groupby("invoice_id")["time"].min()
    billed = bills.assign(paid=bills["invoice_id"].map(first_paid)).dropna(subset=["paid"])
    billed = billed[billed["time"] <= billed["paid"] + 1e-9]
    last_bill = billed.groupby("invoice_id")["time"].max()
    waited = first_paid.reindex(last_bill.index) - last_bill
    last_bill = last_bill[settled(last_bill, waited, log.span_days)]  # invoices the log sees paid
    days = waited.reindex(last_bill.index).to_numpy()
    record.use(billed[billed["invoice_id"].isin(last_bill.index)], f"segments.{name}.payment_delay_days")
    record.use(paid[paid["invoice_id"].isin(last_bill.index)], f"segments.{name}.payment_delay_days")
    early = float(np.mean(days < terms - 0.5)) if len(days) else 0.0
    fitted_terms = terms if early <= 0.02 else max(0.0, math.floor(float(np.quantile(days, 0.01))))
    return {"n": len(days), "days": days, "terms": fitted_terms, "early_share": early}


def _prepayment(log: CaseLog, members: pd.Index, base_terms: dict | None, record: Calibration,
                name: str) -> dict | None:
    """Share of the accepted orders paid before they ship, the delay from the request, what waits."""
    requests = log.activity("prepayment_invoiced").groupby("case_id")["time"].min()
    accepted = log.activity("order_accepted").groupby("case_id")["time"].min()
    received = log.activity("prepayment_received").groupby("case_id")["time"].min()
    dispatched = log.activity("shipment_dispatched").groupby("case_id")["time"].min()
    if received.empty:  # a log with one payment activity: paid before the first shipment is a prepayment
        payments = log.activity("payment_received")
        invoiced = log.activity("invoice_issued").groupby("case_id")["time"].min()
        first_paid = payments.groupby("case_id")["time"].min()
        before = first_paid[(first_paid < dispatched.reindex(first_paid.index).fillna(np.inf))
                            & (first_paid < invoiced.reindex(first_paid.index).fillna(np.inf))]
        received = before
        if len(before):
            record.use(payments[payments["case_id"].isin(before.index)], f"segments.{name}.prepayment")
    else:
        record.use(log.activity("prepayment_received", "prepayment_invoiced"), f"segments.{name}.prepayment")
    accepted = accepted[accepted.index.isin(members)]
    if accepted.empty:
        accepted = pd.concat([dispatched, received]).groupby(level=0).min()
        accepted = accepted[accepted.index.isin(members)]
    received = received[received.index.isin(members)]
    if accepted.empty:
        return None
    request = requests.reindex(received.index).fillna(accepted.reindex(received.index))
    delays = (received - request).dropna().clip(lower=0.0)
    horizon = float(np.quantile(delays, 0.99)) if len(delays) >= MIN_SAMPLES else 0.0
    settled = accepted[accepted <= log.span_days - horizon]
    share = float(settled.index.isin(received.index).mean()) if len(settled) else 0.0
    fit = fit_distribution(delays[delays.index.isin(settled.index)].to_numpy())
    stats = {"orders": len(settled), "prepaid": int(settled.index.isin(received.index).sum()), "share": share,
             "se": math.sqrt(share * (1 - share) / len(settled)) if len(settled) else None,
             "delay_days": fit.to_json(), "note": f"orders accepted by day {log.span_days - horizon:.1f} "
             "(the 99th percentile of the delays before the log's end)"}
    record.samples[f"prepayment_days.{name}"] = delays.tolist()
    blocks = (base_terms or {}).get("blocks", "release")
    early = log.activity("stock_issued", "operation_queued", "picking_started")
    early = early[early["case_id"].isin(received.index)]
    if len(early):
        before_payment = early["time"] < early["case_id"].map(received) - 1e-9
        blocks = "shipment" if before_payment.mean() > 0.5 else "release"
        stats["released_before_payment_share"] = float(before_payment.mean())
    stats["blocks"] = blocks
    return stats if len(settled) >= MIN_SAMPLES else {**stats, "too_few": True}


def _partial_deliveries(log: CaseLog, members: pd.Index) -> dict[str, Any]:
    """Of the orders of several lines all shipped, how many left in more than one package."""
    shipped = log.activity("shipment_dispatched").dropna(subset=["shipment_id"])
    shipped = shipped[shipped["case_id"].isin(members)]
    if shipped.empty:
        return {"orders": 0}
    lines = _lines_of(log, members).groupby("case_id").size()
    done = log.activity("order_delivered")["case_id"].unique() if len(log.activity("order_delivered")) else (
        log.activity("shipment_delivered")["case_id"].unique())
    packages = shipped.groupby("case_id")["shipment_id"].nunique()
    several = packages[packages.index.isin(lines[lines > 1].index) & packages.index.isin(done)]
    per_order = shipped.groupby("case_id")["shipment_id"].nunique()
    return {"orders": len(several), "split": int((several > 1).sum()),
            "shipments_per_order": float(per_order.mean()) if len(per_order) else None}


def segment_fits(log: CaseLog, base: Scenario, data: dict[str, Any], record: Calibration) -> None:
    """Fit every segment of the log (or the pooled log) onto ``data`` (the base scenario as a dict)."""
    arrivals, arrival_source = arrival_times(log)
    if arrival_source != "inquiry_received":
        record.notes.append(f"no inquiry_received in the log: arrival = {arrival_source}")
    record.use(log.activity("inquiry_received"), "arrivals")
    window = record.window = arrival_window(arrivals, log.span_days, record)
    cases = log.cases.reindex(arrivals.index)
    products = {p.id for p in base.products}
    base_segments = {s["id"]: s for s in data["segments"]}
    base_total = sum(s["arrivals"]["rate_per_day"] for s in data["segments"])  # before any is changed
    has_segment = "segment" in cases and cases["segment"].notna().any()
    groups = sorted(cases["segment"].dropna().unique()) if has_segment else ["(all)"]
    quoting = {"quote_sent", "quote_accepted", "quote_lost"} & set(log.events["activity"])
    fitted_segments = []
    for name in groups:
        members = cases.index[cases["segment"] == name] if has_segment else cases.index
        prefix = f"segments.{name}"
        times = arrivals.reindex(members).to_numpy()
        profiles = _profiles(log, times, window)
        fit = fit_arrivals(times, window[1], window[0], profiles["weights"],
                           weekly=profiles["weekday_profile"] is None)
        template = base_segments.get(str(name), data["segments"][0])
        if has_segment and str(name) not in base_segments:
            record.notes.append(f"segment {name!r} is not in the base: its unfitted fields come from base "
                                f"segment {template['id']!r}")
        segment = dict(template, id=str(name)) if has_segment else None
        targets = [segment] if segment is not None else data["segments"]
        stats: dict[str, Any] = {"arrivals": fit.to_json(), "profiles": profiles["statistics"]}
        record.samples[f"arrivals.{name}.daily_counts"] = fit.daily_counts
        record.samples[f"arrivals.{name}.daily_fitted"] = fit.daily_fitted
        arrivals_spec = dict(fit.arrivals(), weekday_profile=profiles["weekday_profile"],
                             hourly_profile=profiles["hourly_profile"])
        for target in targets:
            share = target["arrivals"]["rate_per_day"] / base_total if segment is None else 1.0
            target["arrivals"] = dict(arrivals_spec, rate_per_day=_round(fit.rate_per_day * share))
        found = profiles["statistics"]
        shapes = "; ".join(f"{kind} profile {'fitted' if found[kind]['profile'] else 'none'} (equal rates: "
                           f"p = {found[kind]['pvalue']:.2g})" for kind in ("weekday", "hourly"))
        record.fit(f"{prefix}.arrivals", arrivals_spec,
                   f"NHPP on {fit.n} arrivals over days {window[0]:g}–{window[1]:.2f}, form {fit.form} "
                   f"(BIC); {shapes}" + ("; the log has no segment: each base segment keeps its share of "
                                         "the rate" if segment is None else ""))
        lines = _lines_of(log, members)
        size = fit_order_size(lines["quantity"].dropna().to_numpy())
        stats["order_size_units"] = size.to_json()
        record.samples[f"order_size.{name}"] = lines["quantity"].dropna().tolist()
        mix, mix_stats = _mix(lines, products, str(name), record)
        counts = lines.groupby("case_id").size()
        cap = sum(1 for v in (mix or targets[0]["product_mix"]).values() if v > 0)
        lines_fit = fit_lines_per_order(counts.to_numpy(), cap) if log.lines is not None else None
        response = pair_durations(log, ("quote_sent",), ("quote_accepted", "quote_lost"), None)
        response = response[response["case_id"].isin(members)]
        response_fit = fit_distribution(response["days"].to_numpy())
        answers = log.activity("quote_accepted", "quote_lost")
        answers = answers[answers["case_id"].isin(members)].drop_duplicates("case_id")
        accepted, quoted = int((answers["activity"] == "quote_accepted").sum()), len(answers)
        lost = "quote_lost" in set(log.events["activity"])
        terms = float(targets[0]["payment_terms_days"])
        payment = _payments(log, members, terms, record, str(name))
        prepaid = _prepayment(log, members, targets[0].get("prepayment"), record, str(name))
        partial = _partial_deliveries(log, members)
        for target in targets:
            if size.n >= MIN_SAMPLES:
                target["order_size_units"] = size.chosen
            if mix:
                target["product_mix"] = mix
            if lines_fit is not None and lines_fit.n >= MIN_SAMPLES:
                target["lines_per_order"] = lines_fit.chosen
            if response_fit.n >= MIN_SAMPLES:
                target["response_days"] = response_fit.chosen
            if quoted >= MIN_SAMPLES and lost:
                offsets = _acceptance_offsets(base, data, target, lines, pd.Index(answers["case_id"]))
                offsets = offsets + _remembered(log, data, answers)
                target["base_utility"] = _round(_acceptance_utility(accepted / quoted, offsets))
            elif not quoting:
                target["base_utility"] = ALWAYS_ACCEPTED
            if payment["n"] >= MIN_SAMPLES:
                target["payment_terms_days"] = payment["terms"]
                target["payment_delay_days"] = fit_distribution(
                    np.maximum(payment["days"] - payment["terms"], 0.0)).chosen
            if prepaid is not None and not prepaid.get("too_few"):
                if prepaid["prepaid"] == 0:
                    target["prepayment"] = None
                else:
                    terms_now = dict(target.get("prepayment") or {})
                    terms_now.update(share=_round(prepaid["share"]), blocks=prepaid["blocks"])
                    if prepaid["delay_days"]["n"] >= MIN_SAMPLES:
                        terms_now["delay_days"] = prepaid["delay_days"]["chosen"]
                    terms_now.setdefault("delay_days", {"dist": "fixed", "value": 0.0})
                    if terms_now["blocks"] == "shipment":
                        terms_now["cancel_after_days"] = None
                    target["prepayment"] = terms_now
            if partial["orders"] >= 20:
                target["accepts_partial_deliveries"] = partial["split"] > 0
        if size.n >= MIN_SAMPLES:
            record.fit(f"{prefix}.order_size_units", size.chosen,
                       f"interval-censored ML on {size.n} "
                       f"{'lines' if log.lines is not None else 'orders'} (AIC)")
        if mix:
            record.fit(f"{prefix}.product_mix", mix, f"{mix_stats['method']}, {mix_stats['orders']} orders")
            stats["product_mix"] = mix_stats
        if lines_fit is not None:
            stats["lines_per_order"] = lines_fit.to_json()
            if lines_fit.n >= MIN_SAMPLES:
                record.fit(f"{prefix}.lines_per_order", lines_fit.chosen,
                           f"ML on {lines_fit.n} orders' line counts, P(N = k) = F(k) − F(k − 1) (AIC)")
        else:
            record.keep(f"{prefix}.lines_per_order", "the log has no order lines (items)")
        stats["response_days"] = response_fit.to_json()
        record.samples[f"response_days.{name}"] = response["days"].tolist()
        if response_fit.n >= MIN_SAMPLES:
            record.fit(f"{prefix}.response_days", response_fit.chosen,
                       f"{response_fit.n} quotes answered (AIC)")
            use_pairs(record, log, response, f"{prefix}.response_days")
        else:
            record.keep(f"{prefix}.response_days", "fewer than 10 answered quotes in the log")
        stats["quote_acceptance"] = {"quoted": quoted, "accepted": accepted,
                                     "rate": accepted / quoted if quoted else None}
        if quoted >= MIN_SAMPLES and lost:
            record.fit(f"{prefix}.base_utility", targets[0]["base_utility"],
                       f"logit intercept, {accepted} of {quoted} answered quotes accepted")
            record.use(answers, f"{prefix}.base_utility")
        elif not quoting:
            record.fit(f"{prefix}.base_utility", ALWAYS_ACCEPTED,
                       "the log has no quote step: every case of it is an order, so every quote is accepted")
        else:
            record.keep(f"{prefix}.base_utility",
                        "the log shows no lost quote (quote_lost) to fit acceptance on")
        stats["payment"] = {k: v for k, v in payment.items() if k != "days"}
        if payment["n"] >= MIN_SAMPLES:
            record.samples[f"payment_days.{name}"] = list(map(float, payment["days"]))
            record.fit(f"{prefix}.payment_delay_days", targets[0]["payment_delay_days"],
                       f"{payment['n']} invoices: days from the invoice (or its correction) to the payment, "
                       f"less the terms of {payment['terms']:g} days")
            if payment["terms"] != terms:
                record.fit(f"{prefix}.payment_terms_days", payment["terms"],
                           f"{payment['early_share']:.0%} of the invoices were paid before the base's "
                           f"terms of {terms:g} days: the 1st percentile of the days to payment")
        else:
            record.keep(f"{prefix}.payment_delay_days",
                        "fewer than 10 invoices paid in the log (payment_received after invoice_issued)")
        if prepaid is not None:
            stats["prepayment"] = prepaid
            if not prepaid.get("too_few"):
                record.fit(f"{prefix}.prepayment", targets[0].get("prepayment"),
                           f"{prepaid['prepaid']} of {prepaid['orders']} accepted orders paid before "
                           "they shipped")
        stats["partial_deliveries"] = partial
        if partial["orders"] >= 20:
            record.fit(f"{prefix}.accepts_partial_deliveries", partial["split"] > 0,
                       f"{partial['split']} of {partial['orders']} delivered orders of several lines left in "
                       "more than one package")
            dispatched = log.activity("shipment_dispatched")
            record.use(dispatched[dispatched["case_id"].isin(members)], "shipments per order")
        record.statistics[prefix] = stats
        if segment is not None:
            fitted_segments.append(segment)
    if has_segment:
        dropped = sorted(set(base_segments) - {str(g) for g in groups})
        if dropped:
            record.notes.append(f"base segments with no case in the log are dropped: {dropped}")
        data["segments"] = fitted_segments
    else:
        record.notes.append(
            "the log has no segment: every base segment keeps its share of the fitted total "
            "rate and gets the pooled trend, seasonality, profiles, sizes, lines and mix"
        )
