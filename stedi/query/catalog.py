"""What Athena sees: every database and table of the Glue Data Catalog, as the query engines read them.

On a running stack the catalog is read from its Glue API, so a table made by Athena DDL (`stedi
query "CREATE EXTERNAL TABLE ..."`) or by a Glue Studio script's sink is queried like the
pipeline's own: Iceberg tables through their metadata, Hive tables (JSON, Parquet, CSV) from the
files under their location. The pipeline's own tables are read as their declarations in
catalog/tables.toml say (stedi/query/schema.py); without a stack (`--translate`) only those exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from stedi.query import schema
from stedi.tables import lakehouse

HIVE_TO_TRINO = {"string": "varchar", "int": "integer", "integer": "integer", "bigint": "bigint", "double": "double",
                 "float": "real", "boolean": "boolean", "smallint": "smallint", "tinyint": "tinyint",
                 "date": "date", "timestamp": "timestamp(3)", "binary": "varbinary"}
HIVE_TO_DUCKDB = {"string": "VARCHAR", "int": "INTEGER", "integer": "INTEGER", "bigint": "BIGINT", "double": "DOUBLE",
                  "float": "FLOAT", "boolean": "BOOLEAN", "smallint": "SMALLINT", "tinyint": "TINYINT",
                  "date": "DATE", "timestamp": "TIMESTAMP", "binary": "BLOB"}
TRINO_TO_HIVE = {"varchar": "string", "integer": "int", "bigint": "bigint", "double": "double"}


@dataclass(frozen=True)
class Relation:
    """One table as the engines read it."""

    database: str
    name: str
    kind: str  # iceberg, json, parquet, csv
    columns: tuple[tuple[str, str], ...]  # (lower-case name, Hive type), partition columns last
    partition_keys: tuple[str, ...] = ()
    location: str | None = None
    metadata_location: str | None = None
    serde: dict = field(default_factory=dict)
    parameters: dict = field(default_factory=dict)
    keys: dict | None = None  # column -> the key in the files, where the declaration says it (landing tables)
    declared: bool = False  # the pipeline's own table, read as catalog/tables.toml declares it

    def trino_columns(self) -> dict[str, str]:
        return {name: trino_type(kind) for name, kind in self.columns}


@dataclass
class Catalog:
    relations: dict[tuple[str, str], Relation] = field(default_factory=dict)
    databases: list[str] = field(default_factory=list)

    def relation(self, database: str, name: str) -> Relation | None:
        return self.relations.get((database.lower(), name.lower()))

    def tables(self, database: str) -> list[str]:
        return [name for (db, name) in self.relations if db == database.lower()]

    def has_database(self, database: str) -> bool:
        return database.lower() in self.databases


def declared() -> Catalog:
    """The pipeline's tables alone, as catalog/tables.toml declares them."""
    house = lakehouse()
    catalog = Catalog(databases=[house.namespace])
    for table in house.queryable.values():
        catalog.relations[(house.namespace, table.name)] = _declared(table)
    return catalog


def _declared(table, metadata_location: str | None = None) -> Relation:
    house = lakehouse()
    columns = tuple((name, TRINO_TO_HIVE[kind]) for name, kind in schema.columns(table).items())
    if schema.is_iceberg(table):
        return Relation(house.namespace, table.name, "iceberg", columns, metadata_location=metadata_location,
                        location=house.table_location(table), declared=True)
    return Relation(house.namespace, table.name, "json", columns,
                    location=f"s3://{house.bucket}/{house.landing_prefix(table)}",
                    keys={c.name.lower(): c.name for c in table.columns}, declared=True)


def from_glue(glue) -> Catalog:
    """Every table of every database of a Glue Data Catalog API (one listing per database)."""
    from stedi.lakehouse.glue_tables import is_pipeline_table

    house = lakehouse()
    catalog = Catalog()
    for page in glue.get_paginator("get_databases").paginate():
        catalog.databases += [d["Name"].lower() for d in page["DatabaseList"]]
    for database in catalog.databases:
        for page in glue.get_paginator("get_tables").paginate(DatabaseName=database):
            for table in page["TableList"]:
                name = table["Name"].lower()
                parameters = table.get("Parameters", {}) or {}
                if is_pipeline_table(table, database):
                    relation = _declared(house.queryable[name], parameters.get("metadata_location"))
                else:
                    relation = _from_table(database, table)
                catalog.relations[(database, name)] = relation
    return catalog


