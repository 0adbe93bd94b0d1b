"""The real pipeline end to end on the Udacity starter data: a real S3 emulator process (S3 and
the Glue Data Catalog API), real Spark writing through Iceberg's own catalog, real gates. Each
policy runs once per test session; the pyiceberg bridge (the offline fallback) runs the same data
once more and must give the very same tables."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from stedi import pipeline
from stedi.gates import datadocs
from stedi.intake import spool
from stedi.runtime import engine, settings
from stedi.tables import lakehouse
from stedi.targets import embedded_stack as stack
from stedi.targets.embedded import intake_spool
from tests.conftest import PROJECT_ROOT, STARTER_DATA
from tests.oracle import PUBLISHED, expected_counts, records

pytestmark = pytest.mark.e2e


def table_rows(name: str) -> list[tuple]:
    arrow = stack.require().catalog().load_table((lakehouse().namespace, name)).scan().to_arrow()
    return sorted(tuple(row.values()) for row in arrow.to_pylist())


def snapshot_count(name: str) -> int:
    return len(stack.require().catalog().load_table((lakehouse().namespace, name)).snapshots())


def digest(directory: Path) -> dict[str, str]:
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*.json"))
    }


def stedi(*argv: str) -> subprocess.CompletedProcess:
    """The `stedi` command as a user runs it: its run goes to the warm engine (stedi/runtime/engine.py)."""
    return subprocess.run(
        [sys.executable, "-m", "stedi.cli", *argv],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env={**os.environ, engine.ENV: "on"},
        timeout=600,
    )


@pytest.fixture(scope="module")
def strict_run(starter_data, tmp_path_factory):
    """`stedi pipeline` as a user runs it, under the default policy, in the warm engine it starts
    (stopped when this module's tests are done)."""
    summary_path = tmp_path_factory.mktemp("strict") / "summary.json"
    before = digest(starter_data)
    completed = stedi("pipeline", "--landing", str(starter_data), "--summary", str(summary_path))
    assert completed.returncode == 0, completed.stderr[-3000:]
    yield {
        "summary": json.loads(summary_path.read_text()),
        "stdout": completed.stdout,
        "landing_unchanged": digest(starter_data) == before,
        "ml_rows": table_rows("machine_learning_curated"),
    }
    engine.stop()


def test_stedi_run_reruns_a_job_in_the_warm_engine_the_pipeline_started(strict_run):
    """The edit-run loop: `stedi run JOB` after the pipeline is handed to the engine that pipeline
    started, Spark already up, and publishes the same rows (the job file is read afresh)."""
    assert "warm engine (pid" in strict_run["stdout"] and "run 1, Spark starts in it" in strict_run["stdout"]
    completed = stedi("run", "machine_learning_curated")
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "run 2, Spark already up" in completed.stdout
    assert "job  machine_learning_curated: " in completed.stdout
    assert table_rows("machine_learning_curated") == strict_run["ml_rows"]


def test_stedi_pipeline_again_skips_what_did_not_change_and_redoes_a_table_moved_since(strict_run, starter_data,
                                                                                      tmp_path):
    """The edit-run loop's `stedi pipeline` (stedi/runtime/steps.py): on the same landing files with the same
    code every step is skipped and the figures are the last run's; a table another writer moved
    (here its snapshot set back with Iceberg's own API) is written again by its job; other landing
    files make every step run."""
    jobs = [job.name for job in pipeline.jobs()]
    summary = tmp_path / "again.json"
    completed = stedi("pipeline", "--landing", str(starter_data), "--summary", str(summary))
    assert completed.returncode == 0, completed.stderr[-3000:]
    again = json.loads(summary.read_text())
    assert again["skipped"] == ["landing", *jobs]
    assert "quality gates: 0 tables" in completed.stdout + completed.stderr
    for section in ("tables", "landing", "quarantine"):
        assert again[section] == strict_run["summary"][section], section

    table = stack.require().catalog().load_table((lakehouse().namespace, "machine_learning_curated"))
    current = table.current_snapshot()
    table.manage_snapshots().set_current_snapshot(current.parent_snapshot_id).commit()
    completed = stedi("pipeline", "--landing", str(starter_data), "--summary", str(summary))
    assert completed.returncode == 0, completed.stderr[-3000:]
    moved = json.loads(summary.read_text())
    assert moved["skipped"] == ["landing", *jobs[:-1]] and jobs[-1] == "machine_learning_curated"
    assert "quality gates: 1 tables" in completed.stdout + completed.stderr
    assert table_rows("machine_learning_curated") == strict_run["ml_rows"]
    assert moved["tables"] == strict_run["summary"]["tables"]

    # Other landing objects: the landing tables (JSON over them, no snapshot of their own) changed,
    # so every job runs again, the first ones included.
    completed = stedi("pipeline", "--customers", "60", "--seed", "5", "--summary", str(summary))
    assert completed.returncode == 0, completed.stderr[-3000:]
    other = json.loads(summary.read_text())
    assert "skipped" not in other and sorted(other["jobs"]) == sorted(jobs)
    assert other["tables"]["customer_landing"] != strict_run["summary"]["tables"]["customer_landing"]


@pytest.fixture(scope="module")
def rubric_runs(strict_run, starter_data, spark):
    """The rubric policy run twice in a row on the same lakehouse, with the state between. The first
    run's intake has a budget of half a MiB, so the accelerometer and step readings are spooled to
    disk (stedi/intake/spool.py), as 1000x is; the pyiceberg bridge, later, holds them in memory."""
    names = list(lakehouse().iceberg_tables)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(spool.BUDGET_ENV, "0.5")
        first = pipeline.run_embedded(starter_data, "rubric")
    spool_left = sorted(str(p) for p in intake_spool().directory.rglob("*"))  # none where there is no directory
    after_first = {n: (table_rows(n), snapshot_count(n)) for n in names}
    second = pipeline.run_embedded(starter_data, "rubric")
    after_second = {n: (table_rows(n), snapshot_count(n)) for n in names}
    return {"first": first, "second": second, "after_first": after_first, "after_second": after_second,
            "spool_left": spool_left}


@pytest.fixture(scope="module")
def bridge_run(rubric_runs, starter_data):
    """The rubric policy once more, on the pyiceberg bridge, after the Spark path's two runs."""
    summary = pipeline.run_embedded(starter_data, "rubric", table_io="pyiceberg")
    return {"summary": summary, "after": {n: (table_rows(n), snapshot_count(n)) for n in lakehouse().iceberg_tables}}


def test_both_table_ios_give_the_same_tables_one_snapshot_per_table_per_run(rubric_runs, bridge_run):
    summary = bridge_run["summary"]
    assert (rubric_runs["first"]["table_io"], summary["table_io"]) == ("spark", "pyiceberg")
    assert summary["tables"] == rubric_runs["first"]["tables"] == PUBLISHED["rubric"]
    for name, (rows, snapshots) in bridge_run["after"].items():
        spark_rows, spark_snapshots = rubric_runs["after_second"][name]
        assert (rows, snapshots) == (spark_rows, spark_snapshots + 1), name
    assert sorted(summary["gates"]["tables"]) == sorted(lakehouse().queryable)


def test_readings_past_the_intake_budget_are_spooled_and_give_the_same_tables(rubric_runs, bridge_run):
    spooled = {name for name, landed in rubric_runs["first"]["landing"].items() if landed["spooled"]}
    assert spooled == {"accelerometer_landing", "step_trainer_landing"}
    assert not any(landed["spooled"] for landed in bridge_run["summary"]["landing"].values())
    assert rubric_runs["spool_left"] == []  # landing records do not outlive their run
    for name, (rows, _) in bridge_run["after"].items():  # the bridge held every record in memory
        assert rows == rubric_runs["after_first"][name][0], name


def test_every_table_passed_its_quality_gate_and_the_report_is_offline(strict_run, rubric_runs):
    for summary in (strict_run["summary"], rubric_runs["first"]):
        gates = summary["gates"]
        assert sorted(gates["tables"]) == sorted(lakehouse().queryable)  # the quarantine tables too
        assert all(g["engine"] == "pandas" and g["expectations"] >= 5 for g in gates["tables"].values()), gates
    # the rubric run on the starter data also checks the published counts
    assert sum(g["expectations"] for g in rubric_runs["first"]["gates"]["tables"].values()) > sum(
        g["expectations"] for g in strict_run["summary"]["gates"]["tables"].values()
    )
    assert "quality gates: 12 tables," in strict_run["stdout"]  # 8 declared, 3 quarantines, the erasures
    site = Path(rubric_runs["first"]["gates"]["docs"]).parent
    assert site == settings.docs_dir()
    pages = sorted(p.name for p in (site / "validations").rglob("*.html"))
    assert len(pages) == 26 and any(p.endswith("machine_learning_curated.lineage.html") for p in pages), pages
    assert datadocs.find_remote_references(site) == []


@pytest.mark.parametrize("table_io", ["spark", "pyiceberg"])
def test_a_broken_job_is_stopped_by_its_gate_and_nothing_is_published(strict_run, table_io, tmp_path):
    """customers_curated written by a job that forgot to hash the serial number."""
    from pyspark.sql import functions as F

    from spark_jobs.customer_trusted_to_curated import CONSENT_DATES
    from stedi.gates.gate import Gate, GateFailed
    from stedi.job import Job, JobParams
    from stedi.lakehouse import STAGE_BRANCH
    from stedi.pseudonym import hmac_sha256, normalized_email
    from stedi.targets.embedded import EmbeddedTarget

    def forgot_to_hash(customer_trusted, *, pseudonym_key):
        return customer_trusted.select(
            hmac_sha256(normalized_email("email"), pseudonym_key).alias("customer_id"),
            F.col("serialNumber").alias("device_id"),
            *CONSENT_DATES,
        )

    name = "customers_curated"
    iceberg = stack.require().catalog().load_table((lakehouse().namespace, name))
    before = (iceberg.current_snapshot().snapshot_id, table_rows(name))
    params = JobParams("strict", settings.pseudonym_key())
    io = EmbeddedTarget().runtime("tests", params, gates=False, table_io=table_io).io
    gate = Gate(params, docs_dir=tmp_path / "docs", read_published=io.read_published)
    with pytest.raises(GateFailed) as raised:
        Job("customer_trusted_to_curated", forgot_to_hash).run(io, params, gate)

    message = str(raised.value)
    assert message.startswith("the quality gate stopped stedi.customers_curated: it was not published")
    assert (
        "customers_curated.pseudonyms: expect_column_values_to_be_in_set(column=device_id_is_a_raw_serialNumber"
        in message
    )
    assert "expect_column_values_to_match_regex(column=device_id" in message
    assert "482 of 482 rows" in message
    assert any(f'"device_id": "{c["serialNumber"]}"' in message for c in records(STARTER_DATA, "customer"))
    assert f"Data Docs: {tmp_path / 'docs' / 'index.html'}" in message

    iceberg = iceberg.refresh()
    assert (iceberg.current_snapshot().snapshot_id, table_rows(name)) == before
    assert STAGE_BRANCH not in iceberg.refs()
    assert (tmp_path / "docs" / "index.html").exists()


def test_strict_counts_agree_with_an_independent_computation(strict_run, starter_data):
    expected, crossed = expected_counts(starter_data, "strict")
    assert strict_run["summary"]["tables"] == expected
    assert strict_run["summary"]["policy"] == "strict"
    assert strict_run["summary"]["cross_customer_pairs"] == crossed == 0


def test_the_run_shows_progress_and_ends_with_every_tables_count(strict_run):
    out = strict_run["stdout"]
    for job in ("customer_landing_to_trusted", "machine_learning_curated"):
        assert f"job  {job}: " in out
    assert "land accelerometer_landing: 81,273 rows from 81,273 records in 9 files, 0 quarantined" in out
    assert "accelerometer_trusted     trusted  32,025" in out
    assert "The stack stays up for queries; `make down` stops it, and the lakehouse stays on disk." in out


def test_rubric_reproduces_the_published_counts_exactly(rubric_runs, starter_data):
    expected, crossed = expected_counts(starter_data, "rubric")
    assert rubric_runs["first"]["tables"] == PUBLISHED["rubric"] == expected
    assert rubric_runs["first"]["cross_customer_pairs"] == crossed > 0


def test_a_second_run_gives_identical_tables_and_one_new_snapshot_each(rubric_runs):
    for name, (rows, snapshots) in rubric_runs["after_second"].items():
        first_rows, first_snapshots = rubric_runs["after_first"][name]
        assert rows == first_rows, name
        assert snapshots == first_snapshots + 1, name
    assert rubric_runs["second"]["tables"] == rubric_runs["first"]["tables"]


def test_landing_files_are_never_modified(strict_run, starter_data):
    assert strict_run["landing_unchanged"]
    s3 = stack.require().s3_client()
    for relative, sha in digest(starter_data).items():
        body = s3.get_object(Bucket=lakehouse().bucket, Key=relative)["Body"].read()
        assert hashlib.sha256(body).hexdigest() == sha, relative


def _identifiers(starter_data: Path) -> set[str]:
    values = set()
    for c in records(starter_data, "customer"):
        for field in ("customerName", "email", "phone", "serialNumber", "birthDay"):
            values.add(str(c[field]))
            values.add(str(c[field]).strip().lower())
    for r in records(starter_data, "accelerometer"):
        values.add(r["user"])
    return values


@pytest.mark.parametrize("policy", ["strict", "rubric"])
def test_no_direct_identifier_reaches_the_curated_ml_table(strict_run, rubric_runs, starter_data, policy):
    rows = strict_run["ml_rows"] if policy == "strict" else rubric_runs["after_second"]["machine_learning_curated"][0]
    assert rows, "machine_learning_curated is empty"
    identifiers = _identifiers(starter_data)
    leaked = {cell for row in rows for cell in row if isinstance(cell, str) and cell in identifiers}
    assert leaked == set()
    assert all("@" not in cell for row in rows for cell in row if isinstance(cell, str))
    curated_columns = {c for t in lakehouse().zone("curated") for c in t.column_names}
    assert not curated_columns & {"email", "user", "customerName", "phone", "birthDay", "serialNumber"}


@pytest.mark.parametrize("policy", ["strict", "rubric"])
def test_the_default_synthetic_data_gives_the_generators_own_expected_counts(rubric_runs, policy):
    """Without --landing the pipeline runs on generated data; the generator's counts,
    computed from what it wrote, are a second oracle independent of the Spark code."""
    summary = pipeline.run_embedded(None, policy, seed=7, customers=150)
    expected = json.loads((Path(summary["landing_dir"]) / "expected_counts.json").read_text())
    assert summary["tables"] == {t: expected["expected"][policy][t] for t in lakehouse().tables}
    if policy == "rubric":
        assert summary["cross_customer_pairs"] == expected["expected"]["rubric"]["cross_customer_pairs"] > 0


def test_the_pipelines_data_docs_render_offline_in_chromium(rubric_runs, tmp_path):
    from tests.integration.test_data_docs import ARTIFACTS, page_requests, run_chromium

    index = Path(rubric_runs["first"]["gates"]["docs"])
    dom, tried = run_chromium(index, tmp_path / "chromium", screenshot=ARTIFACTS / "pipeline-data-docs-index.png")
    assert page_requests(tried) == [], f"the report tried to reach the network: {page_requests(tried)}"
    table = re.search(r"<table[^>]*ge-index-page-validation-results-table[^>]*>(.*?)</table>", dom, re.DOTALL)
    rows = re.findall(r'<tr[^>]*\bdata-index="\d+"[^>]*>(.*?)</tr>', table.group(1), re.DOTALL)
    # one per validation, 12 tables (the erasures' included) and 14 cross-table views, in pages of 10
    assert re.search(r"Showing 1 to 10 of 26 rows", dom), "the index does not list 26 validations"
    assert len(rows) == 10 and all("ge-success-icon" in row for row in rows)
