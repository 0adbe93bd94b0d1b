"""What every query engine gives `stedi query`: one Athena statement in, one Result out.

Two engines: DuckDB (Athena SQL translated with sqlglot; nothing to start) and Trino (Athena SQL
as written): on the embedded stack DuckDB by default and its native Trino on request, started on
demand; on the Docker stack its Trino. `open_engine()` picks for the target the command acts on.
"""

from __future__ import annotations

from typing import Protocol

from stedi.query.errors import QueryError
from stedi.query.result import Result, unique_names

ENGINES = ("auto", "duckdb", "trino")


class Engine(Protocol):
    name: str

    def run(self, sql: str, *, line_offset: int = 0, origin: str = "") -> Result:
        """Run one Athena statement. `line_offset`/`origin` place error positions in a file."""

    def translate(self, sql: str) -> str:
        """The statement the engine would run for this Athena statement."""

    def close(self) -> None: ...

    def __enter__(self) -> Engine: ...

    def __exit__(self, *exc) -> None: ...


def open_engine(target, kind: str = "auto", progress=None) -> Engine:
    """The engine for the target the command acts on (stedi/targets/): DuckDB or the native Trino
    over the embedded stack (Trino started on demand, with `progress`), Trino in the Docker stack.
    `kind` forces one, and must suit the target."""
    if kind not in ENGINES:
        raise QueryError(f"unknown engine {kind!r}: use one of {', '.join(ENGINES)}")
    if target.name == "embedded" and kind in ("auto", "duckdb"):
        from stedi.query.duckdb_engine import DuckDBEngine

        return DuckDBEngine(target.stack())
    if target.name == "embedded" and kind == "trino":
        from stedi.query.trino_engine import TrinoEngine

        return TrinoEngine(target.trino(progress or (lambda message: None)).connection())
    if target.name == "docker" and kind in ("auto", "trino"):
        if not target.running():
            raise QueryError("the Docker stack is not running: start it with `make up`")
        from stedi.query.trino_engine import TrinoEngine
        from stedi.targets.compose import trino_connection

        return TrinoEngine(trino_connection())
    if target.name == "aws":
        raise QueryError("stedi query reads the local stacks; on AWS use Athena (workgroup stedi, `make deploy`)")
    engine = {"embedded": "duckdb", "docker": "trino"}[target.name]
    raise QueryError(
        f"the {target.name} target is queried with {engine}, not {kind}: drop --engine, or pick the target"
    )


def wants_trino(kind: str = "auto") -> bool:
    """Whether --translate must ask Trino (which runs Athena SQL as written)."""
    return kind == "trino"


__all__ = ["ENGINES", "Engine", "Result", "open_engine", "unique_names", "wants_trino"]
