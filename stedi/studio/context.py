"""GlueContext: the Spark session of a Glue job, its readers and writers of DynamicFrames.

`GlueContext(sc)` takes the script's SparkContext (made from the settings `stedi glue run` puts in
PYSPARK_SUBMIT_ARGS) and gives the session AWS Glue 6.0 gives: Spark's Iceberg catalog
`glue_catalog` over the stack's Glue Data Catalog API, under the Glue jobs' identity. Readers
(`create_dynamic_frame.from_options` / `from_catalog`) and writers (`write_dynamic_frame.*`,
`getSink`) reach S3 and the catalog as stedi/studio/readers.py and sinks.py describe.
"""

from __future__ import annotations

import time
from pathlib import Path

from stedi.studio import bookmarks, readers, s3, sinks
from stedi.studio.frames import DynamicFrame, not_supported
from stedi.studio.session import current

CATALOG = "glue_catalog"  # as on AWS Glue 6.0 with --datalake-formats iceberg


class GlueContext:
    def __init__(self, sparkContext=None, **options):  # noqa: N803 - Glue's name
        from pyspark import SparkContext
        from pyspark.sql import SparkSession

        if isinstance(sparkContext, SparkSession):
            sparkContext = sparkContext.sparkContext
        self._sc = sparkContext or SparkContext.getOrCreate()
        self.session = current()
        self._stack = self.session.stack()
        self.spark_session = SparkSession(self._sc)
        if self.session.target == "embedded":  # the Docker stack's spark-defaults.conf names its catalog
            _configure(self.spark_session, self._stack)
        self.create_dynamic_frame = DynamicFrameReader(self)
        self.write_dynamic_frame = DynamicFrameWriter(self)
        self.create_data_frame = DataFrameReader(self)
        self._logger = None

    # -------------------------------------------------------------- clients (the Glue jobs' identity)

    @property
    def s3(self):
        return self._stack.s3_client()

    @property
    def glue(self):
        return self._stack.client("glue")

    # -------------------------------------------------------------- Glue's flat aliases

    def create_dynamic_frame_from_options(self, *args, **kwargs) -> DynamicFrame:
        return self.create_dynamic_frame.from_options(*args, **kwargs)

    def create_dynamic_frame_from_catalog(self, *args, **kwargs) -> DynamicFrame:
        return self.create_dynamic_frame.from_catalog(*args, **kwargs)

    def write_dynamic_frame_from_options(self, *args, **kwargs) -> DynamicFrame:
        return self.write_dynamic_frame.from_options(*args, **kwargs)

    def write_dynamic_frame_from_catalog(self, *args, **kwargs) -> DynamicFrame:
        return self.write_dynamic_frame.from_catalog(*args, **kwargs)

    # -------------------------------------------------------------- sinks, S3 housekeeping, logging

    def getSink(self, connection_type: str, format: str | None = None, transformation_ctx: str = "",  # noqa: A002,N802
                **options) -> DataSink:
        return DataSink(self, connection_type, format, transformation_ctx, options)

    def getSource(self, *args, **kwargs):  # noqa: N802
        raise not_supported("GlueContext.getSource()")

    def purge_s3_path(self, s3_path: str, options: dict | None = None, transformation_ctx: str = "") -> None:
        """Delete the files under the path older than `retentionPeriod` hours (168 by default)."""
        hours = float(readers.option(options, "retentionPeriod", 168))
        cutoff = (time.time() - hours * 3600) * 1000
        found = [o for o in s3.listing(self.s3, s3.folder(s3_path), recurse=True) if o.last_modified_ms < cutoff]
        for item in found:
            self.s3.delete_object(Bucket=item.bucket, Key=item.key)
        self.session.say(f"purge_s3_path {s3_path}: deleted {len(found)} files older than {hours:g} hours")

    def get_logger(self):
        if self._logger is None:
            self._logger = GlueLogger(self.session)
        return self._logger

    def __getattr__(self, name: str):
        if name.startswith(("create_", "write_", "get", "forEach", "start_", "commit_", "purge_", "extract_")):
            raise not_supported(f"GlueContext.{name}()")
        raise AttributeError(f"'GlueContext' object has no attribute {name!r}")


