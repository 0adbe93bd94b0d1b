"""The DuckDB baseline does the pipeline's work: same jobs, same order, same row counts."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest

from stedi.datasets import synthetic
from stedi.tools import baseline
from tests.conftest import STARTER_DATA
from tests.oracle import PUBLISHED

POLICIES = ("strict", "rubric")


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("baseline-small")
    return out, synthetic.generate(out, customers=60, seed=7)


@pytest.mark.parametrize("policy", POLICIES)
def test_row_counts_match_the_generators_expected_counts(small, policy):
    landing, generated = small
    expected = dict(generated["expected"][policy])
    crossed = expected.pop("cross_customer_pairs", 0)
    result = baseline.run(landing, policy, threads=2)
    assert baseline.table_rows(result) == expected
    assert result["machine_learning_curated"]["cross_customer_pairs"] == crossed


@pytest.mark.skipif(not STARTER_DATA.is_dir(), reason=f"no starter data at {STARTER_DATA}")
@pytest.mark.parametrize("policy", POLICIES)
def test_row_counts_match_the_published_starter_counts(policy):
    result = baseline.run(STARTER_DATA, policy)
    assert baseline.table_rows(result) == PUBLISHED[policy]


def test_result_reports_every_step_in_pipeline_order(small):
    landing, generated = small
    result = baseline.run(landing, "strict")
    jobs = [job.name for job in baseline.JOBS]
    assert list(result) == ["landing", *jobs, "seconds"]
    assert result["landing"]["rows_out"] == sum(generated["files"].values())
    for job in baseline.JOBS:
        step = result[job.name]
        assert step["rows_in"] == sum(baseline.table_rows(result)[name] for name in job.reads)
        assert step["seconds"] >= 0
    steps = sum(result[name]["seconds"] for name in ["landing", *jobs])
    assert steps <= result["seconds"]


def test_jobs_read_and_write_what_the_spark_jobs_do():
    from stedi import pipeline

    spark_jobs = pipeline.jobs()
    assert [job.name for job in baseline.JOBS] == [job.name for job in spark_jobs]
    for mine, theirs in zip(baseline.JOBS, spark_jobs, strict=True):
        assert set(mine.reads) == set(theirs.inputs)
        assert mine.output == theirs.output


def test_pseudonyms_are_the_real_hmac_for_short_and_long_keys():
    values = ["50f7b4f3-7af5-4b07-a421-7b902c8d2b7c", "", "Ana.Lee@test.com", "ü-ñ"]
    for key in (b"k" * 16, bytes(range(32)), b"x" * 100):
        con = baseline.connect(key=key)
        got = dict(con.execute("SELECT v, pseudonym(v) FROM unnest(?) AS t(v)", [[*values, None]]).fetchall())
        expected = {v: hmac.new(key, v.encode(), hashlib.sha256).hexdigest() for v in values}
        assert got == {**expected, None: None}


def test_unknown_policy_is_refused(small):
    with pytest.raises(ValueError, match="unknown policy"):
        baseline.run(small[0], "lenient")
