"""The one error a user sees from `stedi query`: a sentence, never a traceback."""

from __future__ import annotations


class QueryError(ValueError):
    """A query that cannot run as written: bad syntax, an unknown table or column, or a Trino
    function with no faithful translation. A ValueError, so the CLI prints it on one line
    (plus, for positions, the query line with a caret) and exits with status 2."""


class Untranslatable(QueryError):
    """A statement Athena answers, but whose DuckDB translation would not answer the same: the
    embedded engine refuses it by name, and `stedi query` asks the stack's Trino instead."""


def caret(sql: str, line: int, column: int, width: int = 1) -> str:
    """The query's `line` (1-based) with a caret under `column` (1-based)."""
    lines = sql.splitlines() or [""]
    text = lines[max(0, min(line, len(lines)) - 1)]
    column = max(1, min(column, len(text) + 1))
    width = max(1, min(width, len(text) - column + 1))
    return f"  {text}\n  {' ' * (column - 1)}{'^' * width}"


def at_position(message: str, sql: str, line: int, column: int, width: int = 1, *, line_offset: int = 0,
                origin: str = "") -> QueryError:
    """A QueryError that names the position (lines counted in the file when line_offset is
    given) and shows it under the query line."""
    where = f"line {line + line_offset}, column {column}"
    prefix = f"{origin}: " if origin else ""
    return QueryError(f"{prefix}{message} at {where}\n{caret(sql, line, column, width)}")
