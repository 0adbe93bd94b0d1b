"""What a suite can see while it audits one staged table.

A suite never reads the lakehouse itself: the gate hands it the staged rows, the published
tables upstream of them and a SQL engine, so the same suites run on pandas (small tables,
embedded stack) and on Spark (big tables, Docker and Glue) without knowing which.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from stedi.intake.rules import RecordRules
from stedi.pseudonym import hmac_hex
from stedi.tables import Lakehouse, Table


class Engine(Protocol):
    """The data frame engine a validation runs on (see stedi/gate.py)."""

    name: str

    def sql(self, query: str, tables: dict[str, Any]) -> Any: ...

    def from_rows(self, columns: dict[str, list]) -> Any: ...

    def distinct_values(self, frame: Any, column: str) -> list: ...

    def columns(self, frame: Any) -> list[str]: ...

    def type_name(self, declared: str) -> str: ...

    def count(self, frame: Any) -> int: ...


@dataclass(frozen=True)
class Suite:
    """One validation: a named batch and what must hold for it.

    `view` is None for the staged table itself; otherwise a SQL query over the staged
    table (`t`) and the tables named in `uses`, whose result is what the expectations see.
    """

    name: str
    expectations: list[Any]
    view: str | None = None
    uses: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)  # small frames made by the suite itself


@dataclass
class Audit:
    table: Table
    house: Lakehouse
    staged: Any  # the staged rows, in the engine's frame type
    engine: Engine
    policy: str
    pseudonym_key: bytes = field(repr=False)
    published: Callable[[str], Any]  # the published rows of another table
    now_ms: int
    # Known from outside the table: the records in a landing table's files, the quarantined
    # share of them, and the expected count when the data set is a recognized one.
    landing_records: int | None = None
    quarantined: int = 0
    suppressed: int = 0  # erased people's records, dropped at the door (stedi/privacy/)
    expected_rows: int | None = None

    @property
    def strict(self) -> bool:
        return self.policy == "strict"

    @property
    def rules(self) -> RecordRules:
        """The record rules the intake applied, with the same numbers (stedi/intake/rules.py)."""
        return RecordRules(self.table, self.now_ms)

    def pseudonyms(self, values: list[str | None]) -> Any:
        """(value, pseudonym) pairs keyed as the jobs key them (stedi/pseudonym.py), as a frame.

        Computed here in Python from the distinct values, a few thousand at most, so that
        a suite can join a curated table back to the raw identifiers it came from.
        """
        distinct = sorted({v for v in values if v is not None})
        return self.engine.from_rows(
            {"value": distinct, "pseudonym": [hmac_hex(v, self.pseudonym_key) for v in distinct]}
        )
