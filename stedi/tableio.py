"""Reading and writing the lakehouse's tables: the one place that knows where tables live.

Jobs only ever call `read(name)` and `write(name, df)`. Which adapter serves them is
configuration: the embedded stack (pyiceberg on the S3 emulator, because Spark here has no
Iceberg or S3 jars), or Spark's own Iceberg catalog (the Docker stack and AWS Glue).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from stedi.retry import retry
from stedi.tables import Lakehouse, Table, lakehouse

if TYPE_CHECKING:  # pyarrow is imported only where rows move
    from stedi.intake import Intake


@dataclass(frozen=True)
class Written:
    rows: int
    snapshot_id: int | None


@dataclass(frozen=True)
class Landed:
    files: int
    rows: int
    snapshot_id: int | None


# Called with the staged rows (and facts only the adapter knows, such as the records in the
# landing files) between staging a table and publishing it; raising stops the publication.
Auditor = Callable[..., None]


class TableIO(Protocol):
    def read(self, name: str): ...

    def write(self, name: str, df, audit: Auditor | None = None) -> Written: ...

    def intake(self, name: str) -> Intake: ...

    def land(self, name: str, intake: Intake, audit: Auditor | None = None) -> Landed: ...

    def write_quarantine(self, name: str, intake: Intake) -> Written: ...

    def read_published(self, name: str): ...


class MissingValues(ValueError):
    """Rows lack a value in a column the declaration says every row has."""


class EmbeddedIO:
    """Iceberg tables written and read by pyiceberg; the transforms run in local Spark.

    Data crosses between Spark and pyiceberg as Arrow, which is cheap for the table sizes a
    laptop holds (see PLATFORM-NOTES.md: about 1 s per 100k rows each way).
    """

    def __init__(self, spark, stack, house: Lakehouse | None = None, local_copies: dict | None = None):
        self.spark = spark
        self.stack = stack
        self.house = house or lakehouse()
        # Landing key -> LocalCopy (stedi.landing.upload): the same bytes on local disk, read
        # instead of the object when its ETag still equals their MD5 (one trip less through
        # the emulator, which serves under 100 MB/s).
        self.local_copies = local_copies or {}
        self.catalog = retry(stack.catalog, what="Iceberg catalog")
        self.fs = stack.arrow_fs()

    def read(self, name: str):
        table = self.house.table(name)
        arrow = retry(lambda: self._load(table).scan().to_arrow(), what=_STORE)
        return spark_frame(self.spark, table, arrow)

    def read_published(self, name: str):
        """The published rows as Arrow (what the quality gates join against)."""
        return retry(lambda: self._load(self.house.table(name)).scan().to_arrow(), what=_STORE)

    def write(self, name: str, df, audit: Auditor | None = None) -> Written:
        table = self.house.table(name)
        return self.write_arrow(table, df.toArrow(), audit=audit)

    def write_arrow(self, table: Table, arrow, audit: Auditor | None = None, **facts) -> Written:
        """Replace the table's rows; with an auditor, write-audit-publish.

        The rows are staged on the table's `audit` branch, read back, and handed to the
        auditor; only when it returns does the branch's snapshot become the table's current
        one. Readers never see staged rows, and a failed audit leaves the table as it was.
        """
        arrow = _conform_arrow(arrow, table)
        iceberg_table = self._ensure(table)
        if audit is None:
            return Written(
                rows=arrow.num_rows, snapshot_id=retry(lambda: replace_contents(iceberg_table, arrow, {}), what=_STORE)
            )
        staged_id = retry(lambda: stage_contents(iceberg_table, arrow), what=_STORE)
        try:
            audit(iceberg_table.scan(snapshot_id=staged_id).to_arrow(), **facts)
        except BaseException:
            drop_stage(iceberg_table)
            raise
        retry(lambda: publish_stage(iceberg_table, staged_id), what=_STORE)
        return Written(rows=arrow.num_rows, snapshot_id=staged_id)

    def intake(self, name: str) -> Intake:
        """Every record of the table's landing files, accepted or quarantined with a reason.

        The bytes go to the parser as they are (no transparent gunzip): it tells gzip, JSON and
        whatever else was dropped in the prefix apart itself, and says so.
        """
        from stedi.intake import read_source

        table = self.house.table(name)
        objects = retry(lambda: self._landing_objects(table), what="S3 emulator")
        files = ((f"s3://{self.house.bucket}/{key}", self._read_bytes(key, etag)) for key, etag in objects)
        return read_source(table, files)

    def _landing_objects(self, table: Table) -> list[tuple[str, str]]:
        """(key, ETag) of every object under the table's landing prefix, in key order."""
        from stedi.landing import objects

        found = objects(self.stack.s3_client(), self.house.bucket, self.house.landing_prefix(table))
        return sorted((key, etag) for key, etag in found.items() if not key.endswith("/"))

    def land(self, name: str, intake: Intake, audit: Auditor | None = None) -> Landed:
        """Publish the accepted records as the landing table, then its quarantine beside it."""
        table = self.house.table(name)
        written = self.write_arrow(
            table, intake.accepted, audit=audit, landing_records=intake.records, quarantined=intake.quarantined.num_rows
        )
        self.write_quarantine(name, intake)
        return Landed(files=intake.files, rows=written.rows, snapshot_id=written.snapshot_id)

    def write_quarantine(self, name: str, intake: Intake) -> Written:
        return self.write_arrow(self.house.quarantine_of(self.house.table(name)), intake.quarantined)

    def _read_bytes(self, key: str, etag: str) -> bytes:
        local = self.local_copies.get(key)
        data = local.read_if(etag) if local is not None else None
        if data is not None:
            return data

        def read() -> bytes:
            with self.fs.open_input_stream(f"{self.house.bucket}/{key}", compression=None) as stream:
                return stream.read()

        return retry(read, what="S3 emulator")

    def remove_orphan_files(self) -> int:
        """Delete what a killed run wrote but never committed; returns how many files went.

        Readers never see such files (no snapshot lists them), but they would pile up. Only
        safe while no other writer is between writing and committing: the pipeline calls it
        holding the run lock.
        """
        removed = 0
        for iceberg_table in self._existing_tables():
            for path in orphan_files(iceberg_table, self.fs):
                self.fs.delete_file(path)
                removed += 1
        return removed

    def expire_snapshots(self, keep: int | None = None) -> int:
        """Expire all but each table's newest `keep` snapshots and delete the files only they
        referenced; returns how many files went. Branch heads are never expired."""
        keep = self.house.keep_snapshots if keep is None else keep
        removed = 0
        for iceberg_table in self._existing_tables():
            snapshots = sorted(iceberg_table.metadata.snapshots, key=lambda s: s.timestamp_ms)
            heads = {ref.snapshot_id for ref in iceberg_table.refs().values()}
            old = [s.snapshot_id for s in snapshots[: max(0, len(snapshots) - keep)] if s.snapshot_id not in heads]
            if not old:
                continue
            before = set(orphan_files(iceberg_table, self.fs))
            iceberg_table.maintenance.expire_snapshots().by_ids(old).commit()
            for path in set(orphan_files(iceberg_table.refresh(), self.fs)) - before:
                self.fs.delete_file(path)
                removed += 1
        return removed

    def _existing_tables(self):
        from pyiceberg.exceptions import NoSuchTableError

        for table in self.house.queryable.values():
            try:
                yield self._load(table)
            except NoSuchTableError:
                continue

    def _load(self, table: Table):
        return self.catalog.load_table((self.house.namespace, table.name))

    def _ensure(self, table: Table):
        from pyiceberg.exceptions import NoSuchTableError

        identifier = (self.house.namespace, table.name)
        try:
            existing = self.catalog.load_table(identifier)
        except NoSuchTableError:
            return self.catalog.create_table(
                identifier,
                schema=table.iceberg_schema(),
                location=self.house.table_location(table),
                properties={"format-version": "2", "comment": table.description},
            )
        existing_columns = [f.name for f in existing.schema().fields]
        if existing_columns != table.column_names:
            raise RuntimeError(
                f"{self.house.namespace}.{table.name} has columns {existing_columns}, but catalog/tables.toml "
                f"declares {table.column_names}: run `stedi down` to rebuild the embedded lakehouse"
            )
        return existing


