"""Type names as Glue writes them, and as Spark and the Data Catalog know them.

Glue names types `string`, `int`, `long`, `double`, `boolean`, `struct`, `array`... in a
DynamicFrame's printed schema and in ApplyMapping's tuples (where Studio also writes Spark SQL's
`bigint`); the Data Catalog and Athena DDL use Hive's names (`bigint` for `long`).
"""

from __future__ import annotations

import re

# Glue's (and Spark SQL's) spellings of the primitive types, to Spark's DDL names.
_SPARK_DDL = {
    "string": "string", "varchar": "string", "char": "string",
    "int": "int", "integer": "int",
    "long": "bigint", "bigint": "bigint",
    "short": "smallint", "smallint": "smallint",
    "byte": "tinyint", "tinyint": "tinyint",
    "double": "double", "float": "float", "real": "float",
    "boolean": "boolean", "bool": "boolean",
    "timestamp": "timestamp", "date": "date", "binary": "binary",
}


class UnknownType(ValueError):
    """A type name Glue would not know."""


def spark_type(name: str):
    """The Spark type for a Glue or Spark SQL type name (`long`, `bigint`, `decimal(10,2)`...)."""
    from pyspark.sql import types as T

    text = name.strip().lower()
    if text in _SPARK_DDL:
        return T._parse_datatype_string(_SPARK_DDL[text])
    if re.fullmatch(r"decimal(\(\s*\d+\s*,\s*\d+\s*\))?", text):
        return T._parse_datatype_string(text)
    try:
        return T._parse_datatype_string(text)  # struct<...>, array<...>, map<...>
    except Exception:  # noqa: BLE001 - Spark's parser raises several kinds
        raise UnknownType(f"unknown type {name!r}: Glue's types are string, int, long, double, float, boolean, "
                          "short, byte, timestamp, date, decimal(p,s), binary") from None


def glue_name(datatype) -> str:
    """How Glue prints a Spark type in a DynamicFrame's schema."""
    from pyspark.sql import types as T

    simple = {
        T.StringType: "string", T.IntegerType: "int", T.LongType: "long", T.DoubleType: "double",
        T.FloatType: "float", T.BooleanType: "boolean", T.ShortType: "short", T.ByteType: "byte",
        T.TimestampType: "timestamp", T.TimestampNTZType: "timestamp", T.DateType: "date",
        T.BinaryType: "binary", T.NullType: "null", T.DecimalType: "decimal",
        T.StructType: "struct", T.ArrayType: "array", T.MapType: "map",
    }
    for kind, label in simple.items():
        if isinstance(datatype, kind):
            return label
    return datatype.simpleString()


def hive_name(datatype) -> str:
    """The Data Catalog's (Hive's) name for a Spark type, as a Glue sink writes it in a table."""
    from pyspark.sql import types as T

    if isinstance(datatype, T.StructType):
        return "struct<" + ",".join(f"{f.name.lower()}:{hive_name(f.dataType)}" for f in datatype.fields) + ">"
    if isinstance(datatype, T.ArrayType):
        return f"array<{hive_name(datatype.elementType)}>"
    if isinstance(datatype, T.MapType):
        return f"map<{hive_name(datatype.keyType)},{hive_name(datatype.valueType)}>"
    if isinstance(datatype, T.NullType):
        return "string"  # a field that was null in every record
    if isinstance(datatype, T.TimestampNTZType):
        return "timestamp"
    return datatype.simpleString()  # string, int, bigint, double, boolean, decimal(p,s), date...
