"""Keynote verdicts, plain-language sentences and the Pareto front on synthetic results with known answers."""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from ordercycle.reports import mechanisms
from ordercycle.reports.comparison_report import difference_sentence, non_dominated
from ordercycle.reports.glossary import info
from ordercycle.reports.keynotes import (
    KeynoteFile,
    builtin_keynote_files,
    check_verdict,
    claim_verdict,
    conditions_sentence,
    conditions_table,
    evaluate,
    load_keynote,
    profit_checks,
    read_result,
    write_keynote_report,
)
from ordercycle.sim.experiments import flatten_kpis

REPS = 8


def _replications(effects: dict[str, dict[str, float]], noise: float, seed: int = 1) -> pd.DataFrame:
    """Replications of sets whose KPI means differ from a common base by the given effects.

    Every set shares the replication's common part (common random numbers) plus its own
    small noise, so paired differences are about the effect ± noise.
    """
    rng = np.random.default_rng(seed)
    common = {
        "on_time_delivery_rate": rng.normal(0.9, 0.03, REPS),
        "operating_cost": rng.normal(1e6, 5e4, REPS),
    }
    rows = []
    for name, shift in effects.items():
        for r in range(REPS):
            row = {"set": name, "replication": r, "seed": 0, "warmup_days": 0.0}
            for kpi, base in common.items():
                scale = 0.01 if kpi == "on_time_delivery_rate" else 1e4
                row[kpi] = base[r] + shift.get(kpi, 0.0) + rng.normal(0, noise * scale)
            rows.append(row)
    return pd.DataFrame(rows)


def _keynote(**changes) -> KeynoteFile:
    data = {
        "id": "K1",
        "claim": "B beats A on service and cost",
        "horizon_days": 30,
        "warmup_days": 5,
        "reference": "A",
        "sets": {"A": {}, "B": {"forecast": "consensus"}},
        "checks": [
            {"set": "B", "against": "A", "kpi": "on_time_delivery_rate"},
            {"set": "B", "against": "A", "kpi": "operating_cost"},
        ],
    }
    data.update(changes)
    return KeynoteFile.model_validate(data)


@pytest.mark.parametrize(
    ("low", "high", "better", "expected"),
    [
        (0.01, 0.05, "higher", "supported"),
        (0.01, 0.05, "lower", "contradicted"),
        (-0.05, -0.01, "lower", "supported"),
        (-0.05, -0.01, "higher", "contradicted"),
        (-0.01, 0.05, "higher", "inconclusive"),
        (float("nan"), float("nan"), "higher", "inconclusive"),
    ],
)
def test_a_check_follows_where_the_interval_lies(low, high, better, expected):
    assert check_verdict(low, high, better) == expected


def test_a_claim_needs_every_check_and_falls_with_any():
    assert claim_verdict(["supported", "supported"]) == "supported"
    assert claim_verdict(["supported", "inconclusive"]) == "inconclusive"
    assert claim_verdict(["supported", "contradicted"]) == "contradicted"
    assert claim_verdict([]) == "inconclusive"


@pytest.mark.parametrize(
    ("effect", "noise", "expected"),
    [
        ({"on_time_delivery_rate": 0.05, "operating_cost": -80_000}, 0.3, "supported"),  # clear win
        ({"on_time_delivery_rate": -0.05, "operating_cost": 80_000}, 0.3, "contradicted"),  # clear loss
        ({"on_time_delivery_rate": 0.002, "operating_cost": -2_000}, 3.0, "inconclusive"),  # overlap
    ],
)
def test_synthetic_results_give_the_known_verdict(effect, noise, expected):
    replications = _replications({"A": {}, "B": effect}, noise)
    checks = evaluate(_keynote(), replications, 0.95)
    assert list(checks["verdict"]) == [expected, expected]
    assert claim_verdict(list(checks["verdict"])) == expected
    # The reported effect is the paired mean difference, inside its own interval.
    row = checks.iloc[0]
    assert row["diff_ci_low"] <= row["diff_mean"] <= row["diff_ci_high"]
    assert row["diff_mean"] == pytest.approx(row["mean"] - row["against_mean"])


