"""The embedded engine: DuckDB reading the lakehouse as Athena does, with no network but
the S3 emulator on loopback.

* Extensions: httpfs, avro and iceberg are LOADed from the files shipped in the PyPI
  packages duckdb-extension-<name> (same version as duckdb); auto-install and auto-load are
  off, so nothing is ever downloaded.
* The tables are the stack's Glue Data Catalog (stedi/query/catalog.py), read once per engine:
  the pipeline's, and any made by Athena DDL or a Glue Studio script.
* JSON tables (the landing ones, and Hive tables with the OpenX or Hive JSON SerDe): `read_json`
  over every file under the location (hidden files skipped, as Athena does), with exactly the
  table's columns (absent keys are NULL, other keys ignored), keys matched ignoring case unless the
  SerDe says `case.insensitive` FALSE; gzip by extension, and Hadoop-snappy files decompressed
  here first (DuckDB reads no snappy text). Parquet tables: `read_parquet`, columns matched by name.
  CSV tables: `read_csv` with the SerDe's delimiter. A partitioned table reads its registered
  partitions only, as Athena does.
* Iceberg tables: `iceberg_scan` of the metadata file the catalog currently points at; time
  travel scans a given snapshot.
* `"<table>$snapshots"` / `"<table>$history"`: built from that metadata file.

Only the relations a query names are created, each as a view in the schema of its database.
"""

from __future__ import annotations

import importlib
import json
import shutil
import tempfile
import time
from pathlib import Path

