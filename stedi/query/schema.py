"""What Athena sees in database `stedi`, derived from catalog/tables.toml.

Landing tables are Glue tables over the raw JSON (Hive tables, no history); the other five
are Iceberg tables, which also expose Athena's metadata tables `"<table>$snapshots"` and
`"<table>$history"`. Column names are lower-cased as Glue stores them.
"""

from __future__ import annotations

from stedi.tables import Lakehouse, Table, lakehouse

CATALOG = "awsdatacatalog"  # Athena's name for the Glue Data Catalog

TRINO_TYPES = {"string": "varchar", "long": "bigint", "int": "integer", "double": "double"}
DUCKDB_TYPES = {"string": "VARCHAR", "long": "BIGINT", "int": "INTEGER", "double": "DOUBLE"}

# Athena's Iceberg metadata tables (Trino's Iceberg connector): columns and Trino types.
METADATA_TABLES: dict[str, dict[str, str]] = {
    "snapshots": {
        "committed_at": "timestamp(3) with time zone",
        "snapshot_id": "bigint",
        "parent_id": "bigint",
        "operation": "varchar",
        "manifest_list": "varchar",
        "summary": "map(varchar, varchar)",
    },
    "history": {
        "made_current_at": "timestamp(3) with time zone",
        "snapshot_id": "bigint",
        "parent_id": "bigint",
        "is_current_ancestor": "boolean",
    },
}


def is_iceberg(table: Table) -> bool:
    """In Athena the landing tables are JSON tables; everything else (quarantines too) is Iceberg."""
    return table.zone != "landing" or table.quarantine_of is not None


def columns(table: Table) -> dict[str, str]:
    """Lower-cased column name -> Trino type, in declaration order."""
    return {c.name.lower(): TRINO_TYPES[c.type] for c in table.columns}


def table_names(house: Lakehouse | None = None) -> list[str]:
    return list((house or lakehouse()).queryable)
