"""Glue's S3 and Data Catalog sources, read by Spark from the objects staged on local disk.

JSON is read as Glue reads it rather than as Spark does: fields in the order they first appear in
the data (Spark sorts them by name), whole numbers that all fit 32 bits typed `int` (Spark makes
every one `bigint`), and a key a record does not have kept absent (records.ABSENT) rather than
made a null. A line that is not a JSON object is an error record: counted, not a row. CSV and
Parquet are Spark's readers as they are.

A catalog source reads the table its name points at: an Iceberg table through Spark's Iceberg
catalog, a Hive table (JSON, Parquet, CSV) from the files under its location. Its records keep
the keys of the files (FROM_CATALOG_NAMES), a decision: Glue's documentation does not say.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from stedi.studio.records import ABSENT, NULL_IS_ABSENT

FORMATS = ("json", "csv", "parquet", "glueparquet")
COMPRESSION_SUFFIXES = {"gzip": ".gz", "bzip2": ".bz2", "bzip": ".bz2", "snappy": ".snappy", "lz4": ".lz4",
                        "deflate": ".deflate"}
# The names a from_catalog frame's fields have over files whose keys are camelCase while the catalog
# holds them lower-cased: "file" (the files' keys; Glue reads the data, the catalog gives location
# and format) or "catalog" (the catalog's column names). A decision, documented in the README.
FROM_CATALOG_NAMES = "file"
INT_RANGE = (-(2**31), 2**31 - 1)


class SourceError(ValueError):
    """A source the local layer cannot read (an unknown format, a missing table); says why."""


def option(options: Mapping | None, name: str, default=None):
    """A format or connection option, its name matched ignoring case (Studio writes `multiline`
    and `multiLine`), with "true"/"false" strings read as booleans."""
    for key, value in (options or {}).items():
        if key.lower() == name.lower():
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return value.lower() == "true"
            return value
    return default


def read_files(spark, files: list[Path], fmt: str, format_options: Mapping | None = None):
    """A DataFrame (with ABSENT where the format knows absent keys) of local files, and the number of
    error records (lines that are not JSON objects)."""
    fmt = fmt.lower()
    paths = [str(p) for p in files]
    if fmt == "json":
        return read_json(spark, paths, multiline=bool(option(format_options, "multiLine", False)))
    if fmt == "csv":
        reader = spark.read.option("header", bool(option(format_options, "withHeader", False)))
        reader = reader.option("sep", option(format_options, "separator", ","))
        reader = reader.option("quote", option(format_options, "quoteChar", '"'))
        reader = reader.option("multiLine", bool(option(format_options, "multiLine", False)))
        if option(format_options, "escaper") is not None:
            reader = reader.option("escape", option(format_options, "escaper"))
        return reader.option("inferSchema", True).csv(paths), 0
    if fmt in ("parquet", "glueparquet"):
        return spark.read.parquet(*paths), 0
    raise SourceError(f"format {fmt!r} is not read locally (json, csv and parquet are)")


def empty_frame(spark):
    from pyspark.sql import types as T

    return spark.createDataFrame([], T.StructType([]))


def read_json(spark, paths: list[str], *, multiline: bool):
    """JSON records as Glue's reader types and orders them; returns (DataFrame, error records)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    if not paths:
        return empty_frame(spark), 0
    if multiline:  # a file is one object, or an array of them
        text = spark.read.text(paths, wholetext=True)
        elements = F.when(F.ltrim("value").startswith("["), F.from_json("value", "array<string>"))
        text = text.select(F.explode(F.coalesce(elements, F.array("value"))).alias("value"))
    else:
        text = spark.read.text(paths).where(F.trim("value") != "")
    text = text.select("value", F.expr("json_object_keys(value)").alias("_keys"),
                       F.monotonically_increasing_id().alias("_n")).persist()
    inferred = spark.read.option("multiLine", multiline).json(paths).schema
    fields = {f.name: f.dataType for f in inferred.fields if f.name != "_corrupt_record"}
    good = text.where(F.col("_keys").isNotNull())
    order = (good.select("_n", F.posexplode("_keys").alias("_pos", "key"))
             .groupBy("key").agg(F.min(F.struct("_n", "_pos")).alias("first")).orderBy("first").collect())
    names = [row.key for row in order if row.key in fields]
    longs = [n for n in names if isinstance(fields[n], T.LongType)]
    narrow = set()
    if longs:
        bounds = good.select(F.from_json("value", T.StructType([T.StructField(n, T.LongType()) for n in longs]))
                             .alias("r")).agg(*[F.min(F.col("r")[n]).alias(f"min{i}") for i, n in enumerate(longs)],
                                              *[F.max(F.col("r")[n]).alias(f"max{i}") for i, n in enumerate(longs)]
                                              ).first()
        narrow = {n for i, n in enumerate(longs) if bounds[f"min{i}"] is None
                  or (INT_RANGE[0] <= bounds[f"min{i}"] and bounds[f"max{i}"] <= INT_RANGE[1])}
    schema = T.StructType([T.StructField(n, fields[n]) for n in names])
    parsed = good.select(F.from_json("value", schema).alias("r"), "_keys")
    columns = [(F.col("r")[n].cast(T.IntegerType()) if n in narrow else F.col("r")[n]).alias(n) for n in names]
    absent = F.array_except(F.array(*[F.lit(n) for n in names]), F.col("_keys")) if names else F.array()
    if NULL_IS_ABSENT and names:
        nulls = F.filter(F.array(*[F.when(F.col("r")[n].isNull(), F.lit(n)) for n in names]), lambda x: x.isNotNull())
        absent = F.array_union(absent, nulls)
    frame = parsed.select(*columns, absent.cast("array<string>").alias(ABSENT))
    errors = text.where(F.col("_keys").isNull()).count()
    return frame, errors


