"""The pipeline as plain SQL in DuckDB: the single-machine baseline of the scale benchmark.

The embedded pipeline pays for Spark, Iceberg and an S3 emulator so that the same jobs run
unchanged on AWS Glue. This module answers how far that is from the fastest single-machine
engine: the same five transformations over the same landing JSON, each written as one SQL
query whose semantics match its Spark job under both policies, each output materialized
(CREATE TABLE ... AS) in an in-memory DuckDB database so its time is real and the next job
reads it, as the pipeline's jobs read the tables written before them.

What matches the Spark jobs:
- the landing JSON is read with the columns and types declared in catalog/tables.toml, and
  every output is cast to its declared columns, in declared order (as `stedi.job.conform`);
- emails are compared trimmed (spaces only) and lower-cased, as `normalized_email`;
- the pseudonyms are the real HMAC-SHA256 hex, built from two SHA-256 exactly as
  `stedi.pseudonym.hmac_sha256` builds it for Spark, so they cost what Spark pays and
  step_trainer_trusted matches devices by pseudonym as its job does. The key is a fixed
  benchmark key: the baseline measures cost and row counts, never publishes a pseudonym;
- machine_learning_curated also runs its audit (cross-customer pairs), inside the job's
  time, because `stedi.job.Job.run` times the audit with the transform.

Where Spark's `dropDuplicates` keeps an arbitrary row of each group, `DISTINCT ON` does too;
the row counts do not depend on which one.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from stedi.lakehouse.landing import landing_files
from stedi.runtime.settings import check_policy
from stedi.tables import Table, lakehouse

SQL_TYPES = {"string": "VARCHAR", "long": "BIGINT", "int": "INTEGER", "double": "DOUBLE"}
# A fixed key: the pseudonyms' values are never kept, only what computing them costs.
BENCHMARK_KEY = hashlib.sha256(b"stedi baseline benchmark key").digest()
_BLOCK = 64  # SHA-256 block size in bytes


@dataclass(frozen=True)
class BaselineJob:
    """One Spark job restated as SQL: the tables it reads and its query for a policy."""

    name: str
    reads: tuple[str, ...]
    query: Callable[[str], str]
    audit: Callable[[str], dict[str, str]] | None = None  # figure name -> scalar query

    @property
    def output(self) -> Table:
        (table,) = [t for t in lakehouse().tables.values() if t.job == self.name]
        return table


def run(landing: Path, policy: str, *, threads: int | None = None) -> dict:
    """Land the three sources, then run the five jobs; returns the time and rows of each step.

    The result holds, in order: "landing" ({"seconds", "rows": {table: rows}, "rows_out"}),
    one entry per job keyed by its name ({"seconds", "rows_in", "rows_out", "output"}, plus
    the audit's figures for machine_learning_curated), and "seconds", the total wall time.
    """
    check_policy(policy)
    started = time.perf_counter()
    con = connect(threads)
    try:
        result: dict = {"landing": land(con, Path(landing))}
        rows = dict(result["landing"]["rows"])
        for job in JOBS:
            result[job.name] = run_job(con, job, policy, rows)
            rows[job.output.name] = result[job.name]["rows_out"]
    finally:
        con.close()
    result["seconds"] = time.perf_counter() - started
    return result


def table_rows(result: dict) -> dict[str, int]:
    """Every table's row count in a `run` result, landing tables first."""
    rows = dict(result["landing"]["rows"])
    rows.update({job.output.name: result[job.name]["rows_out"] for job in JOBS if job.name in result})
    return rows


def connect(threads: int | None = None, key: bytes = BENCHMARK_KEY) -> duckdb.DuckDBPyConnection:
    """An in-memory database with the two helpers every job uses, as SQL macros."""
    con = duckdb.connect(":memory:", config={"threads": threads} if threads else {})
    con.execute("SET enable_progress_bar = false")  # it would print into the benchmark's output
    con.execute("CREATE MACRO normalized_email(e) AS lower(trim(e))")
    con.execute(f"CREATE MACRO pseudonym(v) AS {hmac_sql('v', key)}")
    return con


def hmac_sql(value: str, key: bytes) -> str:
    """Hex HMAC-SHA256 of a VARCHAR expression (RFC 2104, as stedi.pseudonym); NULL stays NULL."""
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    inner_pad = bytes(b ^ 0x36 for b in key).hex()
    outer_pad = bytes(b ^ 0x5C for b in key).hex()
    inner = f"unhex(sha256(unhex('{inner_pad}') || encode({value})))"
    return f"sha256(unhex('{outer_pad}') || {inner})"


# --------------------------------------------------------------------------- landing


def land(con: duckdb.DuckDBPyConnection, landing: Path) -> dict:
    """Read each source's JSON lines into its landing table, with the declared columns and types."""
    house = lakehouse()
    started = time.perf_counter()
    for name, files in landing_files(landing, house).items():
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM {_read_json(house.table(name), files)}")
    seconds = time.perf_counter() - started
    rows = {t.name: _count(con, t.name) for t in house.zone("landing")}
    return {"seconds": seconds, "rows": rows, "rows_out": sum(rows.values())}


def _read_json(table: Table, files: list[Path]) -> str:
    paths = ", ".join(_literal(str(f)) for f in files)
    columns = ", ".join(f"{_literal(c.name)}: {_literal(SQL_TYPES[c.type])}" for c in table.columns)
    return f"read_json([{paths}], format = 'newline_delimited', columns = {{{columns}}})"


# --------------------------------------------------------------------------- the jobs


def run_job(con: duckdb.DuckDBPyConnection, job: BaselineJob, policy: str, rows: dict[str, int]) -> dict:
    """Materialize the job's output table (and run its audit); `rows` holds every table written so far."""
    output = job.output
    started = time.perf_counter()
    con.execute(f"CREATE TABLE {output.name} AS {conform(job.query(policy), output)}")
    figures = {name: con.execute(sql).fetchone()[0] for name, sql in (job.audit(policy) if job.audit else {}).items()}
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "rows_in": sum(rows[name] for name in job.reads),
        "rows_out": _count(con, output.name),
        "output": output.name,
        **figures,
    }


