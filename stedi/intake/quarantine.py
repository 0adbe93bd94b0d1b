"""What the run does with the records intake set aside: count them, warn, or stop the run.

A few bad records are normal in a landing zone and must not hold the data scientists' tables
hostage, so they are quarantined and the run goes on with a warning. Many bad records mean
something upstream broke (a new export format, a truncated delivery): publishing the rest
would quietly shrink every table downstream, so above a ceiling the run stops before anything
is published. The ceiling is `[quarantine] max_share` in catalog/tables.toml.
"""

from __future__ import annotations

import os
import re
from collections import Counter

from stedi.intake.parser import OUTSIDE_WINDOW, Intake, quarantine_share
from stedi.tables import Lakehouse, Table

_VALUED = re.compile(r'^(?P<field>"[^"]+") is .*, (?P<rule>(expected|outside) .*)$')
MAX_SHARE_ENV = "STEDI_QUARANTINE_MAX_SHARE"
TOP_REASONS = 3


class QuarantineExceeded(RuntimeError):
    """Too large a share of a source's records could not be accepted; nothing was published."""


def max_share(house: Lakehouse, override: float | None = None) -> float:
    """The ceiling: an explicit override, else the environment, else the declaration."""
    if override is None and os.environ.get(MAX_SHARE_ENV):
        try:
            override = float(os.environ[MAX_SHARE_ENV])
        except ValueError:
            raise ValueError(
                f"{MAX_SHARE_ENV} must be a fraction such as 0.05, not {os.environ[MAX_SHARE_ENV]!r}"
            ) from None
    share = house.quarantine_max_share if override is None else override
    if not 0 <= share <= 1:
        raise ValueError(f"the quarantine ceiling must be a fraction between 0 and 1, not {share}")
    return share


def check(intakes: dict[Table, Intake], ceiling: float) -> None:
    """Raise QuarantineExceeded naming every source above the ceiling, with its commonest reasons."""
    over = [(table, intake) for table, intake in intakes.items() if quarantine_share(intake) > ceiling]
    if not over:
        return
    lines = ["the run stopped before publishing anything: too many landing records could not be accepted"]
    for table, intake in over:
        lines.append(
            f"- {table.source}: {intake.quarantined.num_rows:,} of {intake.records:,} records "
            f"({quarantine_share(intake):.1%}) are above the {ceiling:.1%} ceiling; commonest reasons:"
        )
        lines.extend(f"    {count:,} x {reason} (first: {where})" for reason, count, where in reasons(intake))
    lines.append(
        f"Fix the files, or raise the ceiling ([quarantine] max_share in catalog/tables.toml, {MAX_SHARE_ENV}, "
        "or `stedi pipeline --max-quarantine 0.2`) to publish the accepted records and quarantine the rest."
    )
    raise QuarantineExceeded("\n".join(lines))


def reasons(intake: Intake, top: int = TOP_REASONS) -> list[tuple[str, int, str]]:
    """The commonest reasons, each with its count and the first file:line it was given for.

    Reasons that differ only in a quoted value (`"x" is the string "abc"`) are grouped by the
    text before the value, so one broken column reads as one reason, not thousands.
    """
    rows = intake.quarantined.to_pylist()
    counts: Counter[str] = Counter()
    first: dict[str, str] = {}
    for row in rows:
        kind = _kind(row["reason"])
        counts[kind] += 1
        first.setdefault(kind, f"{row['file']}" + (f":{row['line']}" if row["line"] is not None else ""))
    return [(kind, count, first[kind]) for kind, count in counts.most_common(top)]


def judged_by_the_clock(intake: Intake) -> bool:
    """Whether a record was set aside for an instant outside the epoch window, whose end moves
    with the clock (now + 1 day): the same bytes may be judged otherwise later, so a run that
    skips unchanged steps (stedi/runtime/steps.py) must land them again."""
    return any(OUTSIDE_WINDOW in reason for reason in intake.quarantined.column("reason").to_pylist())


def summary(intake: Intake) -> dict:
    """The run summary's account of one source: records in files = accepted + quarantined + suppressed."""
    return {
        "files": intake.files,
        "records": intake.records,
        "accepted": intake.accepted.num_rows,
        "quarantined": intake.quarantined.num_rows,
        "suppressed": intake.suppressed,
        "duplicates": intake.duplicates,
        "notes": list(intake.notes),
        "spooled": intake.spooled,  # held on local disk, past the intake's memory budget (spool.py)
    }


def gate_facts(intake: Intake) -> dict:
    """What a landing table's gate must know beyond its rows: how many records its files hold and
    how many of them were set aside (expectations/reconciliation.py)."""
    return {
        "landing_records": intake.records,
        "quarantined": intake.quarantined.num_rows,
        "suppressed": intake.suppressed,
    }


def warning(table: Table, quarantine: Table, intake: Intake, namespace: str) -> str | None:
    if not intake.quarantined.num_rows:
        return None
    kind, _, where = reasons(intake, top=1)[0]
    return (
        f"warning: {intake.quarantined.num_rows:,} of {intake.records:,} {table.source} records "
        f"({quarantine_share(intake):.1%}) quarantined in {namespace}.{quarantine.name}; commonest: {kind} ({where})"
    )


def _kind(reason: str) -> str:
    """`"x" is the string "abc", expected a number` -> `"x": expected a number`."""
    valued = _VALUED.match(reason)
    if valued:
        return f"{valued['field']}: {valued['rule']}"
    return reason.split(" (", 1)[0]
