"""Iceberg tables through Spark's own Iceberg catalog, `glue_catalog`: the code path of AWS Glue.

On AWS Glue the catalog is the Glue Data Catalog; on the embedded stack and in the Docker stack it
is a Glue API served by moto (Iceberg's GlueCatalog either way). Writes go through
Spark (`DataFrameWriterV2`) and Iceberg's S3FileIO, maintenance through Iceberg's own procedures.

Staging is write-audit-publish with an Iceberg branch: the rows are written to the table's
`audit` branch (readers of the table see `main`), the gate reads that branch, and publishing
fast-forwards `main` to it with `CALL <catalog>.system.fast_forward`; a refused stage is dropped
with its branch. Each run therefore adds one snapshot per table, as on the embedded stack.

Landing files go through the same intake as everywhere (read as bytes by Spark's binaryFile
source, parsed on the driver), so a bad record is quarantined rather than turned into NULLs by
Spark's JSON reader. As on Glue, where Athena reads the landing JSON itself through the Glue JSON
tables, a landing table is its files' accepted records and staging one only hands them to the gate.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from stedi.intake.spool import Spooled
from stedi.lakehouse import STAGE_BRANCH, Staged, Written, read_intake, spark_frame
from stedi.privacy.suppression import Suppression
from stedi.tables import Lakehouse, Table, lakehouse

if TYPE_CHECKING:
    from stedi.intake import Intake

_SQL_TYPES = {"string": "STRING", "long": "BIGINT", "int": "INT", "double": "DOUBLE"}


class SparkCatalogIO:
    """The TableIO of Spark's Iceberg catalog (stedi/lakehouse/__init__.py)."""

    def __init__(
        self,
        spark,
        catalog_name: str,
        landing_root: str,
        *,
        house: Lakehouse | None = None,
        landing_files=None,
        suppression=None,
        spool=None,
    ):
        self.spark = spark
        self.catalog_name = catalog_name
        self.landing_root = landing_root.rstrip("/")
        self.house = house or lakehouse()
        # table -> iterable of (path, bytes); by default Spark's binaryFile source under landing_root
        self._landing_files = landing_files or self._binary_files
        self._intakes: dict[str, Intake] = {}
        # erased people's records are dropped at the intake; read from the register once per run
        self.suppression = suppression if suppression is not None else Suppression.current()
        self._ensured: set[str] = set()
        # where a source too big for the intake's memory is spooled (stedi/intake/spool.py): a local
        # directory, so only where Spark's executors share the driver's disk (local mode); or None
        self.spool = spool

    def identifier(self, table: Table) -> str:
        return f"{self.catalog_name}.{self.house.namespace}.{table.name}"

    # ------------------------------------------------------------------ reading

    def read(self, name: str):
        table = self.house.table(name)
        if self._virtual(table):
            return spark_frame(self.spark, table, self.intake(name).accepted)
        return self.spark.table(self.identifier(table))

    def read_published(self, name: str, snapshot_id: int | None = None):
        """The published rows (a landing table's accepted records), at `snapshot_id` if given."""
        table = self.house.table(name)
        if self._virtual(table):
            return self._landing_rows(table, self.intake(name).accepted)
        if snapshot_id is None:
            return self.spark.table(self.identifier(table))
        return self._sql(f"SELECT * FROM {self.identifier(table)} VERSION AS OF {int(snapshot_id)}")

    def published_snapshot(self, name: str) -> int | None:
        """The table's current snapshot (None for a landing table, or one never written)."""
        table = self.house.table(name)
        if self._virtual(table):
            return None
        snapshot = self._iceberg_table(self.identifier(table)).currentSnapshot()
        return None if snapshot is None else snapshot.snapshotId()

    def exists(self, name: str) -> bool:
        """Whether the table has been written (a landing table always is: it is its files)."""
        table = self.house.table(name)
        return self._virtual(table) or self.spark.catalog.tableExists(self.identifier(table))

    def intake(self, name: str) -> Intake:
        """Every record of the table's landing files, accepted or quarantined (read once per run)."""
        if name not in self._intakes:
            table = self.house.table(name)
            spool = self.spool.for_source(name) if self.spool is not None else None
            self._intakes[name] = read_intake(table, self._landing_files(table), self.suppression, spool)
        return self._intakes[name]

    def _landing_rows(self, table: Table, accepted):
        """A landing table's accepted records as they are held: Arrow in memory, or a Spark frame over
        the spooled files (collected, they would need the memory the spool saves)."""
        return spark_frame(self.spark, table, accepted) if isinstance(accepted, Spooled) else accepted

    def _binary_files(self, table: Table):
        """(path, bytes) of each landing file, streamed to the driver one partition at a time."""
        path = f"{self.landing_root}/{self.house.landing_prefix(table)}"
        reader = self.spark.read.format("binaryFile").option("recursiveFileLookup", "true")
        try:
            files = reader.load(path).select("path", "content")
        except Exception as error:  # AnalysisException: the prefix does not exist (yet)
            if "PATH_NOT_FOUND" in str(error) or "Path does not exist" in str(error):
                return
            raise
        for row in files.orderBy("path").toLocalIterator():
            yield row.path, bytes(row.content)

    def _virtual(self, table: Table) -> bool:
        """A landing table: its files (a Glue JSON table), not an Iceberg table."""
        return table.is_landing_files

    # ------------------------------------------------------------------ write-audit-publish

    def stage(self, table: Table, rows) -> Staged:
        if self._virtual(table):
            arrow = rows.toArrow() if hasattr(rows, "toArrow") else rows
            return Staged(table, arrow.num_rows, None, handle=arrow)
        identifier = self._ensure(table)
        # at main's head; a branch left by a killed run is replaced
        self._sql(f"ALTER TABLE {identifier} CREATE OR REPLACE BRANCH {STAGE_BRANCH}")
        from pyspark.sql import functions as F

        self._frame(table, rows).writeTo(f"{identifier}.branch_{STAGE_BRANCH}").overwrite(F.lit(True))
        staged_id, staged_rows = self._head(identifier, STAGE_BRANCH)
        return Staged(table, staged_rows, staged_id, handle=identifier)

    def staged_rows(self, staged: Staged):
        if staged.snapshot_id is None and not isinstance(staged.handle, str):
            return self._landing_rows(staged.table, staged.handle)  # a landing table's accepted records
        return self.spark.table(f"{staged.handle}.branch_{STAGE_BRANCH}")

    def publish(self, staged: Staged) -> Written:
        if isinstance(staged.handle, str):
            identifier = staged.handle
            self._sql(
                f"CALL {self.catalog_name}.system.fast_forward("
                f"table => '{identifier}', branch => 'main', to => '{STAGE_BRANCH}')"
            )
            self._sql(f"ALTER TABLE {identifier} DROP BRANCH IF EXISTS {STAGE_BRANCH}")
        return Written(rows=staged.rows, snapshot_id=staged.snapshot_id)

    def discard(self, staged: Staged) -> None:
        if isinstance(staged.handle, str):
            self._sql(f"ALTER TABLE {staged.handle} DROP BRANCH IF EXISTS {STAGE_BRANCH}")

    def stage_delete(self, table: Table, where: str) -> tuple[Staged, int]:
        """The table without the rows matching `where` (Iceberg's row-level DELETE, copy-on-write:
        the data files holding them are rewritten), staged on the audit branch; with how many went."""
        identifier = self._ensure(table)
        head, before = self._head(identifier, "main")
        if self._sql(f"SELECT 1 FROM {identifier} WHERE {where} LIMIT 1").first() is None:
            return Staged(table, before, head, handle=identifier), 0  # nothing to delete: no branch, no commit
        self._sql(f"ALTER TABLE {identifier} CREATE OR REPLACE BRANCH {STAGE_BRANCH}")
        self._sql(f"DELETE FROM {identifier}.branch_{STAGE_BRANCH} WHERE {where}")
        staged_id, rows = self._head(identifier, STAGE_BRANCH)
        return Staged(table, rows, staged_id, handle=identifier), before - rows

    def replace(self, table: Table, rows) -> Written:
        if self._virtual(table):
            return Written(self.stage(table, rows).rows, None)
        from pyspark.sql import functions as F

        identifier = self._ensure(table)
        self._frame(table, rows).writeTo(identifier).overwrite(F.lit(True))
        snapshot_id, count = self._head(identifier, "main")
        return Written(rows=count, snapshot_id=snapshot_id)

    # ------------------------------------------------------------------ maintenance (Iceberg's procedures)

    def expire_history(self, names: set[str] | None = None) -> int:
        """Each named table (all by default) keeps its current snapshot only: every other branch and
        tag is dropped, every older snapshot expired, and the files only those used deleted;
        returns how many files went. What erasure and revoked consent rely on.

        The manifests are rewritten first: the current snapshot's own manifests still list the
        files it removed, with the column bounds those files had (tables written before the
        bounds of personal columns were turned off kept them there)."""
        self.drop_refs(names)
        for identifier in self.existing(names):
            self._sql(f"CALL {self.catalog_name}.system.rewrite_manifests(table => '{identifier}')")
        return self.expire_snapshots(keep=1, names=names) + self.remove_orphan_files(names)

    def expire_snapshots(self, keep: int | None = None, names: set[str] | None = None, slack: int = 0) -> int:
        """Expire all but each table's newest `keep` snapshots and delete the files only they used;
        returns how many files went. Branch heads are never expired. With `slack`, a table is
        left alone until it holds more than `keep + slack` (an expiry costs about the same for one
        snapshot as for several: done in batches, its cost per run is a fraction).

        Iceberg's core ExpireSnapshots on the driver, not the Spark procedure: the procedure
        starts Spark jobs to list every file of every snapshot (about 2 s a table here, on every
        run once tables hold `keep` snapshots), while the core API reads only the manifests
        involved, in tenths of a second. Naming the snapshots makes it take the reachability
        cleanup: the incremental one leaves behind the files of a stage whose branch was dropped
        (apache/iceberg#12819). The files gone are counted by listing the table before and after."""
        keep = self.house.keep_snapshots if keep is None else keep
        with ThreadPoolExecutor(4) as pool:  # the tables in parallel: each is mostly waiting on the emulator
            return sum(pool.map(lambda identifier: self._expire(identifier, keep, slack), self.existing(names)))

    def _expire(self, identifier: str, keep: int, slack: int) -> int:
        table = self._iceberg_table(identifier)
        snapshots = [s.snapshotId() for s in table.snapshots()]
        if len(snapshots) <= keep + slack:
            return 0
        history, snapshot = [], table.currentSnapshot()
        while snapshot is not None and len(history) < keep:  # main's newest `keep`
            history.append(snapshot.snapshotId())
            parent = snapshot.parentId()
            snapshot = table.snapshot(parent) if parent is not None else None
        kept = set(history) | {ref.snapshotId() for ref in table.refs().values()}
        old = [s for s in snapshots if s not in kept]  # older ones, and stages a gate refused
        if not old:
            return 0
        before = self._files(table)
        expire = table.expireSnapshots()
        for snapshot_id in old:
            expire = expire.expireSnapshotId(snapshot_id)
        expire.commit()
        return len(before - self._files(table))

    def _iceberg_table(self, identifier: str):
        """The Iceberg (Java) table, loaded fresh through Spark's catalog."""
        return self.spark._jvm.org.apache.iceberg.spark.Spark3Util.loadIcebergTable(
            self.spark._jsparkSession, identifier
        )

    @staticmethod
    def _files(table) -> set[str]:
        """Every object under the table's location (S3FileIO lists by prefix)."""
        files, listing = set(), table.io().listPrefix(table.location()).iterator()
        while listing.hasNext():
            files.add(listing.next().location())
        return files

    def drop_refs(self, names: set[str] | None = None) -> int:
        """Drop every branch and tag but `main` on the named tables (they keep snapshots alive)."""
        dropped = 0
        for identifier in self.existing(names):
            for ref in self._sql(f"SELECT name, type FROM {identifier}.refs WHERE name <> 'main'").collect():
                kind = "BRANCH" if ref.type.upper() == "BRANCH" else "TAG"
                self._sql(f"ALTER TABLE {identifier} DROP {kind} IF EXISTS `{ref.name}`")
                dropped += 1
        return dropped

    def remove_orphan_files(self, names: set[str] | None = None) -> int:
        """Delete the files a killed run wrote but never committed; returns how many went.

        Iceberg's DeleteOrphanFiles action, listing S3 through S3FileIO (`usePrefixListing`: no
        Hadoop S3 filesystem here) and taking every file older than now: only safe while no other
        writer is between writing and committing, so the pipeline calls it holding the run lock.
        (The SQL procedure refuses an interval under 24 hours.)
        """
        actions = self.spark._jvm.org.apache.iceberg.spark.actions.SparkActions.get(self.spark._jsparkSession)
        removed = 0
        for identifier in self.existing(names):
            action = actions.deleteOrphanFiles(self._iceberg_table(identifier)).usePrefixListing(True)
            result = action.olderThan(int(time.time() * 1000)).execute()
            removed += sum(1 for _ in result.orphanFileLocations())
        return removed

    # ------------------------------------------------------------------ helpers

    def prepare(self) -> None:
        """Create the namespace (the Glue catalog does not create it on its own)."""
        self._sql(f"CREATE NAMESPACE IF NOT EXISTS {self.catalog_name}.{self.house.namespace}")

    def _ensure(self, table: Table) -> str:
        """The table exists, with the declared columns (checked once per run: the run lock keeps
        other writers out)."""
        identifier = self.identifier(table)
        if identifier in self._ensured:
            return identifier
        found = self._existing_table(identifier)
        if found is None:
            self._create(table, identifier)
            found = self._iceberg_table(identifier)
        # its metadata, read on the driver: no statement to plan
        current = dict(found.properties())
        missing = {k: v for k, v in table.table_properties.items() if current.get(k) != v}
        if missing:  # a table created before a property was declared
            self._sql(f"ALTER TABLE {identifier} SET TBLPROPERTIES ({_properties(missing)})")
        existing = [field.name() for field in found.schema().columns()]
        if existing != table.column_names:
            raise RuntimeError(
                f"{identifier} has columns {existing}, but catalog/tables.toml declares {table.column_names}: "
                "drop the table (or rebuild the stack) so the next run creates it as declared"
            )
        self._ensured.add(identifier)
        return identifier

    def _existing_table(self, identifier: str):
        """The Iceberg (Java) table, or None when the catalog has none of that name."""
        try:
            return self._iceberg_table(identifier)
        except Exception as error:  # Spark's TABLE_OR_VIEW_NOT_FOUND (Iceberg's NoSuchTableException)
            if "TABLE_OR_VIEW_NOT_FOUND" not in str(error) and "NoSuchTable" not in str(error):
                raise
            return None

    def _create(self, table: Table, identifier: str) -> None:
        """Create the table as declared (if nobody did meanwhile)."""
        columns = ", ".join(
            f"`{c.name}` {_SQL_TYPES[c.type]}{' NOT NULL' if c.required else ''}" for c in table.columns
        )
        comment = table.description.replace("'", "''")
        self._sql(
            f"CREATE TABLE IF NOT EXISTS {identifier} ({columns}) USING iceberg "
            f"LOCATION '{self.house.table_location(table)}' COMMENT '{comment}' "
            f"TBLPROPERTIES ({_properties(table.table_properties)})"
        )

    def _frame(self, table: Table, rows):
        """The rows to write, in at most the session's parallelism of partitions: each partition
        writes a data file of its own, and a few files read back faster than hundreds."""
        if not hasattr(rows, "toArrow"):
            return spark_frame(self.spark, table, rows)
        return rows.coalesce(self.spark.sparkContext.defaultParallelism)

    def _head(self, identifier: str, branch: str) -> tuple[int | None, int]:
        """The branch's snapshot and the rows it holds (from the snapshot's summary), read from the
        table's metadata on the driver: a query of the `refs` and `snapshots` tables would cost a Spark job."""
        snapshot = self._iceberg_table(identifier).snapshot(branch)
        if snapshot is None:
            return None, 0
        rows = snapshot.summary().get("total-records")
        return snapshot.snapshotId(), int(rows) if rows is not None else 0

    def existing(self, names: set[str] | None = None) -> list[str]:
        """The identifiers of the lakehouse's Iceberg tables in the catalog (of `names` only, if given)."""
        present = {
            row.tableName for row in self._sql(f"SHOW TABLES IN {self.catalog_name}.{self.house.namespace}").collect()
        }
        wanted = present if names is None else present & set(names)
        return [self.identifier(t) for t in self.house.queryable.values() if t.name in wanted]

    def _count(self, query: str) -> int:
        return self._sql(query).first()[0]

    def _sql(self, statement: str):
        return self.spark.sql(statement)


def _properties(properties: dict[str, str]) -> str:
    return ", ".join(f"'{k}' = '{v}'" for k, v in properties.items())


def _now_sql() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() + 1))