def conform(query: str, table: Table) -> str:
    """The query's rows as the table's declared columns, in declared order and types."""
    columns = ", ".join(f'CAST("{c.name}" AS {SQL_TYPES[c.type]}) AS "{c.name}"' for c in table.columns)
    return f"SELECT {columns} FROM ({query})"


def customer_landing_to_trusted(policy: str) -> str:
    """Consent is NULL when the key is absent, and 0 is an unset date: both are excluded."""
    return """
        SELECT * FROM customer_landing
        WHERE shareWithResearchAsOfDate IS NOT NULL AND shareWithResearchAsOfDate <> 0
    """


def accelerometer_landing_to_trusted(policy: str) -> str:
    """Readings of consenting customers, one consent per email (the latest); strict drops earlier readings."""
    return f"""
        WITH consents AS (
            SELECT normalized_email(email) AS _email, max(shareWithResearchAsOfDate) AS _consent
            FROM customer_trusted GROUP BY 1
        )
        SELECT r.* FROM accelerometer_landing r JOIN consents c ON normalized_email(r."user") = c._email
        {_strict(policy, 'r."timestamp" >= c._consent')}
    """


def customer_trusted_to_curated(policy: str) -> str:
    """Consenting customers with readings, one row per pseudonymous customer."""
    return """
        SELECT DISTINCT ON (customer_id)
            pseudonym(normalized_email(c.email)) AS customer_id, pseudonym(c.serialNumber) AS device_id, c.*
        FROM customer_trusted c
        SEMI JOIN (SELECT DISTINCT normalized_email("user") AS _email FROM accelerometer_trusted) r
            ON normalized_email(c.email) = r._email
    """


def step_trainer_trusted(policy: str) -> str:
    """Readings of curated devices, matched by pseudonym; strict drops readings before the owner's consent."""
    return f"""
        WITH devices AS (
            SELECT device_id, max(shareWithResearchAsOfDate) AS _consent FROM customers_curated GROUP BY device_id
        )
        SELECT s.* FROM step_trainer_landing s JOIN devices d ON pseudonym(s.serialNumber) = d.device_id
        {_strict(policy, "s.sensorReadingTime >= d._consent")}
    """


def machine_learning_curated(policy: str) -> str:
    return f"SELECT pseudonym(serialNumber) AS device_id, * FROM ({_pairs(policy)})"


def machine_learning_audit(policy: str) -> dict[str, str]:
    crossed = "_owner IS NULL OR _owner <> _user"
    return {"cross_customer_pairs": f"SELECT count(*) FROM ({_pairs(policy)}) WHERE {crossed}"}


def _pairs(policy: str) -> str:
    """Step readings beside the accelerometer readings at the same moment, each side tagged with its
    customer; strict pairs only a device's own customer, rubric joins on the timestamp alone."""
    return f"""
        WITH owners AS (
            SELECT DISTINCT ON (serialNumber) serialNumber, normalized_email(email) AS _owner FROM customer_trusted
        ),
        steps AS (SELECT s.*, o._owner FROM step_trainer_trusted s LEFT JOIN owners o USING (serialNumber)),
        motion AS (SELECT *, normalized_email("user") AS _user FROM accelerometer_trusted)
        SELECT steps.*, motion.* FROM steps JOIN motion
            ON steps.sensorReadingTime = motion."timestamp"
            {"AND steps._owner = motion._user" if policy == "strict" else ""}
    """


# In pipeline order: each job after the jobs whose output it reads.
JOBS = (
    BaselineJob("customer_landing_to_trusted", ("customer_landing",), customer_landing_to_trusted),
    BaselineJob(
        "accelerometer_landing_to_trusted",
        ("accelerometer_landing", "customer_trusted"),
        accelerometer_landing_to_trusted,
    ),
    BaselineJob(
        "customer_trusted_to_curated", ("customer_trusted", "accelerometer_trusted"), customer_trusted_to_curated
    ),
    BaselineJob("step_trainer_trusted", ("step_trainer_landing", "customers_curated"), step_trainer_trusted),
    BaselineJob(
        "machine_learning_curated",
        ("step_trainer_trusted", "accelerometer_trusted", "customer_trusted"),
        machine_learning_curated,
        audit=machine_learning_audit,
    ),
)


# --------------------------------------------------------------------------- helpers


def _strict(policy: str, condition: str) -> str:
    return f"WHERE {condition}" if policy == "strict" else ""


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
