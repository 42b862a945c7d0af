"""The event recorder gives back exactly what was logged, across record batches."""

from __future__ import annotations

import math

import pytest

from ordercycle.sim import eventlog
from ordercycle.sim.eventlog import Recorder


def _log_rows(recorder: Recorder, n: int) -> list[dict[str, object]]:
    """Log ``n`` events with a mix of present and missing fields; return what was logged."""
    logged = []
    for i in range(n):
        row = {
            "time": i / 7, "activity": ("quote_sent", "order_entered", "shipment_dispatched")[i % 3],
            "department": "sales" if i % 2 else "logistics", "order_id": i if i % 5 else -1,
            "resource": None if i % 4 == 0 else f"pool-{i % 3}",
            "shipment": i * 10 if i % 3 == 2 else -1, "product": f"product-{i % 6}" if i % 2 else None,
            "quantity": float(i % 9) if i % 3 else math.nan, "amount": i * 1.25 if i % 4 == 1 else math.nan,
        }
        recorder.log(row["time"], row["activity"], row["department"], row["order_id"], row["resource"],
                     shipment=row["shipment"], product=row["product"], quantity=row["quantity"],
                     amount=row["amount"])
        logged.append(row)
    return logged


def test_table_returns_every_logged_value_across_batches(monkeypatch):
    monkeypatch.setattr(eventlog, "CHUNK_ROWS", 16)  # several batches, strings first seen in later ones
    recorder = Recorder()
    logged = _log_rows(recorder, 75)
    assert len(recorder) == 75
    table = recorder.table()
    assert len(table) == 75
    for row, (_, got) in zip(logged, table.iterrows(), strict=True):
        assert got["time"] == row["time"]
        assert got["activity"] == row["activity"]
        assert got["step"] == eventlog.ACTIVITY_STEP[row["activity"]]
        assert got["department"] == row["department"]
        for column, key, missing in (("order_id", "order_id", -1), ("shipment_id", "shipment", -1)):
            assert (got[column] is eventlog.pd.NA) == (row[key] == missing)
            if row[key] != missing:
                assert got[column] == row[key]
        for column, key in (("resource", "resource"), ("product_id", "product")):
            assert (got[column] is eventlog.pd.NA) == (row[key] is None)
            if row[key] is not None:
                assert got[column] == row[key]
        for column in ("quantity", "amount"):
            assert (got[column] is eventlog.pd.NA) == math.isnan(row[column])
            if not math.isnan(row[column]):
                assert got[column] == row[column]
        for column in ("invoice_id", "return_id", "ticket_id", "job_id"):
            assert got[column] is eventlog.pd.NA


def test_a_non_string_name_is_refused():
    with pytest.raises(TypeError, match="expected a string or None"):
        Recorder().log(0.0, "quote_sent", "sales", 1, resource=3)  # type: ignore[arg-type]
