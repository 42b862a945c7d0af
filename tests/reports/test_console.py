"""The console formatter: every KPI in its unit, nested KPIs as tables, unknown keys and NaN readable."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pandas as pd
import pytest

from ordercycle.reports.console import (
    aligned,
    comparison_table,
    interval_text,
    kpi_table,
    mean_and_range,
    objective_text,
    run_footer,
)
from ordercycle.reports.glossary import KPIS, format_amount, format_value, info, number_text
from ordercycle.sim.experiments import flatten_kpis

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "baseline-60d-seed0.kpis.json"


@pytest.mark.parametrize(
    ("kpi", "value", "expected"),
    [
        ("on_time_delivery_rate", 0.9534, "95.3 %"),
        ("on_time_delivery_rate", 1.0, "100.0 %"),
        ("revenue", 112890.54, "112,891 EUR"),
        ("profit", -83366.24, "-83,366 EUR"),
        ("profit", -0.4, "0 EUR"),
        ("inquiries", 1581, "1,581"),
        ("orders_rejected", 7.0, "7"),  # a whole count from a float column
        ("orders_delivered", 47.5, "47.5"),  # a mean count
        ("mean_lead_time_days", 4.2137, "4.21 days"),
        ("mean_lead_time_days", 123.456, "123.5 days"),
        ("max_unattended_hours", 19.397, "19.40 hours"),
        ("mean_inventory_units", 1736.115, "1,736 units"),
        ("forecast_mape", 12.345, "12.3 %"),
        ("lines_per_order", 1.5714, "1.57 per order"),
        ("final_states.open", 139, "139"),
        ("utilization.machining", 0.859, "85.9 %"),
        ("staff_utilization.sales_reps", 0.5221, "52.2 %"),
        ("queue_growth_per_week.sales_reps", 1.234, "1.23 per week"),
        ("by_segment.strategic.revenue", 85400.54, "85,401 EUR"),
        ("by_segment.strategic.on_time_delivery_rate", 0.5, "50.0 %"),
    ],
)
def test_values_are_written_in_the_kpis_unit(kpi, value, expected):
    assert format_value(kpi, value) == expected


@pytest.mark.parametrize("value", [None, math.nan, math.inf])
def test_an_undefined_value_is_a_dash(value):
    assert format_value("on_time_delivery_rate", value) == "–"
    assert number_text("revenue", value) == "–"
    assert interval_text("revenue", value, 3.0) == "–"


def test_money_takes_the_scenarios_currency_and_differences_of_shares_are_points():
    assert format_value("revenue", 1234.5, "CHF") == "1,234 CHF"  # round half to even
    assert format_amount("on_time_delivery_rate", -0.012, signed=True) == "−1.2 points"
    assert interval_text("on_time_delivery_rate", 0.953, 0.012) == "95.3 ± 1.2 %"
    assert interval_text("on_time_delivery_rate", 0.008, 0.005, difference=True) == "+0.8 ± 0.5 points"
    assert interval_text("profit", -2345.0, 1200.0, "USD", difference=True) == "-2,345 ± 1,200 USD"
    assert interval_text("orders_delivered", 968.0, math.nan) == "968"
    assert mean_and_range("mean_lead_time_days", 4.0, 3.5, 4.5) == "4.00 [3.50, 4.50] days"


def test_every_kpi_of_a_run_has_a_glossary_entry_with_a_unit():
    """A KPI added to kpis.py without a glossary entry would print without unit or label."""
    flat = flatten_kpis(json.loads(GOLDEN.read_text()))
    missing = [name for name in flat if not info(name).unit]
    assert missing == []
    assert all(entry.unit for entry in KPIS.values())


def _kpis():
    return {
        "inquiries": 147,
        "orders_delivered": 12,
        "on_time_delivery_rate": 0.9534,
        "mean_lead_time_days": float("nan"),
        "revenue": 112890.54,
        "by_segment": {
            "strategic": {"inquiries": 37, "on_time_delivery_rate": 0.5, "revenue": 0.0},
            "regular": {"inquiries": 61, "on_time_delivery_rate": None, "revenue": 85400.54},
        },
        "utilization": {"assembly": 0.708, "machining": 0.8591},
        "staff_utilization": {"sales_reps": 0.5221, "estimators": 0.6153},
        "queue_growth_per_week": {"sales_reps": float("nan"), "estimators": 2.5},
        "final_states": {"lost_quote": 7, "open": 139},
        "brand_new_kpi": 3.14159,
        "brand_new_nested": {"a": 1, "b": None},
    }


def _row(text: str, key: str) -> list[str]:
    """The cells of the line of ``key`` (the key is the last cell of a KPI row)."""
    line = next(line for line in text.splitlines() if line.rstrip().endswith(f"  {key}"))
    return re.split(r"\s{2,}", line.strip())


def test_the_kpi_table_shows_label_value_unit_and_key_per_row():
    text = kpi_table(_kpis(), "EUR", warmup_days=28)
    assert _row(text, "on_time_delivery_rate") == ["on-time delivery", "95.3 %", "on_time_delivery_rate"]
    assert _row(text, "revenue") == ["revenue", "112,891 EUR", "revenue"]
    assert _row(text, "inquiries") == ["inquiries", "147", "inquiries"]
    assert _row(text, "mean_lead_time_days") == ["mean lead time", "–", "mean_lead_time_days"]
    assert "after the 28-day warm-up" in text
    assert "{'" not in text and not re.search(r"\b(nan|None)\b", text)  # no dict repr, no bare nan
    # sections in reading order: volume before service before money before capacity
    positions = [
        text.index(title) for title in ("Order flow", "Delivery", "Money", "Capacity", "By customer")
    ]
    assert positions == sorted(positions)


def test_values_line_up_in_one_column():
    text = kpi_table(_kpis())
    lines = [line for line in text.splitlines() if line.endswith(("  inquiries", "  revenue"))][:2]
    assert lines[0].index("147") + 3 == lines[1].index(" EUR"), lines
    assert lines[0].index("  inquiries", 5) == lines[1].index("  revenue", 10), "keys in one column"


def test_nested_kpis_are_small_tables_of_their_own():
    text = kpi_table(_kpis())
    lines = text.splitlines()
    # segments as columns, KPIs as rows with their unit and key
    header = next(line for line in lines if line.strip().startswith("KPI"))
    assert re.split(r"\s{2,}", header.strip()) == ["KPI", "strategic", "regular", "key"]
    assert _row(text, "revenue")[-1] == "revenue"
    segment_revenue = next(line for line in lines if line.strip().startswith("revenue (EUR)"))
    assert re.split(r"\s{2,}", segment_revenue.strip()) == ["revenue (EUR)", "0", "85,401", "revenue"]
    segment_on_time = next(line for line in lines if line.strip().startswith("on-time delivery (%)"))
    assert re.split(r"\s{2,}", segment_on_time.strip()) == [
        "on-time delivery (%)",
        "50.0",
        "–",
        "on_time_delivery_rate",
    ]
    # staff pools: utilisation and queue growth share one table (rows = pools)
    pool = next(line for line in lines if line.strip().startswith("estimators"))
    assert re.split(r"\s{2,}", pool.strip()) == ["estimators", "61.5", "2.50"]
    assert "staff_utilization.<pool>" in text and "queue_growth_per_week.<pool>" in text
    machining = next(line for line in lines if line.strip().startswith("machining"))
    assert re.split(r"\s{2,}", machining.strip()) == ["machining", "85.9"]
    assert re.split(r"\s{2,}", next(line for line in lines if "lost_quote" in line).strip()) == [
        "lost_quote",
        "7",
    ]


def test_unknown_kpis_still_print_under_other():
    text = kpi_table(_kpis())
    other = text[text.index("\nOther") :]
    assert _row(other, "brand_new_kpi") == ["brand new kpi", "3.14", "brand_new_kpi"]
    assert re.split(
        r"\s{2,}",
        next(
            line for line in other.splitlines() if line.strip().startswith("b ") or line.strip() == "b  –"
        ).strip(),
    ) == ["b", "–"]


def test_a_real_runs_kpis_print_without_python_reprs():
    text = kpi_table(json.loads(GOLDEN.read_text()), "EUR", 7)
    assert "{" not in text and not re.search(r"\b(nan|None)\b", text)
    assert re.search(r"on-time delivery\s+\d+\.\d %\s+on_time_delivery_rate", text)
    assert re.search(r"revenue\s+[\d,]+ EUR\s+revenue", text)
    assert re.search(r"inquiries\s+[\d,]+\s+inquiries", text)
    assert not re.search(r"\d\.\d{3,}", text), "more than two decimals"


def test_numpy_numbers_print_like_python_numbers():
    import numpy as np

    text = kpi_table(
        {"inquiries": np.int64(1581), "revenue": np.float64(12.6), "utilization": {"a": np.float32(0.5)}}
    )
    assert _row(text, "inquiries") == ["inquiries", "1,581", "inquiries"]
    assert _row(text, "revenue") == ["revenue", "13 EUR", "revenue"]
    assert re.search(r"^    a +50\.0$", text, re.M)


def test_the_run_footer_tells_the_two_inquiry_counts_apart():
    line = run_footer(1581, 147, 30849, 28.0, "out/run")
    assert line == (
        "1,581 inquiries simulated, 147 after the 28-day warm-up (the KPI cohort); 30,849 events -> out/run"
    )


def test_aligned_pads_columns_and_keeps_headings_out_of_the_widths():
    lines = aligned([["a heading that is long"], ["x", "1"], ["yy", "10"]], right=(1,))
    assert lines == ["a heading that is long", "x    1", "yy  10"]


def test_the_comparison_table_is_in_the_kpis_unit():
    summary = pd.DataFrame(
        [
            {
                "set": "fifo",
                "kpi": "on_time_delivery_rate",
                "mean": 0.908,
                "half_width": 0.129,
                "diff_mean": math.nan,
                "diff_ci_low": math.nan,
                "diff_ci_high": math.nan,
                "p_value": math.nan,
            },
            {
                "set": "edd",
                "kpi": "on_time_delivery_rate",
                "mean": 0.913,
                "half_width": 0.124,
                "diff_mean": 0.005,
                "diff_ci_low": -0.022,
                "diff_ci_high": 0.032,
                "p_value": 0.5441,
            },
            {
                "set": "fifo",
                "kpi": "profit",
                "mean": -59752.0,
                "half_width": 72526.0,
                "diff_mean": math.nan,
                "diff_ci_low": math.nan,
                "diff_ci_high": math.nan,
                "p_value": math.nan,
            },
            {
                "set": "edd",
                "kpi": "profit",
                "mean": -54077.0,
                "half_width": 50529.0,
                "diff_mean": 5675.0,
                "diff_ci_low": -25358.0,
                "diff_ci_high": 36708.0,
                "p_value": 0.0004,
            },
        ]
    )
    lines = comparison_table(summary, ["profit", "on_time_delivery_rate"], "fifo", 0.95, ["profit"], "EUR")
    cells = [re.split(r"\s{2,}", line.strip()) for line in lines]
    assert cells[0] == ["KPI / set", "mean ± 95 % CI", "vs fifo (paired)", "p"]
    assert cells[1] == ["profit — ranked"]
    assert cells[2] == ["fifo", "-59,752 ± 72,526 EUR", "(reference)"]
    assert cells[3] == ["edd", "-54,077 ± 50,529 EUR", "+5,675 ± 31,033 EUR", "<0.001"]
    assert cells[4] == ["on-time delivery (on_time_delivery_rate)"]
    assert cells[6] == ["edd", "91.3 ± 12.4 %", "+0.5 ± 2.7 points", "0.544"]


def test_the_objective_in_words():
    objective = {"weights": {"profit": 1.0}, "constraints": [{"kpi": "on_time_delivery_rate", "min": 0.9}]}
    assert objective_text(objective) == "score = 1 × profit; subject to on_time_delivery_rate at least 90.0 %"
