"""`stedi query` on a real pipeline run over the Udacity starter data: DuckDB reading the
Iceberg tables Spark wrote and the landing JSON on the S3 emulator, as Athena would."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime

import pytest

from stedi import pipeline
from stedi.query.cli_handler import add_query_parser
from stedi.query.duckdb_engine import DuckDBEngine
from stedi.query.errors import QueryError, Untranslatable
from stedi.tables import lakehouse
from stedi.targets import embedded_stack as stack
from stedi.targets.embedded import EmbeddedTarget
from tests.conftest import PROJECT_ROOT
from tests.oracle import records

pytestmark = pytest.mark.e2e

VALIDATION = PROJECT_ROOT / "catalog" / "athena" / "validation_queries.sql"


@pytest.fixture(scope="module")
def run_summary(starter_data):
    """One rubric run of the whole pipeline, for the module."""
    return pipeline.run_embedded(starter_data, "rubric")


@pytest.fixture(scope="module")
def engine(run_summary):
    with DuckDBEngine(stack.require()) as duck:
        yield duck


def query(*argv: str) -> str:
    """`stedi query ARGV...` through the subcommand's own parser and handler; its stdout."""
    parser = argparse.ArgumentParser(prog="stedi")
    add_query_parser(parser.add_subparsers())
    args = parser.parse_args(["query", *argv])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert args.handler(args, EmbeddedTarget()) == 0
    return out.getvalue()


def iceberg_rows(name: str) -> list[tuple]:
    """The table as Spark wrote it, read back with pyiceberg (no DuckDB involved); a landing table
    is its files' accepted records, as the pipeline read them."""
    table = lakehouse().table(name)
    if table.is_landing_files:
        from stedi.intake import read_source
        from stedi.lakehouse.landing import LandingReader

        arrow = read_source(table, LandingReader(stack.require())(table)).accepted
    else:
        arrow = stack.require().catalog().load_table((lakehouse().namespace, name)).scan().to_arrow()
    return sorted(tuple(row.values()) for row in arrow.to_pylist())


def test_the_validation_queries_agree_with_the_run_summary(run_summary):
    results = json.loads(query("--file", str(VALIDATION), "--format", "json"))
    counts = {r["rows"][0]["table_name"]: r["rows"][0]["row_count"] for r in results}
    assert counts == run_summary["tables"]
    assert set(counts) == set(lakehouse().tables)


def test_the_validation_queries_print_one_table_per_statement(run_summary):
    text = query("--file", str(VALIDATION))
    assert text.count("(1 row)") == len(lakehouse().tables)
    assert "machine_learning_curated  curated      43681" in text


@pytest.mark.parametrize("name", ["machine_learning_curated", "customers_curated", "step_trainer_trusted"])
def test_iceberg_tables_read_exactly_what_spark_wrote(engine, name):
    result = engine.run(f"SELECT * FROM {name}")
    assert sorted(result.rows) == iceberg_rows(name)


def test_landing_tables_read_the_raw_json_with_the_declared_columns(engine, starter_data):
    # The Iceberg copy made by the landing step and the raw JSON read as Athena reads it agree...
    result = engine.run("SELECT * FROM step_trainer_landing")
    assert sorted(result.rows) == iceberg_rows("step_trainer_landing")
    # ...and an absent key is NULL: the consent fields are missing for customers who never gave it.
    never = sum(1 for c in records(starter_data, "customer") if "shareWithResearchAsOfDate" not in c)
    [(nulls,)] = engine.run("SELECT count(*) FROM customer_landing WHERE sharewithresearchasofdate IS NULL").rows
    assert nulls == never > 0