STAGE_BRANCH = "audit"
_STORE = "S3 emulator or Iceberg catalog"


def stage_contents(iceberg_table, arrow) -> int:
    """Write the rows as a new snapshot on the `audit` branch, forked from the current one.

    Iceberg only lets a branch fork from an existing snapshot, so a brand-new table first
    gets an empty one on main (what an empty table would show anyway).
    """
    if iceberg_table.current_snapshot() is None:
        with iceberg_table.transaction() as tx:
            with tx.update_snapshot().fast_append():
                pass
        iceberg_table.refresh()
    drop_stage(iceberg_table)  # a stage left behind by an interrupted run
    iceberg_table.manage_snapshots().create_branch(iceberg_table.current_snapshot().snapshot_id, STAGE_BRANCH).commit()
    replace_contents(iceberg_table, arrow, {}, branch=STAGE_BRANCH)
    return iceberg_table.refresh().refs()[STAGE_BRANCH].snapshot_id


def publish_stage(iceberg_table, snapshot_id: int) -> None:
    """Make the audited snapshot current (a fast-forward: its parent is the current one)."""
    iceberg_table.manage_snapshots().set_current_snapshot(snapshot_id).remove_branch(STAGE_BRANCH).commit()


def drop_stage(iceberg_table) -> None:
    if STAGE_BRANCH in iceberg_table.refresh().refs():
        iceberg_table.manage_snapshots().remove_branch(STAGE_BRANCH).commit()


