"""Athena's DDL, run on the stack's Glue Data Catalog: what learners type in the Athena console.

`CREATE DATABASE`, `CREATE EXTERNAL TABLE ... ROW FORMAT SERDE ... STORED AS ... LOCATION ...
TBLPROPERTIES` (the OpenX JSON SerDe, Parquet, delimited text), `DROP TABLE`, `DROP DATABASE`,
`SHOW CREATE TABLE`, `SHOW DATABASES` and `MSCK REPAIR TABLE` are Hive DDL in Athena, not Trino
SQL, so they run here, on the catalog both engines read, the same whichever engine answers the
queries. As in Athena: a table that exists is an error unless `IF NOT EXISTS`; a database must
exist; column names are lower-cased; DROP TABLE of a Hive table leaves its files. A bucket a
LOCATION names is created on first use. A learner's table may take a name the pipeline uses
(stedi/lakehouse/glue_tables.py says how the pipeline takes it back).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from stedi.query.errors import QueryError
from stedi.query.result import Result

DDL = re.compile(r"^\s*(CREATE|DROP|MSCK|ALTER|SHOW\s+CREATE|SHOW\s+(?:DATABASES|SCHEMAS)\b)", re.IGNORECASE)
JSON_SERDES = ("org.openx.data.jsonserde.JsonSerDe", "org.apache.hive.hcatalog.data.JsonSerDe")
TEXT_INPUT = "org.apache.hadoop.mapred.TextInputFormat"
TEXT_OUTPUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
PARQUET = ("org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
           "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
           "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat")
LAZY_SIMPLE = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
STORED_AS = {
    "PARQUET": PARQUET,
    "TEXTFILE": (LAZY_SIMPLE, TEXT_INPUT, TEXT_OUTPUT),
    "ORC": ("org.apache.hadoop.hive.ql.io.orc.OrcSerde", "org.apache.hadoop.hive.ql.io.orc.OrcInputFormat",
            "org.apache.hadoop.hive.ql.io.orc.OrcOutputFormat"),
    "AVRO": ("org.apache.hadoop.hive.serde2.avro.AvroSerDe",
             "org.apache.hadoop.hive.ql.io.avro.AvroContainerInputFormat",
             "org.apache.hadoop.hive.ql.io.avro.AvroContainerOutputFormat"),
}


def is_ddl(sql: str) -> bool:
    return DDL.match(_without_comments(sql)) is not None


def _without_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*|/\*.*?\*/", "", sql, flags=re.S)


def execute(sql: str, stack, home: Path | None, say=None) -> Result:
    """Run one DDL statement on the stack's catalog (as its administrator); the result says what it did."""
    started = time.perf_counter()
    text = _without_comments(sql).strip().rstrip(";").strip()
    upper = text.upper()
    if re.match(r"SHOW\s+(DATABASES|SCHEMAS)", upper):
        rows = [(d,) for d in _databases(stack.client("glue"))]
        return _result(["database_name"], rows, sql, started)
    if upper.startswith("SHOW"):
        lines = show_create(stack.client("glue"), *_table_name(text.split(None, 3)[3]))
        return _result(["createtab_stmt"], [(line,) for line in lines], sql, started)
    if upper.startswith("MSCK"):
        database, name = _table_name(re.sub(r"(?i)^MSCK\s+REPAIR\s+TABLE\s+", "", text))
        from stedi.lakehouse.glue_tables import add_partitions

        added = add_partitions(stack.client("glue"), stack.client("s3"), database, name)
        return _done(f"added {added} partitions to {database}.{name}", sql, started)
    if upper.startswith("ALTER"):
        raise QueryError("ALTER TABLE is not run locally: DROP TABLE and CREATE EXTERNAL TABLE again, or "
                         "MSCK REPAIR TABLE to load partitions")
    statement = _parse(text)
    from sqlglot import exp

    if isinstance(statement, exp.Create):
        kind = (statement.args.get("kind") or "").upper()
        if kind in ("DATABASE", "SCHEMA"):
            return _done(create_database(stack, statement), sql, started)
        if kind == "TABLE":
            return _done(create_table(stack, statement, home, say), sql, started)
    if isinstance(statement, exp.Drop):
        kind = (statement.args.get("kind") or "").upper()
        if kind in ("DATABASE", "SCHEMA"):
            return _done(drop_database(stack, statement), sql, started)
        if kind == "TABLE":
            return _done(drop_table(stack, statement, home, say), sql, started)
    raise QueryError(f"this DDL is not run locally: {text.split(None, 3)[:3]}: stedi query runs CREATE DATABASE, "
                     "CREATE EXTERNAL TABLE, DROP TABLE, DROP DATABASE, SHOW CREATE TABLE, SHOW DATABASES and "
                     "MSCK REPAIR TABLE")


