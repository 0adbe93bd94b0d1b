"""Schema and keys: the staged table is exactly what catalog/tables.toml declares.

Every table gets this suite, derived from its declaration alone: the column list in order,
each column's type, no null in a required column, and unique keys.
"""

from __future__ import annotations

import great_expectations.expectations as gxe

from expectations.context import Audit, Suite


def suites(audit: Audit) -> list[Suite]:
    table = audit.table
    checks = [gxe.ExpectTableColumnsToMatchOrderedList(column_list=table.column_names)]
    for column in table.columns:
        checks.append(gxe.ExpectColumnValuesToBeOfType(column=column.name, type_=audit.engine.type_name(column.type)))
    for name in table.required_columns:
        checks.append(gxe.ExpectColumnValuesToNotBeNull(column=name))
    if len(table.keys) == 1:
        checks.append(gxe.ExpectColumnValuesToBeUnique(column=table.keys[0]))
    elif table.keys:
        checks.append(gxe.ExpectCompoundColumnsToBeUnique(column_list=list(table.keys)))
    return [Suite(table.name, checks)]