def _configure(spark, stack):
    """The session's Iceberg catalog, as on Glue 6.0, on the stack under the jobs' identity (the AWS
    SDK reads the Glue client's keys from JVM properties, set here rather than on a command line)."""
    system = spark._jvm.java.lang.System
    for key, value in stack.spark_system_properties().items():
        system.setProperty(key, value)
    spark.conf.set(f"spark.sql.catalog.{CATALOG}", "org.apache.iceberg.spark.SparkCatalog")
    for key, value in stack.spark_catalog_properties().items():
        spark.conf.set(f"spark.sql.catalog.{CATALOG}.{key}", value)
    return spark


class GlueLogger:
    """`glueContext.get_logger()`: its lines go to the run's progress (CloudWatch on AWS)."""

    def __init__(self, session):
        self.session = session

    def info(self, message) -> None:
        self.session.say(f"log: {message}")

    def warn(self, message) -> None:
        self.session.say(f"log warning: {message}")

    warning = warn

    def error(self, message) -> None:
        self.session.say(f"log error: {message}")


class DynamicFrameReader:
    def __init__(self, context: GlueContext):
        self.context = context

    def from_options(self, connection_type: str = "s3", connection_options: dict | None = None,
                     format: str | None = None, format_options: dict | None = None,  # noqa: A002
                     transformation_ctx: str = "", push_down_predicate: str = "", **kwargs) -> DynamicFrame:
        if connection_type != "s3":
            raise not_supported(f"connection_type={connection_type!r} (the local layer reads S3)")
        options = connection_options or {}
        listed = readers.option(options, "paths") or readers.option(options, "path")
        if not listed:
            raise readers.SourceError("connection_options needs \"paths\": a list of s3:// paths")
        paths = [listed] if isinstance(listed, str) else list(listed)
        recurse = bool(readers.option(options, "recurse", False))
        exclusions = s3.exclusion_patterns(readers.option(options, "exclusions"))
        compression = readers.option(options, "compressionType") or readers.option(format_options, "compression")
        objects = [o for p in paths for o in s3.listing(self.context.s3, p, recurse=recurse, exclusions=exclusions)]
        fmt = (format or "json").lower()
        frame = self._read(objects, fmt, format_options, transformation_ctx, ", ".join(paths), compression)
        if push_down_predicate:
            frame = DynamicFrame(frame._df.where(push_down_predicate), self.context, frame.name, frame._errors)
        return frame

    def from_catalog(self, database: str | None = None, table_name: str | None = None, redshift_tmp_dir: str = "",
                     transformation_ctx: str = "", push_down_predicate: str = "",
                     additional_options: dict | None = None,
                     catalog_id: str | None = None, name_space: str | None = None, **kwargs) -> DynamicFrame:
        from pyspark.sql import functions as F

        if name_space and database:
            raise ValueError("Parameter name_space and database are both specified, choose one.")
        database = database or name_space
        if not database:
            raise ValueError("Parameter name_space or database is missing.")
        if not table_name:
            raise ValueError("Parameter table_name is missing.")
        table = _table(self.context.glue, database, table_name)
        if (table.get("Parameters", {}) or {}).get("table_type", "").upper() == "ICEBERG":
            df = self.context.spark_session.table(f"{CATALOG}.{database}.{table_name}")
            if push_down_predicate:
                df = df.where(push_down_predicate)
            self.context.session.say(f"read {database}.{table_name} (Iceberg): {df.count():,} records")
            self.context.session.reads.append({"context": transformation_ctx, "source": f"{database}.{table_name}",
                                               "format": "iceberg", "files": None})
            return DynamicFrame(df, self.context, transformation_ctx)
        fmt, options = readers.hive_format(table)
        location = table.get("StorageDescriptor", {}).get("Location")
        if not location:
            raise readers.SourceError(f"table {database}.{table_name} has no location to read")
        objects = s3.listing(self.context.s3, s3.folder(location), recurse=True)
        frame = self._read(objects, fmt, {**options, **(additional_options or {})}, transformation_ctx,
                           f"{database}.{table_name}", None)
        keys = [k["Name"] for k in table.get("PartitionKeys", [])]
        if keys and objects:
            frame = _with_partitions(frame, keys, s3.split(s3.folder(location))[1])
        if readers.FROM_CATALOG_NAMES == "catalog":
            columns = [c["Name"] for c in table.get("StorageDescriptor", {}).get("Columns", [])] + keys
            renamed = readers.with_catalog_names(frame._df, columns)
            frame = DynamicFrame(renamed, self.context, frame.name, frame._errors)
        if push_down_predicate:
            frame = DynamicFrame(frame._df.where(F.expr(push_down_predicate)), self.context, frame.name, frame._errors)
        return frame

    def _read(self, objects, fmt, format_options, context, what, compression) -> DynamicFrame:
        from pyspark import StorageLevel

        session = self.context.session
        chosen, skipped = bookmarks.this_run().select(context, objects)
        directory = Path(session.scratch) / "in" / f"{context or 'source'}-{time.time_ns()}"
        suffix = readers.COMPRESSION_SUFFIXES.get(str(compression or "").lower(), "")
        files = s3.stage(self.context.s3, chosen, directory, suffix=suffix)
        df, errors = readers.read_files(self.context.spark_session, files, fmt, format_options)
        df = df.persist(StorageLevel.MEMORY_AND_DISK)
        records = df.count()
        skipped_note = f", {skipped} skipped by the job bookmark" if skipped else ""
        error_note = f", {errors:,} error records (not JSON objects)" if errors else ""
        session.say(f"read {what} ({fmt}): {len(chosen)} files, {records:,} records{error_note}{skipped_note}")
        session.reads.append({"context": context, "source": what, "format": fmt, "files": len(chosen),
                              "records": records, "skipped_by_bookmark": skipped})
        return DynamicFrame(df, self.context, context, errors, errors)


