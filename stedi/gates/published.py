"""The published tables the gates join against, kept in the process from one run to the next.

A gate validating machine_learning_curated joins the staged rows to three published tables;
reading each back through Spark costs about 0.2 s however small it is (the catalog, planning, a
Spark job, the Arrow transfer). An Iceberg snapshot never changes, so a table read, or validated
and published, at snapshot S holds the same rows on the next run while S is still its current
snapshot: the warm engine (stedi/runtime/engine.py) hands those rows to the next gate as they are.

Only a table's current snapshot is any use, so one snapshot per table is kept: publishing a new
one replaces it, and a lookup that finds an older one drops it. What is kept is bounded in bytes
(the least recently used goes first). An erasure (`stedi forget`, its own process) stops the warm
engine, so no copy of an erased person's rows outlives it in memory.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import Any

# What the process may keep, in MiB of Arrow; a table bigger than this is never kept.
BUDGET_ENV = "STEDI_GATE_KEEP_MIB"


class Kept:
    """Arrow tables by (table location, snapshot id), at most one snapshot per table."""

    def __init__(self, budget_bytes: int):
        self.budget = budget_bytes
        self._tables: OrderedDict[str, tuple[int, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, table: str, snapshot_id: int) -> Any | None:
        """The rows of `table` at `snapshot_id`, if kept; an older snapshot of it is dropped."""
        with self._lock:
            kept = self._tables.get(table)
            if kept is None:
                return None
            if kept[0] != snapshot_id:
                del self._tables[table]
                return None
            self._tables.move_to_end(table)
            return kept[1]

    def put(self, table: str, snapshot_id: int | None, rows: Any | None) -> None:
        """`rows` (Arrow) are `table` at `snapshot_id` now; None for either forgets the table."""
        with self._lock:
            self._tables.pop(table, None)
            if snapshot_id is None or rows is None or not hasattr(rows, "nbytes") or rows.nbytes > self.budget:
                return
            self._tables[table] = (snapshot_id, rows)
            while sum(r.nbytes for _, r in self._tables.values()) > self.budget:
                self._tables.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._tables.clear()

    def __len__(self) -> int:
        return len(self._tables)


KEPT = Kept(int(float(os.environ.get(BUDGET_ENV, "512")) * 2**20))
