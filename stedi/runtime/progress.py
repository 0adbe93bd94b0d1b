"""Progress lines for long work: what is running, what it produced, how long it took."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
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
        if not self.quiet:
            print(f"[{self.elapsed:7.1f}s] {message}", file=self.stream, flush=True)


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
