"""Progress of the long commands on stderr: a bar on a terminal, a plain line now and then elsewhere.

``run`` (:func:`run_progress`) and the experiments — ``compare``, ``sweep``, ``optimise``,
``keynotes``, ``whatif``, through :func:`~ordercycle.sim.cli.common.progress_bars` —
report progress with :class:`StageProgress` (one stage: the days of a run, the
replications of a comparison).
On a terminal it is a tqdm bar. When stderr is not a terminal (CI logs, notebooks,
``2> file``) a bar would be a stream of carriage returns, so a line is written instead
each time another tenth of the stage is done — at most one every
:data:`DEFAULT_SECONDS` seconds, and at least one a minute while work goes on — plus a
line when the stage ends::

    compare (10 replications per set): 8/20 runs (40 %), 12 s elapsed, about 18 s left

The environment variable ``ORDERCYCLE_PROGRESS_SECONDS`` changes the least time
between two lines (``0``: a line at every tenth). ``--quiet`` shows nothing.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

DEFAULT_SECONDS = 5.0
"""Least time between two progress lines off a terminal."""
SECONDS_VARIABLE = "ORDERCYCLE_PROGRESS_SECONDS"
"""Environment variable that overrides :data:`DEFAULT_SECONDS`."""
HEARTBEAT_FACTOR = 12
"""Off a terminal, a line also after this many times the least time, even without another tenth done."""


def line_seconds() -> float:
    """The least time between two progress lines: ``ORDERCYCLE_PROGRESS_SECONDS`` or the default."""
    text = os.environ.get(SECONDS_VARIABLE, "")
    try:
        return max(0.0, float(text)) if text else DEFAULT_SECONDS
    except ValueError:
        return DEFAULT_SECONDS


def duration(seconds: float) -> str:
    """A duration for people: ``0.8 s``, ``45 s``, ``3 min 20 s``, ``1 h 05 min``."""
    seconds = max(0.0, seconds)
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class StageProgress:
    """Progress of one stage of known size: a tqdm bar on a terminal, else a line now and then.

    Args:
        stage: what is being done, e.g. ``simulating baseline``.
        total: how much there is to do, in ``unit``.
        unit: the unit of work, singular (``day``, ``run``).
        quiet: show nothing.
        leave: keep the finished bar on the terminal.
        stream: where to write (default: ``sys.stderr`` at the time of the call).
        seconds: least time between two lines off a terminal (default: :func:`line_seconds`).
        clock: the time source (seconds), for tests.
    """

    def __init__(
        self,
        stage: str,
        total: int,
        unit: str = "run",
        *,
        quiet: bool = False,
        leave: bool = True,
        stream: TextIO | None = None,
        seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.stage, self.total, self.unit = stage, max(0, int(total)), unit
        self.stream = stream if stream is not None else sys.stderr
        self.seconds = line_seconds() if seconds is None else seconds
        self.clock = clock
        self.done = 0
        self.started = self._last_time = clock()
        self._last_tenth = 0
        self._closed = False
        self._bar: Any = None
        self._lines = False
        if quiet or self.total == 0:
            return
        if _is_terminal(self.stream):
            from tqdm import tqdm

            self._bar = tqdm(
                total=self.total, desc=stage, unit=unit, file=self.stream, dynamic_ncols=True, leave=leave
            )
        else:
            self._lines = True

    def _units(self) -> str:
        return self.unit if self.total == 1 else f"{self.unit}s"

    def advance_to(self, done: int) -> None:
        """Record that ``done`` units of the stage are finished (never goes back)."""
        done = min(self.total, int(done))
        if done <= self.done or self._closed:
            return
        step, self.done = done - self.done, done
        if self._bar is not None:
            self._bar.update(step)
        elif self._lines and self.done < self.total:
            now = self.clock()
            tenth = 10 * self.done // self.total
            waited = now - self._last_time
            heartbeat = waited >= HEARTBEAT_FACTOR * self.seconds
            if waited >= self.seconds and (tenth > self._last_tenth or heartbeat):
                self._write(self.line(now))
                self._last_time, self._last_tenth = now, tenth
        if self.done >= self.total:
            self.close()

    def advance(self, count: int = 1) -> None:
        """Record ``count`` more finished units."""
        self.advance_to(self.done + count)

    def line(self, now: float | None = None) -> str:
        """The progress line as it stands: done of total, share, time elapsed and an estimate of the rest."""
        now = self.clock() if now is None else now
        elapsed = now - self.started
        share = self.done / self.total if self.total else 1.0
        text = (
            f"{self.stage}: {self.done:,}/{self.total:,} {self._units()} ({100 * share:.0f} %), "
            f"{duration(elapsed)} elapsed"
        )
        if 0 < share < 1:
            text += f", about {duration(elapsed * (1 - share) / share)} left"
        return text

    def close(self) -> None:
        """End the stage: close the bar, or write the closing line off a terminal."""
        if self._closed:
            return
        self._closed = True
        if self._bar is not None:
            self._bar.close()
        elif self._lines:
            elapsed = duration(self.clock() - self.started)
            finished = "done" if self.done >= self.total else "stopped"
            self._write(f"{self.stage}: {self.done:,}/{self.total:,} {self._units()} {finished} in {elapsed}")

    def _write(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def __enter__(self) -> StageProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def run_progress(stage: str, horizon_days: float, quiet: bool = False) -> Iterator[Callable[[float], None]]:
    """Progress of one simulation run, day by day: yields the callback ``simulate(progress=...)`` takes."""
    with StageProgress(stage, round(horizon_days), "day", quiet=quiet, leave=False) as progress:
        yield lambda now: progress.advance_to(round(now))