def _parse(text: str):
    import sqlglot
    from sqlglot.errors import ParseError

    try:
        return sqlglot.parse_one(text, read="athena")
    except ParseError as error:
        raise QueryError(f"syntax error in this DDL: {str(error).splitlines()[0]}") from None


def _result(columns: list[str], rows: list[tuple], sql: str, started: float) -> Result:
    return Result(columns, rows, ["varchar"] * len(columns), time.perf_counter() - started, sql, sql)


def _done(what: str, sql: str, started: float) -> Result:
    return _result(["result"], [(what,)], sql, started)


def _databases(glue) -> list[str]:
    return sorted(d["Name"] for page in glue.get_paginator("get_databases").paginate() for d in page["DatabaseList"])


def _table_name(text: str) -> tuple[str, str]:
    from stedi.tables import lakehouse

    parts = [p.strip('`"') for p in text.strip().split(".")]
    if parts and parts[0].lower() == "awsdatacatalog" and len(parts) == 3:
        parts = parts[1:]
    if len(parts) == 1:
        return lakehouse().namespace, parts[0].lower()
    return parts[-2].lower(), parts[-1].lower()


def _literal(node) -> str:
    return node.this if hasattr(node, "this") and isinstance(node.this, str) else str(node)


def _properties(statement) -> list:
    properties = statement.args.get("properties")
    return list(properties.expressions) if properties is not None else []


# ------------------------------------------------------------------ databases


def create_database(stack, statement) -> str:
    from sqlglot import exp

    name = statement.this.name.lower()
    glue = stack.client("glue")
    database = {"Name": name}
    for prop in _properties(statement):
        if isinstance(prop, exp.SchemaCommentProperty):
            database["Description"] = _literal(prop.this)
        elif isinstance(prop, exp.LocationProperty):
            database["LocationUri"] = _literal(prop.this)
    try:
        glue.create_database(DatabaseInput=database)
    except glue.exceptions.AlreadyExistsException:
        if statement.args.get("exists"):
            return f"database {name} exists already: not changed (IF NOT EXISTS)"
        raise QueryError(f"Database {name} already exists") from None
    return f"created database {name}"


def drop_database(stack, statement) -> str:
    from stedi.tables import lakehouse

    name = statement.this.name.lower()
    glue = stack.client("glue")
    if name == lakehouse().namespace:
        raise QueryError(f"database {name} holds the pipeline's tables: it is not dropped here (`make down` "
                         "discards the whole lakehouse)")
    try:
        tables = [t["Name"] for page in glue.get_paginator("get_tables").paginate(DatabaseName=name)
                  for t in page["TableList"]]
    except glue.exceptions.EntityNotFoundException:
        if statement.args.get("exists"):
            return f"database {name} does not exist: nothing to drop (IF EXISTS)"
        raise QueryError(f"Database does not exist: {name}") from None
    if tables and not statement.args.get("cascade"):
        raise QueryError(f"Database {name} is not empty ({len(tables)} tables): DROP DATABASE {name} CASCADE drops "
                         "them too (their files stay)")
    for table in tables:
        glue.delete_table(DatabaseName=name, Name=table)
    glue.delete_database(Name=name)
    return f"dropped database {name}" + (f" and its {len(tables)} tables (their files stay)" if tables else "")


# ------------------------------------------------------------------ tables


def create_table(stack, statement, home: Path | None, say) -> str:
    """CREATE EXTERNAL TABLE as Athena registers it in the Glue Data Catalog."""
    from sqlglot import exp

    from stedi.lakehouse.glue_tables import claim
    from stedi.lakehouse.landing import ensure_bucket

    target = statement.this.this if isinstance(statement.this, exp.Schema) else statement.this
    database = (target.db or _default_database()).lower()
    name = target.name.lower()
    properties = _properties(statement)
    if statement.expression is not None:
        raise QueryError("CREATE TABLE AS SELECT is not run locally: create the table with CREATE EXTERNAL TABLE "
                         "over files a Glue job writes")
    if not any(isinstance(p, exp.ExternalProperty) for p in properties):
        raise QueryError("Only external tables are run locally: write CREATE EXTERNAL TABLE (Athena creates "
                         "non-Iceberg tables only as external ones)")
    table = _table_input(name, statement, properties)
    glue = stack.client("glue")
    try:
        glue.get_database(Name=database)
    except glue.exceptions.EntityNotFoundException:
        raise QueryError(f"Database does not exist: {database} (CREATE DATABASE {database} first)") from None
    location = table["StorageDescriptor"].get("Location", "")
    if location.startswith("s3://"):
        ensure_bucket(stack.client("s3"), location.removeprefix("s3://").split("/", 1)[0], say)
    existing = claim(glue, database, name, home, say or (lambda message: None), by="this DDL") if home else \
        _existing(glue, database, name)
    if existing is not None:
        if statement.args.get("exists"):
            return f"table {database}.{name} exists already: not changed (IF NOT EXISTS)"
        raise QueryError(f"AlreadyExistsException: Table {name} already exists.")
    glue.create_table(DatabaseName=database, TableInput=table)
    kind = table["Parameters"].get("classification") or table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"]
    return (f"created table {database}.{name} ({kind}, {len(table['StorageDescriptor']['Columns'])} columns) "
            f"over {location}")


