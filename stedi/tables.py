"""The table declarations in `catalog/tables.toml`, as Python objects.

Everything that names a table or a column (jobs, quality gates, query engine, deployer)
goes through this module, so a column is declared once and every consumer follows.
Spark and Arrow are imported lazily: the deployer and the CLI must not pay for them.
"""

from __future__ import annotations

import os
import pkgutil
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

ZONES = ("landing", "trusted", "curated")
TYPES = ("string", "long", "int", "double")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    pii: bool = False
    required: bool = False
    pseudonym_of: str | None = None
    identifies: str | None = None  # whom the value points at: "email" (a person) or "serialNumber" (a device)
    epoch_ms: bool = False  # an instant in epoch milliseconds
    zero_is_unset: bool = False  # 0 means "never given" rather than 1970
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class Table:
    name: str
    zone: str
    columns: tuple[Column, ...]
    description: str = ""
    keys: tuple[str, ...] = ()
    source: str | None = None  # landing tables: the S3 source folder (customer, ...)
    job: str | None = None  # derived tables: the job that writes them
    like: str | None = None  # a filtered copy of this table: same columns, never more rows
    rows_at_most: str | None = None  # another table this one can never outgrow
    quarantine_of: str | None = None  # quarantine tables: the landing table whose rejects they hold

    @property
    def is_landing_files(self) -> bool:
        """A landing table is its files, read as JSON (as the Glue tables over the landing prefixes are
        on AWS): no Iceberg copy of it is written, but for the Docker stack's catalog (see spark_io)."""
        return self.zone == "landing" and self.quarantine_of is None

    @property
    def bounded_by(self) -> str | None:
        """The table whose row count caps this one's, if any."""
        return self.rows_at_most or self.like

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def table_properties(self) -> dict[str, str]:
        """The Iceberg table properties every writer creates the table with. A column that points
        at a person (`pii`, `identifies`, `pseudonym_of`) keeps value counts only in Iceberg's
        manifests, never lower and upper bounds: a bound is a copy of someone's value that outlives
        their rows (a deleted file's entry keeps it), and erasure must reach every copy."""
        private = [c.name for c in self.columns if c.pii or c.identifies or c.pseudonym_of]
        return {"format-version": "2", **{f"write.metadata.metrics.column.{name}": "counts" for name in private}}

    @property
    def pii_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.pii]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}; it has {self.column_names}")

    def spark_schema(self):
        from pyspark.sql import types as T

        spark_types = {"string": T.StringType, "long": T.LongType, "int": T.IntegerType, "double": T.DoubleType}
        return T.StructType(
            [T.StructField(c.name, spark_types[c.type](), nullable=not c.required) for c in self.columns]
        )

    def arrow_schema(self, *, all_nullable: bool = False):
        import pyarrow as pa

        arrow_types = {"string": pa.string(), "long": pa.int64(), "int": pa.int32(), "double": pa.float64()}
        return pa.schema(
            [pa.field(c.name, arrow_types[c.type], nullable=all_nullable or not c.required) for c in self.columns]
        )

    def iceberg_schema(self):
        from pyiceberg.schema import Schema
        from pyiceberg.types import DoubleType, IntegerType, LongType, NestedField, StringType

        iceberg_types = {"string": StringType, "long": LongType, "int": IntegerType, "double": DoubleType}
        fields = [
            NestedField(field_id=i, name=c.name, field_type=iceberg_types[c.type](), required=c.required)
            for i, c in enumerate(self.columns, start=1)
        ]
        identifier_ids = [i for i, c in enumerate(self.columns, start=1) if c.name in self.keys and c.required]
        return Schema(*fields, identifier_field_ids=identifier_ids if len(identifier_ids) == len(self.keys) else [])


