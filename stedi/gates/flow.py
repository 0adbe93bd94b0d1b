"""The one way a table gets new rows, on every target: stage, check, publish.

The rows are staged beside the published ones (an Iceberg branch; readers never see them), the
table's quality gate validates exactly what was staged, and only then are they published; a
refused stage is discarded, so every table keeps its previously published version. The landing
step, the five jobs and a job script run alone all come through here.
"""

from __future__ import annotations

from typing import Any

from stedi.lakehouse import TableIO, Written
from stedi.tables import Table


def publish(io: TableIO, table: Table, rows: Any, gate=None, **facts: Any) -> Written:
    """Stage `rows` as the table's new contents, check them with `gate`, publish them.

    `facts` are what the gate needs to know beyond the rows (the records in a landing table's
    files). Without a gate the rows are published directly: only `make bench-gates` does that,
    to measure what the gates cost.
    """
    if gate is None:
        return io.replace(table, rows)
    staged = io.stage(table, rows)
    try:
        gate.check(table, io.staged_rows(staged), rows=staged.rows, **facts)
    except BaseException:
        io.discard(staged)
        raise
    written = io.publish(staged)
    gate.published(table, written.snapshot_id)
    return written


def remove(io: TableIO, table: Table, where: str, gate=None) -> tuple[Written, int]:
    """Delete the rows matching the SQL predicate `where` the same way: staged, checked,
    published; returns what was published and how many rows went. Nothing to delete, no commit.
    Only an adapter with row-level deletes can (spark_io.SparkCatalogIO: erasure needs Spark)."""
    staged, gone = io.stage_delete(table, where)
    if not gone:
        io.discard(staged)
        return Written(staged.rows, None), 0
    if gate is not None:
        try:
            gate.check(table, io.staged_rows(staged), rows=staged.rows)
        except BaseException:
            io.discard(staged)
            raise
    written = io.publish(staged)
    if gate is not None:
        gate.published(table, written.snapshot_id)
    return written, gone