from stedi.query.catalog import Catalog, Relation, declared, duckdb_type, from_glue
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

    def __init__(self, stack, catalog: Catalog | None = None):
        """`stack`: the stack whose tables are read (its endpoint, keys and clients); `catalog`: the
        tables to read (default: every one of the stack's Glue Data Catalog)."""
        self.stack = stack
        self._con = None
        self._scratch: str | None = None
        self._views: set[str] = set()
        self._catalog: Catalog | None = catalog
        self._metadata: dict[str, dict] = {}
        self._iceberg_loaded = False

    def forget_catalog(self) -> None:
        """The catalog changed (Athena DDL): read it again, and every view with it."""
        self._catalog = None
        if self._con is not None:
            self.close()

    @property
    def catalog(self) -> Catalog:
        """The stack's tables, read from its Glue API once (the declared ones alone without a client)."""
        if self._catalog is None:
            client = getattr(self.stack, "client", None)
            self._catalog = from_glue(client("glue")) if client else declared()
        return self._catalog

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
            for database in sorted({*self.catalog.databases, house.namespace}):
                con.execute(f'CREATE SCHEMA "{_identifier(database)}"')
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
        return translate(sql, catalog=self.catalog).sql

    def run(self, sql: str, *, line_offset: int = 0, origin: str = "") -> Result:
        import duckdb

        started = time.perf_counter()
        translation = translate(sql, catalog=self.catalog, line_offset=line_offset, origin=origin)
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
        key = f"{ref.database}.{ref.view}"
        if key in self._views and ref.as_of is None:
            return  # an instant (e.g. current_timestamp - interval '1' hour) is resolved anew each time
        relation = self.catalog.relation(ref.database, ref.table)
        if ref.metadata:
            self._metadata_table(ref)
        elif relation.kind == "iceberg":
            self._iceberg()
            scan = f"iceberg_scan('{_literal(self._location(relation))}'"
            if ref.version is not None or ref.as_of is not None:
                scan += f", snapshot_from_id = {self._snapshot(ref)}"
            self._create_view(ref, f"SELECT * FROM {scan})")
        else:
            self._files_view(ref, relation)
        self._views.add(key)

    def _create_view(self, ref: TableRef, select: str) -> None:
        import duckdb

        try:
            self.connection().execute(f'CREATE OR REPLACE VIEW {_qualified(ref)} AS {select}')
        except duckdb.Error as error:
            raise QueryError(f"cannot read {ref.database}.{ref.view}: {_first_line(error)}") from None

    def _files_view(self, ref: TableRef, relation: Relation) -> None:
        """A Hive table as Athena reads it: the files under its location, the table's columns."""
        import duckdb

        files = self._files(relation)
        if not files:  # Athena reads an empty location as an empty table
            empty = ", ".join(_null(n, t) for n, t in relation.columns)
            self._create_view(ref, f"SELECT {empty} WHERE FALSE")
            return
        listed = "[" + ", ".join(f"'{_literal(f)}'" for f in files) + "]"
        partitioned = ", hive_partitioning = true" if relation.partition_keys else ""
        data = [(n, t) for n, t in relation.columns if n not in relation.partition_keys]
        try:
            if relation.kind == "json":
                keys = self._json_keys(relation, listed)
                spec = ", ".join(f"'{_literal(keys[n])}': '{duckdb_type(t)}'" for n, t in data if n in keys)
                source = f"read_json({listed}, format = 'newline_delimited', columns = {{{spec}}}{partitioned})"
                picked = [f'"{_identifier(keys[n])}" AS "{n}"' if n in keys else _null(n, t) for n, t in data]
            elif relation.kind == "parquet":
                source = f"read_parquet({listed}, union_by_name = true{partitioned})"
                present = {c.lower(): c for c in self._columns_of(source)}
                picked = [f'CAST("{_identifier(present[n])}" AS {duckdb_type(t)}) AS "{n}"' if n in present
                          else _null(n, t) for n, t in data]
            elif relation.kind == "csv":
                delimiter = relation.serde.get("field.delim") or relation.serde.get("separatorChar") or ","
                header = str(relation.parameters.get("skip.header.line.count", "0")) != "0"
                spec = ", ".join(f"'{_literal(n)}': '{duckdb_type(t)}'" for n, t in data)
                source = (f"read_csv({listed}, delim = '{_literal(delimiter)}', header = {str(header).lower()}, "
                          f"columns = {{{spec}}}{partitioned})")
                picked = [f'"{n}"' for n, _ in data]
            else:
                raise QueryError(f"{relation.database}.{relation.name} is stored as {relation.kind}: the embedded "
                                 "engine reads JSON, Parquet, CSV and Iceberg tables (--engine trino reads more)")
        except duckdb.Error as error:
            raise QueryError(f"cannot read {relation.database}.{relation.name}: {_first_line(error)}") from None
        picked += [f'CAST("{k}" AS {duckdb_type(dict(relation.columns)[k])}) AS "{k}"' for k in relation.partition_keys]
        self._create_view(ref, f"SELECT {', '.join(picked)} FROM {source}")

    def _files(self, relation: Relation) -> list[str]:
        """The data files Athena reads for a Hive table: every one under its location (or under its
        registered partitions' locations), hidden ones (`_SUCCESS`, `.crc`) skipped; snappy ones
        decompressed into this engine's scratch directory first."""
        from stedi.lakehouse.landing import hidden, objects

        locations = [relation.location] if not relation.partition_keys else self._partition_locations(relation)
        client = self.stack.client("s3")
        found = []
        for location in locations:
            bucket, _, prefix = location.removeprefix("s3://").partition("/")
            prefix = prefix if prefix.endswith("/") or not prefix else prefix + "/"
            found += [(bucket, key) for key in objects(client, bucket, prefix)
                      if not key.endswith("/") and not hidden(key)]
        return [self._readable(client, bucket, key) for bucket, key in sorted(found)]

    def _partition_locations(self, relation: Relation) -> list[str]:
        glue = self.stack.client("glue")
        pages = glue.get_paginator("get_partitions").paginate(DatabaseName=relation.database, TableName=relation.name)
        return [p["StorageDescriptor"]["Location"] for page in pages for p in page["Partitions"]]

    def _readable(self, client, bucket: str, key: str) -> str:
        """The file's path for DuckDB: on S3 as it is, or decompressed here when Hadoop-snappy."""
        if not key.endswith(".snappy"):
            return f"s3://{bucket}/{key}"
        from stedi.query.snappy import hadoop_snappy_decompress

        self.connection()
        target = Path(self._scratch) / "snappy" / bucket / key.removesuffix(".snappy")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(hadoop_snappy_decompress(client.get_object(Bucket=bucket, Key=key)["Body"].read()))
        return str(target)

    def _json_keys(self, relation: Relation, listed: str) -> dict[str, str]:
        """Column -> the key in the files: the declaration's for the landing tables, else the keys the
        files hold, matched to the columns ignoring case (the OpenX SerDe's `case.insensitive`,
        TRUE unless the table says otherwise) or by the SerDe's `mapping.<column>`."""
        if relation.keys:
            return relation.keys
        explicit = {k.removeprefix("mapping.").lower(): v
                    for k, v in relation.serde.items() if k.startswith("mapping.")}
        insensitive = str(relation.serde.get("case.insensitive", "TRUE")).upper() != "FALSE"
        found = self._columns_of(f"read_json({listed}, format = 'newline_delimited', union_by_name = true, "
                                 "sample_size = -1)")
        keys = {}
        for name, _ in relation.columns:
            if name in explicit:
                keys[name] = explicit[name]
                continue
            exact = [k for k in found if k == name]
            loose = [k for k in found if k.lower() == name] if insensitive else []
            if exact or loose:
                keys[name] = (exact or loose)[0]
        return keys

    def _columns_of(self, source: str) -> list[str]:
        return [row[0] for row in self.connection().execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]

    def _location(self, relation: Relation) -> str:
        """The metadata file the catalog currently points at."""
        if not relation.metadata_location:
            written = ", ".join(sorted(n for (db, n), r in self.catalog.relations.items()
                                       if r.kind == "iceberg" and r.metadata_location)) or "none"
            raise QueryError(f"table {relation.database}.{relation.name} has not been written yet (tables written: "
                             f"{written}): run `stedi pipeline` first")
        return relation.metadata_location

    def metadata(self, name: str, database: str | None = None) -> dict:
        """The table's current Iceberg metadata (metadata.json), read through the emulator."""
        database = database or lakehouse().namespace
        key = f"{database}.{name}"
        if key not in self._metadata:
            location = self._location(self.catalog.relation(database, name))
            row = self.connection().execute(f"SELECT content FROM read_text('{_literal(location)}')").fetchone()
            self._metadata[key] = json.loads(row[0])
        return self._metadata[key]

    def _snapshot(self, ref: TableRef) -> int:
        """The snapshot a FOR VERSION / FOR TIMESTAMP AS OF clause names, as Trino finds it."""
        metadata = self.metadata(ref.table, ref.database)
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
        metadata = self.metadata(ref.table, ref.database)
        snapshots = metadata.get("snapshots", [])
        con = self.connection()
        target = _qualified(ref)
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


def _null(name: str, hive_type: str) -> str:
    """A column no file holds: NULL of its type, as Athena reads a missing key."""
    return f'CAST(NULL AS {duckdb_type(hive_type)}) AS "{name}"'


def _identifier(text: str) -> str:
    return text.replace('"', '""')


def _qualified(ref: TableRef) -> str:
    return f'"{_identifier(ref.database)}"."{_identifier(ref.view)}"'


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0]


def _iso(ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(sep=" ", timespec="milliseconds")