def test_a_check_against_a_set_other_than_the_reference_is_paired_with_that_set():
    replications = _replications(
        {"A": {}, "B": {"on_time_delivery_rate": 0.05}, "C": {"on_time_delivery_rate": 0.1}}, 0.3
    )
    keynote = _keynote(
        sets={"A": {}, "B": {}, "C": {}},
        checks=[{"set": "B", "against": "C", "kpi": "on_time_delivery_rate"}],
    )
    row = evaluate(keynote, replications, 0.95).iloc[0]
    assert row["verdict"] == "contradicted" and row["diff_mean"] == pytest.approx(-0.05, abs=0.01)


def test_every_claim_reports_profit_of_the_pairs_its_checks_compare():
    """A claim supported on service while losing money must say so: profit is evaluated for each
    (set, against) pair of the checks, unless a check already judges that pair on profit."""
    replications = _replications({"A": {}, "B": {"on_time_delivery_rate": 0.05}}, 0.3)
    loss = np.where(replications["set"] == "B", -90_000, 0)
    replications["profit"] = -replications["operating_cost"] + loss
    profit = profit_checks(_keynote(), replications, 0.95)
    (row,) = profit.itertuples()
    assert (row.set, row.against, row.kpi) == ("B", "A", "profit")
    assert row.verdict == "contradicted" and row.diff_mean == pytest.approx(-90_000, rel=0.2)
    judged = _keynote(checks=[{"set": "B", "against": "A", "kpi": "profit"}])
    assert profit_checks(judged, replications, 0.95).empty
    assert profit_checks(_keynote(), replications.drop(columns="profit"), 0.95).empty


def test_conditions_are_judged_point_by_point():
    low_load = _replications({"A": {}, "B": {"on_time_delivery_rate": -0.05, "operating_cost": 50_000}}, 0.3)
    high_load = _replications(
        {"A": {}, "B": {"on_time_delivery_rate": 0.05, "operating_cost": -50_000}}, 0.3, 2
    )
    replications = pd.concat([low_load.assign(point=0), high_load.assign(point=1)], ignore_index=True)
    points = pd.DataFrame({"point": [0, 1], "segments.*.arrivals.rate_per_day (scale)": [1.0, 1.3]})
    table = conditions_table(_keynote(), points, replications, 0.95)
    assert list(table["verdict"]) == ["contradicted", "supported"]
    assert conditions_sentence(table) == (
        "Conditions swept (2 points: supported at 1, contradicted at 1): the claim holds at "
        "segments.*.arrivals.rate_per_day (scale) = 1.3."
    )
    assert conditions_sentence(table.iloc[:1]).endswith("the claim holds at none of them.")


def test_the_report_says_when_an_unsupported_claims_conditions_were_not_swept(tmp_path):
    keynote = _keynote(conditions={"parameters": {"planning.expedite_margin_days": [2.0, 4.0]}})
    folder = tmp_path / "K1"
    folder.mkdir()
    _replications({"A": {}, "B": {"on_time_delivery_rate": 0.001}}, 3.0).to_parquet(
        folder / "replications.parquet"
    )
    (folder / "keynote.json").write_text(json.dumps(keynote.model_dump(mode="json")))
    (folder / "experiment.json").write_text(json.dumps({"confidence": 0.95, "scenario": {"currency": "EUR"}}))
    _, md_path = write_keynote_report(tmp_path)
    markdown = md_path.read_text()
    assert "**inconclusive**" in markdown
    assert (
        "Conditions: not swept (run `ordercycle keynotes --only K1` without --no-conditions to sweep "
        "planning.expedite_margin_days)." in markdown
    )


def test_the_keynote_report_is_rebuilt_from_saved_results(tmp_path):
    keynote = _keynote()
    folder = tmp_path / "K1"
    folder.mkdir()
    _replications({"A": {}, "B": {"on_time_delivery_rate": 0.05, "operating_cost": -80_000}}, 0.3).to_parquet(
        folder / "replications.parquet"
    )
    (folder / "keynote.json").write_text(json.dumps(keynote.model_dump(mode="json")))
    (folder / "experiment.json").write_text(json.dumps({"confidence": 0.9, "scenario": {"currency": "EUR"}}))
    html_path, md_path = write_keynote_report(tmp_path)
    verdicts = json.loads((tmp_path / "verdicts.json").read_text())
    assert verdicts["K1"]["verdict"] == "supported"
    assert "**supported**" in md_path.read_text() and "K1: B beats A" in html_path.read_text()
    assert read_result(folder).confidence == 0.9


