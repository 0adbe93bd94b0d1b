"""The embedded stack's native Trino 476 (stedi/targets/trino_server.py), for real: started once
for the module over one rubric run on the starter data, it answers Athena SQL as written, and
every statement of the Athena corpus (tests/athena_corpus/*.sql) gives on the DuckDB translation
the rows Trino gives, or the translation refuses it with its sentence."""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

from stedi import pipeline
from stedi.query.duckdb_engine import DuckDBEngine
from stedi.query.errors import QueryError
from stedi.query.translate import split_statements, translate
from stedi.query.trino_engine import TrinoEngine
from stedi.runtime import settings
from stedi.targets import embedded_stack as stack
from stedi.targets import trino_server
from stedi.targets.embedded import EmbeddedTarget
from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.e2e

CORPUS = PROJECT_ROOT / "tests" / "athena_corpus"
VALIDATION = PROJECT_ROOT / "catalog" / "athena" / "validation_queries.sql"


def corpus() -> list[tuple[str, str]]:
    """(id, statement) for every statement of the corpus and of the validation queries."""
    found = []
    for path in [*sorted(CORPUS.glob("*.sql")), VALIDATION]:
        for statement in split_statements(path.read_text()):
            found.append((f"{path.stem}:{statement.line}", statement.sql))
    return found


@pytest.fixture(scope="module")
def run_summary(starter_data):
    return pipeline.run_embedded(starter_data, "rubric")


@pytest.fixture(scope="module")
def trino(run_summary):
    yield EmbeddedTarget().trino(lambda message: None)


@pytest.fixture(scope="module")
def engines(trino):
    with DuckDBEngine(stack.require()) as duck:
        yield TrinoEngine(trino.connection()), duck


def corpus_placeholders(on_trino) -> dict[str, str]:
    """What the corpus's `${...}` stand for on a stack: customer_trusted's first and last snapshots,
    and an instant after the run (in the past by the time a statement runs: Trino refuses a
    pointer that is not)."""
    rows = on_trino.run('SELECT snapshot_id, committed_at FROM "customer_trusted$snapshots" ORDER BY committed_at').rows
    assert len(rows) >= 2, rows
    return {"snapshot_first": str(rows[0][0]), "snapshot_last": str(rows[-1][0]),
            "instant_after_run": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]}


@pytest.fixture(scope="module")
def placeholders(engines):
    on_trino, _ = engines
    return corpus_placeholders(on_trino)


def normal(value):
    """One value as both engines should agree on it: numbers compared to 10 significant digits,
    instants in UTC, maps as sorted pairs."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float | decimal.Decimal):
        number = float(value)
        return number if math.isnan(number) else float(f"{number:.10g}")
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return tuple(sorted((normal(k), normal(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(normal(v) for v in value)
    return repr(value)


def comparable(rows: list[tuple], ordered: bool) -> list:
    rows = [tuple(normal(v) for v in row) for row in rows]
    return rows if ordered else sorted(rows, key=repr)


def is_ordered(sql: str) -> bool:
    """An outermost ORDER BY: the last one, outside any parenthesis."""
    depth, last = 0, None
    for match in re.finditer(r"\(|\)|\border\s+by\b", sql, re.IGNORECASE):
        token = match.group(0)
        depth += token == "("
        depth -= token == ")"
        if token not in "()" and depth == 0:
            last = match
    return last is not None


def test_trino_runs_on_a_newer_jdk_bound_to_loopback_with_a_bounded_heap(trino):
    cmdline = Path(f"/proc/{trino.pid}/cmdline").read_bytes().split(b"\0")
    assert b"-Xmx2G" in cmdline
    assert any(b"io.trino.server" in part for part in cmdline)
    java = Path(f"/proc/{trino.pid}/exe").resolve()
    assert int(re.search(rb'JAVA_VERSION="(\d+)', (java.parents[1] / "release").read_bytes()).group(1)) >= 24
    listening = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True).stdout
    mine = [line for line in listening.splitlines() if f"pid={trino.pid}," in line]
    assert mine and all(re.fullmatch(r"(\[::ffff:)?127\.0\.0\.1\]?:\d+", line.split()[3]) for line in mine), mine
    assert (settings.state_home() / "trino" / "server.log").is_file()
    assert trino_server.current() == trino


def test_stedi_query_engine_trino_prints_the_validation_counts(trino, run_summary):
    completed = subprocess.run(
        [sys.executable, "-m", "stedi.cli", "query", "--engine", "trino", "--format", "csv", "--file", str(VALIDATION)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    counts = dict(re.findall(r"^(\w+),\w+,(\d+)$", completed.stdout, re.MULTILINE))
    assert {name: int(n) for name, n in counts.items()} == {
        name: rows for name, rows in run_summary["tables"].items() if name in counts
    }
    assert len(counts) == 8


@pytest.mark.parametrize("form", ["customer_trusted", "stedi.customer_trusted", '"stedi"."customer_trusted"',
                                  "awsdatacatalog.stedi.customer_trusted"])
def test_athenas_ways_of_naming_a_table_all_work(engines, run_summary, form):
    on_trino, _ = engines
    assert on_trino.run(f"SELECT count(*) FROM {form}").rows == [(run_summary["tables"]["customer_trusted"],)]


def test_trino_errors_are_one_sentence(engines):
    on_trino, _ = engines
    with pytest.raises(QueryError, match=r"Column 'emial' cannot be resolved \(COLUMN_NOT_FOUND\)"):
        on_trino.run("SELECT emial FROM customer_trusted")


REFUSED: dict[str, str] = {}  # id -> the translation's sentence, for the module's last test


@pytest.mark.parametrize(("case", "sql"), corpus(), ids=[case for case, _ in corpus()])
def test_the_duckdb_translation_gives_trinos_rows_or_refuses(engines, placeholders, case, sql):
    on_trino, duck = engines
    sql = re.sub(r"\$\{(\w+)\}", lambda m: placeholders[m.group(1)], sql)
    expected = on_trino.run(sql)
    try:
        translate(sql)
    except QueryError as refusal:
        REFUSED[case] = str(refusal)
        return
    got = duck.run(sql)
    ordered = is_ordered(sql)
    assert comparable(got.rows, ordered) == comparable(expected.rows, ordered), (
        f"{case}: DuckDB ran {got.sql}"
    )


def test_the_corpus_is_large_and_most_of_it_translates():
    statements = corpus()
    assert len(statements) >= 60 + 8
    assert len(REFUSED) < len(statements) // 4, REFUSED
    print("refused by the DuckDB translation:", *(f"{case}: {why}" for case, why in sorted(REFUSED.items())), sep="\n")
