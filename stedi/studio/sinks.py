"""Glue's S3 sinks: new part files under a path, and the Hive-style table that describes them.

A sink never replaces what is there: each write adds part files named as Glue names them
(`run-<epoch ms>-part-r-00000` for JSON and CSV, `.gz` or `.snappy` when compressed;
`run-<epoch ms>-part-block-0-r-00000-snappy.parquet` for glueparquet), so a job run twice holds
its rows twice, as on AWS ("my counts doubled").

With `enableUpdateCatalog` and a table named (`setCatalogInfo`), the sink makes the table Glue
makes: external, over the sink's path, the OpenX JSON SerDe (`classification=json`) or Parquet
(`classification=parquet`, `useGlueParquetWriter=true`), lower-cased column names with Hive's
type names, and the job and run that created it (`CreatedByJob`, `CreatedByJobRun`).
`UPDATE_IN_DATABASE` (the default) writes the frame's schema into an existing table; `LOG` leaves
it and says how they differ. Partition keys make `key=value/` folders and catalog partitions.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from stedi.studio import s3
from stedi.studio.glue_types import hive_name

JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe"
TEXT_INPUT = "org.apache.hadoop.mapred.TextInputFormat"
TEXT_OUTPUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
CSV_SERDE = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
BEHAVIOURS = ("UPDATE_IN_DATABASE", "LOG")
TEXT_CODECS = {"gzip": ("gzip", ".gz"), "snappy": ("snappy", ".snappy"), "bzip2": ("bzip2", ".bz2"),
               "bzip": ("bzip2", ".bz2"), "none": ("none", ""), "uncompressed": ("none", "")}
PARQUET_CODECS = ("snappy", "gzip", "uncompressed", "none", "lz4", "zstd")


class SinkError(ValueError):
    """A sink that cannot be written as asked; says why."""


@dataclass
class Target:
    """Where and how a frame is written."""

    path: str
    fmt: str = "json"
    options: dict = field(default_factory=dict)  # compression, separator, writeHeader
    partition_keys: list[str] = field(default_factory=list)
    database: str | None = None
    table: str | None = None
    update_catalog: bool = False
    behaviour: str = "UPDATE_IN_DATABASE"


def write(frame, target: Target, *, glue, s3_client, session, context: str = "") -> int:
    """Write the frame's rows as new part files under the target path (and update its table);
    returns how many rows were written."""
    from stedi.studio.session import say

    fmt = _format(target.fmt)
    bucket, prefix = s3.split(s3.folder(target.path))
    df = frame.toDF()
    columns = [c for c in df.columns if c not in target.partition_keys]
    if target.update_catalog and target.table:
        _check_names(columns + target.partition_keys, target)
    df = df.persist()
    rows = df.count()
    if rows == 0:  # nothing to add (a bookmark with nothing new, an empty folder): no file, as on Glue
        return _write_nothing(df, target, glue, s3_client, session, context, fmt)
    stamp = int(time.time() * 1000)
    local = Path(session.scratch) / "out" / f"{context or 'sink'}-{stamp}"
    writer = df.write.mode("errorifexists")
    if target.partition_keys:
        writer = writer.partitionBy(*target.partition_keys)
    writer, suffix = _configure(writer, fmt, target.options)
    writer.save(str(local))
    df.unpersist()
    parts = _parts(local, stamp, fmt, suffix, target.options)
    existing = {o.key for o in s3.listing(s3_client, f"s3://{bucket}/{prefix}", recurse=True)}
    uploads = [(path, prefix + name) for path, name in parts]
    clash = [key for _, key in uploads if key in existing]
    if clash:
        raise SinkError(f"s3://{bucket}/{clash[0]} exists already: a Glue sink adds files, it never replaces one")
    s3.upload(s3_client, uploads, bucket)
    table_note = ""
    if target.update_catalog and target.table and target.database:
        table_note = update_table(glue, target, df.schema, fmt, session, s3_client=s3_client)
    elif target.table and target.database:
        table_note = f"; {target.database}.{target.table} not updated (enableUpdateCatalog is off)"
    say(f"sink {context or target.path}: {rows:,} rows -> {s3.folder(target.path)} "
        f"({fmt}{', ' + target.options['compression'] if target.options.get('compression') else ''}, "
        f"{len(parts)} new files){table_note}")
    session.writes.append({
        "context": context, "path": s3.folder(target.path), "format": fmt, "rows": rows, "files": len(parts),
        "table": f"{target.database}.{target.table}" if target.table else None,
    })
    return rows


def _write_nothing(df, target: Target, glue, s3_client, session, context: str, fmt: str) -> int:
    """An empty frame adds no file; its table is made or updated only when the frame has fields."""
    from stedi.studio.session import say

    note = ""
    if target.update_catalog and target.table and target.database and df.columns:
        note = update_table(glue, target, df.schema, fmt, session, s3_client=s3_client)
    say(f"sink {context or target.path}: 0 rows, no file added to {s3.folder(target.path)}{note}")
    session.writes.append({"context": context, "path": s3.folder(target.path), "format": fmt, "rows": 0, "files": 0,
                           "table": f"{target.database}.{target.table}" if target.table else None})
    return 0


def _format(fmt: str) -> str:
    fmt = (fmt or "json").lower()
    if fmt not in ("json", "csv", "parquet", "glueparquet"):
        raise SinkError(f"format {fmt!r} is not written locally (json, csv, parquet and glueparquet are)")
    return fmt


def _configure(writer, fmt: str, options: dict):
    compression = str(options.get("compression") or "").lower()
    if fmt in ("parquet", "glueparquet"):
        codec = compression or "snappy"
        if codec not in PARQUET_CODECS:
            raise SinkError(f"parquet compression {codec!r}: use one of {', '.join(PARQUET_CODECS)}")
        return writer.format("parquet").option("compression", "none" if codec == "uncompressed" else codec), ""
    codec, suffix = TEXT_CODECS.get(compression or "none", (None, None))
    if codec is None:
        raise SinkError(f"compression {compression!r}: use gzip, bzip2, snappy or none")
    if fmt == "csv":
        writer = writer.format("csv").option("header", bool(options.get("writeHeader", True)))
        writer = writer.option("sep", options.get("separator", ","))
    else:
        writer = writer.format("json")
    return writer.option("compression", codec), suffix


def _parts(local: Path, stamp: int, fmt: str, suffix: str, options: dict) -> list[tuple[Path, str]]:
    """Spark's part files under `local`, each with the name Glue would give it (partition folders kept)."""
    found = sorted(p for p in local.rglob("*") if p.is_file() and not s3.hidden(p.name))
    named = []
    for index, path in enumerate(found):
        folder = path.parent.relative_to(local).as_posix()
        folder = "" if folder == "." else folder + "/"
        if fmt in ("parquet", "glueparquet"):
            codec = str(options.get("compression") or "snappy").lower()
            codec = "" if codec in ("none", "uncompressed") else f"-{codec}"
            name = f"run-{stamp}-part-block-0-r-{index:05d}{codec}.parquet"
        else:
            name = f"run-{stamp}-part-r-{index:05d}{suffix}"
        named.append((path, folder + name))
    return named