@dataclass(frozen=True)
class Lakehouse:
    namespace: str
    bucket: str
    warehouse_prefix: str
    region: str
    # Snapshots kept per table on the embedded stack (time travel reaches that many runs back);
    # older ones are expired and their files deleted, so the emulator does not grow run after run.
    keep_snapshots: int = 10
    tables: dict[str, Table] = field(default_factory=dict)
    # Per landing table, the table of its records that could not be accepted (`[quarantine]`).
    quarantines: dict[str, Table] = field(default_factory=dict)
    quarantine_max_share: float = 0.05
    # The suppression list of erased people (`[erasures]`), None where the declaration has none.
    erasures: Table | None = None

    def table(self, name: str) -> Table:
        try:
            return self.queryable[name]
        except KeyError:
            raise KeyError(f"no table {name!r}; the tables are: {', '.join(self.queryable)}") from None

    @property
    def queryable(self) -> dict[str, Table]:
        """Every table in the catalog: the declared ones, their sources' quarantines and the erasures."""
        extra = {self.erasures.name: self.erasures} if self.erasures else {}
        return {**self.tables, **{q.name: q for q in self.quarantines.values()}, **extra}

    @property
    def iceberg_tables(self) -> dict[str, Table]:
        """Every table stored as an Iceberg table: all but the landing tables, which are their files."""
        return {name: t for name, t in self.queryable.items() if not t.is_landing_files}

    def zone(self, zone: str) -> list[Table]:
        return [t for t in self.tables.values() if t.zone == zone]

    def quarantine_of(self, table: Table) -> Table:
        return self.quarantines[table.name]

    def landing_prefix(self, table: Table) -> str:
        """Where the raw JSON of a landing table lies in the bucket, as in the course."""
        return f"{table.source}/landing/"

    def table_location(self, table: Table) -> str:
        return f"s3://{self.bucket}/{self.warehouse_prefix}/{table.zone}/{table.name}"


def _declaration_text() -> str:
    """The TOML text, found next to the code wherever the code runs.

    In a checkout it is `catalog/tables.toml`; in the zip shipped to Glue it is packed
    inside the `stedi` package (pkgutil reads it from the zip); STEDI_TABLES overrides both.
    """
    override = os.environ.get("STEDI_TABLES")
    if override:
        return Path(override).read_text()
    in_checkout = Path(__file__).resolve().parents[1] / "catalog" / "tables.toml"
    if in_checkout.exists():
        return in_checkout.read_text()
    packed = pkgutil.get_data("stedi", "tables.toml")
    if packed is None:
        raise FileNotFoundError("catalog/tables.toml not found next to the stedi package")
    return packed.decode()


def parse(text: str) -> Lakehouse:
    doc = tomllib.loads(text)
    raw_tables = doc["tables"]
    tables: dict[str, Table] = {}
    for name, spec in raw_tables.items():
        # A derived table that is "like" another keeps that table's columns.
        columns = _columns(raw_tables[spec.get("like", name)]["columns"])
        table = Table(
            name=name,
            zone=spec["zone"],
            columns=columns,
            description=spec.get("description", ""),
            keys=tuple(spec.get("keys", ())),
            source=spec.get("source"),
            job=spec.get("job"),
            like=spec.get("like"),
            rows_at_most=spec.get("rows_at_most"),
        )
        _check(table, raw_tables)
        tables[name] = table
    spec = doc["quarantine"]
    return Lakehouse(
        tables=tables,
        quarantines={t.name: _quarantine(t, spec) for t in tables.values() if t.zone == "landing"},
        quarantine_max_share=float(spec["max_share"]),
        erasures=_erasures(doc["erasures"]) if "erasures" in doc else None,
        **doc["lakehouse"],
    )


def _erasures(spec: dict) -> Table:
    return Table(
        name=spec["name"], zone=spec["zone"], columns=_columns(spec["columns"]), description=spec["description"]
    )


def _quarantine(landing: Table, spec: dict) -> Table:
    return Table(
        name=landing.name + spec["suffix"],
        zone="landing",
        columns=_columns(spec["columns"]),
        description=spec["description"].format(source=landing.source),
        source=landing.source,
        quarantine_of=landing.name,
    )


def _columns(specs: list[dict]) -> tuple[Column, ...]:
    return tuple(Column(**spec) for spec in specs)


def _check(table: Table, raw_tables: dict) -> None:
    if table.zone not in ZONES:
        raise ValueError(f"table {table.name}: zone {table.zone!r} is not one of {ZONES}")
    for c in table.columns:
        if c.type not in TYPES:
            raise ValueError(f"table {table.name}: column {c.name} has type {c.type!r}, not one of {TYPES}")
    for key in table.keys:
        table.column(key)
    if table.zone == "landing" and not table.source:
        raise ValueError(f"landing table {table.name} needs a source folder")
    for other in (table.like, table.rows_at_most):
        if other is not None and other not in raw_tables:
            raise ValueError(f"table {table.name} refers to {other!r}, which is not declared")
    if table.zone != "landing" and not table.job:
        raise ValueError(f"table {table.name} needs the job that writes it")


@cache
def lakehouse() -> Lakehouse:
    return parse(_declaration_text())
