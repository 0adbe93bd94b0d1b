"""The record rules: what a landing record's values may be, read once from catalog/tables.toml.

The intake applies them record by record (a record that breaks one is quarantined with a
reason naming the field, the bound and the value); the quality gates re-check the same bounds
on every table a job writes, as a safety net, with the same numbers. Nothing else states them.

- `epoch_ms` columns are instants in epoch milliseconds: from 2000-01-01 (STEDI did not exist
  before, so an earlier value is a unit or parsing error) to one day after now (device clocks
  drift, but not by a day). `zero_is_unset`: 0 means "never given" and passes.
- `min`/`max` bound a measurement (an accelerometer axis within ±16 g, a distance 0-10,000).
- `required` columns must be present and non-null; types are the declared Iceberg types.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from stedi.tables import Column, Table

EPOCH_FLOOR_MS = 946_684_800_000  # 2000-01-01T00:00:00Z
AHEAD_MS = 24 * 3600 * 1000  # how far ahead of the clock an instant may be


@dataclass(frozen=True)
class Bound:
    """The values one column may take; `None` on a side leaves it open."""

    column: str
    low: float | None
    high: float | None
    zero_is_unset: bool = False  # 0 passes: "never given"
    epoch_ms: bool = False

    def breaks(self, value) -> bool:
        if value is None or (self.zero_is_unset and value == 0):
            return False
        return (self.low is not None and value < self.low) or (self.high is not None and value > self.high)

    def describe(self) -> str:
        if self.epoch_ms:
            return f"the plausible range {_date(self.low)[:10]} .. {_date(self.high)[:10]}"
        if self.low is not None and self.high is not None:
            return f"the declared range {_number(self.low)} .. {_number(self.high)}"
        if self.low is not None:
            return f"the declared minimum {_number(self.low)}"
        return f"the declared maximum {_number(self.high)}"


@dataclass(frozen=True)
class RecordRules:
    """One table's rules at one moment (`now_ms` fixes the end of the epoch window)."""

    table: Table
    now_ms: int

    @property
    def epoch_window(self) -> tuple[int, int]:
        return EPOCH_FLOOR_MS, self.now_ms + AHEAD_MS

    @property
    def bounds(self) -> dict[str, Bound]:
        """Each bounded column's Bound: the epoch window, or its declared min/max."""
        return {c.name: b for c in self.table.columns if (b := self.bound(c)) is not None}

    def bound(self, column: Column) -> Bound | None:
        if column.epoch_ms:
            low, high = self.epoch_window
            return Bound(column.name, low, high, zero_is_unset=column.zero_is_unset, epoch_ms=True)
        if column.min is not None or column.max is not None:
            return Bound(column.name, column.min, column.max)
        return None


def rules(table: Table, now_ms: int) -> RecordRules:
    return RecordRules(table, now_ms)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _date(ms: float) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
