"""What every query engine gives `stedi query`: one Athena statement in, one Result out.

Two engines: DuckDB on the embedded stack (no Docker; Athena SQL translated with sqlglot),
and Trino on the Docker stack (Athena SQL runs as written). `open_engine()` picks one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from stedi.query.errors import QueryError

ENGINES = ("auto", "duckdb", "trino")


@dataclass
class Result:
    columns: list[str]
    rows: list[tuple]
    types: list[str] = field(default_factory=list)
    seconds: float = 0.0
    sql: str = ""  # the statement the engine ran (the DuckDB translation, or the Athena SQL)
    source: str = ""  # the Athena statement as written

    def records(self) -> list[dict]:
        """One dict per row, column names as keys (a repeated name gets a _2, _3 suffix)."""
        names = unique_names(self.columns)
        return [dict(zip(names, row, strict=True)) for row in self.rows]


class Engine(Protocol):
    name: str

    def run(self, sql: str, *, line_offset: int = 0, origin: str = "") -> Result:
        """Run one Athena statement. `line_offset`/`origin` place error positions in a file."""

    def translate(self, sql: str) -> str:
        """The statement the engine would run for this Athena statement."""

    def close(self) -> None: ...

    def __enter__(self) -> Engine: ...

    def __exit__(self, *exc) -> None: ...


def open_engine(kind: str = "auto") -> Engine:
    """`duckdb`: the running embedded stack; `trino`: the running Docker stack; `auto`: the
    embedded stack if it runs, else the Docker stack if it runs, else the embedded stack's
    "not running" error (a StackError, which says how to start it)."""
    if kind not in ENGINES:
        raise QueryError(f"unknown engine {kind!r}: use one of {', '.join(ENGINES)}")
    from stedi import stack

    if kind == "duckdb" or (kind == "auto" and stack.current() is not None):
        from stedi.query.duckdb_engine import DuckDBEngine

        return DuckDBEngine(stack.require())
    from stedi import docker_stack

    if docker_stack.is_up():
        from stedi.query.trino_engine import TrinoEngine

        return TrinoEngine()
    if kind == "trino":
        raise QueryError(docker_stack.NOT_UP)
    stack.require()  # raises: neither stack runs
    raise AssertionError("unreachable")


def wants_trino(kind: str = "auto") -> bool:
    """Whether --translate must ask Trino (which runs Athena SQL as written)."""
    return kind == "trino"


def unique_names(columns: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    names = []
    for name in columns:
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return names