def _check_names(columns: list[str], target: Target) -> None:
    seen: dict[str, str] = {}
    for name in columns:
        if name.lower() in seen:
            raise SinkError(
                f"the frame written to {target.database}.{target.table} has fields {seen[name.lower()]!r} and "
                f"{name!r}, which the Data Catalog cannot tell apart (it lower-cases column names): drop or "
                "rename one first (DropFields, RenameField, ApplyMapping)")
        seen[name.lower()] = name


def table_input(target: Target, schema, fmt: str, session, existing: dict | None = None) -> dict:
    """The table a Glue sink makes (or makes of an existing one under UPDATE_IN_DATABASE)."""
    partition = set(target.partition_keys)
    columns = [{"Name": f.name.lower(), "Type": hive_name(f.dataType)}
               for f in schema.fields if f.name not in partition]
    keys = [{"Name": k.lower(), "Type": "string"} for k in target.partition_keys]
    parquet = fmt in ("parquet", "glueparquet")
    descriptor = {
        "Columns": columns,
        "Location": s3.folder(target.path),
        "InputFormat": PARQUET_INPUT if parquet else TEXT_INPUT,
        "OutputFormat": PARQUET_OUTPUT if parquet else TEXT_OUTPUT,
        "Compressed": bool(target.options.get("compression")) and str(target.options["compression"]).lower()
        not in ("none", "uncompressed"),
        "SerdeInfo": {"SerializationLibrary": PARQUET_SERDE if parquet else CSV_SERDE if fmt == "csv" else JSON_SERDE,
                      "Parameters": {"field.delim": target.options.get("separator", ",")} if fmt == "csv" else {}},
    }
    parameters = dict((existing or {}).get("Parameters", {}))
    parameters.setdefault("CreatedByJob", session.job_name)
    parameters.setdefault("CreatedByJobRun", session.run_id)
    parameters["classification"] = "parquet" if parquet else fmt
    if fmt == "glueparquet":
        parameters["useGlueParquetWriter"] = "true"
    return {"Name": target.table, "TableType": "EXTERNAL_TABLE", "Parameters": parameters,
            "StorageDescriptor": descriptor, "PartitionKeys": keys}


def update_table(glue, target: Target, schema, fmt: str, session, *, s3_client) -> str:
    """Create or update the sink's table as Glue does; returns what happened, for the progress line."""
    from stedi.lakehouse.glue_tables import claim

    if target.behaviour not in BEHAVIOURS:
        raise SinkError(f"updateBehavior {target.behaviour!r}: use UPDATE_IN_DATABASE or LOG")
    name = f"{target.database}.{target.table}"
    existing = claim(glue, target.database, target.table, Path(session.home), session.say,
                     by=f"the sink of {session.job_name}")
    wanted = table_input(target, schema, fmt, session, existing)
    if existing is None:
        glue.create_table(DatabaseName=target.database, TableInput=wanted)
        what = f"; created table {name}"
    elif target.behaviour == "LOG":
        before = [(c["Name"], c["Type"]) for c in existing.get("StorageDescriptor", {}).get("Columns", [])]
        after = [(c["Name"], c["Type"]) for c in wanted["StorageDescriptor"]["Columns"]]
        what = f"; table {name} left as it is (LOG)"
        if before != after:
            from stedi.studio.session import note

            note(f"{name}: the frame's columns {after} differ from the table's {before}; updateBehavior LOG keeps "
                 "the table's")
    else:
        glue.update_table(DatabaseName=target.database, TableInput=wanted)
        what = f"; updated table {name}"
    if target.partition_keys:
        from stedi.lakehouse.glue_tables import add_partitions

        added = add_partitions(glue, s3_client, target.database, target.table)
        what += f", {added} new partitions" if added else ""
    return what