def pipeline_only(glue, home) -> Catalog:
    """The pipeline's own tables alone, read as their declarations say, wherever the catalog keeps
    them (a learner's table may hold the name for now): what the run report reads."""
    from stedi.lakehouse.glue_tables import pipeline_tables

    house = lakehouse()
    catalog = Catalog(databases=[house.namespace])
    for table in pipeline_tables(glue, home):
        name = table["Name"].lower()
        location = (table.get("Parameters", {}) or {}).get("metadata_location")
        catalog.relations[(house.namespace, name)] = _declared(house.queryable[name], location)
    return catalog


def _from_table(database: str, table: dict) -> Relation:
    descriptor = table.get("StorageDescriptor", {}) or {}
    parameters = table.get("Parameters", {}) or {}
    partition_keys = [k["Name"].lower() for k in table.get("PartitionKeys", [])]
    columns = [(c["Name"].lower(), c["Type"].lower()) for c in descriptor.get("Columns", [])]
    columns += [(k["Name"].lower(), k.get("Type", "string").lower()) for k in table.get("PartitionKeys", [])]
    serde = descriptor.get("SerdeInfo", {}) or {}
    return Relation(
        database=database, name=table["Name"].lower(), kind=_kind(serde, descriptor, parameters),
        columns=tuple(columns), partition_keys=tuple(partition_keys), location=descriptor.get("Location"),
        metadata_location=parameters.get("metadata_location"), serde=serde.get("Parameters", {}) or {},
        parameters=parameters,
    )


def _kind(serde: dict, descriptor: dict, parameters: dict) -> str:
    if parameters.get("table_type", "").upper() == "ICEBERG":
        return "iceberg"
    text = " ".join([(serde.get("SerializationLibrary") or ""), (descriptor.get("InputFormat") or ""),
                     parameters.get("classification", "")]).lower()
    if "json" in text:
        return "json"
    if "parquet" in text:
        return "parquet"
    if "lazysimpleserde" in text or "opencsvserde" in text or "csv" in text or "textinputformat" in text:
        return "csv"
    return text.strip() or "unknown"


def trino_type(hive: str) -> str:
    """A Hive type as Trino (and so Athena's queries) names it."""
    text = hive.strip().lower()
    if text in HIVE_TO_TRINO:
        return HIVE_TO_TRINO[text]
    if text.startswith(("decimal", "varchar", "char")):
        return text
    inner = _inner(text)
    if text.startswith("array<"):
        return f"array({trino_type(inner)})"
    if text.startswith("map<"):
        key, value = _split_top(inner)
        return f"map({trino_type(key)}, {trino_type(value)})"
    if text.startswith("struct<"):
        return "row(" + ", ".join(f"{n.strip()} {trino_type(t)}" for n, t in _fields(inner)) + ")"
    return text


def duckdb_type(hive: str) -> str:
    """A Hive type as DuckDB names it."""
    text = hive.strip().lower()
    if text in HIVE_TO_DUCKDB:
        return HIVE_TO_DUCKDB[text]
    if text.startswith("decimal"):
        return text.upper()
    if text.startswith(("varchar", "char")):
        return "VARCHAR"
    inner = _inner(text)
    if text.startswith("array<"):
        return f"{duckdb_type(inner)}[]"
    if text.startswith("map<"):
        key, value = _split_top(inner)
        return f"MAP({duckdb_type(key)}, {duckdb_type(value)})"
    if text.startswith("struct<"):
        return "STRUCT(" + ", ".join(f'"{n.strip()}" {duckdb_type(t)}' for n, t in _fields(inner)) + ")"
    return text.upper()


def _inner(text: str) -> str:
    match = re.match(r"^\w+<(.*)>$", text)
    return match.group(1) if match else ""


def _split_top(text: str, separator: str = ",") -> list[str]:
    parts, depth, current = [], 0, []
    for char in text:
        if char in "<(":
            depth += 1
        elif char in ">)":
            depth -= 1
        if char == separator and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _fields(text: str) -> list[tuple[str, str]]:
    return [tuple(part.split(":", 1)) for part in _split_top(text)]  # type: ignore[misc]
