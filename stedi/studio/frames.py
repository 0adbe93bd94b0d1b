"""Glue's DynamicFrame over a Spark DataFrame, with Glue's record semantics.

The frame is a DataFrame plus the hidden column records.ABSENT (which fields each record lacks),
so an absent key stays apart from a null until the frame becomes a DataFrame (`toDF()`), where
both are NULL, as in Glue. Field names are case-sensitive in every DynamicFrame operation (Spark
SQL over `toDF()` stays case-insensitive, as it is in Glue).

The decisions on what AWS does not publish are named here and in the README ("Coming from Glue
Studio"): a Join leaves frame1's copy of a field both frames have under `.<name>`; a path that
names no field is warned about and skipped (a Join on it matches nothing), never an error.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from contextlib import contextmanager

from stedi.studio import paths as field_paths
from stedi.studio.glue_types import glue_name, spark_type
from stedi.studio.records import ABSENT, STATUS, evaluator

JOIN_PREFIX = "."  # frame1's copy of a field both joined frames have is renamed `.<name>`


class NotSupportedLocally(NotImplementedError):
    """A Glue transform or option the local layer does not run; the message names what does."""


SUPPORTED_TRANSFORMS = ("ApplyMapping", "DropFields", "Filter", "Join", "RenameField", "SelectFields")


def not_supported(what: str) -> NotSupportedLocally:
    return NotSupportedLocally(
        f"{what} is not supported locally by `stedi glue run` (it runs the transforms "
        f"{', '.join(SUPPORTED_TRANSFORMS)}, SQL nodes over toDF(), and Data Quality rulesets): "
        "rewrite that step with those, or run the script on AWS Glue"
    )


def _say(message: str) -> None:
    from stedi.studio.session import say

    say(message)


def _note(message: str) -> None:
    from stedi.studio.session import note

    note(message)


@contextmanager
def exact_names(spark):
    """Field names resolved exactly as written while a frame's columns are picked (Glue's records
    are case-sensitive; Spark's resolution is not, unless told)."""
    before = spark.conf.get("spark.sql.caseSensitive")
    spark.conf.set("spark.sql.caseSensitive", "true")
    try:
        yield
    finally:
        spark.conf.set("spark.sql.caseSensitive", before)


def col(*names: str):
    """The column at a path of names (top-level name first), whatever characters they hold."""
    from pyspark.sql import functions as F

    column = F.col(field_paths.quote_sql(names[0]))
    for name in names[1:]:
        column = column.getField(name)
    return column


