"""Intake: landing files to rows, every record accepted or quarantined with a reason.

- rules.py: the record rules read from catalog/tables.toml (types, required, bounds, epoch window)
- parser.py: the reader that applies them to every line of every landing file
- quarantine.py: what a run does with the records set aside (count, warn, or stop)
"""

from stedi.intake.parser import QUARANTINE_SCHEMA, Intake, quarantine_share, read_source

__all__ = ["QUARANTINE_SCHEMA", "Intake", "quarantine_share", "read_source"]