def _existing(glue, database: str, name: str):
    try:
        return glue.get_table(DatabaseName=database, Name=name)["Table"]
    except glue.exceptions.EntityNotFoundException:
        return None


def _default_database() -> str:
    from stedi.tables import lakehouse

    return lakehouse().namespace


def _table_input(name: str, statement, properties: list) -> dict:
    from sqlglot import exp

    schema = statement.this if isinstance(statement.this, exp.Schema) else None
    columns = [_column(c) for c in (schema.expressions if schema else []) if isinstance(c, exp.ColumnDef)]
    table = {"Name": name, "TableType": "EXTERNAL_TABLE", "Parameters": {"EXTERNAL": "TRUE",
             "transient_lastDdlTime": str(int(time.time()))}, "PartitionKeys": []}
    descriptor = {"Columns": columns, "InputFormat": TEXT_INPUT, "OutputFormat": TEXT_OUTPUT,
                  "SerdeInfo": {"SerializationLibrary": LAZY_SIMPLE, "Parameters": {}}}
    delimited = {}
    for prop in properties:
        if isinstance(prop, exp.ExternalProperty):
            continue
        if isinstance(prop, exp.SchemaCommentProperty):
            table["Description"] = _literal(prop.this)
        elif isinstance(prop, exp.PartitionedByProperty):
            keys = prop.this.expressions if isinstance(prop.this, exp.Schema) else [prop.this]
            table["PartitionKeys"] = [_column(k) for k in keys if isinstance(k, exp.ColumnDef)]
        elif isinstance(prop, exp.RowFormatSerdeProperty):
            descriptor["SerdeInfo"]["SerializationLibrary"] = _literal(prop.this)
            serde = prop.args.get("serde_properties")
            if serde is not None:
                descriptor["SerdeInfo"]["Parameters"] = {_literal(p.this): _literal(p.args["value"])
                                                         for p in serde.expressions}
        elif isinstance(prop, exp.SerdeProperties):
            descriptor["SerdeInfo"]["Parameters"] = {_literal(p.this): _literal(p.args["value"])
                                                     for p in prop.expressions}
        elif isinstance(prop, exp.RowFormatDelimitedProperty):
            for key, parameter in (("fields", "field.delim"), ("lines", "line.delim"), ("escaped", "escape.delim"),
                                   ("collection_items", "collection.delim"), ("map_keys", "mapkey.delim")):
                if prop.args.get(key) is not None:
                    delimited[parameter] = _literal(prop.args[key])
        elif isinstance(prop, exp.FileFormatProperty):
            _stored_as(prop, descriptor)
        elif isinstance(prop, exp.LocationProperty):
            descriptor["Location"] = _literal(prop.this)
        elif type(prop) is exp.Property:  # TBLPROPERTIES ('k' = 'v')
            table["Parameters"][_literal(prop.this)] = _literal(prop.args["value"])
        else:
            raise QueryError(f"{prop.sql('hive')} is not run locally in CREATE EXTERNAL TABLE")
    if delimited:
        descriptor["SerdeInfo"]["Parameters"].update({**delimited, "serialization.format": delimited.get(
            "field.delim", ",")})
    if "Location" not in descriptor:
        raise QueryError("CREATE EXTERNAL TABLE needs LOCATION 's3://bucket/prefix/': Athena reads the files there")
    library = descriptor["SerdeInfo"]["SerializationLibrary"]
    if library in JSON_SERDES:
        table["Parameters"].setdefault("classification", "json")
    elif library == PARQUET[0]:
        table["Parameters"].setdefault("classification", "parquet")
    table["StorageDescriptor"] = descriptor
    return table


def _column(definition) -> dict:
    kind = definition.args["kind"].sql("hive").lower()
    kind = re.sub(r"\s*([<>,:])\s*", r"\1", kind)
    column = {"Name": definition.name.lower(), "Type": kind}
    for constraint in definition.args.get("constraints") or []:
        if constraint.kind.__class__.__name__ == "CommentColumnConstraint":
            column["Comment"] = _literal(constraint.kind.this)
    return column