class DynamicFrame:
    """A Glue DynamicFrame: `fromDF`, `toDF`, `count`, `show`, `printSchema`, and the transforms
    the local layer runs (filter, join, drop_fields, select_fields, rename_field, apply_mapping)."""

    def __init__(self, df, glue_ctx, name: str = "", errors: int = 0, stage_errors: int = 0):
        self._df = df
        self.glue_ctx = glue_ctx
        self.name = name
        self._errors = errors
        self._stage_errors = stage_errors

    # ------------------------------------------------------------ conversions and facts

    @classmethod
    def fromDF(cls, dataframe, glue_ctx, name: str = "") -> DynamicFrame:  # noqa: N802 - Glue's name
        """Every field of every row is a present key (a NULL is a present None)."""
        return cls(dataframe, glue_ctx, name)

    def toDF(self, options=None):  # noqa: N802 - Glue's name
        """The rows as a DataFrame: an absent key is NULL, like a null."""
        if options:
            raise not_supported("toDF(options=[ResolveOption ...])")
        return self._df.drop(ABSENT) if ABSENT in self._df.columns else self._df

    @property
    def spark(self):
        return self._df.sparkSession

    @property
    def fields(self) -> list[str]:
        return [c for c in self._df.columns if c != ABSENT]

    def count(self) -> int:
        return self._df.count()

    def errorsCount(self) -> int:  # noqa: N802
        return self._errors

    def stageErrorsCount(self) -> int:  # noqa: N802
        return self._stage_errors

    def assertErrorThreshold(self) -> None:  # noqa: N802
        return None

    def getNumPartitions(self) -> int:  # noqa: N802
        return self._df.rdd.getNumPartitions()

    def repartition(self, num_partitions: int, transformation_ctx: str = "", info: str = "",
                    stageThreshold: int = 0, totalThreshold: int = 0) -> DynamicFrame:  # noqa: N803
        return self._derive(self._df.repartition(num_partitions))

    def coalesce(self, num_partitions: int, shuffle: bool = False, transformation_ctx: str = "", info: str = "",
                 stageThreshold: int = 0, totalThreshold: int = 0) -> DynamicFrame:  # noqa: N803
        return self._derive(self._df.repartition(num_partitions) if shuffle else self._df.coalesce(num_partitions))

    def schema(self):
        """The frame's schema as a Spark StructType (Glue returns its own type objects)."""
        return self.toDF().schema

    def records(self, limit: int | None = None) -> list[dict]:
        """The first records as Glue holds them: only their present keys."""
        from stedi.studio.records import record

        frame = self._df.limit(limit) if limit is not None else self._df
        return [dict(record(row)) for row in frame.toArrow().to_pylist()]

    def show(self, num_rows: int = 20) -> None:
        """Each record as a JSON object, its present keys only, as Glue prints them."""
        for each in self.records(num_rows):
            print(json.dumps(each, default=str))

    def printSchema(self) -> None:  # noqa: N802
        print(schema_text(self.toDF().schema))

    # ------------------------------------------------------------ transforms

    def filter(self, f, transformation_ctx: str = "", info: str = "", stageThreshold: int = 0,  # noqa: N803
               totalThreshold: int = 0) -> DynamicFrame:  # noqa: N803
        """The records for which `f(record)` is true. A record whose function raises KeyError,
        ValueError or TypeError is dropped; any other exception makes it an error record."""
        from pyspark.sql import functions as F
        from pyspark.sql import types as T

        names = self._df.columns
        with exact_names(self.spark):
            positional = self._df.select(*[col(n).alias(f"_{i}") for i, n in enumerate(names)])
        schema = T.StructType([*positional.schema.fields, T.StructField(STATUS, T.StringType())])
        evaluated = positional.mapInArrow(evaluator(f, names), schema).persist()
        outcomes = {row[STATUS]: row["n"] for row in evaluated.groupBy(STATUS).agg(F.count("*").alias("n")).collect()}
        kept = outcomes.get("kept", 0)
        total = sum(outcomes.values())
        dropped = {k.split("\t", 1)[1]: n for k, n in outcomes.items() if k.startswith("dropped\t")}
        failed = {k.split("\t", 1)[1]: n for k, n in outcomes.items() if k.startswith("error\t")}
        where = _step("Filter", transformation_ctx)
        _say(f"{where}: kept {kept:,} of {total:,} records")
        if dropped:
            reason, n = max(dropped.items(), key=lambda item: item[1])
            _note(f"{where}: {sum(dropped.values()):,} records dropped because the function raised "
                  f"(commonest: {reason}, {n:,} records); Glue drops them too: a record holds only the keys "
                  "its source had, and names are case-sensitive")
        errors = sum(failed.values())
        if errors:
            reason, n = max(failed.items(), key=lambda item: item[1])
            _note(f"{where}: {errors:,} error records (commonest: {reason}, {n:,}); errorsCount() counts them")
        kept_rows = evaluated.where(F.col(STATUS) == "kept")
        result = kept_rows.select(*[F.col(f"_{i}").alias(n) for i, n in enumerate(names)])
        return DynamicFrame(result, self.glue_ctx, transformation_ctx or self.name, self._errors + errors, errors)

    def drop_fields(self, paths, transformation_ctx: str = "", info: str = "", stageThreshold: int = 0,  # noqa: N803
                    totalThreshold: int = 0) -> DynamicFrame:  # noqa: N803
        """The frame without the fields at `paths` (top-level or nested); a path naming no field is skipped."""
        df = self._df
        with exact_names(self.spark):
            for path in _path_list(paths):
                names = field_paths.parse(path)
                if not _exists(df.schema, names):
                    _note(f"{_step('DropFields', transformation_ctx)}: no field {path} to drop "
                          f"(fields: {_listing(self)})")
                    continue
                if len(names) == 1:
                    df = df.drop(col(names[0]))
                else:
                    df = df.withColumn(names[0], col(names[0]).dropFields(".".join(names[1:])))
        return self._derive(df, transformation_ctx)

    def select_fields(self, paths, transformation_ctx: str = "", info: str = "", stageThreshold: int = 0,  # noqa: N803
                      totalThreshold: int = 0) -> DynamicFrame:  # noqa: N803
        """Only the top-level fields at `paths`, in the frame's order; a path naming no field is skipped."""
        wanted = []
        for path in _path_list(paths):
            name = field_paths.top_level(path)
            if name in self.fields:
                wanted.append(name)
            else:
                _note(f"{_step('SelectFields', transformation_ctx)}: no field {path} to select "
                      f"(fields: {_listing(self)})")
        keep = [name for name in self.fields if name in wanted]
        with exact_names(self.spark):
            df = self._df.select(*[col(n) for n in keep], *self._absent_column())
        return self._derive(df, transformation_ctx)

    def rename_field(self, oldName: str, newName: str, transformation_ctx: str = "", info: str = "",  # noqa: N803
                     stageThreshold: int = 0, totalThreshold: int = 0) -> DynamicFrame:  # noqa: N803
        """The field at `oldName` renamed to the last name of `newName`."""
        from pyspark.sql import functions as F

        old, new = field_paths.parse(oldName), field_paths.parse(newName)
        if not _exists(self._df.schema, old):
            _note(f"{_step('RenameField', transformation_ctx)}: no field {oldName} to rename "
                  f"(fields: {_listing(self)})")
            return self._derive(self._df, transformation_ctx)
        with exact_names(self.spark):
            if len(old) == 1:
                df = self._df.withColumnRenamed(old[0], new[-1])
                if ABSENT in df.columns:
                    df = df.withColumn(ABSENT, F.transform(ABSENT, lambda x: F.when(x == old[0], F.lit(new[-1]))
                                                           .otherwise(x)))
            else:
                parent = col(*old[:-1])
                moved = parent.withField(new[-1], col(*old)).dropFields(old[-1])
                df = self._df.withColumn(old[0], _rebuild(old[:-1], moved))
        return self._derive(df, transformation_ctx)

    def apply_mapping(self, mappings, case_sensitive: bool = False, transformation_ctx: str = "",
                      info: str = "", stageThreshold: int = 0, totalThreshold: int = 0) -> DynamicFrame:  # noqa: N803
        """Only the mapped fields, renamed and cast: (source, source type, target, target type) each.
        Sources match case-insensitively unless `case_sensitive`; a value that does not cast is null
        (as in Glue); a target with dots builds a struct."""
        from pyspark.sql import functions as F

        if isinstance(mappings, tuple):
            mappings = [mappings]
        outputs: dict[str, object] = {}  # top-level target -> column, or {nested name: column}
        absent_when = []
        absent_lower = F.transform(ABSENT, lambda x: F.lower(x)) if ABSENT in self._df.columns else None
        for mapping in mappings:
            if not isinstance(mapping, tuple | list) or len(mapping) != 4:
                raise ValueError("ApplyMapping takes (source, source type, target, target type) tuples, "
                                 f"not {mapping!r}")
            source, _, target, target_type = mapping
            found = _resolve(self._df.schema, field_paths.parse(source), case_sensitive)
            if found is None:
                _note(f"{_step('ApplyMapping', transformation_ctx)}: no field {source} (fields: {_listing(self)}); "
                      f"{target} is left out")
                continue
            value = _cast(col(*found), target_type)
            names = field_paths.parse(target)
            if len(names) == 1:
                outputs[names[0]] = value.alias(names[0])
            else:
                nested = outputs.setdefault(names[0], {})
                if not isinstance(nested, dict):
                    raise ValueError(f"ApplyMapping: {target} nests under {names[0]}, which another mapping sets")
                nested[".".join(names[1:])] = value
            if absent_lower is not None and len(found) == 1:
                absent_when.append(F.when(F.array_contains(absent_lower, found[0].lower()), F.lit(names[0])))
        columns = [v if not isinstance(v, dict) else _struct(k, v) for k, v in outputs.items()]
        if absent_when:
            columns.append(F.array_distinct(F.filter(F.array(*absent_when), lambda x: x.isNotNull())).alias(ABSENT))
        with exact_names(self.spark):
            df = self._df.select(*columns)
        return self._derive(df, transformation_ctx)

    def join(self, paths1, paths2, frame2: DynamicFrame, transformation_ctx: str = "", info: str = "",
             stageThreshold: int = 0, totalThreshold: int = 0) -> DynamicFrame:  # noqa: N803
        """Records of both frames whose keys are equal (nulls never match). Where both frames have a
        field of the same name, frame1's copy becomes `.<name>`."""
        from pyspark.sql import functions as F

        keys1, keys2 = _path_list(paths1), _path_list(paths2)
        if len(keys1) != len(keys2) or not keys1:
            raise ValueError(f"Join needs as many keys for frame1 as for frame2, at least one: {keys1} and {keys2}")
        where = _step("Join", transformation_ctx)
        missing = [(k, frame) for k, frame in [*((k, self) for k in keys1), *((k, frame2) for k in keys2)]
                   if not _exists(frame._df.schema, field_paths.parse(k))]
        for key, frame in missing:
            which = "frame1" if frame is self else "frame2"
            _note(f"{where}: {which} has no field {key} (fields: {_listing(frame)}): no record can match")
        shared = set(self.fields) & set(frame2.fields)
        renamed = {name: JOIN_PREFIX + name if name in shared else name for name in self.fields}
        taken = [n for n in shared if JOIN_PREFIX + n in {*self.fields, *frame2.fields}]
        if taken:
            name = field_paths.render([JOIN_PREFIX + taken[0]])
            raise ValueError(f"{where}: both frames have {taken[0]!r}, and frame1's copy would be renamed {name}, a "
                             f"field one frame already has (from an earlier Join): drop it first, "
                             f'DropFields.apply(frame=..., paths=["{name}"])')
        with exact_names(self.spark):
            left = self._df.select(*[col(n).alias(renamed[n]) for n in self.fields], *self._absent_column()).alias("l")
            right = frame2._df.select(*[col(n) for n in frame2.fields], *frame2._absent_column()).alias("r")
            condition = F.lit(False)
            if not missing:
                pairs = [(field_paths.parse(k1), field_paths.parse(k2)) for k1, k2 in zip(keys1, keys2, strict=True)]
                terms = [_qualified("l", (renamed[a[0]], *a[1:])) == _qualified("r", b) for a, b in pairs]
                condition = terms[0]
                for term in terms[1:]:
                    condition = condition & term
            joined = left.join(right, condition, "inner")
            absent = []
            if ABSENT in self._df.columns:
                mine = _qualified("l", (ABSENT,))
                if shared:  # an absent shared field is absent under its new name
                    mine = F.transform(mine, lambda x: F.when(x.isin(*shared), F.concat(F.lit(JOIN_PREFIX), x))
                                       .otherwise(x))
                absent.append(mine)
            if ABSENT in frame2._df.columns:
                absent.append(_qualified("r", (ABSENT,)))
            df = joined.select(*[_qualified("l", (renamed[n],)) for n in self.fields],
                               *[_qualified("r", (n,)) for n in frame2.fields],
                               *([F.concat(*absent).alias(ABSENT)] if absent else []))
        return DynamicFrame(df, self.glue_ctx, transformation_ctx or self.name + frame2.name,
                            self._errors + frame2._errors)

    # ------------------------------------------------------------ what the local layer does not run

    def __getattr__(self, name: str):
        if name in _GLUE_METHODS:
            raise not_supported(f"DynamicFrame.{name}()")
        raise AttributeError(f"'DynamicFrame' object has no attribute {name!r}")

    # ------------------------------------------------------------ helpers

    def _derive(self, df, transformation_ctx: str = "") -> DynamicFrame:
        return DynamicFrame(df, self.glue_ctx, transformation_ctx or self.name, self._errors)

    def _absent_column(self, alias: str = ABSENT) -> list:
        from pyspark.sql import functions as F

        return [F.col(ABSENT).alias(alias)] if ABSENT in self._df.columns else []


