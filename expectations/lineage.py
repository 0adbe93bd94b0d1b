"""Referential integrity between zones: every row traces back to the rows it came from.

- A filtered copy (`like` in catalog/tables.toml) holds only rows of its source, column for
  column.
- customers_curated: every customer_id is the pseudonym of a trusted customer's email.
- machine_learning_curated: every row is a trusted Step Trainer reading and a trusted
  accelerometer reading taken at the same moment; under the strict policy that accelerometer
  reading is the device's own customer's (never a stranger's motion beside your steps).
"""

from __future__ import annotations

import great_expectations.expectations as gxe

from expectations.consent import EMAIL
from expectations.context import Audit, Suite


def suites(audit: Audit) -> list[Suite]:
    table = audit.table
    if table.like:
        return [_filtered_copy(audit)]
    if table.name == "customers_curated":
        return [_curated_customers(audit)]
    if table.name == "machine_learning_curated":
        return [_training_pairs(audit)]
    return []


def _same(left: str, right: str, columns: list[str]) -> str:
    """A null-safe join condition on `columns` (a NULL x matches a NULL x)."""
    return " AND ".join(f"{left}.{c} IS NOT DISTINCT FROM {right}.{c}" for c in columns)


def _filtered_copy(audit: Audit) -> Suite:
    table, source = audit.table, audit.table.like
    columns = table.column_names
    flag = f"found_in_{source}"
    query = (
        f"SELECT t.*, s.found IS NOT NULL AS {flag} FROM t "
        f"LEFT JOIN (SELECT DISTINCT {', '.join(columns)}, TRUE AS found FROM {source}) s ON {_same('t', 's', columns)}"
    )
    checks = [gxe.ExpectColumnValuesToBeInSet(column=flag, value_set=[True])]
    return Suite(f"{table.name}.lineage", checks, view=query, uses=(source,))


def _curated_customers(audit: Audit) -> Suite:
    emails = _normalized(audit, "customer_trusted", "email")
    query = (
        "SELECT t.customer_id, ids.value IS NOT NULL AS found_in_customer_trusted "
        "FROM t LEFT JOIN ids ON t.customer_id = ids.pseudonym"
    )
    checks = [gxe.ExpectColumnValuesToBeInSet(column="found_in_customer_trusted", value_set=[True])]
    return Suite(f"{audit.table.name}.lineage", checks, view=query, extra={"ids": audit.pseudonyms(emails)})


def _training_pairs(audit: Audit) -> Suite:
    serials = audit.engine.distinct_values(audit.published("step_trainer_trusted"), "serialNumber")
    users = _normalized(audit, "accelerometer_trusted", "user")
    motion = ["timestamp", "x", "y", "z"]
    query = f"""
        WITH steps AS (
            SELECT DISTINCT devices.pseudonym AS device_id, s.sensorReadingTime, s.distanceFromObject
            FROM step_trainer_trusted s JOIN devices ON s.serialNumber = devices.value
        ), readings AS (
            SELECT DISTINCT {", ".join(motion)} FROM accelerometer_trusted
        ), own AS (
            SELECT DISTINCT {", ".join("a." + c for c in motion)}, c.device_id
            FROM accelerometer_trusted a
            JOIN users u ON {EMAIL.format("a.user")} = u.value
            JOIN customers_curated c ON c.customer_id = u.pseudonym
        )
        SELECT t.device_id, t.sensorReadingTime, t.timestamp,
               st.device_id IS NOT NULL AS found_in_step_trainer_trusted,
               r.timestamp IS NOT NULL AS found_in_accelerometer_trusted,
               o.device_id IS NOT NULL AS paired_with_own_reading
        FROM t
        LEFT JOIN steps st ON st.device_id = t.device_id AND st.sensorReadingTime = t.sensorReadingTime
            AND {_same("st", "t", ["distanceFromObject"])}
        LEFT JOIN readings r ON {_same("r", "t", motion)}
        LEFT JOIN own o ON o.device_id = t.device_id AND {_same("o", "t", motion)}
    """
    checks = [
        gxe.ExpectColumnPairValuesToBeEqual(column_A="sensorReadingTime", column_B="timestamp"),
        gxe.ExpectColumnValuesToBeInSet(column="found_in_step_trainer_trusted", value_set=[True]),
        gxe.ExpectColumnValuesToBeInSet(column="found_in_accelerometer_trusted", value_set=[True]),
    ]
    if audit.strict:
        checks.append(gxe.ExpectColumnValuesToBeInSet(column="paired_with_own_reading", value_set=[True]))
    return Suite(
        f"{audit.table.name}.lineage",
        checks,
        view=query,
        uses=("step_trainer_trusted", "accelerometer_trusted", "customers_curated"),
        extra={"devices": audit.pseudonyms(serials), "users": audit.pseudonyms(users)},
    )


def _normalized(audit: Audit, table: str, column: str) -> list[str]:
    rows = audit.engine.sql(f"SELECT DISTINCT {EMAIL.format(column)} AS v FROM src", {"src": audit.published(table)})
    return audit.engine.distinct_values(rows, "v")
