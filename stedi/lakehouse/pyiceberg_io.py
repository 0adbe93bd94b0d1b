"""Iceberg tables written and read by pyiceberg, on the embedded stack's catalog and S3 emulator:
the pyiceberg bridge, for a machine where Iceberg's Spark runtime cannot be had (offline).

A landing table is its files' accepted records, as on AWS Glue (where Athena reads the JSON
itself): nothing is written for it, and the gate checks those records. Spark only computes:
rows cross between Spark and pyiceberg as Arrow, which is cheap for the table sizes a laptop
holds (about 1 s per 100k rows each way). Staging is a snapshot on the table's `audit` branch;
publishing makes that snapshot the current one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stedi.lakehouse import STAGE_BRANCH, Staged, Written, read_intake, spark_frame
from stedi.lakehouse.landing import LandingReader
from stedi.privacy.suppression import Suppression
from stedi.runtime.retry import retry
from stedi.tables import Lakehouse, Table, lakehouse

if TYPE_CHECKING:  # pyarrow is imported only where rows move
    from stedi.intake import Intake


class MissingValues(ValueError):
    """Rows lack a value in a column the declaration says every row has."""


class EmbeddedIO:
    """The TableIO of the embedded stack (stedi/lakehouse/__init__.py): pyiceberg reads and writes."""

    def __init__(self, spark, stack, house: Lakehouse | None = None, landing_files=None, suppression=None):
        self.spark = spark
        self.stack = stack
        self.house = house or lakehouse()
        self._landing_files = landing_files or LandingReader(stack, self.house)
        self._intakes: dict[str, Intake] = {}
        # erased people's records are dropped at the intake; read from the register once per run
        self.suppression = suppression if suppression is not None else Suppression.current()
        self.catalog = retry(stack.catalog, what="Iceberg catalog")
        self.fs = stack.arrow_fs()

    def read(self, name: str):
        return spark_frame(self.spark, self.house.table(name), self.read_published(name))

    def read_published(self, name: str, snapshot_id: int | None = None):
        """The published rows as Arrow (what the quality gates join against), at `snapshot_id` if given."""
        table = self.house.table(name)
        if table.is_landing_files:
            return self.intake(name).accepted
        return retry(lambda: self._load(table).scan(snapshot_id=snapshot_id).to_arrow(), what=_STORE)

    def published_snapshot(self, name: str) -> int | None:
        """The table's current snapshot (None for a landing table, or one never written)."""
        table = self.house.table(name)
        if table.is_landing_files:
            return None
        snapshot = retry(lambda: self._load(table), what=_STORE).current_snapshot()
        return None if snapshot is None else snapshot.snapshot_id

    def exists(self, name: str) -> bool:
        """Whether the table has been written (a landing table always is: it is its files)."""
        from pyiceberg.exceptions import NoSuchTableError

        table = self.house.table(name)
        if table.is_landing_files:
            return True
        try:
            self._load(table)
        except NoSuchTableError:
            return False
        return True

    def stage(self, table: Table, rows) -> Staged:
        """The rows as a snapshot on the table's `audit` branch, forked from the current one."""
        arrow = _conform_arrow(_arrow(rows), table)
        if table.is_landing_files:  # nothing to write: the gate checks the accepted records
            return Staged(table, arrow.num_rows, None, handle=None)
        iceberg_table = self._ensure(table)
        staged_id = retry(lambda: stage_contents(iceberg_table, arrow), what=_STORE)
        return Staged(table, arrow.num_rows, staged_id, handle=iceberg_table)

    def staged_rows(self, staged: Staged):
        if staged.handle is None:
            return self.intake(staged.table.name).accepted
        return staged.handle.scan(snapshot_id=staged.snapshot_id).to_arrow()

    def publish(self, staged: Staged) -> Written:
        """Make the staged snapshot current (a fast-forward: its parent is the current one)."""
        if staged.handle is not None:
            retry(lambda: publish_stage(staged.handle, staged.snapshot_id), what=_STORE)
        return Written(rows=staged.rows, snapshot_id=staged.snapshot_id)

    def discard(self, staged: Staged) -> None:
        if staged.handle is not None:
            drop_stage(staged.handle)

    def replace(self, table: Table, rows) -> Written:
        arrow = _conform_arrow(_arrow(rows), table)
        if table.is_landing_files:
            return Written(arrow.num_rows, None)
        iceberg_table = self._ensure(table)
        return Written(arrow.num_rows, retry(lambda: replace_contents(iceberg_table, arrow, {}), what=_STORE))

    def intake(self, name: str) -> Intake:
        """Every record of the table's landing files, accepted or quarantined (read once per run)."""
        if name not in self._intakes:
            table = self.house.table(name)
            self._intakes[name] = read_intake(table, self._landing_files(table), self.suppression)
        return self._intakes[name]

    def expire_history(self, names: set[str] | None = None) -> int:
        """Each named table (all by default) keeps its current snapshot only: every other branch and
        tag is dropped, every older snapshot expired, and the files only those used deleted;
        returns how many files went. What erasure and revoked consent rely on."""
        for iceberg_table in self._existing_tables(names):
            refs = [(name, ref) for name, ref in iceberg_table.refs().items() if name != "main"]
            if refs:
                manage = iceberg_table.manage_snapshots()
                for name, ref in refs:
                    branch = ref.snapshot_ref_type == "branch"
                    manage = manage.remove_branch(name) if branch else manage.remove_tag(name)
                manage.commit()
        return self.expire_snapshots(keep=1, names=names) + self.remove_orphan_files(names)

    def remove_orphan_files(self, names: set[str] | None = None) -> int:
        """Delete what a killed run wrote but never committed; returns how many files went.

        Readers never see such files (no snapshot lists them), but they would pile up. Only
        safe while no other writer is between writing and committing: the pipeline calls it
        holding the run lock.
        """
        removed = 0
        for iceberg_table in self._existing_tables(names):
            for path in orphan_files(iceberg_table, self.fs):
                self.fs.delete_file(path)
                removed += 1
        return removed

    def expire_snapshots(self, keep: int | None = None, names: set[str] | None = None, slack: int = 0) -> int:
        """Expire all but each table's newest `keep` snapshots and delete the files only they
        referenced; returns how many files went. Branch heads are never expired. With `slack`, a
        table is left alone until it holds more than `keep + slack` (spark_io's says why)."""
        keep = self.house.keep_snapshots if keep is None else keep
        removed = 0
        for iceberg_table in self._existing_tables(names):
            metadata = iceberg_table.metadata
            if len(metadata.snapshots) <= keep + slack:
                continue
            history, snapshot = [], iceberg_table.current_snapshot()
            while snapshot is not None and len(history) < keep:  # main's newest `keep`
                history.append(snapshot.snapshot_id)
                parent = snapshot.parent_snapshot_id
                snapshot = metadata.snapshot_by_id(parent) if parent is not None else None
            kept = set(history) | {ref.snapshot_id for ref in iceberg_table.refs().values()}
            old = [s.snapshot_id for s in metadata.snapshots if s.snapshot_id not in kept]  # and refused stages
            if not old:
                continue
            before = set(orphan_files(iceberg_table, self.fs))
            iceberg_table.maintenance.expire_snapshots().by_ids(old).commit()
            for path in set(orphan_files(iceberg_table.refresh(), self.fs)) - before:
                self.fs.delete_file(path)
                removed += 1
        return removed

    def _existing_tables(self, names: set[str] | None = None):
        from pyiceberg.exceptions import NoSuchTableError

        for table in self.house.queryable.values():
            if table.is_landing_files or (names is not None and table.name not in names):
                continue
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
                properties={**table.table_properties, "comment": table.description},
            )
        existing_columns = [f.name for f in existing.schema().fields]
        if existing_columns != table.column_names:
            raise RuntimeError(
                f"{self.house.namespace}.{table.name} has columns {existing_columns}, but catalog/tables.toml "
                f"declares {table.column_names}: run `stedi down` to rebuild the embedded lakehouse"
            )
        return existing


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


def _arrow(rows):
    """Arrow rows, whatever came in (a Spark DataFrame is collected as Arrow)."""
    return rows.toArrow() if hasattr(rows, "toArrow") else rows


def _conform_arrow(arrow, table: Table):
    for column in table.required_columns:
        missing = arrow.column(column).null_count
        if missing:
            raise MissingValues(f"{table.name}: {missing} rows have no {column}, which every row must have")
    return arrow.select(table.column_names).cast(table.arrow_schema())
