"""Progress for long work: a line per step (what runs, what it produced, how long it took), and
for work whose size is known or slow to end, a bar.

On a terminal a bar is rich's (done, rate, time left; lines printed meanwhile go above it);
when the output is not a terminal (CI, a log file) a bar is one plain line when its work ends,
so logs stay one line per step.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import TextIO

SUMMARY_MARK = "STEDI-SUMMARY "  # prefix of the one stdout line a program reads a run summary from


class Progress:
    def __init__(self, stream: TextIO | None = None, quiet: bool = False):
        self.stream = stream or sys.stdout
        self.quiet = quiet
        self.started = time.perf_counter()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def __call__(self, message: str) -> None:
        if self.quiet:
            return
        line = f"[{self.elapsed:7.1f}s] {message}"
        live = getattr(self, "_live", None)
        if live is not None:
            live.console.print(line, markup=False, highlight=False, soft_wrap=True)
        else:
            print(line, file=self.stream, flush=True)

    @property
    def interactive(self) -> bool:
        """Whether bars are drawn: a terminal that is not dumb."""
        import os

        isatty = getattr(self.stream, "isatty", None)
        return not self.quiet and bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"

    @contextmanager
    def bar(self, what: str, total: float | None = None, unit: str = "", report: bool = True) -> Iterator[Bar]:
        """A bar for one piece of long work; `advance(n)` as it goes. `unit` "bytes" shows sizes
        and transfer rates; a `total` of None (size unknown) shows the time taken so far.
        `report=False` when the caller prints the line that says the work is done."""
        started = time.perf_counter()
        bar = Bar(total)
        if self.interactive and getattr(self, "_live", None) is None:
            with _rich_progress(self.stream, unit) as live:
                self._live = live
                bar._task = live.add_task(what, total=total)
                bar._live = live
                try:
                    yield bar
                finally:
                    self._live = None
        else:
            yield bar
        if report and not self.quiet:
            self(f"{what}: {_amount(bar.done, unit)} in {time.perf_counter() - started:.1f}s"
                 f"{_rate(bar.done, time.perf_counter() - started, unit)}")


class Bar:
    """What a piece of long work reports to its bar."""

    def __init__(self, total: float | None):
        self.total = total
        self.done = 0.0
        self._live = None
        self._task = None

    def advance(self, amount: float = 1) -> None:
        self.done += amount
        if self._live is not None:
            self._live.update(self._task, completed=self.done)

    def set_total(self, total: float | None) -> None:
        """The size, once known (a download's Content-Length)."""
        self.total = total
        if self._live is not None:
            self._live.update(self._task, total=total)


def bar(progress, what: str, total: float | None = None, unit: str = "", report: bool = True):
    """`progress.bar(...)` for a Progress; for any other callback (print, a test's list), a bar
    that draws nothing and one plain line when the work ends."""
    if isinstance(progress, Progress):
        return progress.bar(what, total, unit, report)
    return _plain_bar(progress, what, total, unit, report)


@contextmanager
def _plain_bar(progress, what: str, total: float | None, unit: str, report: bool) -> Iterator[Bar]:
    started = time.perf_counter()
    bar = Bar(total)
    yield bar
    if progress and report:
        seconds = time.perf_counter() - started
        progress(f"{what}: {_amount(bar.done, unit)} in {seconds:.1f}s{_rate(bar.done, seconds, unit)}")


def _rich_progress(stream: TextIO, unit: str):
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        ProgressColumn,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )
    from rich.progress import Progress as RichProgress
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:,.0f} {unit}/s" if speed and unit else "")

    amount = [DownloadColumn(), TransferSpeedColumn()] if unit == "bytes" else [MofNCompleteColumn(), Rate()]
    return RichProgress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        *amount,
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("left"),
        console=Console(file=stream),
        transient=True,
    )


def _amount(done: float, unit: str) -> str:
    if not unit:
        return "done"
    if unit == "bytes":
        return f"{done / 1e6:,.1f} MB"
    return f"{done:,.0f} {unit}".rstrip()


def _rate(done: float, seconds: float, unit: str) -> str:
    if not done or seconds <= 0:
        return ""
    if unit == "bytes":
        return f" ({done / 1e6 / seconds:,.1f} MB/s)"
    return f" ({done / seconds:,.0f} {unit}/s)" if unit else ""


def table(rows: list[tuple], headers: Sequence[str], cell: Callable[[object], str] | None = None) -> str:
    """A plain aligned text table, for terminals and logs.

    A column whose values are all numbers (or missing) is right-aligned; `cell` renders one
    value (default: numbers with thousands separators).
    """
    cell = cell or _cell
    cells = [tuple(cell(v) for v in row) for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    numeric = [bool(rows) and all(is_number(r[i]) or r[i] is None for r in rows) for i in range(len(headers))]

    def line(values):
        return "  ".join(
            v.rjust(w) if n else v.ljust(w) for v, w, n in zip(values, widths, numeric, strict=True)
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in cells)])


def is_number(value) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _cell(value) -> str:
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)