# DynamicFrame methods Glue has that the local layer does not run: each raises NotSupportedLocally.
_GLUE_METHODS = {
    "map", "spigot", "resolveChoice", "relationalize", "unbox", "unnest", "unnest_ddb_json", "split_fields",
    "split_rows", "mergeDynamicFrame", "union", "errorsAsDynamicFrame", "drop_null_fields", "simplify_ddb_json",
}


def _step(kind: str, transformation_ctx: str) -> str:
    return f"{kind} {transformation_ctx}" if transformation_ctx else kind


def _path_list(paths) -> list[str]:
    return [paths] if isinstance(paths, str) else list(paths)


def _listing(frame: DynamicFrame) -> str:
    names = [field_paths.render([n]) for n in frame.fields]
    return ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")


def _exists(schema, names: Iterable[str]) -> bool:
    return _resolve(schema, tuple(names), True) is not None


def _resolve(schema, names: tuple[str, ...], exact: bool) -> tuple[str, ...] | None:
    """The field names along `names` as the schema spells them (matched exactly, or ignoring case)."""
    from pyspark.sql import types as T

    found = []
    current = schema
    for name in names:
        if not isinstance(current, T.StructType):
            return None
        fields = [f for f in current.fields if f.name != ABSENT]
        match = next((f for f in fields if f.name == name), None)
        if match is None and not exact:
            match = next((f for f in fields if f.name.lower() == name.lower()), None)
        if match is None:
            return None
        found.append(match.name)
        current = match.dataType
    return tuple(found)


