"""Golden runs: 60 days of each built-in company with seed 0 must give exactly the committed KPIs.

Any change to the model, the baseline or the random streams changes these numbers.
When such a change is intended, regenerate the file and commit it with the change:

    ORDERCYCLE_REGEN_GOLDEN=1 python -m pytest tests/sim/test_golden.py
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from ordercycle.scenarios.loader import load, override
from ordercycle.sim.run import kpis_json, simulate

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


@pytest.mark.parametrize("company", ["baseline", "around-the-clock"])
def test_baseline_kpis_match_the_golden_file(company):
    """Both built-in companies; the around-the-clock one is the baseline before its
    recalibration, so its file also proves that mechanisms left off change nothing."""
    golden = GOLDEN / f"{company}-60d-seed0.kpis.json"
    text = kpis_json(simulate(override(load(company), horizon_days=60, warmup_days=7), seed=0).kpis)
    if os.environ.get("ORDERCYCLE_REGEN_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    expected = golden.read_text(encoding="utf-8")
    if text != expected:
        got, want = json.loads(text), json.loads(expected)
        changed = {k: (want.get(k), got.get(k)) for k in sorted(set(got) | set(want))
                   if got.get(k) != want.get(k)}
        raise AssertionError(
            f"baseline KPIs changed (golden -> now): {changed}\n"
            f"sha256 now {hashlib.sha256(text.encode()).hexdigest()}; if intended, regenerate "
            "with ORDERCYCLE_REGEN_GOLDEN=1 (see the module docstring)"
        )
