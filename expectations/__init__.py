"""The quality gates' suites, one module per concern, derived from catalog/tables.toml.

Each module's `suites(audit)` returns the validations it wants for the staged table in
`audit` (stedi/gate.py runs them before the table is published). Suites with the same name
are one validation: every module adds to the table's own suite (named like the table), and
cross-table checks get a suite of their own (`<table>.consent`, `<table>.lineage`, ...) over a
SQL view joining the staged rows to the published tables they came from.

- schema: exact columns in order, types, required non-null, unique keys (every table)
- ranges: measurements within physical bounds, instants within a sane window
- anonymization: no identifier column or identifier-looking value in curated tables
- consent: every row has a consenting customer; strict: nothing before the consent date
- lineage: every row traces back to the rows it came from (zone to zone)
- reconciliation: row counts (files = accepted + quarantined, filters never grow, known totals)
"""

from __future__ import annotations

from expectations import anonymization, consent, lineage, ranges, reconciliation, schema
from expectations.context import Audit, Suite

MODULES = (schema, ranges, reconciliation, anonymization, consent, lineage)


def suites(audit: Audit) -> list[Suite]:
    """Every validation for the staged table, same-named suites merged, the table's own first."""
    merged: dict[str, Suite] = {}
    for module in MODULES:
        for suite in module.suites(audit):
            if suite.name in merged:
                known = merged[suite.name]
                if known.view != suite.view:
                    raise ValueError(f"two modules define suite {suite.name} over different views")
                suite = Suite(known.name, known.expectations + suite.expectations, known.view, known.uses, known.extra)
            merged[suite.name] = suite
    return list(merged.values())


__all__ = ["Audit", "Suite", "suites"]
