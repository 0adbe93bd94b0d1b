"""Row counts: nothing appears from nowhere and nothing vanishes unaccounted for.

- A landing table holds every record of its files except the quarantined ones and the
  suppressed ones (erased people's, stedi/privacy/).
- A filtered table never has more rows than the table it filters (`like` or `rows_at_most`
  in catalog/tables.toml): customers_curated <= customer_trusted, and so on.
- On a recognized data set the count is known in advance: the course's published counts for
  the Udacity starter data under the rubric policy, or the generator's own expected counts
  for a synthetic data set (stedi/gate.py recognizes them).
"""

from __future__ import annotations

import json
from pathlib import Path

import great_expectations.expectations as gxe

from expectations.context import Audit, Suite


def suites(audit: Audit) -> list[Suite]:
    table = audit.table
    checks = []
    if table.zone == "landing" and audit.landing_records is not None:
        accepted = audit.landing_records - audit.quarantined - audit.suppressed
        checks.append(gxe.ExpectTableRowCountToEqual(value=accepted))
    if table.bounded_by:
        upper = audit.engine.count(audit.published(table.bounded_by))
        checks.append(gxe.ExpectTableRowCountToBeBetween(min_value=0, max_value=upper))
    if audit.expected_rows is not None:
        checks.append(gxe.ExpectTableRowCountToEqual(value=audit.expected_rows))
    return [Suite(table.name, checks)] if checks else []


# The course's published counts for the Udacity starter data under the rubric policy
# (../shared/data/README.md): what its graders check.
PUBLISHED_RUBRIC = {
    "customer_landing": 956,
    "accelerometer_landing": 81_273,
    "step_trainer_landing": 28_680,
    "customer_trusted": 482,
    "accelerometer_trusted": 40_981,
    "customers_curated": 482,
    "step_trainer_trusted": 14_460,
    "machine_learning_curated": 43_681,
}


def known_counts(landing: Path, policy: str) -> dict[str, int]:
    """Expected row counts when the landing directory is a data set whose counts are known.

    - A synthetic data set carries its generator's expected counts (expected_counts.json).
    - The Udacity starter data, recognized by its pinned checksums, has published counts
      for the rubric policy.
    Anything else has none: the other suites still apply.
    """
    from stedi.datasets import udacity
    from stedi.tables import lakehouse

    declared = lakehouse().tables
    generated = landing / "expected_counts.json"
    if generated.exists():
        counts = json.loads(generated.read_text()).get("expected", {}).get(policy, {})
        return {name: count for name, count in counts.items() if name in declared}
    if policy == "rubric" and udacity.is_starter_data(landing):
        return dict(PUBLISHED_RUBRIC)
    return {}