def orphan_files(iceberg_table, fs) -> list[str]:
    """Files under the table's location that neither its metadata nor any snapshot refers to."""
    from pyarrow import fs as pafs

    metadata = iceberg_table.metadata
    referenced = {iceberg_table.metadata_location, *(entry.metadata_file for entry in metadata.metadata_log)}
    manifests = {}
    for snapshot in metadata.snapshots:
        referenced.add(snapshot.manifest_list)
        manifests.update((m.manifest_path, m) for m in snapshot.manifests(iceberg_table.io))
    referenced.update(manifests)
    for manifest in manifests.values():
        entries = manifest.fetch_manifest_entry(iceberg_table.io, discard_deleted=False)
        referenced.update(entry.data_file.file_path for entry in entries)
    referenced = {_bucket_path(path) for path in referenced}
    selector = pafs.FileSelector(_bucket_path(metadata.location), recursive=True, allow_not_found=True)
    present = [info.path for info in fs.get_file_info(selector) if info.type == pafs.FileType.File]
    return sorted(path for path in present if path not in referenced)


def _bucket_path(uri: str) -> str:
    return uri.split("://", 1)[-1]


def replace_contents(iceberg_table, arrow, properties: dict[str, str], branch: str = "main") -> int:
    """Replace a table's rows in ONE snapshot (pyiceberg's own overwrite makes two).

    Readers see either the old rows or the new ones, and each pipeline run adds exactly one
    snapshot per table, so `FOR VERSION AS OF` addresses runs one to one. Uses pyiceberg's
    file writer (`_dataframe_to_data_files`), pinned with pyiceberg==0.12.0.
    """
    from pyiceberg.io.pyarrow import _dataframe_to_data_files

    head = iceberg_table.refs().get(branch)
    with iceberg_table.transaction() as tx:
        with tx.update_snapshot(snapshot_properties=properties, branch=branch).overwrite() as overwrite:
            for task in iceberg_table.scan(snapshot_id=head.snapshot_id if head else None).plan_files():
                overwrite.delete_data_file(task.file)
            if arrow.num_rows:
                for data_file in _dataframe_to_data_files(
                    table_metadata=tx.table_metadata, write_uuid=overwrite.commit_uuid, df=arrow, io=iceberg_table.io
                ):
                    overwrite.append_data_file(data_file)
    return iceberg_table.refresh().refs()[branch].snapshot_id


