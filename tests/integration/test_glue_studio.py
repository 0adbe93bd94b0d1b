"""Learners' Glue Studio scripts run unchanged: the corpus of tests/glue_studio/ with `stedi glue run`
on the suite's embedded stack, as a learner would run it.

The module does what the README's "Coming from Glue Studio" says, once: `make pipeline` (the stack
up, the pipeline's tables in place), `stedi land` of the starter data into the learner's own
bucket, the learner's Athena DDL of the landing tables, then every run of
tests/glue_studio/expected.toml (the five STEDI jobs, each behaviour, a job bookmark over two
runs). The tests check each script against expected.toml, the published counts on DuckDB and on
Trino, an IAM refusal, and that the pipeline's next run takes its table names back, history and all.
"""

from __future__ import annotations

import json
import tomllib
from collections import defaultdict
from pathlib import Path

import pytest

from stedi import pipeline
from stedi.lakehouse import glue_tables
from stedi.query.duckdb_engine import DuckDBEngine
from stedi.query.errors import QueryError
from stedi.query.trino_engine import TrinoEngine
from stedi.studio import runner, workspace
from stedi.tables import lakehouse
from stedi.targets import embedded_stack as stack
from stedi.targets.embedded import EmbeddedTarget
from tests.conftest import PROJECT_ROOT
from tests.integration.test_query import query

pytestmark = pytest.mark.e2e

CORPUS = PROJECT_ROOT / "tests" / "glue_studio"
EXPECTED = tomllib.loads((CORPUS / "expected.toml").read_text())
SCRIPTS = [(run["name"], index, entry) for run in EXPECTED["run"] for index, entry in enumerate(run["script"])]
PUBLISHED = {"customer_trusted": 482, "accelerometer_trusted": 40981, "customers_curated": 482,
             "step_trainer_trusted": 14460, "machine_learning_curated": 43681}


def glue_run(scripts: list[Path], arguments: list[str], keep_going: bool = False) -> list[dict]:
    lines: list[str] = []
    records = runner.run(scripts, arguments, lines.append, keep_going=keep_going, capture=True)
    return [{**r, "output": "\n".join(lines) + "\n" + r.get("output", "")} for r in records]


@pytest.fixture(scope="module")
def corpus(starter_data):
    """The pipeline's rubric run, the learner's data landed, their DDL, then every run of expected.toml:
    (run name, index) -> the script's record (None when it never ran), and what the DDL answered."""
    before = pipeline.run_embedded(starter_data, "rubric")
    workspace.land(stack.require().s3_client(), starter_data, EXPECTED["bucket"], lambda line: None)
    records, ddl = {}, {}
    for run in EXPECTED["run"]:
        for name in run.get("ddl", []):
            ddl[name] = query("--file", str(CORPUS / name))
        done = glue_run([CORPUS / e["path"] for e in run["script"]], run.get("args", []), run.get("keep_going", False))
        for index in range(len(run["script"])):
            records[(run["name"], index)] = done[index] if index < len(done) else None
    return {"records": records, "ddl": ddl, "pipeline": before}


@pytest.mark.parametrize("run, index, entry", SCRIPTS, ids=[f"{r}/{i}-{Path(e['path']).stem}" for r, i, e in SCRIPTS])
def test_each_script_runs_as_expected_toml_says(corpus, run, index, entry):
    record = corpus["records"][(run, index)]
    assert record is not None, "it never ran: a script before it in the same run failed"
    assert Path(record["script"]).name == Path(entry["path"]).name
    if entry["outcome"] == "success":
        assert not record.get("error") and not record.get("exit_code"), record.get("error")
    else:
        assert entry["error"] in (record.get("error") or ""), record.get("error")
        assert "Traceback" not in record["output"]  # one sentence and the line, never a stack trace
    reads = record.get("reads", [])
    for source, count in entry.get("reads", {}).items():
        assert count in [r.get("records") for r in reads if r["source"] == source], (source, reads)
    for source, files in entry.get("skipped", {}).items():
        assert files in [r.get("skipped_by_bookmark") for r in reads if r["source"] == source], (source, reads)
    written: dict[str, int] = defaultdict(int)
    for write in record.get("writes", []):
        written[write.get("table") or write["path"]] += write["rows"]
    assert dict(written) == entry.get("writes", {})  # nothing written where the script should not write
    for text in entry.get("output", []):
        assert text in record["output"]


@pytest.fixture(scope="module")
def engines(corpus):
    with DuckDBEngine(stack.require()) as duck:
        yield {"duckdb": duck, "trino": TrinoEngine(EmbeddedTarget().trino(lambda line: None).connection())}


@pytest.mark.parametrize("engine", ["duckdb", "trino"])
@pytest.mark.parametrize("case", EXPECTED["query"], ids=[q["sql"] for q in EXPECTED["query"]])
def test_athena_sql_reads_what_the_scripts_wrote_on_both_engines(engines, engine, case):
    assert engines[engine].run(case["sql"]).records() == case["rows"]


def test_the_five_studio_jobs_give_the_published_counts(engines):
    for engine in engines.values():
        counts = {name: engine.run(f"SELECT count(*) FROM stedi.{name}").rows[0][0] for name in PUBLISHED}
        assert counts == PUBLISHED


