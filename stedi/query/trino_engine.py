"""The Trino engine: Athena's own dialect, so statements run as written.

Two Trinos: the embedded stack's native one (stedi/targets/trino_server.py), whose catalog is
named `awsdatacatalog` as in Athena, and the Docker stack's, whose catalog is `glue_catalog`
(Athena's catalog name is mapped to it). Both are reached with the `trino` client.
"""

from __future__ import annotations

import re
import time
from functools import partial

from stedi.query.errors import QueryError
from stedi.query.result import Result
from stedi.query.schema import CATALOG as ATHENA_CATALOG
from stedi.targets.trino_client import TrinoFailed, execute


class TrinoEngine:
    name = "trino"

    def __init__(self, connection: dict | None = None, *, query=None):
        """`connection`: what `trino.dbapi.connect` takes (its `catalog` is the session's default);
        `query(sql) -> (columns, types, rows)` replaces the client where a test has no Trino."""
        self._query = query or partial(execute, connection)
        self._catalog = (connection or {}).get("catalog", ATHENA_CATALOG)

    def translate(self, sql: str) -> str:
        """Athena's catalog name replaced by the server's, if it differs; otherwise as written."""
        if self._catalog == ATHENA_CATALOG or not re.search(ATHENA_CATALOG, sql, re.IGNORECASE):
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
            columns, types, rows = self._query(statement)
        except TrinoFailed as error:
            prefix = f"{origin}: " if origin else ""
            raise QueryError(f"{prefix}{error}") from None
        return Result(list(columns), [tuple(r) for r in rows], list(types), time.perf_counter() - started,
                      statement, sql)

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
