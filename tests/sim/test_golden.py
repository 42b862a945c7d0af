"""Golden run: the 60-day baseline with seed 0 must give exactly the committed KPIs.

Any change to the model, the baseline or the random streams changes these numbers.
When such a change is intended, regenerate the file and commit it with the change:

    ORDERCYCLE_REGEN_GOLDEN=1 python -m pytest tests/sim/test_golden.py
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ordercycle.sim.run import kpis_json, simulate

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "baseline-60d-seed0.kpis.json"


def test_baseline_kpis_match_the_golden_file(short_baseline):
    text = kpis_json(simulate(short_baseline, seed=0).kpis)
    if os.environ.get("ORDERCYCLE_REGEN_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    expected = GOLDEN.read_text(encoding="utf-8")
    if text != expected:
        got, want = json.loads(text), json.loads(expected)
        changed = {k: (want.get(k), got.get(k)) for k in sorted(set(got) | set(want))
                   if got.get(k) != want.get(k)}
        raise AssertionError(
            f"baseline KPIs changed (golden -> now): {changed}\n"
            f"sha256 now {hashlib.sha256(text.encode()).hexdigest()}; if intended, regenerate "
            "with ORDERCYCLE_REGEN_GOLDEN=1 (see the module docstring)"
        )