def _table(glue, database: str, name: str) -> dict:
    try:
        return glue.get_table(DatabaseName=database, Name=name)["Table"]
    except glue.exceptions.EntityNotFoundException:
        raise readers.SourceError(f"table {database}.{name} is not in the Data Catalog (run its Athena DDL with "
                                  "`stedi query --file ...`, or the job that creates it)") from None


def _with_partitions(frame: DynamicFrame, keys: list[str], prefix: str) -> DynamicFrame:
    """A partitioned Hive table's `k=v` folders as columns (values read from each row's file)."""
    from pyspark.sql import functions as F

    df = frame._df.withColumn("_file", F.input_file_name())
    for key in keys:
        df = df.withColumn(key, F.regexp_extract("_file", f"/{key}=([^/]+)/", 1))
    return DynamicFrame(df.drop("_file"), frame.glue_ctx, frame.name, frame._errors)


class DataFrameReader:
    """`glueContext.create_data_frame`: the same sources as DataFrames."""

    def __init__(self, context: GlueContext):
        self.context = context

    def from_options(self, *args, **kwargs):
        return self.context.create_dynamic_frame.from_options(*args, **kwargs).toDF()

    def from_catalog(self, *args, **kwargs):
        return self.context.create_dynamic_frame.from_catalog(*args, **kwargs).toDF()


