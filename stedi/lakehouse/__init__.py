"""Lakehouse I/O: reading and writing the tables, behind one small interface.

A job only reads (`read`), and a table gets new rows only through the gate flow
(stedi/gates/flow.py): `stage` the rows beside the published ones, hand `staged_rows` to the
quality gate, then `publish` them, or `discard` them when the gate says no. Which adapter serves
a run is its target's choice (stedi/targets/), never a branch in a job:

- pyiceberg_io.EmbeddedIO: pyiceberg writes the Iceberg tables, Spark only computes;
- spark_io.SparkCatalogIO: Spark's own Iceberg catalog (`glue_catalog`), as on AWS Glue.

landing.py puts landing files in the bucket, where the landing tables expect them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from stedi.intake import Intake
    from stedi.tables import Table


STAGE_BRANCH = "audit"  # the Iceberg branch where a table's new rows wait for their gate


@dataclass(frozen=True)
class Written:
    rows: int
    snapshot_id: int | None


@dataclass(frozen=True)
class Staged:
    """Rows staged for a table but not published: readers of the table do not see them."""

    table: Table
    rows: int
    snapshot_id: int | None
    handle: Any = None  # what the adapter needs to publish or discard them


class StagingUnsupported(RuntimeError):
    """This table I/O cannot stage rows apart from the published ones, so it cannot gate them."""


class TableIO(Protocol):
    def read(self, name: str): ...

    def read_published(self, name: str, snapshot_id: int | None = None): ...

    def published_snapshot(self, name: str) -> int | None: ...

    def intake(self, name: str) -> Intake: ...

    def exists(self, name: str) -> bool: ...

    def stage(self, table: Table, rows) -> Staged: ...

    def staged_rows(self, staged: Staged): ...

    def publish(self, staged: Staged) -> Written: ...

    def discard(self, staged: Staged) -> None: ...

    def replace(self, table: Table, rows) -> Written:
        """Publish without staging: only for measuring what the gates cost (`make bench-gates`)."""


def read_intake(table: Table, files, suppression, spool: Path | None = None) -> Intake:
    """A landing table's records through the intake, erased people's dropped at the door (both
    adapters read landing files so; `suppression` is the run's, stedi/privacy/suppression.py).
    With `spool`, a source too big for memory is spooled there (stedi/intake/spool.py)."""
    from stedi.intake import read_source

    withhold = (lambda rows: suppression.mask(table, rows)) if suppression else None
    return suppression.apply(table, read_source(table, files, withhold=withhold, spool=spool))


def spark_frame(spark, table: Table, rows):
    """Accepted rows as a Spark frame with the table's declared schema (both adapters hand rows over so).

    Arrow rows: Spark makes one partition of every Arrow batch (10,000 rows): 833 for the
    accelerometer readings at 100x, each a task in every stage downstream and a data file of its
    own when written. Coalesced to the session's parallelism, the same rows cost a handful of tasks.
    Spooled rows (stedi/intake/spool.py) are read from their Parquet files.
    """
    from stedi.intake.spool import Spooled

    if isinstance(rows, Spooled):
        return spark.read.schema(table.spark_schema()).parquet(*rows.uris())
    frame = spark.createDataFrame(rows.cast(table.arrow_schema(all_nullable=True)), table.spark_schema())
    return frame.coalesce(spark.sparkContext.defaultParallelism)
