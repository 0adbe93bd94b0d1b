"""The Docker stack's engine: Trino, which speaks Athena's dialect, so nothing is translated.

Statements go to the Docker stack's Trino (catalog `glue_catalog`, schema `stedi`) through the
docker target's `trino_query`. Athena's
catalog name `awsdatacatalog` is mapped to the stack's catalog.
"""

from __future__ import annotations

import re
import time

from stedi.query.errors import QueryError
from stedi.query.result import Result
from stedi.query.schema import CATALOG as ATHENA_CATALOG


class TrinoEngine:
    name = "trino"

    def __init__(self, query=None):
        from stedi.targets import compose as docker_stack

        self._query = query or docker_stack.trino_query
        self._catalog = docker_stack.CATALOG

    def translate(self, sql: str) -> str:
        """Athena's catalog name replaced by the stack's; the statement is otherwise as written."""
        if not re.search(ATHENA_CATALOG, sql, re.IGNORECASE):
            return sql
        import sqlglot
        from sqlglot import exp
        from sqlglot.errors import SqlglotError

        try:
            tree = sqlglot.parse_one(sql, read="trino")
        except SqlglotError:
            return sql  # Trino reports the syntax error itself
        for table in tree.find_all(exp.Table):
            if table.catalog.lower() == ATHENA_CATALOG:
                table.set("catalog", exp.to_identifier(self._catalog))
        return tree.sql(dialect="trino")

    def run(self, sql: str, *, line_offset: int = 0, origin: str = "") -> Result:
        started = time.perf_counter()
        statement = self.translate(sql.strip().rstrip(";"))
        try:
            columns, rows = self._query(statement)
        except RuntimeError as error:  # the Docker stack's errors, in one sentence
            prefix = f"{origin}: " if origin else ""
            raise QueryError(f"{prefix}{error}") from None
        return Result(list(columns), [tuple(r) for r in rows], [], time.perf_counter() - started, statement, sql)

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