def _conform_arrow(arrow, table: Table):
    for column in table.required_columns:
        missing = arrow.column(column).null_count
        if missing:
            raise MissingValues(f"{table.name}: {missing} rows have no {column}, which every row must have")
    return arrow.select(table.column_names).cast(table.arrow_schema())


class SparkCatalogIO:
    """Tables in a Spark Iceberg catalog named `glue_catalog`: the Iceberg REST catalog in the
    Docker stack, the Glue Data Catalog on AWS.

    Landing files go through the same intake as on the embedded stack (read as bytes by Spark's
    binaryFile source, parsed on the driver), so a bad record is quarantined rather than turned
    into NULLs by Spark's JSON reader. `materialize_landing` keeps Iceberg copies of the landing
    tables (the Docker stack's Trino has no JSON tables); without it (Glue, where Athena reads
    the landing JSON itself) a landing table is read from its files, accepted records only.
    """

    def __init__(
        self, spark, catalog_name: str, landing_root: str, *, materialize_landing: bool, house: Lakehouse | None = None
    ):
        self.spark = spark
        self.catalog_name = catalog_name
        self.landing_root = landing_root.rstrip("/")
        self.materialize_landing = materialize_landing
        self.house = house or lakehouse()

    def identifier(self, table: Table) -> str:
        return f"{self.catalog_name}.{self.house.namespace}.{table.name}"

    def read(self, name: str):
        table = self.house.table(name)
        if table.zone == "landing" and not self.materialize_landing:
            return spark_frame(self.spark, table, self.intake(name).accepted)
        return self.spark.table(self.identifier(table))

    def intake(self, name: str) -> Intake:
        from stedi.intake import read_source

        table = self.house.table(name)
        return read_source(table, self._landing_bytes(table))

    def _landing_bytes(self, table: Table):
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

    def write(self, name: str, df, audit: Auditor | None = None) -> Written:
        if audit is not None:
            raise NotImplementedError(
                "quality gates run on the embedded stack; staging on an Iceberg branch through a Spark "
                "catalog (Docker, Glue) is not wired yet"
            )
        return self._replace(self.house.table(name), df)

    def _replace(self, table: Table, df) -> Written:
        identifier = self.identifier(table)
        (df.writeTo(identifier).using("iceberg").tableProperty("format-version", "2").createOrReplace())
        rows = self.spark.table(identifier).count()
        latest = self.spark.sql(
            f"SELECT snapshot_id FROM {identifier}.snapshots ORDER BY committed_at DESC LIMIT 1"
        ).first()
        return Written(rows=rows, snapshot_id=latest.snapshot_id if latest else None)

    def read_published(self, name: str):
        return self.read(name)

    def land(self, name: str, intake: Intake, audit: Auditor | None = None) -> Landed:
        """The accepted records as an Iceberg table (when materialized) and the quarantine beside it."""
        table = self.house.table(name)
        rows, snapshot_id = intake.accepted.num_rows, None
        if self.materialize_landing:
            written = self.write(name, spark_frame(self.spark, table, intake.accepted), audit=audit)
            rows, snapshot_id = written.rows, written.snapshot_id
        self.write_quarantine(name, intake)
        return Landed(files=intake.files, rows=rows, snapshot_id=snapshot_id)

    def write_quarantine(self, name: str, intake: Intake) -> Written:
        quarantine = self.house.quarantine_of(self.house.table(name))
        return self._replace(quarantine, spark_frame(self.spark, quarantine, intake.quarantined))


def spark_frame(spark, table: Table, arrow):
    """Arrow rows as a Spark frame with the table's declared schema."""
    return spark.createDataFrame(arrow.cast(table.arrow_schema(all_nullable=True)), table.spark_schema())