def test_bad_keynote_files_name_the_field(tmp_path):
    with pytest.raises(ValueError, match="checks.0: no set named 'Z'"):
        _keynote(checks=[{"set": "Z", "against": "A", "kpi": "profit"}])
    with pytest.raises(ValueError, match="no better direction"):
        _keynote(checks=[{"set": "B", "against": "A", "kpi": "inquiries"}])
    bad = tmp_path / "K9.yaml"
    bad.write_text("id: K9\nclaim: x\nhorizon_days: -1\n")
    with pytest.raises(Exception, match="horizon_days"):
        load_keynote(bad)


def test_the_packaged_keynotes_cover_k1_to_k8_and_check_known_kpis():
    files = builtin_keynote_files()
    keynotes = [load_keynote(path) for path in files]
    assert [k.id for k in keynotes] == [f"K{i}" for i in range(1, 9)]
    golden = Path(__file__).resolve().parents[1] / "golden" / "baseline-60d-seed0.kpis.json"
    baseline_kpis = set(flatten_kpis(json.loads(golden.read_text())))
    for keynote in keynotes:
        assert keynote.warmup_days < keynote.horizon_days
        for check in keynote.checks:  # KPIs of the baseline, as in the golden run
            assert check.kpi in baseline_kpis, (keynote.id, check.kpi)
        assert keynote.explain, f"{keynote.id}: names no mechanism KPIs to explain its verdict"
        for kpi in keynote.explain:
            assert kpi in baseline_kpis, (keynote.id, "explain", kpi)


def test_sentences_state_direction_size_and_noise():
    win = SimpleNamespace(set="B", diff_mean=0.061, diff_ci_low=0.047, diff_ci_high=0.075)
    text = difference_sentence("on_time_delivery_rate", win, "A", 0.95)
    assert text == "B: on-time delivery 6.1 points ± 1.4 points higher than A (better)."
    cost = SimpleNamespace(set="B", diff_mean=-1200.0, diff_ci_low=-5000.0, diff_ci_high=2600.0)
    assert "less than the noise" in difference_sentence("operating_cost", cost, "A", 0.95)
    worse = SimpleNamespace(set="B", diff_mean=2.0, diff_ci_low=1.0, diff_ci_high=3.0)
    assert difference_sentence("mean_lead_time_days", worse, "A", 0.95).endswith("higher than A (worse).")
    assert info("utilization.machining").unit == "share"


def test_non_dominated_sets_are_the_pareto_front():
    points = pd.DataFrame(
        {"set": list("ABCD"), "cost": [10.0, 8.0, 12.0, 8.0], "service": [0.9, 0.85, 0.95, 0.8]}
    )
    assert non_dominated(points, "cost", "service", "lower", "higher") == [True, True, True, False]
    assert non_dominated(points, "cost", "service", "higher", "higher") == [False, False, True, False]


