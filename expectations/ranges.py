"""Value ranges: measurements and instants a sensor or a clock can actually produce.

The bounds are declared with the columns (`min`/`max`, `epoch_ms`) in catalog/tables.toml.
Instants must fall between 2000-01-01 and a day after now: a reading from 1970 or from next
year is a unit mix-up (seconds for milliseconds) or a broken device clock, and would
silently defeat the consent-date comparisons downstream.
"""

from __future__ import annotations

import great_expectations.expectations as gxe
from great_expectations.expectations.row_conditions import Column

from expectations.context import Audit, Suite


def suites(audit: Audit) -> list[Suite]:
    checks = []
    start, end = audit.epoch_window
    for column in audit.table.columns:
        if column.min is not None or column.max is not None:
            checks.append(
                gxe.ExpectColumnValuesToBeBetween(column=column.name, min_value=column.min, max_value=column.max)
            )
        if column.epoch_ms:
            given = {"row_condition": Column(column.name) != 0} if column.zero_is_unset else {}
            checks.append(
                gxe.ExpectColumnValuesToBeBetween(column=column.name, min_value=start, max_value=end, **given)
            )
    return [Suite(audit.table.name, checks)] if checks else []
