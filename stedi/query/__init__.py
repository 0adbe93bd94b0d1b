"""`stedi query`: Athena SQL (Trino dialect) over every zone of the lakehouse.

    from stedi.query import open_engine
    with open_engine() as engine:            # DuckDB on the running embedded stack
        result = engine.run("SELECT count(*) FROM customer_trusted")
    result.columns, result.rows, result.records()

Modules: translate (Athena -> DuckDB SQL, and the faithfulness guard), duckdb_engine (the
embedded engine), trino_engine (the Docker stack's slot), output (text/csv/json),
athena_ddl (catalog/athena/), cli_handler (the subcommand).
"""

from stedi.query.engine import Engine, Result, open_engine
from stedi.query.errors import QueryError

__all__ = ["Engine", "QueryError", "Result", "open_engine"]
