"""Reports build from saved results only, are self-contained, and every image is a valid embedded PNG."""

from __future__ import annotations

import base64
import re
import shutil
import struct

import pytest

from ordercycle.sim.cli import main

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
IMG = re.compile(r"<img\b[^>]*\bsrc=\"([^\"]*)\"")


def embedded_pngs(html: str) -> list[bytes]:
    """The decoded images of a report; fails on any image that is not an embedded PNG."""
    images = []
    for source in IMG.findall(html):
        assert source.startswith("data:image/png;base64,"), f"not an embedded PNG: {source[:60]}"
        images.append(base64.b64decode(source.split(",", 1)[1], validate=True))
    return images


def assert_valid_png(data: bytes) -> None:
    """PNG signature, an IHDR chunk first with a plausible size, an IEND chunk last."""
    assert data[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    width, height = struct.unpack(">II", data[16:24])
    assert 50 <= width <= 5000 and 50 <= height <= 10000, (width, height)
    assert data[-8:-4] == b"IEND"


def assert_self_contained(html: str) -> None:
    """No network or file resources: no scripts, links or sources outside the page."""
    assert "<script" not in html
    assert not re.search(r"(src|href)=\"(https?:|//|file:)", html)
    assert "@import" not in html and "url(" not in html


def _no_simulation(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a report must not re-run the simulation")

    import ordercycle.sim.experiments.replications as replication_tasks
    import ordercycle.sim.run as run

    monkeypatch.setattr(run, "simulate", refuse)
    monkeypatch.setattr(replication_tasks, "simulate", refuse)


@pytest.mark.parametrize("which", ["run_folder", "compare_folder", "sweep_folder"])
def test_a_report_is_rebuilt_from_saved_results_without_rerunning(
    which, request, tmp_path, monkeypatch, capsys
):
    original = request.getfixturevalue(which)
    assert (original / "report.html").is_file() and (original / "report.md").is_file()  # written at the end
    copy = tmp_path / "copy"
    shutil.copytree(original, copy, ignore=shutil.ignore_patterns("runs", "report.*"))
    _no_simulation(monkeypatch)
    assert main(["report", str(copy)]) == 0
    assert str(copy / "report.html") in capsys.readouterr().out
    html = (copy / "report.html").read_text(encoding="utf-8")
    # Same inputs, same report (figures carry no timestamps).
    assert html == (original / "report.html").read_text(encoding="utf-8")
    assert (copy / "report.md").read_text() == (original / "report.md").read_text()


def test_the_run_report_shows_every_part_with_valid_images(run_folder):
    html = (run_folder / "report.html").read_text(encoding="utf-8")
    assert_self_contained(html)
    images = embedded_pngs(html)
    assert len(images) >= 8
    for data in images:
        assert_valid_png(data)
    for heading in (
        "KPI dashboard",
        "The order journey",
        "Queues and utilisation",
        "Forecast, production",
        "Billing, payment, returns and service",
        "Glossary",
    ):
        assert heading in html
    assert '<abbr title="share of delivered orders delivered by the promised date">on-time delivery' in html
    markdown = (run_folder / "report.md").read_text()
    assert "| on-time delivery |" in markdown
    assert "Per customer segment" in html and "Per customer segment" in markdown
    assert re.search(r"\| strategic \| \d+ \| \d+ \|", markdown)  # one row per segment, counts whole


def test_figures_drawn_in_worker_processes_are_those_drawn_in_one(run_folder, tmp_path):
    """The run report draws its figures in forked workers: the same bytes as one process, in order."""
    from ordercycle.reports.html import plt, render_pngs
    from ordercycle.reports.run_report import write_run_report

    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    for copy in (serial, parallel):
        shutil.copytree(run_folder, copy, ignore=shutil.ignore_patterns("runs", "report.*"))
    write_run_report(serial, workers=1)
    write_run_report(parallel, workers=2)
    assert (serial / "report.html").read_bytes() == (parallel / "report.html").read_bytes()
    assert (serial / "report.html").read_bytes() == (run_folder / "report.html").read_bytes()

    def line(width: float):
        def build():
            figure, axis = plt.subplots(figsize=(width, 2))
            axis.plot([0, 1], [0, 1])
            return figure
        return build
    pngs = render_pngs([line(2), lambda: None, line(4)], workers=2)
    assert pngs[1] is None and pngs == render_pngs([line(2), lambda: None, line(4)], workers=1)
    assert struct.unpack(">I", pngs[0][16:20])[0] < struct.unpack(">I", pngs[2][16:20])[0]  # in order


def test_the_comparison_report_has_forest_differences_trade_off_ranking_and_sentences(compare_folder):
    html = (compare_folder / "report.html").read_text(encoding="utf-8")
    assert_self_contained(html)
    images = embedded_pngs(html)
    assert len(images) == 3  # forest plot, paired differences, trade-off
    for data in images:
        assert_valid_png(data)
    for heading in (
        "In plain words",
        "Ranking by the objective",
        "Means with confidence intervals",
        "Paired differences to the reference",
        "Trade-off",
    ):
        assert heading in html
    markdown = (compare_folder / "report.md").read_text()
    assert "Reference: `fifo`" in markdown and "edd: profit" in markdown
    assert re.search(
        r"edd: on-time delivery (differs from fifo by less than the noise|[\d.]+ points)", markdown
    )


def test_the_sweep_report_has_per_point_rankings_plots_and_a_winner_line(sweep_folder):
    html = (sweep_folder / "report.html").read_text(encoding="utf-8")
    assert_self_contained(html)
    images = embedded_pngs(html)
    assert len(images) == 2  # one plot per swept parameter
    for data in images:
        assert_valid_png(data)
    headings = ("In plain words", "Grid points", "KPIs along the swept parameters", "Point 0:", "Point 1:")
    for heading in headings:
        assert heading in html
    assert "confidence 90%" in html  # read back from the saved intervals
    markdown = (sweep_folder / "report.md").read_text()
    lines = [line for line in markdown.splitlines() if line.startswith("- Point ")]
    assert len(lines) == 2
    assert "segments.*.arrivals.rate_per_day (scale) = 1.2" in lines[1]
    for line in lines:  # which set wins, in words
        assert re.search(r": (fifo|edd) (wins|ranks first)", line), line
    assert "edd: profit" in markdown


def test_no_report_switch_and_bad_folders(tmp_path, capsys):
    out = tmp_path / "quiet"
    assert (
        main(
            [
                "run",
                "baseline",
                "--horizon",
                "3",
                "--warmup",
                "0",
                "--out",
                str(out),
                "--quiet",
                "--no-report",
            ]
        )
        == 0
    )
    assert (out / "kpis.json").is_file() and not (out / "report.html").exists()
    assert main(["report", str(tmp_path / "nowhere")]) == 2
    assert "no such folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["report", str(tmp_path / "empty")]) == 2
    assert "not a run, compare, sweep, optimise or keynotes output folder" in capsys.readouterr().err
    (out / "orders.parquet").unlink()
    assert main(["report", str(out)]) == 2
    assert "orders.parquet: missing" in capsys.readouterr().err


@pytest.mark.parametrize("damage", [b"\xff\xfe{}", b'{"a": ' * 100 + b"1" + b"}" * 100, b"{" + b'"n": 1' + b"0" * 5000 + b"}"],
                         ids=["not UTF-8", "nested 100 deep", "a 5,000-digit number"])
def test_a_damaged_record_in_a_result_folder_is_named_not_a_traceback(run_folder, tmp_path, capsys, damage):
    """``ordercycle report`` reads the folders' JSON records through the bounded reader: exit 2 and a
    ``path: reason`` line naming the file, as for every other file the CLI reads."""
    folder = tmp_path / "run"
    shutil.copytree(run_folder, folder)
    (folder / "kpis.json").write_bytes(damage)
    assert main(["report", str(folder)]) == 2
    err = capsys.readouterr().err
    assert f"{folder / 'kpis.json'}" in err and "Traceback" not in err
