"""What ``ordercycle run`` prints, ``--policy`` with parameters, progress off a terminal, policies list."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from ordercycle.sim.cli import main
from ordercycle.sim.cli.common import parse_policy_params
from ordercycle.sim.cli.progress import StageProgress, duration


@pytest.fixture(scope="module")
def run_30_days(tmp_path_factory):
    """``ordercycle run --horizon 30`` (the baseline's 28-day warm-up): its stdout and folder."""
    import contextlib
    import io

    folder = tmp_path_factory.mktemp("console") / "run"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["run", "--horizon", "30", "--out", str(folder), "--quiet", "--no-report"]) == 0
    return out.getvalue(), folder


def test_run_prints_units_whole_counts_and_no_python_reprs(run_30_days):
    text, folder = run_30_days
    kpis = json.loads((folder / "kpis.json").read_text())
    assert "{'" not in text and not re.search(r"\b(nan|None)\b", text)
    assert re.search(r"^  on-time delivery +(\d+\.\d %|–) +on_time_delivery_rate$", text, re.M)
    assert re.search(r"^  acceptance rate +\d+\.\d % +acceptance_rate$", text, re.M)
    revenue = re.search(r"^  revenue +([-\d,]+) EUR +revenue$", text, re.M)
    assert revenue and int(revenue.group(1).replace(",", "")) == round(kpis["revenue"])
    inquiries = re.search(r"^  inquiries +([\d,]+) +inquiries$", text, re.M)
    assert inquiries and int(inquiries.group(1).replace(",", "")) == kpis["inquiries"]
    assert re.search(r"^  changeovers +\d+ +changeovers$", text, re.M)  # a count, no decimals
    assert not re.search(r"\d\.\d{3}", text), "no value has three decimals"
    for table in (
        "by_segment.<segment>.<key>",
        "utilization.<work_centre>",
        "staff_utilization.<pool>",
        "final_states.<state>",
    ):
        assert table in text


def test_run_tells_every_inquiry_from_the_kpi_cohort(run_30_days):
    text, folder = run_30_days
    kpis = json.loads((folder / "kpis.json").read_text())
    orders = pd.read_parquet(folder / "orders.parquet")
    events = pd.read_parquet(folder / "events.parquet")
    footer = text.strip().splitlines()[-1]
    assert footer == (
        f"{len(orders):,} inquiries simulated, {kpis['inquiries']:,} after the 28-day warm-up "
        f"(the KPI cohort); {len(events):,} events -> {folder}"
    )
    assert len(orders) > kpis["inquiries"] > 0


def _run(tmp_path, *policy: str) -> tuple[int, dict, dict]:
    out = tmp_path / "-".join(p.replace("=", "_").replace(":", "_") for p in policy)
    args = ["run", "--horizon", "10", "--warmup", "0", "--out", str(out), "--quiet", "--no-report"]
    for item in policy:
        args += ["--policy", item]
    code = main(args)
    return code, json.loads((out / "run.json").read_text()), json.loads((out / "kpis.json").read_text())


def test_policy_parameters_are_applied(tmp_path, capsys):
    code, record, kpis = _run(tmp_path, "selection=size-threshold:min_units=1000")
    assert code == 0
    assert record["scenario"]["policies"]["selection"] == {
        "name": "size-threshold",
        "params": {"min_units": 1000},
    }
    assert kpis["orders_accepted"] == 0 and kpis["orders_rejected"] > 0  # no order has 1000 units
    _, default_record, default_kpis = _run(tmp_path, "selection=size-threshold")
    assert default_record["scenario"]["policies"]["selection"]["params"] == {}
    assert default_kpis["orders_accepted"] > 0
    assert default_kpis["inquiries"] == kpis["inquiries"]  # the same demand (same seed)


def test_policy_parameter_values_are_yaml_scalars_and_lists():
    params, problems = parse_policy_params("a=[1, 2],b=true,c=edd, d = 0.5,e='x,y',f={P1: 10, P2: 3}")
    assert problems == []
    assert params == {"a": [1, 2], "b": True, "c": "edd", "d": 0.5, "e": "x,y", "f": {"P1": 10, "P2": 3}}


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (
            "selection=size-threshold:min_units=many",
            "min_units: input should be a valid integer",
        ),
        (
            "selection=size-threshold:min_units=-1",
            "min_units: input should be greater than or equal to 0",
        ),
        (
            "selection=size-threshold:minimum=3",
            "minimum: unknown parameter (size-threshold takes min_units)",
        ),
        ("selection=size-threshold:min_units", "min_units: expected PARAM=VALUE"),
        ("selection=size-threshold:min_units=3,min_units=4", "min_units: given twice"),
        ("selection=size-threshold:min_units=[1", "min_units: '[1' is not a valid YAML value"),
        ("selection=size-threshold:", "expected parameters after ':'"),
        (
            "inventory=min-max:reorder_cover_days=20,order_up_to_cover_days=10",
            "order_up_to_cover_days: must exceed reorder_cover_days",
        ),
        ("priority=random-pick", "unknown policy 'random-pick' for priority"),
        ("selection", "expected DECISION=NAME[:PARAM=VALUE,...]"),
    ],
)
def test_bad_policy_options_name_the_field_and_exit_2(item, expected, capsys, tmp_path):
    assert (
        main(["run", "--horizon", "2", "--quiet", "--no-report", "--out", str(tmp_path), "--policy", item])
        == 2
    )
    captured = capsys.readouterr()
    assert captured.err.startswith(f"error: --policy {item}: ") and expected in captured.err, captured.err
    assert "Traceback" not in captured.err and captured.out == ""
    assert not (tmp_path / "run.json").exists()


