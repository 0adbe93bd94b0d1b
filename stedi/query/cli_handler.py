"""`stedi query`: Athena SQL over every zone.

Wired into stedi/cli.py with `add_query_parser(commands)`. Light to import: DuckDB and
sqlglot load only when a query runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

FORMATS = ("text", "csv", "json")
ENGINES = ("auto", "duckdb", "trino")

EPILOG = """\
examples:
  stedi query "SELECT count(*) FROM customer_trusted"
  stedi query --format json "SELECT * FROM machine_learning_curated LIMIT 5"
  stedi query --file catalog/athena/validation_queries.sql
  stedi query 'SELECT * FROM "customer_trusted$snapshots"'
  stedi query "SELECT count(*) FROM customer_trusted FOR VERSION AS OF <snapshot_id>"
  stedi query --snapshots customer_trusted

Queries are Athena SQL (Trino dialect) against database stedi; all eight tables can be read,
the landing ones over the raw JSON files, as Athena's landing tables do. Without the Docker
stack the engine is DuckDB: a Trino function it cannot reproduce exactly is refused by name.
--engine trino runs them on the embedded stack's own Trino 476 (started on first use, about
15-30 s), which reads the same catalog: stedi query --engine trino "SELECT ..."."""


def add_query_parser(subparsers) -> argparse.ArgumentParser:
    query = subparsers.add_parser(
        "query", help="run Athena SQL (Trino dialect) on every zone, without Docker",
        description="Run Athena SQL against database stedi on the running stack.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    query.add_argument("sql", nargs="?", help="one statement ('-' reads it from standard input)")
    query.add_argument("--file", "-f", type=Path, help="run every ;-separated statement of a SQL file")
    query.add_argument("--snapshots", metavar="TABLE", help="list an Iceberg table's snapshots (for time travel)")
    query.add_argument("--format", default="text", choices=FORMATS,
                       help="text (aligned table, default), csv, or json (array of objects)")
    query.add_argument("--engine", default="auto", choices=ENGINES,
                       help="auto (default): DuckDB on the embedded stack, Trino in the Docker stack; trino on "
                            "the embedded stack starts its native Trino (Athena's dialect as written) if needed")
    query.add_argument("--translate", action="store_true",
                       help="print the SQL the engine would run instead of running it")
    query.set_defaults(handler=handle_query)
    return query


def handle_query(args, target) -> int:
    from stedi.query import output
    from stedi.query.engine import wants_trino
    from stedi.query.errors import QueryError
    from stedi.query.translate import split_statements

    given = [x for x in (args.sql, args.file, args.snapshots) if x is not None]
    if len(given) != 1:
        raise QueryError("give exactly one of: a statement, --file FILE, --snapshots TABLE")
    if args.file is not None:
        text = args.file.read_text()  # FileNotFoundError is a user error in the CLI
        statements = [(s.sql, s.line - 1, f"{args.file}, statement {i}")
                      for i, s in enumerate(split_statements(text), start=1)]
        if not statements:
            raise QueryError(f"{args.file} holds no statement")
    elif args.snapshots is not None:
        name = args.snapshots.strip().strip('"')
        statements = [(f"SELECT committed_at, snapshot_id, parent_id, operation, "
                       f"CAST(element_at(summary, 'total-records') AS bigint) AS total_records "
                       f'FROM "{name}$snapshots" ORDER BY committed_at', 0, "")]
    else:
        sql = sys.stdin.read() if args.sql == "-" else args.sql
        statements = [(sql, 0, "")]

    if args.translate and not wants_trino(args.engine):  # no stack needed to translate
        from stedi.query.translate import translate

        for sql, offset, origin in statements:
            print(translate(sql, line_offset=offset, origin=origin).sql + ";")
        return 0
    from stedi.runtime.progress import Progress

    statements_run = Statements(target, args.engine, Progress(stream=sys.stderr))
    try:
        if args.translate:
            for sql, _, _ in statements:
                print(statements_run.engine().translate(sql))
            return 0
        results = [statements_run.run(sql, offset, origin) for sql, offset, origin in statements]
    finally:
        statements_run.close()
    if args.file is not None:
        print(output.render_many(results, args.format))
    else:
        print(output.render(results[0], args.format))
    return 0


class Statements:
    """Runs a command's statements on the target: Athena's DDL on the stack's catalog (stedi/query/
    ddl.py), queries on the engine, opened on first use. On the embedded stack, a query the DuckDB
    translation refuses as untranslatable is answered by the stack's Trino, started on demand and
    said in one line, unless --engine duckdb asked for DuckDB alone."""

    def __init__(self, target, kind: str, progress):
        self.target, self.kind, self.progress = target, kind, progress
        self._engine = None
        self._trino = None

    def engine(self):
        from stedi.query.engine import open_engine

        if self._engine is None:
            self._engine = open_engine(self.target, self.kind, self.progress)
        return self._engine

    def run(self, sql: str, offset: int = 0, origin: str = ""):
        from stedi.query import ddl
        from stedi.query.errors import Untranslatable

        if ddl.is_ddl(sql):
            result = ddl.execute(sql, self.target.stack(), getattr(self.target.stack(), "home", None),
                                 lambda line: print(line, file=sys.stderr))
            for engine in (self._engine, self._trino):
                if engine is not None and hasattr(engine, "forget_catalog"):
                    engine.forget_catalog()
            return result
        try:
            return self.engine().run(sql, line_offset=offset, origin=origin)
        except Untranslatable as refusal:
            if self.kind != "auto" or self.target.name != "embedded":
                raise
            print(f"the embedded engine (DuckDB) cannot answer this as Athena would ({_reason(refusal)}): "
                  "the stack's Trino answers it", file=sys.stderr, flush=True)
            return self.trino().run(sql, line_offset=offset, origin=origin)

    def trino(self):
        from stedi.query.engine import open_engine

        if self._trino is None:
            self._trino = open_engine(self.target, "trino", self.progress)
        return self._trino

    def close(self) -> None:
        for engine in (self._engine, self._trino):
            if engine is not None:
                engine.close()


def _reason(refusal: Exception) -> str:
    text = str(refusal).split(" [in ", 1)[0]
    return text.split(": ", 1)[0] if len(text) > 160 else text