def test_a_join_agrees_with_the_same_join_in_plain_python(engine, starter_data):
    sql = """
        SELECT c.email, count(*) AS readings, min(a.timestamp) / 1000 AS first_second
        FROM customer_trusted c JOIN accelerometer_landing a ON a.user = c.email
        GROUP BY c.email"""
    result = engine.run(sql)
    trusted = {row[lakehouse().table("customer_trusted").column_names.index("email")]
               for row in iceberg_rows("customer_trusted")}
    readings: Counter = Counter()
    first: dict[str, int] = {}
    for r in records(starter_data, "accelerometer"):
        if r["user"] in trusted:
            readings[r["user"]] += 1
            first[r["user"]] = min(first.get(r["user"], r["timestamp"]), r["timestamp"])
    assert {row[0]: (row[1], row[2]) for row in result.rows} == {
        email: (n, first[email] // 1000) for email, n in readings.items()}
    assert result.columns == ["email", "readings", "first_second"]


def test_the_rubric_join_on_timestamp_gives_sparks_machine_learning_count(engine, run_summary):
    [(pairs,)] = engine.run("SELECT count(*) FROM step_trainer_trusted s JOIN accelerometer_trusted a "
                            "ON s.sensorreadingtime = a.timestamp").rows
    assert pairs == run_summary["tables"]["machine_learning_curated"] == 43_681


def test_json_output_parses_into_one_object_per_row(run_summary):
    rows = json.loads(query("--format", "json", "SELECT * FROM machine_learning_curated LIMIT 5"))
    assert len(rows) == 5
    assert set(rows[0]) == {c.lower() for c in lakehouse().table("machine_learning_curated").column_names}
    assert all(isinstance(r["sensorreadingtime"], int) and isinstance(r["x"], float) for r in rows)


def test_csv_output_has_the_header_and_every_row(run_summary):
    lines = query("--format", "csv", "SELECT customer_id, device_id FROM customers_curated").splitlines()
    assert lines[0] == "customer_id,device_id" and len(lines) == 1 + run_summary["tables"]["customers_curated"]


def test_an_unknown_table_lists_the_tables(run_summary):
    with pytest.raises(QueryError) as error:
        query("SELECT count(*) FROM step_trainer_curated")
    assert all(name in str(error.value) for name in lakehouse().tables)


def test_a_syntax_error_shows_the_position(run_summary):
    with pytest.raises(QueryError, match=r"syntax error.*line 1, column \d+\n  SELECT count\(\*\) FROM WHERE"):
        query("SELECT count(*) FROM WHERE")


def test_an_untranslatable_function_is_refused_by_duckdb_and_answered_by_trino_by_default(run_summary, capsys):
    statement = ("SELECT format_datetime(from_unixtime(timestamp / 1000), 'HH') AS hour, count(*) AS readings "
                 "FROM accelerometer_landing GROUP BY 1 ORDER BY 1")
    with pytest.raises(Untranslatable, match="format_datetime"):
        query("--engine", "duckdb", statement)
    answered = json.loads(query("--format", "json", statement))
    assert "cannot answer this as Athena would (function format_datetime()" in capsys.readouterr().err
    assert sum(row["readings"] for row in answered) == run_summary["tables"]["accelerometer_landing"]


def test_the_stedi_command_answers_user_mistakes_in_one_line_without_traceback(run_summary):
    from stedi import cli

    commands = next(a for a in cli._parser()._actions if isinstance(a, argparse._SubParsersAction)).choices
    if "query" not in commands:
        pytest.skip("`stedi query` is not wired into stedi/cli.py yet")
    ok = subprocess.run([sys.executable, "-m", "stedi.cli", "query", "SELECT count(*) FROM customer_trusted"],
                        capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert ok.returncode == 0 and "482" in ok.stdout, ok.stderr
    bad = subprocess.run([sys.executable, "-m", "stedi.cli", "query", "SELECT * FROM nope"],
                         capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    target, error = bad.stderr.splitlines()[:2]  # the target it acted on (as every command says), then why
    assert target == "target: embedded (the embedded stack runs)" and len(bad.stderr.splitlines()) == 2
    assert error.startswith("stedi: error: Table 'stedi.nope' does not exist.")
    assert cli.main(["query", "--format", "json", "SELECT 1 AS one"]) == 0


def test_time_travel_reads_the_older_snapshot(run_summary):
    """Append rows to customer_trusted (a new snapshot), read both versions, then put the
    table back as the run left it."""
    table = stack.require().catalog().load_table((lakehouse().namespace, "customer_trusted"))
    before = table.current_snapshot()
    original = table.scan().to_arrow()
    table.append(original.slice(0, 10))
    try:
        with DuckDBEngine(stack.require()) as fresh:
            now = fresh.run("SELECT count(*) FROM customer_trusted").rows
            old = fresh.run(f"SELECT count(*) FROM customer_trusted FOR VERSION AS OF {before.snapshot_id}").rows
            # when it became current: written earlier on the audit branch, published after its gate
            published_ms = max(e.timestamp_ms for e in table.history() if e.snapshot_id == before.snapshot_id)
            at = datetime.fromtimestamp(published_ms / 1000, tz=UTC)
            by_time = fresh.run("SELECT count(*) FROM customer_trusted FOR TIMESTAMP AS OF "
                                f"TIMESTAMP '{at:%Y-%m-%d %H:%M:%S}.{published_ms % 1000:03d} UTC'").rows
            delta = fresh.run("SELECT (SELECT count(*) FROM customer_trusted) - (SELECT count(*) FROM "
                              f"customer_trusted FOR VERSION AS OF {before.snapshot_id}) AS added").rows
            snapshots = fresh.run('SELECT snapshot_id, parent_id, element_at(summary, \'added-records\') '
                                  'FROM "customer_trusted$snapshots" ORDER BY committed_at').rows
            with pytest.raises(QueryError, match="snapshot 42 of customer_trusted does not exist"):
                fresh.run("SELECT count(*) FROM customer_trusted FOR VERSION AS OF 42")
            with pytest.raises(QueryError, match="no snapshot at or before"):
                fresh.run("SELECT count(*) FROM customer_trusted FOR TIMESTAMP AS OF TIMESTAMP '2000-01-01 00:00:00'")
        listed = query("--snapshots", "customer_trusted", "--format", "json")
    finally:
        table.overwrite(original)
    assert now == [(run_summary["tables"]["customer_trusted"] + 10,)]
    assert old == by_time == [(run_summary["tables"]["customer_trusted"],)]
    assert delta == [(10,)]
    assert snapshots[-2][0] == before.snapshot_id and snapshots[-1][1:] == (before.snapshot_id, "10")
    assert [s["snapshot_id"] for s in json.loads(listed)][-2:] == [before.snapshot_id, snapshots[-1][0]]
