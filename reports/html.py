"""Self-contained HTML pages: matplotlib figures embedded as base64 PNG, no network resources.

A report is a :class:`Page` of sections; each section holds paragraphs, tables and
figures. :meth:`Page.render` gives one HTML file that opens offline in any browser
(inline CSS, no scripts, no external fonts or images).

Drawing and PNG-encoding the figures is most of a report's cost; :func:`render_pngs`
does it for several figures at once in forked worker processes (each figure is drawn by
the same code from the same tables, so the bytes are those of a serial run).
"""

from __future__ import annotations

import base64
import html
import io
import math
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto;
       max-width: 1100px; padding: 1.5em; color: #222; line-height: 1.45; }
h1 { border-bottom: 3px solid #1f77b4; padding-bottom: .2em; }
h2 { margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: .8em 0; font-size: .92em; }
th, td { border: 1px solid #ddd; padding: .3em .6em; text-align: left; vertical-align: top; }
th { background: #f3f5f8; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: .88em; color: #555; }
.meta { color: #555; font-size: .9em; }
.supported { background: #d9f2d9; } .contradicted { background: #f8d7d7; }
.inconclusive { background: #fff3cd; }
abbr { text-decoration: underline dotted; cursor: help; }
ul.sentences li { margin: .3em 0; }
ul.warning li { margin: .3em 0; color: #8a1c1c; font-weight: 600; }
"""


def figure_png(figure: Figure, dpi: int = 90) -> bytes:
    """The figure as PNG bytes (closed afterwards); no timestamp metadata, so output is reproducible."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    plt.close(figure)
    return buffer.getvalue()


FigureBuilder = Callable[[], Figure | None]
"""Makes one figure from tables already in memory (None: nothing to draw)."""
_BUILDERS: Sequence[FigureBuilder] = ()
"""The builders of the :func:`render_pngs` call in progress, inherited by its forked workers."""
MAX_REPORT_WORKERS = 4


def report_workers() -> int:
    """Worker processes that draw a report's figures: ``ORDERCYCLE_REPORT_WORKERS``, else the cores
    this process may use (at most :data:`MAX_REPORT_WORKERS`); 1 draws them in this process."""
    given = os.environ.get("ORDERCYCLE_REPORT_WORKERS", "").strip()
    if given.isdigit() and int(given) >= 1:
        return int(given)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(MAX_REPORT_WORKERS, cores))


def _render(index: int) -> bytes | None:
    figure = _BUILDERS[index]()
    return None if figure is None else figure_png(figure)


def render_pngs(builders: Sequence[FigureBuilder], workers: int | None = None) -> list[bytes | None]:
    """Build and encode every figure, in ``builders`` order: PNG bytes, or None where a builder had
    nothing to draw. With several workers (default :func:`report_workers`) and a platform that
    forks, the figures are drawn in forked processes that inherit the tables; otherwise (or if a
    worker dies) in this process."""
    global _BUILDERS
    workers = report_workers() if workers is None else workers
    forks = "fork" in multiprocessing.get_all_start_methods() and not multiprocessing.current_process().daemon
    if workers > 1 and len(builders) > 1 and forks:
        _BUILDERS = builders
        from PIL import Image

        Image.preinit()  # the image plugins PNG saving imports: once here, not in every worker
        try:
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(min(workers, len(builders)), mp_context=context) as pool:
                return list(pool.map(_render, range(len(builders))))
        except (BrokenProcessPool, OSError):
            pass  # drawn below, in this process
        finally:
            _BUILDERS = ()
    pngs = []
    for build in builders:
        figure = build()
        pngs.append(None if figure is None else figure_png(figure))
    return pngs


def escape(text: Any) -> str:
    """HTML-escaped text."""
    return html.escape(str(text), quote=True)


@dataclass
class Section:
    """A titled part of a page: HTML blocks in order."""

    title: str
    blocks: list[str] = field(default_factory=list)

    def paragraph(self, text: str, raw: bool = False) -> Section:
        """Add a paragraph (escaped unless ``raw``)."""
        self.blocks.append(f"<p>{text if raw else escape(text)}</p>")
        return self

    def bullets(self, items: Sequence[str], css: str = "") -> Section:
        """Add a bulleted list of plain-text items."""
        css_attr = f' class="{css}"' if css else ""
        self.blocks.append(f"<ul{css_attr}>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>")
        return self

    def table(
        self,
        header: Sequence[str],
        rows: Sequence[Sequence[Any]],
        numeric: Sequence[int] = (),
        row_classes: Sequence[str] | None = None,
        titles: Sequence[str] | None = None,
        title_column: int = 0,
    ) -> Section:
        """Add a table; ``numeric`` columns are right-aligned; ``titles`` add hover text to a column."""
        head = "".join(f"<th>{escape(h)}</th>" for h in header)
        body = []
        for i, row in enumerate(rows):
            cells = []
            for j, cell in enumerate(row):
                css = ' class="num"' if j in numeric else ""
                text = escape(cell)
                if j == title_column and titles and titles[i]:
                    text = f'<abbr title="{escape(titles[i])}">{text}</abbr>'
                cells.append(f"<td{css}>{text}</td>")
            css_row = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
            body.append(f"<tr{css_row}>{''.join(cells)}</tr>")
        self.blocks.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")
        return self

    def figure(self, figure: Figure, caption: str, alt: str | None = None) -> Section:
        """Add a matplotlib figure as an embedded PNG with a caption."""
        return self.image(figure_png(figure), caption, alt)

    def image(self, png: bytes, caption: str, alt: str | None = None) -> Section:
        """Add PNG bytes (a figure drawn by :func:`render_pngs`) as an embedded image with a caption."""
        data = base64.b64encode(png).decode("ascii")
        self.blocks.append(
            f'<figure><img src="data:image/png;base64,{data}" alt="{escape(alt or caption)}">'
            f"<figcaption>{escape(caption)}</figcaption></figure>"
        )
        return self


@dataclass
class Page:
    """A whole report: title, a provenance line, sections."""

    title: str
    meta: str = ""
    sections: list[Section] = field(default_factory=list)

    def section(self, title: str) -> Section:
        """Start a new section and return it."""
        section = Section(title)
        self.sections.append(section)
        return section

    def render(self) -> str:
        """The HTML document."""
        parts = [f"<section><h2>{escape(s.title)}</h2>{''.join(s.blocks)}</section>" for s in self.sections]
        meta = f'<p class="meta">{escape(self.meta)}</p>' if self.meta else ""
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(self.title)}</title><style>{STYLE}</style></head>\n<body>"
            f"<h1>{escape(self.title)}</h1>{meta}{''.join(parts)}</body></html>\n"
        )

    def write(self, path: str | Path) -> Path:
        """Write the page as UTF-8."""
        target = Path(path)
        target.write_text(self.render(), encoding="utf-8")
        return target


def number(value: Any) -> str:
    """A KPI value: 1,234 from a thousand up, else 3 significant digits; "–" when missing."""
    if value is None:
        return "–"
    value = float(value)
    if not math.isfinite(value):
        return "–"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