def _stored_as(prop, descriptor: dict) -> None:
    from sqlglot import exp

    value = prop.this
    if isinstance(value, exp.InputOutputFormat):
        descriptor["InputFormat"] = _literal(value.args["input_format"])
        descriptor["OutputFormat"] = _literal(value.args["output_format"])
        return
    name = (value.name if hasattr(value, "name") else str(value)).upper()
    if name not in STORED_AS:
        raise QueryError(f"STORED AS {name} is not known here: use PARQUET, TEXTFILE, ORC, AVRO, or INPUTFORMAT "
                         "... OUTPUTFORMAT ...")
    library, input_format, output_format = STORED_AS[name]
    descriptor["InputFormat"], descriptor["OutputFormat"] = input_format, output_format
    if descriptor["SerdeInfo"]["SerializationLibrary"] == LAZY_SIMPLE or name != "TEXTFILE":
        descriptor["SerdeInfo"]["SerializationLibrary"] = library


def drop_table(stack, statement, home: Path | None, say) -> str:
    """DROP TABLE: the catalog entry goes, the files stay (a Hive table in Athena). A pipeline table
    is only moved aside, for the pipeline's next run to take back."""
    from stedi.lakehouse.glue_tables import claim

    target = statement.this
    database = (target.db or _default_database()).lower()
    name = target.name.lower()
    glue = stack.client("glue")
    if _existing(glue, database, name) is None:
        if statement.args.get("exists"):
            return f"table {database}.{name} does not exist: nothing to drop (IF EXISTS)"
        raise QueryError(f"Table {database}.{name} does not exist")
    if home is not None and claim(glue, database, name, home, say or (lambda message: None), by="DROP TABLE") is None:
        return f"dropped {database}.{name} (the pipeline's table, kept aside for its next run)"
    glue.delete_table(DatabaseName=database, Name=name)
    return f"dropped table {database}.{name} (its files stay)"


# ------------------------------------------------------------------ SHOW CREATE TABLE


def show_create(glue, database: str, name: str) -> list[str]:
    """The table's DDL as Athena prints it, one line per row."""
    try:
        table = glue.get_table(DatabaseName=database, Name=name)["Table"]
    except glue.exceptions.EntityNotFoundException:
        raise QueryError(f"Table {database}.{name} does not exist") from None
    descriptor = table.get("StorageDescriptor", {}) or {}
    parameters = table.get("Parameters", {}) or {}
    if parameters.get("table_type", "").upper() == "ICEBERG":
        return _show_iceberg(table, database)
    serde = descriptor.get("SerdeInfo", {}) or {}
    from_deserializer = " COMMENT 'from deserializer'" if serde.get("SerializationLibrary") in JSON_SERDES else ""
    columns = descriptor.get("Columns", [])
    lines = [f"CREATE EXTERNAL TABLE `{name}`("]
    for i, column in enumerate(columns):
        comment = f" COMMENT '{column['Comment']}'" if column.get("Comment") else from_deserializer
        lines.append(f"  `{column['Name']}` {column['Type']}{comment}" + (", " if i < len(columns) - 1 else ")"))
    keys = table.get("PartitionKeys", [])
    if keys:
        lines.append("PARTITIONED BY ( ")
        lines += [f"  `{k['Name']}` {k['Type']}" + (", " if i < len(keys) - 1 else ")") for i, k in enumerate(keys)]
    lines += ["ROW FORMAT SERDE ", f"  '{serde.get('SerializationLibrary', LAZY_SIMPLE)}' "]
    serde_parameters = serde.get("Parameters", {}) or {}
    if serde_parameters:
        lines.append("WITH SERDEPROPERTIES ( ")
        items = sorted(serde_parameters.items())
        lines += [f"  '{k}'='{v}'" + (", " if i < len(items) - 1 else ") ") for i, (k, v) in enumerate(items)]
    lines += ["STORED AS INPUTFORMAT ", f"  '{descriptor.get('InputFormat', TEXT_INPUT)}' ", "OUTPUTFORMAT ",
              f"  '{descriptor.get('OutputFormat', TEXT_OUTPUT)}'", "LOCATION", f"  '{descriptor.get('Location', '')}'"]
    shown = sorted((k, v) for k, v in parameters.items() if k != "EXTERNAL")
    if shown:
        lines.append("TBLPROPERTIES (")
        lines += [f"  '{k}'='{v}'" + (", " if i < len(shown) - 1 else ")") for i, (k, v) in enumerate(shown)]
    return lines


def _show_iceberg(table: dict, database: str) -> list[str]:
    columns = (table.get("StorageDescriptor", {}) or {}).get("Columns", [])
    lines = [f"CREATE TABLE {database}.{table['Name']} ("]
    lines += [f"  {c['Name']} {c['Type']}" + ("," if i < len(columns) - 1 else ")") for i, c in enumerate(columns)]
    lines += [f"LOCATION '{(table.get('StorageDescriptor', {}) or {}).get('Location', '')}'", "TBLPROPERTIES (",
              "  'table_type'='iceberg'", ");"]
    return lines
