"""`stedi query`: Athena SQL (Trino dialect) over every zone of the lakehouse.

    from stedi.query.engine import open_engine
    from stedi.targets.embedded import EmbeddedTarget
    with open_engine(EmbeddedTarget()) as engine:     # DuckDB on the running embedded stack
        result = engine.run("SELECT count(*) FROM customer_trusted")
    result.columns, result.rows, result.records()

Modules: engine (which engine serves a target), translate (Athena -> DuckDB SQL, and the
faithfulness guard), duckdb_engine (the embedded engine), trino_engine (the Docker stack's),
result, output (text/csv/json), schema (what Athena sees), athena_ddl (catalog/athena/),
cli_handler (the subcommand).
"""
