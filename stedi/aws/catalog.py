"""The Glue Data Catalog: database `stedi` and the three landing tables, as the course has them.

Each landing table is a JSON table (OpenX SerDe) over its landing prefix with exactly the
columns declared in catalog/tables.toml, the same table catalog/athena/<table>.sql creates
in the Athena console. The trusted and curated tables are not declared here: the jobs
create them as Iceberg tables when they first write.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from stedi.aws.clients import Aws
from stedi.aws.errors import is_not_found, not_managed, translated
from stedi.aws.plan import Change, call
from stedi.lakehouse.glue_tables import DATABASE_DESCRIPTION, landing_table_input
from stedi.tables import Lakehouse, Table

DATABASE = "glue database"
TABLE = "glue table"
def database_arn(aws: Aws, name: str | None = None) -> str:
    return aws.arn("glue", f"database/{name or aws.config.namespace}")


def database_input(aws: Aws) -> dict:
    return {"Name": aws.config.namespace, "Description": DATABASE_DESCRIPTION}


def plan_database(aws: Aws) -> tuple[Change, bool]:
    cfg, glue = aws.config, aws.glue
    wanted = database_input(aws)
    with translated("glue", f"reading the Glue database {cfg.namespace}"):
        try:
            current = glue.get_database(Name=cfg.namespace)["Database"]
        except ClientError as error:
            if not is_not_found(error):
                raise
            current = None
        if current is None:
            create = call(glue.create_database, DatabaseInput=wanted, Tags=cfg.tags)
            return Change(DATABASE, cfg.namespace, "create", "", create), False
        tags = glue.get_tags(ResourceArn=database_arn(aws)).get("Tags", {})
    if not cfg.is_ours(tags):
        raise not_managed(DATABASE, cfg.namespace, "dropping every table in it on destroy")
    if current.get("Description", "") == wanted["Description"]:
        return Change(DATABASE, cfg.namespace, "unchanged"), True
    update = call(glue.update_database, Name=cfg.namespace, DatabaseInput=wanted)
    return Change(DATABASE, cfg.namespace, "update", "description differs", update), True


def table_input(aws: Aws, table: Table, house: Lakehouse) -> dict:
    return landing_table_input(table, house, aws.config.bucket)


def _view(table: dict) -> dict:
    """The parts of a Glue table this deployer sets: what a comparison must look at, and only that."""
    sd = table.get("StorageDescriptor", {})
    serde = sd.get("SerdeInfo", {})
    return {
        "Description": table.get("Description", ""),
        "TableType": table.get("TableType"),
        "Parameters": {k: table.get("Parameters", {}).get(k) for k in ("classification", "EXTERNAL")},
        "Columns": [(c["Name"], c["Type"]) for c in sd.get("Columns", [])],
        "Location": sd.get("Location"),
        "InputFormat": sd.get("InputFormat"),
        "OutputFormat": sd.get("OutputFormat"),
        "Serde": serde.get("SerializationLibrary"),
        "SerdeParameters": serde.get("Parameters", {}),
    }


def plan_tables(aws: Aws, house: Lakehouse, database_exists: bool) -> list[Change]:
    cfg, glue = aws.config, aws.glue
    changes = []
    for table in house.zone("landing"):
        wanted = table_input(aws, table, house)
        name = f"{cfg.namespace}.{table.name}"
        current = None
        if database_exists:
            with translated("glue", f"reading the Glue table {name}"):
                try:
                    current = glue.get_table(DatabaseName=cfg.namespace, Name=table.name)["Table"]
                except ClientError as error:
                    if not is_not_found(error):
                        raise
        if current is None:
            create = call(glue.create_table, DatabaseName=cfg.namespace, TableInput=wanted)
            changes.append(
                Change(TABLE, name, "create", f"JSON over {wanted['StorageDescriptor']['Location']}", create)
            )
            continue
        have, want = _view(current), _view(wanted)
        differing = [k for k in want if have[k] != want[k]]
        if not differing:
            changes.append(Change(TABLE, name, "unchanged"))
        else:
            update = call(glue.update_table, DatabaseName=cfg.namespace, TableInput=wanted)
            changes.append(Change(TABLE, name, "update", "differs in " + ", ".join(differing), update))
    return changes
