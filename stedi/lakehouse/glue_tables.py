"""The landing tables as the Glue Data Catalog holds them: JSON tables (OpenX SerDe) over the
landing prefixes, with exactly the declared columns, lower-cased as Athena's DDL leaves them.

`make deploy` registers them on AWS (stedi/aws/catalog.py), and `register()` in the Glue API of the
embedded stack's emulator and of the Docker stack, so Athena, Trino and the jobs find the same tables.
catalog/athena/*.sql is the same definition as Athena DDL (stedi/query/athena_ddl.py).

One catalog, two owners: learners' Glue Studio scripts and Athena DDL (stedi/studio/) often name
their tables as the pipeline does (`stedi.customer_trusted`). A learner's table takes the name
(`claim`): the pipeline's is moved aside, its definition kept in the state directory and its files
left alone. The pipeline's next run takes every declared name back (`reclaim`), registering its
own tables again, Iceberg history and all, and moving the learner's aside the same way. Each move
is said in one line.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from urllib.parse import urlparse

from stedi.tables import Lakehouse, Table, lakehouse

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
        present = {}
    except glue.exceptions.AlreadyExistsException:
        present = tables(glue, house.namespace)
    for table in house.zone("landing"):
        table_input = landing_table_input(table, house, bucket)
        if table.name not in present:
            try:
                glue.create_table(DatabaseName=house.namespace, TableInput=table_input)
                continue
            except glue.exceptions.AlreadyExistsException:
                pass
        elif _holds(present[table.name], table_input):
            continue  # as declared already: no change to save
        glue.update_table(DatabaseName=house.namespace, TableInput=table_input)


def tables(glue, database: str) -> dict[str, dict]:
    """Every table of a Glue database, by name, in one paginated listing."""
    pages = glue.get_paginator("get_tables").paginate(DatabaseName=database)
    return {table["Name"]: table for page in pages for table in page["TableList"]}


def _holds(found, wanted) -> bool:
    """Whether what Glue answered holds every field of `wanted` (Glue adds fields of its own)."""
    if isinstance(wanted, dict):
        return isinstance(found, dict) and all(_holds(found.get(k), v) for k, v in wanted.items())
    if isinstance(wanted, list):
        return isinstance(found, list) and len(found) == len(wanted) and all(map(_holds, found, wanted))
    return found == wanted


def metadata_locations(glue_client, database: str) -> dict[str, str]:
    """Table name -> the metadata file the catalog points at, for every Iceberg table of the Glue
    database (what DuckDB's iceberg_scan reads; Glue keeps it as the table's `metadata_location`)."""
    return {
        name: table["Parameters"]["metadata_location"]
        for name, table in tables(glue_client, database).items()
        if table.get("Parameters", {}).get("table_type", "").upper() == "ICEBERG"
        and table["Parameters"].get("metadata_location")
    }


class CurrentSnapshots:
    """Each named table's current snapshot id (None where the catalog has no Iceberg table of that name:
    a landing table is JSON), read from the metadata file the catalog points at. A metadata file never changes,
    so each is read once; a call costs one listing of the database."""

    def __init__(self, glue_client, s3_client, database: str):
        self.glue, self.s3, self.database = glue_client, s3_client, database
        self._ids: dict[str, int | None] = {}

    def __call__(self, names) -> dict[str, int | None]:
        locations = metadata_locations(self.glue, self.database)
        return {name: self._id(locations[name]) if name in locations else None for name in names}

    def _id(self, location: str) -> int | None:
        if location not in self._ids:
            where = urlparse(location)
            body = self.s3.get_object(Bucket=where.netloc, Key=where.path.lstrip("/"))["Body"].read()
            if body[:2] == b"\x1f\x8b":  # a gzipped metadata file (write.metadata.compression-codec)
                body = gzip.decompress(body)
            current = json.loads(body).get("current-snapshot-id")
            self._ids[location] = None if current in (None, -1) else int(current)
        return self._ids[location]


DISPLACED = "displaced-tables.json"  # in the state directory: the tables moved aside, by owner
TABLE_INPUT_KEYS = ("Name", "Description", "Owner", "Retention", "StorageDescriptor", "PartitionKeys",
                    "ViewOriginalText", "ViewExpandedText", "TableType", "Parameters")


def is_pipeline_table(table: dict, database: str) -> bool:
    """A table the pipeline registers or writes: a declared name in its database that is its Iceberg
    table, or its landing JSON table over the declared landing prefix."""
    house = lakehouse()
    declared = house.queryable.get(table.get("Name", ""))
    if database != house.namespace or declared is None:
        return False
    if (table.get("Parameters", {}) or {}).get("table_type", "").upper() == "ICEBERG":
        return True
    location = table.get("StorageDescriptor", {}).get("Location", "")
    return declared.is_landing_files and location.rstrip("/") + "/" == f"s3://{house.bucket}/{house.landing_prefix(declared)}"


def as_table_input(table: dict) -> dict:
    """A table as get_table answers it, as create_table takes it."""
    return {k: table[k] for k in TABLE_INPUT_KEYS if k in table}


def _displaced_file(home: Path) -> Path:
    return home / DISPLACED


def _load(home: Path) -> dict:
    try:
        return json.loads(_displaced_file(home).read_text())
    except (FileNotFoundError, ValueError):
        return {}


def _save(home: Path, state: dict) -> None:
    target = _displaced_file(home)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.write_text(json.dumps(state, indent=1))
    temporary.replace(target)


def claim(glue, database: str, name: str, home: Path, say, *, by: str) -> dict | None:
    """The table `database.name` as it stands, or None when there is none; a pipeline table of that
    name is moved aside first (kept for the pipeline's next run, its files untouched)."""
    try:
        table = glue.get_table(DatabaseName=database, Name=name)["Table"]
    except glue.exceptions.EntityNotFoundException:
        return None
    if not is_pipeline_table(table, database):
        return table
    state = _load(home)
    state.setdefault("pipeline", {})[f"{database}.{name}"] = as_table_input(table)
    _save(home, state)
    glue.delete_table(DatabaseName=database, Name=name)
    say(f"{database}.{name} was the pipeline's table: {by} takes the name (the pipeline's table is "
                "kept aside, its files untouched; the next `make pipeline` takes it back)")
    return None


def pipeline_tables(glue, home: Path | None) -> list[dict]:
    """The pipeline's own tables as the catalog holds them, those a learner's table moved aside
    included (the run report reads the pipeline's tables, whoever holds the names now)."""
    house = lakehouse()
    kept = _load(home).get("pipeline", {}) if home else {}
    found = []
    for page in glue.get_paginator("get_tables").paginate(DatabaseName=house.namespace):
        found += [t for t in page["TableList"] if is_pipeline_table(t, house.namespace)]
    present = {t["Name"] for t in found}
    found += [t for name, t in kept.items() if name.split(".", 1)[1] not in present]
    return found


def reclaim(admin_glue, home: Path, say) -> None:
    """Before a pipeline run: every declared name back to the pipeline's table. A learner's table of
    that name is moved aside (its definition kept, its files untouched); the pipeline's own, kept
    when a learner's took the name, is registered again with its Iceberg history."""
    house = lakehouse()
    state = _load(home)
    kept = state.get("pipeline", {})
    moved = state.setdefault("learner", {})
    changed = False
    try:
        present = tables(admin_glue, house.namespace)
    except admin_glue.exceptions.EntityNotFoundException:  # no database yet
        present = {}
    for name in house.queryable:
        qualified = f"{house.namespace}.{name}"
        table = present.get(name)
        if table is not None and not is_pipeline_table(table, house.namespace):
            moved[qualified] = as_table_input(table)
            admin_glue.delete_table(DatabaseName=house.namespace, Name=name)
            say(f"{qualified} was a table of a Glue Studio script or Athena DDL: the pipeline takes its name back "
                f"(that table's files are untouched; run its job or DDL again to register it)")
            table, changed = None, True
        if table is None and qualified in kept:
            admin_glue.create_table(DatabaseName=house.namespace, TableInput=kept.pop(qualified))
            changed = True
    if changed:
        _save(home, state)


def add_partitions(glue, s3, database: str, name: str) -> int:
    """Every `key=value/` folder under a partitioned table's location as a catalog partition, the
    ones already there kept (what Athena's MSCK REPAIR TABLE and a Glue sink do); returns how many
    were added."""
    table = glue.get_table(DatabaseName=database, Name=name)["Table"]
    keys = [k["Name"].lower() for k in table.get("PartitionKeys", [])]
    descriptor = table.get("StorageDescriptor", {})
    location = descriptor.get("Location", "")
    if not keys or not location.startswith("s3://"):
        return 0
    location = location.rstrip("/") + "/"
    bucket, _, prefix = location.removeprefix("s3://").partition("/")
    found = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            values = {}
            for part in item["Key"][len(prefix):].split("/")[:-1]:
                key, equals, value = part.partition("=")
                if equals:
                    values[key.lower()] = value
            if all(k in values for k in keys):
                found.add(tuple(values[k] for k in keys))
    existing = set()
    for page in glue.get_paginator("get_partitions").paginate(DatabaseName=database, TableName=name):
        existing |= {tuple(p["Values"]) for p in page["Partitions"]}
    new = sorted(found - existing)
    for start in range(0, len(new), 100):
        batch = [{"Values": list(values), "StorageDescriptor": {
            **descriptor, "Location": location + "/".join(f"{k}={v}" for k, v in zip(keys, values, strict=True)) + "/"}}
            for values in new[start:start + 100]]
        glue.batch_create_partition(DatabaseName=database, TableName=name, PartitionInputList=batch)
    return len(new)
