"""catalog/athena/: the Athena DDL of the landing tables and the validation queries, generated
from catalog/tables.toml so that they follow every change of a declaration.

    python -m stedi.query.athena_ddl          # rewrite catalog/athena/
    python -m stedi.query.athena_ddl --check  # exit 1 if a committed file differs

As the course asks, each landing table is a Glue table over its landing prefix, read with
the OpenX JSON SerDe; the trusted and curated tables are Iceberg tables the jobs create.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from stedi.lakehouse.glue_tables import HIVE_TYPES
from stedi.runtime import settings
from stedi.tables import Lakehouse, Table, lakehouse

HEADER = "-- Generated from catalog/tables.toml by `python -m stedi.query.athena_ddl`: do not edit.\n"
VALIDATION_FILE = "validation_queries.sql"


def athena_directory() -> Path:
    return settings.project_root() / "catalog" / "athena"


def landing_ddl(table: Table, house: Lakehouse) -> str:
    columns = ",\n".join(f"  `{c.name}` {HIVE_TYPES[c.type]}" for c in table.columns)
    location = f"s3://{house.bucket}/{house.landing_prefix(table)}"
    comment = table.description.replace("'", "''")
    return (
        f"{HEADER}"
        f"-- {table.name}: the raw JSON under {location}, as it landed.\n"
        f"CREATE EXTERNAL TABLE IF NOT EXISTS `{house.namespace}`.`{table.name}` (\n"
        f"{columns}\n"
        ")\n"
        f"COMMENT '{comment}'\n"
        "ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'\n"
        "WITH SERDEPROPERTIES (\n"
        "  'ignore.malformed.json' = 'FALSE',\n"
        "  'dots.in.keys' = 'FALSE',\n"
        "  'case.insensitive' = 'TRUE',\n"
        "  'mapping' = 'TRUE'\n"
        ")\n"
        "STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'\n"
        "OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'\n"
        f"LOCATION '{location}'\n"
        "TBLPROPERTIES ('classification' = 'json');\n"
    )


def validation_queries(house: Lakehouse) -> str:
    lines = [
        HEADER,
        "-- Row counts of every table, zone by zone: run them in Athena, or on the embedded stack with\n",
        "--   stedi query --file catalog/athena/validation_queries.sql\n",
        "-- and compare with the run summary (`stedi pipeline --summary`).\n",
    ]
    for zone in ("landing", "trusted", "curated"):
        lines.append(f"\n-- {zone}\n")
        for table in house.zone(zone):
            lines.append(f"SELECT '{table.name}' AS table_name, '{zone}' AS zone, count(*) AS row_count "
                         f"FROM {house.namespace}.{table.name};\n")
    return "".join(lines)


def generated_files(house: Lakehouse | None = None) -> dict[str, str]:
    """File name (in catalog/athena/) -> content."""
    house = house or lakehouse()
    files = {f"{t.name}.sql": landing_ddl(t, house) for t in house.zone("landing")}
    files[VALIDATION_FILE] = validation_queries(house)
    return files


def differences(directory: Path | None = None) -> list[str]:
    directory = directory or athena_directory()
    stale = []
    for name, content in generated_files().items():
        path = directory / name
        if not path.exists() or path.read_text() != content:
            stale.append(name)
    return stale


def write(directory: Path | None = None) -> list[Path]:
    directory = directory or athena_directory()
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in generated_files().items():
        path = directory / name
        path.write_text(content)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stedi.query.athena_ddl", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if catalog/athena/ is out of date")
    args = parser.parse_args(argv)
    if args.check:
        stale = differences()
        if stale:
            print(f"catalog/athena/ is out of date ({', '.join(stale)}): run python -m stedi.query.athena_ddl",
                  file=sys.stderr)
            return 1
        print("catalog/athena/ is up to date")
        return 0
    for path in write():
        print(f"wrote {path.relative_to(settings.project_root())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