class DynamicFrameWriter:
    def __init__(self, context: GlueContext):
        self.context = context

    def from_options(self, frame: DynamicFrame, connection_type: str = "s3", connection_options: dict | None = None,
                     format: str | None = None, format_options: dict | None = None,  # noqa: A002
                     transformation_ctx: str = "", **kwargs) -> DynamicFrame:
        if connection_type != "s3":
            raise not_supported(f"connection_type={connection_type!r} (the local layer writes S3)")
        options = connection_options or {}
        path = readers.option(options, "path")
        if not path:
            raise sinks.SinkError('connection_options needs "path": the s3:// folder to write')
        target = sinks.Target(
            path=path, fmt=format or "json",
            options={**_compression(options), **(format_options or {})},
            partition_keys=list(readers.option(options, "partitionKeys", []) or []),
        )
        self._write(frame, target, transformation_ctx)
        return frame

    def from_catalog(self, frame: DynamicFrame, database: str | None = None, table_name: str | None = None,
                     redshift_tmp_dir: str = "", transformation_ctx: str = "", additional_options: dict | None = None,
                     catalog_id: str | None = None, **kwargs) -> DynamicFrame:
        options = additional_options or {}
        table = _table(self.context.glue, database, table_name)
        if (table.get("Parameters", {}) or {}).get("table_type", "").upper() == "ICEBERG":
            df = frame.toDF()
            rows = df.count()
            df.writeTo(f"{CATALOG}.{database}.{table_name}").append()
            self.context.session.say(f"sink {transformation_ctx or table_name}: {rows:,} rows appended to "
                                     f"{database}.{table_name} (Iceberg)")
            self.context.session.writes.append({"context": transformation_ctx, "path": None, "format": "iceberg",
                                                "rows": rows, "files": None, "table": f"{database}.{table_name}"})
            return frame
        fmt, format_options = readers.hive_format(table)
        if (table.get("Parameters", {}) or {}).get("useGlueParquetWriter") == "true":
            fmt = "glueparquet"
        target = sinks.Target(
            path=table["StorageDescriptor"]["Location"], fmt=fmt, options={**format_options, **_compression(options)},
            partition_keys=[k["Name"] for k in table.get("PartitionKeys", [])]
            or list(readers.option(options, "partitionKeys", []) or []),
            database=database, table=table_name,
            update_catalog=bool(readers.option(options, "enableUpdateCatalog", False)),
            behaviour=readers.option(options, "updateBehavior", "UPDATE_IN_DATABASE"),
        )
        self._write(frame, target, transformation_ctx)
        return frame

    def _write(self, frame: DynamicFrame, target: sinks.Target, context: str) -> None:
        sinks.write(frame, target, glue=self.context.glue, s3_client=self.context.s3, session=self.context.session,
                    context=context)


def _compression(options: dict) -> dict:
    value = readers.option(options, "compression")
    return {"compression": value} if value else {}


class DataSink:
    """`glueContext.getSink(...)`: then setFormat, setCatalogInfo and writeFrame, as Studio writes them."""

    def __init__(self, context: GlueContext, connection_type: str, fmt: str | None, transformation_ctx: str,
                 options: dict):
        if connection_type != "s3":
            raise not_supported(f"getSink(connection_type={connection_type!r}) (the local layer writes S3)")
        path = readers.option(options, "path")
        if not path:
            raise sinks.SinkError("getSink needs path=\"s3://...\"")
        self.context = context
        self.transformation_ctx = transformation_ctx
        self.target = sinks.Target(
            path=path, fmt=fmt or "json", options=_compression(options),
            partition_keys=list(readers.option(options, "partitionKeys", []) or []),
            update_catalog=bool(readers.option(options, "enableUpdateCatalog", False)),
            behaviour=readers.option(options, "updateBehavior", "UPDATE_IN_DATABASE"),
        )

    def setFormat(self, format: str, **options) -> None:  # noqa: A002,N802
        self.target.fmt = format
        self.target.options.update(options)

    def setCatalogInfo(self, catalogDatabase: str, catalogTableName: str, catalogId: str = "") -> None:  # noqa: N802,N803
        self.target.database, self.target.table = catalogDatabase, catalogTableName

    def setAccumulableSize(self, size) -> None:  # noqa: N802
        return None

    def writeFrame(self, dynamic_frame: DynamicFrame, info: str = "") -> DynamicFrame:  # noqa: N802
        sinks.write(dynamic_frame, self.target, glue=self.context.glue, s3_client=self.context.s3,
                    session=self.context.session, context=self.transformation_ctx)
        return DynamicFrame(dynamic_frame.toDF().limit(0), self.context, f"{dynamic_frame.name}_errors")

    def write(self, frame_or_dfc, info: str = "") -> DynamicFrame:
        if not isinstance(frame_or_dfc, DynamicFrame):
            raise not_supported("DataSink.write() of a DynamicFrameCollection")
        return self.writeFrame(frame_or_dfc, info)
