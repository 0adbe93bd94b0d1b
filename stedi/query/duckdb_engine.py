"""The embedded engine: DuckDB reading the lakehouse as Athena does, with no network but
the S3 emulator on loopback.

* Extensions: httpfs, avro and iceberg are LOADed from the files shipped in the PyPI
  packages duckdb-extension-<name> (same version as duckdb); auto-install and auto-load are
  off, so nothing is ever downloaded.
* Landing tables: `read_json` over every object under the landing prefix, with exactly the
  declared columns (absent keys are NULL, other keys ignored), as Athena's JSON SerDe does.
* Iceberg tables: `iceberg_scan` of the metadata file the catalog currently points at (the
  stack's `metadata_locations()`); time travel scans a given snapshot.
* `"<table>$snapshots"` / `"<table>$history"`: built from that metadata file.

Only the relations a query names are created, each as a view in schema `stedi`.
"""

from __future__ import annotations

import importlib
import json
import shutil
import tempfile
import time
from pathlib import Path

from stedi.query import schema
from stedi.query.errors import QueryError
from stedi.query.result import Result
from stedi.query.translate import TableRef, translate
from stedi.tables import lakehouse

EXTENSIONS = ("httpfs", "avro", "iceberg")
ICEBERG_EXTENSIONS = ("avro", "iceberg")  # loaded on first use (0.35 s): landing-only queries skip them


def extension_file(name: str) -> Path:
    """The extension binary inside the duckdb-extension-<name> wheel, for this duckdb."""
    import duckdb

    version = duckdb.__version__
    try:
        package = importlib.import_module(f"duckdb_extension_{name}")
    except ImportError:
        raise QueryError(f"the DuckDB {name} extension is not installed: "
                         f"pip install duckdb-extension-{name}=={version}") from None
    path = Path(package.__file__).parent / "extensions" / f"v{version}" / f"{name}.duckdb_extension"
    if not path.is_file():
        found = sorted(p.parent.name for p in Path(package.__file__).parent.glob("extensions/*/*.duckdb_extension"))
        raise QueryError(f"duckdb-extension-{name} has no build for duckdb {version} (it has {found or 'none'}): "
                         f"pin both to the same version")
    return path


