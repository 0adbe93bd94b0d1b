"""The landing tables as the Glue Data Catalog holds them: JSON tables (OpenX SerDe) over the
landing prefixes, with exactly the declared columns, lower-cased as Athena's DDL leaves them.

`make deploy` registers them on AWS (stedi/aws/catalog.py), and `register()` in the Glue API of the
embedded stack's emulator and of the Docker stack, so Athena, Trino and the jobs find the same tables.
catalog/athena/*.sql is the same definition as Athena DDL (stedi/query/athena_ddl.py).
"""

from __future__ import annotations

from stedi.tables import Lakehouse, Table

DATABASE_DESCRIPTION = "STEDI Human Balance Analytics lakehouse: landing JSON tables and the jobs' Iceberg tables"
HIVE_TYPES = {"string": "string", "long": "bigint", "int": "int", "double": "double"}  # as Athena DDL writes them
JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe"
# As in catalog/athena/*.sql (stedi/query/athena_ddl.py): keys matched case-insensitively,
# a malformed line is an error rather than a silently missing row.
SERDE_PARAMETERS = {
    "ignore.malformed.json": "FALSE",
    "dots.in.keys": "FALSE",
    "case.insensitive": "TRUE",
    "mapping": "TRUE",
}
INPUT_FORMAT = "org.apache.hadoop.mapred.TextInputFormat"
OUTPUT_FORMAT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"


def landing_table_input(table: Table, house: Lakehouse, bucket: str) -> dict:
    """A landing table as Glue stores it (on AWS, and in the embedded stack's emulator); column
    names lower-cased as Athena's DDL leaves them."""
    return {
        "Name": table.name,
        "Description": table.description,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"classification": "json", "EXTERNAL": "TRUE"},
        "StorageDescriptor": {
            "Columns": [{"Name": c.name.lower(), "Type": HIVE_TYPES[c.type]} for c in table.columns],
            "Location": f"s3://{bucket}/{house.landing_prefix(table)}",
            "InputFormat": INPUT_FORMAT,
            "OutputFormat": OUTPUT_FORMAT,
            "SerdeInfo": {"SerializationLibrary": JSON_SERDE, "Parameters": dict(SERDE_PARAMETERS)},
        },
    }


def register(glue, house: Lakehouse, bucket: str) -> None:
    """The Glue database and the landing tables in a local stack's Glue API (a boto3 client), as
    `make deploy` makes them on AWS. Idempotent: a table already there is updated to the declaration."""
    try:
        glue.create_database(DatabaseInput={"Name": house.namespace, "Description": DATABASE_DESCRIPTION})
    except glue.exceptions.AlreadyExistsException:
        pass
    for table in house.zone("landing"):
        table_input = landing_table_input(table, house, bucket)
        try:
            glue.create_table(DatabaseName=house.namespace, TableInput=table_input)
        except glue.exceptions.AlreadyExistsException:
            glue.update_table(DatabaseName=house.namespace, TableInput=table_input)


def metadata_locations(glue_client, database: str) -> dict[str, str]:
    """Table name -> the metadata file the catalog points at, for every Iceberg table of the Glue
    database (what DuckDB's iceberg_scan reads; Glue keeps it as the table's `metadata_location`)."""
    pages = glue_client.get_paginator("get_tables").paginate(DatabaseName=database)
    return {
        table["Name"]: table["Parameters"]["metadata_location"]
        for page in pages
        for table in page["TableList"]
        if table.get("Parameters", {}).get("table_type", "").upper() == "ICEBERG"
        and table["Parameters"].get("metadata_location")
    }