def _qualified(alias: str, names: tuple[str, ...]):
    """The column at `names` of the frame aliased `alias` in a join."""
    from pyspark.sql import functions as F

    column = F.col(f"{alias}.{field_paths.quote_sql(names[0])}")
    for name in names[1:]:
        column = column.getField(name)
    return column


def _cast(column, type_name: str):
    return column.try_cast(spark_type(type_name))


def _struct(name: str, members: Mapping[str, object]):
    from pyspark.sql import functions as F

    return F.struct(*[value.alias(key) for key, value in members.items()]).alias(name)


def _rebuild(names: tuple[str, ...], value):
    """The top-level column `names[0]` with the struct at `names` replaced by `value`."""
    if len(names) == 1:
        return value
    return col(names[0]).withField(".".join(names[1:]), value)


def schema_text(schema) -> str:
    """A schema as Glue's printSchema() draws it."""
    lines = ["root"]

    def walk(datatype, depth: int) -> None:
        from pyspark.sql import types as T

        indent = "|    " * depth
        if isinstance(datatype, T.StructType):
            for field in datatype.fields:
                if field.name == ABSENT:
                    continue
                lines.append(f"{indent}|-- {field.name}: {glue_name(field.dataType)}")
                walk(field.dataType, depth + 1)
        elif isinstance(datatype, T.ArrayType):
            lines.append(f"{indent}|-- element: {glue_name(datatype.elementType)}")
            walk(datatype.elementType, depth + 1)

    walk(schema, 0)
    return "\n".join(lines)


class DynamicFrameCollection(Mapping):
    """Named DynamicFrames (what EvaluateDataQuality().process_rows returns)."""

    def __init__(self, dynamic_frames: dict, glue_ctx=None):
        self._frames = dict(dynamic_frames)
        self.glue_ctx = glue_ctx

    def __getitem__(self, key: str) -> DynamicFrame:
        return self._frames[key]

    def __iter__(self):
        return iter(self._frames)

    def __len__(self) -> int:
        return len(self._frames)

    def keys(self):
        return self._frames.keys()

    def values(self):
        return self._frames.values()

    def select(self, key: str, transformation_ctx: str = "") -> DynamicFrame:
        return self._frames[key]