class DuckDBEngine:
    name = "duckdb"

    def __init__(self, stack):
        """`stack`: the embedded stack (its endpoint, keys and `metadata_locations()`)."""
        self.stack = stack
        self._con = None
        self._scratch: str | None = None
        self._views: set[str] = set()
        self._locations: dict[str, str] | None = None
        self._metadata: dict[str, dict] = {}
        self._iceberg_loaded = False

    # ------------------------------------------------------------ life cycle

    def connection(self):
        if self._con is None:
            import duckdb

            self._scratch = tempfile.mkdtemp(prefix="stedi-duckdb-")
            con = duckdb.connect(config={
                "autoinstall_known_extensions": False,
                "autoload_known_extensions": False,
                "allow_community_extensions": False,
                "extension_directory": self._scratch,  # fresh and empty: nothing cached is used
            })
            con.execute(f"LOAD '{_literal(str(extension_file('httpfs')))}'")
            house = lakehouse()
            host = self.stack.endpoint.removeprefix("http://")
            key, secret = self.stack.access_key, self.stack.secret_key
            con.execute(f"""CREATE SECRET stedi_s3 (TYPE s3, KEY_ID '{key}', SECRET '{secret}',
                            REGION '{house.region}', ENDPOINT '{host}', URL_STYLE 'path', USE_SSL false)""")
            con.execute("SET TimeZone = 'UTC'")  # Athena's session time zone
            con.execute(f'CREATE SCHEMA "{house.namespace}"')
            con.execute("SET lock_configuration = true")  # queries cannot change any of the above
            self._con = con
        return self._con

    def _iceberg(self):
        """The connection, with the avro and iceberg extensions loaded (avro first: iceberg
        needs it, and must not try to fetch it)."""
        con = self.connection()
        if not self._iceberg_loaded:
            for name in ICEBERG_EXTENSIONS:
                con.execute(f"LOAD '{_literal(str(extension_file(name)))}'")
            self._iceberg_loaded = True
        return con

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
        if self._scratch:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------ queries

    def translate(self, sql: str) -> str:
        return translate(sql).sql

    def run(self, sql: str, *, line_offset: int = 0, origin: str = "") -> Result:
        import duckdb

        started = time.perf_counter()
        translation = translate(sql, line_offset=line_offset, origin=origin)
        con = self.connection()
        for ref in translation.refs:
            self._provide(ref)
        try:
            cursor = con.execute(translation.sql)
            rows = cursor.fetchall()
        except duckdb.Error as error:
            prefix = f"{origin}: " if origin else ""
            raise QueryError(f"{prefix}{_first_line(error)} (the query ran as DuckDB SQL: {translation.sql})") from None
        columns = [d[0] for d in cursor.description]
        types = [str(d[1]) for d in cursor.description]
        return Result(columns, rows, types, time.perf_counter() - started, translation.sql, sql)

    # ------------------------------------------------------------ relations

    def _provide(self, ref: TableRef) -> None:
        if ref.view in self._views and ref.as_of is None:
            return  # an instant (e.g. current_timestamp - interval '1' hour) is resolved anew each time
        table = lakehouse().table(ref.table)
        if ref.metadata:
            self._metadata_table(ref)
        elif not schema.is_iceberg(table):
            self._landing_view(ref)
        else:
            self._iceberg()
            scan = f"iceberg_scan('{_literal(self._location(ref.table))}'"
            if ref.version is not None or ref.as_of is not None:
                scan += f", snapshot_from_id = {self._snapshot(ref)}"
            self._create_view(ref.view, f"SELECT * FROM {scan})")
        self._views.add(ref.view)

    def _create_view(self, view: str, select: str) -> None:
        import duckdb

        try:
            self.connection().execute(f'CREATE OR REPLACE VIEW "{lakehouse().namespace}"."{view}" AS {select}')
        except duckdb.Error as error:
            raise QueryError(f"cannot read {view}: {_first_line(error)}") from None

    def _landing_view(self, ref: TableRef) -> None:
        """Athena's landing table: every object under the prefix, the declared columns only."""
        import duckdb

        house = lakehouse()
        table = house.table(ref.table)
        pattern = f"s3://{house.bucket}/{house.landing_prefix(table)}*"
        columns = ", ".join(f"'{_literal(c.name)}': '{schema.DUCKDB_TYPES[c.type]}'" for c in table.columns)
        select = (f"SELECT * FROM read_json('{_literal(pattern)}', format = 'newline_delimited', "
                  f"columns = {{{columns}}})")
        try:
            self.connection().execute(f'CREATE VIEW "{house.namespace}"."{ref.view}" AS {select}')
        except duckdb.IOException as error:
            if "No files found" not in str(error):
                raise QueryError(f"cannot read {pattern}: {_first_line(error)}") from None
            # Athena reads an empty prefix as an empty table.
            empty = ", ".join(f'CAST(NULL AS {schema.DUCKDB_TYPES[c.type]}) AS "{c.name}"' for c in table.columns)
            self._create_view(ref.view, f"SELECT {empty} WHERE FALSE")

    def _location(self, name: str) -> str:
        """The metadata file the catalog currently points at."""
        if self._locations is None:
            self._locations = self.stack.metadata_locations()
        if name not in self._locations:
            written = ", ".join(sorted(self._locations)) or "none"
            raise QueryError(f"table {lakehouse().namespace}.{name} has not been written yet (tables written: "
                             f"{written}): run `stedi pipeline` first")
        return self._locations[name]

    def metadata(self, name: str) -> dict:
        """The table's current Iceberg metadata (metadata.json), read through the emulator."""
        if name not in self._metadata:
            location = self._location(name)
            row = self.connection().execute(f"SELECT content FROM read_text('{_literal(location)}')").fetchone()
            self._metadata[name] = json.loads(row[0])
        return self._metadata[name]

    def _snapshot(self, ref: TableRef) -> int:
        """The snapshot a FOR VERSION / FOR TIMESTAMP AS OF clause names, as Trino finds it."""
        metadata = self.metadata(ref.table)
        snapshots = {s["snapshot-id"]: s for s in metadata.get("snapshots", [])}
        listing = f"list them with SELECT * FROM \"{ref.table}$snapshots\""
        if isinstance(ref.version, int):
            if ref.version not in snapshots:
                raise QueryError(f"snapshot {ref.version} of {ref.table} does not exist: {listing}")
            return ref.version
        if isinstance(ref.version, str):
            named = metadata.get("refs", {}).get(ref.version)
            if named is None:
                raise QueryError(f"{ref.table} has no branch or tag {ref.version!r} "
                                 f"(it has: {', '.join(metadata.get('refs', {})) or 'none'})")
            return named["snapshot-id"]
        import duckdb

        try:
            instant = self.connection().execute(f"SELECT epoch_ms(CAST({ref.as_of} AS TIMESTAMPTZ))").fetchone()[0]
        except duckdb.Error as error:
            raise QueryError(f"FOR TIMESTAMP AS OF needs a timestamp: {_first_line(error)}") from None
        # Trino: the snapshot that was current at that instant, from the snapshot log.
        log = [e for e in metadata.get("snapshot-log", []) if e["timestamp-ms"] <= instant]
        if not log:
            first = min((e["timestamp-ms"] for e in metadata.get("snapshot-log", [])), default=None)
            since = f" (its history starts at {_iso(first)})" if first is not None else ""
            raise QueryError(f"{ref.table} has no snapshot at or before {_iso(instant)}{since}: {listing}")
        return max(log, key=lambda e: e["timestamp-ms"])["snapshot-id"]

    def _metadata_table(self, ref: TableRef) -> None:
        metadata = self.metadata(ref.table)
        snapshots = metadata.get("snapshots", [])
        namespace = lakehouse().namespace
        con = self.connection()
        target = f'"{namespace}"."{ref.view}"'
        if ref.metadata == "snapshots":
            con.execute(f"""CREATE TABLE {target} (committed_at TIMESTAMPTZ, snapshot_id BIGINT, parent_id BIGINT,
                            operation VARCHAR, manifest_list VARCHAR, summary MAP(VARCHAR, VARCHAR))""")
            for s in sorted(snapshots, key=lambda s: s["timestamp-ms"]):
                summary = {k: str(v) for k, v in s.get("summary", {}).items()}
                con.execute(f"INSERT INTO {target} VALUES (make_timestamptz(? * 1000), ?, ?, ?, ?, "
                            "MAP(?::VARCHAR[], ?::VARCHAR[]))",
                            [s["timestamp-ms"], s["snapshot-id"], s.get("parent-snapshot-id"),
                             summary.get("operation"), s.get("manifest-list"),
                             list(summary), list(summary.values())])
        else:
            parents = {s["snapshot-id"]: s.get("parent-snapshot-id") for s in snapshots}
            ancestors = set()
            current = metadata.get("current-snapshot-id")
            while current is not None and current != -1 and current not in ancestors:
                ancestors.add(current)
                current = parents.get(current)
            # As Trino (and so Athena) builds it: one row per snapshot, stamped with the snapshot's
            # own commit time, not the snapshot log's (a staged snapshot is published later).
            con.execute(f"""CREATE TABLE {target} (made_current_at TIMESTAMPTZ, snapshot_id BIGINT,
                            parent_id BIGINT, is_current_ancestor BOOLEAN)""")
            for s in snapshots:
                snapshot = s["snapshot-id"]
                con.execute(f"INSERT INTO {target} VALUES (make_timestamptz(? * 1000), ?, ?, ?)",
                            [s["timestamp-ms"], snapshot, parents.get(snapshot), snapshot in ancestors])


def _literal(text: str) -> str:
    return text.replace("'", "''")


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0]


def _iso(ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(sep=" ", timespec="milliseconds")