def partition_values(key: str, prefix: str) -> dict[str, str]:
    """`k=v` folders between a table's location and one of its files."""
    relative = key[len(prefix):] if key.startswith(prefix) else key
    values = {}
    for part in relative.split("/")[:-1]:
        name, equals, value = part.partition("=")
        if equals:
            values[name] = value
    return values


def hive_format(table: dict) -> tuple[str, dict]:
    """The format of a Hive table of the Data Catalog, and reader options from its SerDe."""
    descriptor = table.get("StorageDescriptor", {})
    serde = descriptor.get("SerdeInfo", {})
    library = (serde.get("SerializationLibrary") or "").lower()
    parameters = serde.get("Parameters", {}) or {}
    classification = (table.get("Parameters", {}) or {}).get("classification", "").lower()
    text = " ".join([library, (descriptor.get("InputFormat") or "").lower(), classification])
    if "json" in text:
        return "json", {}
    if "parquet" in text:
        return "parquet", {}
    if "lazysimpleserde" in text or "opencsvserde" in text or classification == "csv":
        separator = parameters.get("field.delim") or parameters.get("separatorChar") or ","
        header = str((table.get("Parameters", {}) or {}).get("skip.header.line.count", "0")) != "0"
        return "csv", {"separator": separator, "withHeader": header}
    raise SourceError(f"table {table.get('DatabaseName')}.{table.get('Name')} is stored as "
                      f"{library or classification or 'an unknown format'}: the local layer reads JSON, CSV, "
                      "Parquet and Iceberg tables")


def with_catalog_names(frame, columns: list[str]):
    """FROM_CATALOG_NAMES = "catalog": the frame's fields renamed to the catalog's columns (matched
    ignoring case), the others left out."""
    from pyspark.sql import functions as F

    present = {c.lower(): c for c in frame.columns if c != ABSENT}
    picked = [F.col(f"`{present[c.lower()]}`").alias(c) for c in columns if c.lower() in present]
    absent = []
    if ABSENT in frame.columns:
        pairs = [(F.lit(present[c.lower()]), F.lit(c)) for c in columns if c.lower() in present]
        mapping = F.create_map(*[x for pair in pairs for x in pair])
        absent = [F.filter(F.transform(ABSENT, lambda x: mapping[x]), lambda x: x.isNotNull()).alias(ABSENT)]
    return frame.select(*picked, *absent)