def test_report_on_a_keynotes_folder_rebuilds_the_conditions_sweep_report(tmp_path, monkeypatch):
    """Synthetic saved results (no simulation): a claim lost at one load level and won at the other."""
    import ordercycle.sim.experiments.replications as replication_tasks
    import ordercycle.sim.run as run
    from ordercycle.reports.statistics import rank_sets, summarise
    from ordercycle.scenarios.experiment_files import GridFile
    from ordercycle.scenarios.loader import load
    from ordercycle.sim.cli import main
    from ordercycle.sim.experiments import SweepResult, write_sweep

    def refuse(*args, **kwargs):
        raise AssertionError("a report must not re-run the simulation")

    monkeypatch.setattr(run, "simulate", refuse)
    monkeypatch.setattr(replication_tasks, "simulate", refuse)
    keynote = _keynote(conditions={"parameters": {"staff.senior_managers": [1, 2]}})
    folder = tmp_path / "K1"
    folder.mkdir()
    base = _replications({"A": {}, "B": {"on_time_delivery_rate": -0.05, "operating_cost": 50_000}}, 0.3)
    base = base.assign(profit=-base["operating_cost"])
    base.to_parquet(folder / "replications.parquet")
    summarise(base, "A", 0.95).to_parquet(folder / "summary.parquet")
    ranking = rank_sets(base, {"profit": 1.0}, [], 0.95)
    (folder / "ranking.json").write_text(
        json.dumps(
            {
                "objective": {"weights": {"profit": 1.0}, "constraints": []},
                "ranking": json.loads(ranking.to_json(orient="records")),
                "winner": str(ranking.iloc[0]["set"]),
            }
        )
    )
    (folder / "keynote.json").write_text(json.dumps(keynote.model_dump(mode="json")))
    (folder / "experiment.json").write_text(
        json.dumps({"confidence": 0.95, "reference": "A", "scenario": {"currency": "EUR"}})
    )
    won = _replications({"A": {}, "B": {"on_time_delivery_rate": 0.05, "operating_cost": -50_000}}, 0.3, 2)
    won = won.assign(profit=-won["operating_cost"])
    replications = pd.concat([base.assign(point=0), won.assign(point=1)], ignore_index=True)
    summary = pd.concat(
        [
            summarise(g.drop(columns="point"), "A", 0.95).assign(point=p)
            for p, g in replications.groupby("point")
        ],
        ignore_index=True,
    )
    points = pd.DataFrame({"point": [0, 1], "staff.senior_managers": [1, 2]})
    result = SweepResult(points, replications, summary, pd.DataFrame())
    grid = GridFile.model_validate(keynote.conditions)
    write_sweep(result, folder / "conditions", load("baseline"), grid, 0, REPS)
    assert main(["report", str(tmp_path)]) == 0
    markdown = (tmp_path / "keynotes.md").read_text()
    assert "the claim holds at staff.senior_managers = 2." in markdown
    sweep_md = (folder / "conditions" / "report.md").read_text()
    assert "Point 1 (staff.senior_managers = 2): B wins" in sweep_md
    # The keynote's checked KPIs come first in the sweep report.
    assert sweep_md.index("B: on-time delivery") < sweep_md.index("B: profit")


def test_the_keynote_report_shows_the_horizon_actually_run(tmp_path):
    """``--horizon`` overrides the keynote file: the page says what was run, and what the file says."""
    keynote = _keynote()  # the file: 30 days, 5 of warm-up
    for name, horizon in (("K1", 12.0), ("K2", 30.0)):
        folder = tmp_path / name
        folder.mkdir()
        _replications({"A": {}, "B": {"on_time_delivery_rate": 0.05}}, 0.3).to_parquet(
            folder / "replications.parquet"
        )
        (folder / "keynote.json").write_text(json.dumps({**keynote.model_dump(mode="json"), "id": name}))
        record = {
            "confidence": 0.95,
            "scenario": {"currency": "EUR"},
            "horizon_days": horizon,
            "warmup_days": 5.0,
            "replications": REPS,
        }
        (folder / "experiment.json").write_text(json.dumps(record))
    html_path, md_path = write_keynote_report(tmp_path)
    markdown, html = md_path.read_text(), html_path.read_text()
    rows = {line.split(" | ")[0]: line for line in markdown.splitlines() if line.startswith("| K")}
    assert rows["| K1"].endswith(f"| {REPS} | 12 d / 5 d (file: 30 d / 5 d) |")
    assert rows["| K2"].endswith(f"| {REPS} | 30 d / 5 d |")
    assert "12 d / 5 d (file: 30 d / 5 d)" in html
    said = f"Run with a horizon of 12 days, a warm-up of 5 days and {REPS} replications per set"
    assert f"{said} (the keynote file says 30 and 5 days)." in html
    # a record without the settings (an older folder) falls back to the file's
    (tmp_path / "K1" / "experiment.json").write_text(json.dumps({"confidence": 0.95}))
    rebuilt = write_keynote_report(tmp_path)[1].read_text()
    assert rebuilt.splitlines()[6].endswith(f"| {REPS} | 30 d / 5 d |")
# --- explained verdicts: which mechanism moved which KPI ------------------------------------------

EXPLAINED_REPS = 8


def _exact(rng: np.random.Generator, scale: float) -> np.ndarray:
    """Noise whose mean is exactly zero, so the sets' means are the known values."""
    noise = rng.normal(0, scale, EXPLAINED_REPS)
    return noise - noise.mean()