def test_what_athena_rejects_is_rejected_on_both_engines(engines):
    for engine in engines.values():
        with pytest.raises(QueryError, match="line 1:8: Unknown type: string|Unknown type: string .* line 1, column 8"):
            engine.run("SELECT CAST(email AS string) FROM stedi.customer_trusted")


def test_the_learners_athena_ddl_runs_unchanged_and_shows_as_athena_prints_it(corpus):
    assert "created table stedi.customer_landing (json, 10 columns) over s3://stedi-studio-lake/customer/landing/" \
        in corpus["ddl"]["athena/customer_landing.sql"]
    shown = json.loads(query("--format", "json", "SHOW CREATE TABLE stedi.customer_landing"))
    lines = [row["createtab_stmt"] for row in shown]  # Athena's lines, trailing blanks and all
    assert lines[0] == "CREATE EXTERNAL TABLE `customer_landing`("
    assert "  `sharewithresearchasofdate` bigint COMMENT 'from deserializer', " in lines
    assert "  'org.openx.data.jsonserde.JsonSerDe' " in lines
    assert "  's3://stedi-studio-lake/customer/landing/'" in lines


def test_a_sink_makes_the_table_glue_makes(corpus):
    glue = stack.require().client("glue")
    table = glue.get_table(DatabaseName="stedi", Name="customer_trusted")["Table"]
    assert table["Parameters"]["CreatedByJob"] == "customer_landing_to_trusted"
    assert table["Parameters"]["CreatedByJobRun"].startswith("jr_") and table["Parameters"]["classification"] == "json"
    assert table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]][:3] == ["customername", "email", "phone"]
    keys = [o["Key"] for page in stack.require().s3_client().get_paginator("list_objects_v2").paginate(
        Bucket="stedi-studio-lake", Prefix="customer/trusted/") for o in page.get("Contents", [])]
    assert keys and all(k.split("/")[-1].startswith("run-") and "-part-r-" in k for k in keys)


def test_a_path_the_script_does_not_name_is_refused_by_iam_in_one_sentence(corpus, tmp_path):
    admin = stack.require()
    workspace.ensure_bucket(admin.s3_client(), "stedi-studio-other")
    admin.s3_client().put_object(Bucket="stedi-studio-other", Key="private/a.json", Body=b'{"a": 1}\n')
    script = tmp_path / "reads_elsewhere.py"
    script.write_text(
        "import sys\nfrom awsglue.context import GlueContext\nfrom awsglue.job import Job\n"
        "from awsglue.utils import getResolvedOptions\nfrom pyspark.context import SparkContext\n"
        "args = getResolvedOptions(sys.argv, ['JOB_NAME'])\nglueContext = GlueContext(SparkContext())\n"
        "bucket = 'stedi-studio-' + 'other'  # built at run time: the script never names it\n"
        "glueContext.create_dynamic_frame.from_options(connection_type='s3', format='json', "
        "connection_options={'paths': [f's3://{bucket}/private/']})\n")
    (record,) = glue_run([script], [])
    assert record["error"].startswith(
        "reads_elsewhere.py, line 9: refused s3:ListBucket on arn:aws:s3:::stedi-studio-other with s3:prefix "
        "'private/' by IAM"), record["error"]


def test_stedi_status_lists_what_the_scripts_wrote(corpus):
    lines = "\n".join(runner.status_lines())
    assert "Glue scripts:" in lines and "job_bookmark: done" in lines


def test_the_pipelines_next_run_takes_its_names_back_with_their_history(corpus, starter_data, tmp_path):
    glue = stack.require().client("glue")
    namespace = lakehouse().namespace
    learner = glue.get_table(DatabaseName=namespace, Name="customer_trusted")["Table"]
    assert learner["Parameters"].get("CreatedByJob") == "customer_landing_to_trusted"  # the learner's, for now
    earlier = corpus["pipeline"]["snapshots"]["customer_trusted"]
    summary = pipeline.run_embedded(starter_data, "rubric")
    for name, rows in PUBLISHED.items():
        assert summary["tables"][name] == rows
    back = glue.get_table(DatabaseName=namespace, Name="customer_trusted")["Table"]
    assert back["Parameters"]["table_type"].upper() == "ICEBERG"
    with DuckDBEngine(stack.require()) as duck:
        history = [r[0] for r in duck.run('SELECT snapshot_id FROM "customer_trusted$snapshots"').rows]
    assert earlier in history  # the table the learner's displaced, registered again: not a new one
    landing = glue.get_table(DatabaseName=namespace, Name="customer_landing")["Table"]
    assert landing["StorageDescriptor"]["Location"] == f"s3://{lakehouse().bucket}/customer/landing/"
    kept = json.loads((stack.require().home / glue_tables.DISPLACED).read_text())["learner"]
    assert kept[f"{namespace}.customer_trusted"]["StorageDescriptor"]["Location"] == \
        "s3://stedi-studio-lake/customer/trusted/"
    from stedi import report

    page = report.write(summary, stack.require(), tmp_path).read_text()
    assert "Glue Studio scripts" in page and "job_bookmark" in page