def test_a_progress_line_appears_when_stderr_is_not_a_terminal(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ORDERCYCLE_PROGRESS_SECONDS", "0")
    assert main(["run", "--horizon", "10", "--warmup", "0", "--out", str(tmp_path), "--no-report"]) == 0
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert any(
        re.fullmatch(r"simulating baseline: \d/10 days \(\d0 %\), \d+\.\d s elapsed, about .* left", line)
        for line in lines
    ), err
    assert re.fullmatch(r"simulating baseline: 10/10 days done in \d+\.\d s", lines[-1]), err
    assert "\r" not in err  # no bar
    monkeypatch.delenv("ORDERCYCLE_PROGRESS_SECONDS")
    assert (
        main(["run", "--horizon", "3", "--warmup", "0", "--out", str(tmp_path), "--no-report", "--quiet"])
        == 0
    )
    assert capsys.readouterr().err == ""


class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class _Stream:
    def __init__(self):
        self.lines: list[str] = []

    def write(self, text: str) -> None:
        self.lines += [line for line in text.splitlines() if line]

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def test_progress_off_a_terminal_writes_a_line_per_tenth_at_most_every_few_seconds():
    clock, stream = _Clock(), _Stream()
    progress = StageProgress("compare", 100, "run", stream=stream, seconds=5.0, clock=clock)
    for done in range(1, 101):
        clock.now = done * 0.5  # a tenth every 5 s
        progress.advance()
    assert len(stream.lines) == 10  # 9 tenths (the 10th closes the stage) and the closing line
    assert stream.lines[0] == "compare: 10/100 runs (10 %), 5.0 s elapsed, about 45 s left"
    assert stream.lines[-1] == "compare: 100/100 runs done in 50 s"

    clock, stream = _Clock(), _Stream()
    fast = StageProgress("sweep", 100, "run", stream=stream, seconds=5.0, clock=clock)
    for done in range(1, 100):
        clock.now = done * 0.01  # the whole stage in one second: no line until it ends
        fast.advance()
    assert stream.lines == []
    fast.close()
    assert stream.lines == ["sweep: 99/100 runs stopped in 1.0 s"]

    clock, stream = _Clock(), _Stream()
    slow = StageProgress("keynote", 1000, "run", stream=stream, seconds=5.0, clock=clock)
    clock.now = 61.0
    slow.advance()  # far less than a tenth, but a minute passed: a heartbeat line
    assert stream.lines == ["keynote: 1/1,000 runs (0 %), 1 min 01 s elapsed, about 16 h 55 min left"]


def test_quiet_progress_and_empty_stages_write_nothing():
    stream = _Stream()
    with StageProgress("x", 10, stream=stream, quiet=True, seconds=0) as progress:
        progress.advance(10)
    with StageProgress("y", 0, stream=stream, seconds=0):
        pass
    assert stream.lines == []
    assert (duration(0.84), duration(45), duration(200), duration(3900)) == (
        "0.8 s",
        "45 s",
        "3 min 20 s",
        "1 h 05 min",
    )


def test_the_experiments_progress_reporter_writes_lines_off_a_terminal(capsys, monkeypatch):
    from ordercycle.sim.cli.common import progress_bars

    monkeypatch.setenv("ORDERCYCLE_PROGRESS_SECONDS", "0")
    tick = progress_bars(False)("compare (2 replications per set)", 4)
    for _ in range(4):
        tick()
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0].startswith("compare (2 replications per set): 1/4 runs (25 %)")
    assert lines[-1].startswith("compare (2 replications per set): 4/4 runs done in ")


def test_policies_list_gives_bounds_and_types_in_words(capsys):
    assert main(["policies", "list"]) == 0
    text = capsys.readouterr().out
    for repr_text in (
        "Interval(",
        "Ge(",
        "Gt(",
        "Le(",
        "Lt(",
        "FieldInfo",
        "typing.",
        "<function",
        "Literal",
        "Annotated",
        "NoneType",
    ):
        assert repr_text not in text, repr_text
    assert "      min_units: whole number, at least 0; default 5" in text
    assert "      backlog_share: number, between 0 and 1; default 0.5" in text
    assert "      surplus_discount: number, at least 0 and below 1; default 0.05" in text
    assert "      shortage: one of backorder, lost-sales; default backorder" in text
    assert re.search(r"      levels: map of text to whole number at least 0, or none; default none", text)