def _mechanism_replications() -> pd.DataFrame:
    """Debriefs on a synthetic company with known effects: technicians 8.2 points busier, on-time
    −3.2 points, profit +476,900 EUR; stock unchanged; a lead-time change too small to say."""
    rng = np.random.default_rng(11)
    effects = {  # kpi: (reference mean, effect of routine, noise)
        "return_rate": (0.047, -0.018, 0.001),
        "orders_received": (8_450.0, 174.0, 20.0),
        "staff_utilization.technicians.electrical": (0.639, 0.082, 0.002),
        "on_time_delivery_rate": (0.953, -0.032, 0.003),
        "mean_inventory_units": (2_000.0, 0.0, 20.0),
        "mean_lead_time_days": (3.5, 0.001, 0.0001),
        "profit": (1_400_000.0, 476_900.0, 10_000.0),
        "final_states.delivered": (8_000.0, 300.0, 5.0),
        "by_segment.strategic.on_time_delivery_rate": (0.96, -0.05, 0.002),
    }
    common = {kpi: rng.normal(0, noise, EXPLAINED_REPS) for kpi, (_, _, noise) in effects.items()}
    common = {kpi: values - values.mean() for kpi, values in common.items()}
    rows = []
    for name in ("no-debrief", "routine"):
        own = {kpi: _exact(rng, noise / 2) for kpi, (_, _, noise) in effects.items()}
        for r in range(EXPLAINED_REPS):
            row = {"set": name, "replication": r, "seed": 0, "warmup_days": 0.0}
            for kpi, (mean, effect, _) in effects.items():
                row[kpi] = mean + (effect if name == "routine" else 0.0) + common[kpi][r] + own[kpi][r]
            # decisions a run never had are absent (NaN): zero of them
            row["decisions.debrief.routine"] = 6_525.0 if name == "routine" else math.nan
            row["decisions.debrief.skip"] = math.nan if name == "routine" else 6_525.0
            row["decisions.capacity.more shifts"] = 9.0 + (r % 2) if name == "routine" else 3.0 + (r % 2)
            rows.append(row)
    return pd.DataFrame(rows)


EXPLAINED_EXPERIMENT = {
    "reference": "no-debrief",
    "sets": {"no-debrief": {}, "routine": {}},
    "scenario": {"currency": "EUR"},
    "confidence": 0.95,
    "set_notes": {"changes": {"no-debrief": [], "routine": [{
        "decision": "debrief", "policy": "routine", "params": {}, "reference_policy": "skip",
        "reference_params": {}, "summary": "debrief after every visit"}]}, "information": {}},
}


def test_an_explanation_says_what_moved_by_area_largest_first_and_leaves_out_the_checks():
    from ordercycle.reports.mechanisms import explain_pair

    lines = explain_pair(_mechanism_replications(), EXPLAINED_EXPERIMENT, "routine", "no-debrief", 0.95,
                         checked=["return_rate", "orders_received"])
    assert lines == [
        "decisions taken: debrief 'routine' 6,525 against 0.0 a run; debrief 'skip' 0.0 against 6,525 a run; "
        "capacity 'more shifts' 9.5 against 3.5 a run",
        "capacity and overtime: utilisation of technicians.electrical +8.2 points (72.1 % against 63.9 %)",
        "service: on-time delivery −3.2 points (92.1 % against 95.3 %)",
        "money: profit +476,900 EUR (+34 %)",
    ]
    said = " ".join(lines)
    for absent in ("return rate", "orders received", "mean inventory", "lead time", "delivered", "strategic"):
        assert absent not in said  # checked, unmoved, too small, or a family left out


def test_the_kpis_a_claim_names_come_first_moved_or_not():
    from ordercycle.reports.mechanisms import explain_pair

    lines = explain_pair(_mechanism_replications(), EXPLAINED_EXPERIMENT, "routine", "no-debrief", 0.95,
                         checked=["return_rate"], named=["mean_inventory_units", "on_time_delivery_rate",
                                                         "no_such_kpi"])
    first = lines[0]
    assert first.startswith("named by the claim: mean inventory ")
    assert "not told apart from zero [" in first.split(";")[0]
    assert "on-time delivery −3.2 points (92.1 % against 95.3 %)" in first.split(";")[1]
    assert first.endswith("no_such_kpi: not in the results")
    assert not any(line.startswith("service:") for line in lines)  # said once, among the named


def test_a_pair_where_nothing_moved_says_so():
    from ordercycle.reports.mechanisms import explain_pair

    table = _mechanism_replications()
    same = pd.concat([table[table["set"] == "no-debrief"],
                      table[table["set"] == "no-debrief"].assign(set="copy")], ignore_index=True)
    assert explain_pair(same, EXPLAINED_EXPERIMENT, "copy", "no-debrief", 0.95) == [
        "no other KPI moved beyond its noise"]


