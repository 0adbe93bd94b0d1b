"""Value ranges: measurements and instants a sensor or a clock can actually produce.

The bounds are the record rules (stedi/intake/rules.py), read from catalog/tables.toml: `min`/
`max` of a measurement, and for `epoch_ms` columns the window from 2000-01-01 to a day after
now. The intake already quarantined every landing record outside them; this suite re-checks
every table a job writes, as a safety net, with the same numbers.
"""

from __future__ import annotations

import great_expectations.expectations as gxe
from great_expectations.expectations.row_conditions import Column

from expectations.context import Audit, Suite


def suites(audit: Audit) -> list[Suite]:
    checks = []
    for bound in audit.rules.bounds.values():
        given = {"row_condition": Column(bound.column) != 0} if bound.zero_is_unset else {}
        checks.append(
            gxe.ExpectColumnValuesToBeBetween(column=bound.column, min_value=bound.low, max_value=bound.high, **given)
        )
    return [Suite(audit.table.name, checks)] if checks else []