def test_what_the_conditions_change_is_one_sentence_per_check():
    from ordercycle.reports.keynotes import conditions_change_sentence, conditions_checks

    base = _replications({"A": {}, "B": {"on_time_delivery_rate": -0.05, "operating_cost": 50_000}}, 0.3)
    tight = _replications({"A": {}, "B": {"on_time_delivery_rate": -0.05, "operating_cost": -90_000}}, 0.3, 2)
    replications = pd.concat([base.assign(point=0), tight.assign(point=1)], ignore_index=True)
    points = pd.DataFrame({"point": [0, 1], "products.*.routing.*.hours_per_unit.mean (scale)": [1.05, 1.1]})
    keynote = _keynote()
    table = conditions_table(keynote, points, replications, 0.95)
    sentence = conditions_change_sentence(keynote, evaluate(keynote, base, 0.95), points,
                                          conditions_checks(keynote, points, replications, 0.95), table)
    assert sentence.startswith(
        "What the conditions change: the on-time delivery check (B − A) stays contradicted at every point; "
        "at hours per unit × 1.1 the operating cost check (B − A) is supported (−")
    assert sentence.endswith(" — the claim holds at none of the points.")


def _explained_folder(root: Path, stopping: dict | None = None) -> Path:
    folder = root / "K8"
    folder.mkdir(parents=True)
    keynote = KeynoteFile.model_validate({
        "id": "K8", "claim": "debriefs feed back", "horizon_days": 365, "warmup_days": 28,
        "reference": "no-debrief", "sets": {"no-debrief": {}, "routine": {"debrief": "routine"}},
        "checks": [{"set": "routine", "against": "no-debrief", "kpi": "return_rate"},
                   {"set": "routine", "against": "no-debrief", "kpi": "orders_received"}],
        "explain": ["staff_utilization.technicians.electrical"],
    })
    _mechanism_replications().to_parquet(folder / "replications.parquet")
    (folder / "keynote.json").write_text(json.dumps(keynote.model_dump(mode="json")))
    experiment = {**EXPLAINED_EXPERIMENT, "replications": EXPLAINED_REPS}
    if stopping is not None:
        experiment["stopping"] = stopping
    (folder / "experiment.json").write_text(json.dumps(experiment))
    return folder


def test_the_explained_keynote_report_is_rebuilt_byte_for_byte_and_verdicts_json_only_gains_fields(tmp_path):
    _explained_folder(tmp_path, {"start": 5, "step": 5, "max_reps": 15, "replications": 8, "open": []})
    html_path, md_path = write_keynote_report(tmp_path)
    first = [p.read_bytes() for p in (html_path, md_path, tmp_path / "verdicts.json")]
    write_keynote_report(tmp_path)
    assert [p.read_bytes() for p in (html_path, md_path, tmp_path / "verdicts.json")] == first
    record = json.loads((tmp_path / "verdicts.json").read_text())["K8"]
    assert record["verdict"] == "supported" and [c["kpi"] for c in record["checks"]] == [
        "return_rate", "orders_received"]
    assert {"set", "against", "kpi", "better", "n", "diff_ci_low", "diff_ci_high", "verdict", "margin",
            "within_margin", "decided", "reason"} <= set(record["checks"][0])
    assert record["reason"] == "every check supported" and record["replications"] == EXPLAINED_REPS
    assert record["stopped"].startswith("Replications: 8 per set (started at 5, 5 more at a time up to 15); "
                                        "stopped because every check is decided")
    (lines,) = record["explanation"].values()
    assert lines[0].startswith("named by the claim: utilisation of technicians.electrical +8.2 points")
    markdown = md_path.read_text()
    assert "routine against no-debrief:" in markdown and "- money: profit +476,900 EUR (+34 %)" in markdown


def test_a_stock_difference_says_its_unit_once():
    """Stock KPIs are in units: the explanation says "units" once, whatever the glossary's formatting adds."""
    assert mechanisms.amount("mean_inventory_units", -324.0) == "−324 units"
    assert mechanisms.amount("backorder_units", 467.0) == "+467 units"
    assert mechanisms.amount("on_time_delivery_rate", 0.02) == "+2.0 points"
