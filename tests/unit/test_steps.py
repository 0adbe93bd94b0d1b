"""Which steps a run may skip (stedi/runtime/steps.py): fingerprints and the record, on plain files. The
current snapshots come from a dict here, standing in for the catalog the embedded target reads
(stedi/lakehouse/glue_tables.CurrentSnapshots, exercised in tests/integration/test_pipeline.py)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from stedi.job import Job
from stedi.runtime import steps
from stedi.runtime.steps import LANDING, Steps

SHARED = {"code": "c", "policy": "strict", "key": "k", "gates": True, "table_io": "spark"}


def new(tmp_path: Path, current: dict, skipping: bool = True, shared: dict = SHARED) -> Steps:
    return Steps(tmp_path / steps.FILE, lambda names: {n: current.get(n) for n in names}, shared=shared,
                 skipping=skipping)


def job_in(tmp_path: Path, body: str) -> Job:
    """A job whose transform lives in a file of its own, as spark_jobs/ holds them."""
    source = tmp_path / "a_job.py"
    source.write_text(body)
    spec = importlib.util.spec_from_file_location("a_job", source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return Job("a_job", module.transform)


def test_a_step_done_with_the_same_fingerprint_on_unmoved_tables_is_skipped_with_its_figures(tmp_path):
    current = {"customer_landing": 1}
    first = new(tmp_path, current)
    first.landing = first.landing_fingerprint({"customer/landing/a.json": "e1"}, "no erasures", None)
    assert first.unchanged(LANDING, first.landing) is None  # nothing recorded yet
    first.did(LANDING, first.landing, ["customer_landing"], {"tables": {"customer_landing": 3}})
    first.save()

    second = new(tmp_path, current)
    second.landing = second.landing_fingerprint({"customer/landing/a.json": "e1"}, "no erasures", None)
    assert second.unchanged(LANDING, second.landing) == {"tables": {"customer_landing": 3}}
    assert second.skipped == [LANDING]


def test_a_new_landing_object_an_erasure_or_a_moved_table_makes_the_step_run(tmp_path):
    current = {"customer_landing": 1}
    first = new(tmp_path, current)
    fingerprint = first.landing_fingerprint({"a.json": "e1"}, "no erasures", None)
    first.did(LANDING, fingerprint, ["customer_landing"], {})
    first.save()
    later = new(tmp_path, current)
    assert later.landing_fingerprint({"a.json": "e1", "b.json": "e2"}, "no erasures", None) != fingerprint
    assert later.landing_fingerprint({"a.json": "e2"}, "no erasures", None) != fingerprint
    assert later.landing_fingerprint({"a.json": "e1"}, "one erasure", None) != fingerprint
    assert later.landing_fingerprint({"a.json": "e1"}, "no erasures", 0.0) != fingerprint
    current["customer_landing"] = 2  # written since by something else (a Glue script, `stedi forget`)
    assert later.unchanged(LANDING, fingerprint) is None and later.skipped == []


def test_other_code_a_policy_or_a_key_changes_every_fingerprint(tmp_path):
    base = new(tmp_path, {}).landing_fingerprint({}, "", None)
    for change in ({"code": "d"}, {"policy": "rubric"}, {"key": "other"}, {"gates": False}):
        assert new(tmp_path, {}, shared={**SHARED, **change}).landing_fingerprint({}, "", None) != base, change


def test_a_job_runs_again_when_its_file_changes_not_when_it_is_only_touched(tmp_path):
    body = "def transform(customer_trusted):\n    return customer_trusted\n"
    record = new(tmp_path, {"customer_trusted": 7})
    before = record.job_fingerprint(job_in(tmp_path, body))
    os.utime(tmp_path / "a_job.py", (1, 1))
    assert record.job_fingerprint(job_in(tmp_path, body)) == before
    assert record.job_fingerprint(job_in(tmp_path, body + "# edited\n")) != before


def test_a_job_reading_a_landing_table_runs_again_when_the_landing_objects_change(tmp_path):
    """A landing table is JSON over the objects (no Iceberg snapshot: None): the listing stands for it."""
    record = new(tmp_path, {})
    job = job_in(tmp_path, "def transform(customer_landing):\n    return customer_landing\n")
    record.landing = record.landing_fingerprint({"customer/landing/a.json": "e1"}, "", None)
    before = record.job_fingerprint(job)
    record.landing = record.landing_fingerprint({"customer/landing/b.json": "e2"}, "", None)
    assert record.job_fingerprint(job) != before


def test_a_job_runs_again_when_an_input_table_moved(tmp_path):
    current = {"customer_trusted": 7}
    record = new(tmp_path, current)
    job = job_in(tmp_path, "def transform(customer_trusted):\n    return customer_trusted\n")
    before = record.job_fingerprint(job)
    current["customer_trusted"] = 8  # the job upstream ran again
    assert record.job_fingerprint(job) != before


def test_without_skipping_nothing_is_skipped_but_what_ran_is_recorded_beside_the_rest(tmp_path):
    current = {"a": 1, "b": 5}
    first = new(tmp_path, current)
    first.did("job_a", "fa", ["a"], {"tables": {"a": 1}})
    first.did("job_b", "fb", ["b"], {"tables": {"b": 2}})
    first.save()
    current["a"] = 2
    full = new(tmp_path, current, skipping=False)
    assert full.unchanged("job_b", "fb") is None
    full.did("job_a", "fa2", ["a"], {"tables": {"a": 9}})
    full.save()
    after = new(tmp_path, current)
    assert after.unchanged("job_a", "fa2") == {"tables": {"a": 9}}  # recorded at the snapshot it is at now
    assert after.unchanged("job_b", "fb") == {"tables": {"b": 2}}  # kept from the run before


def test_a_skipped_steps_snapshots_are_those_it_was_checked_against(tmp_path):
    current = {"a": 41}
    first = new(tmp_path, current)
    first.did("job_a", "f", ["a"], {"tables": {"a": 3}, "snapshots": {"a": 40}})  # as the job's write said
    first.save()
    assert new(tmp_path, current).unchanged("job_a", "f") == {"tables": {"a": 3}, "snapshots": {"a": 41}}


def test_an_unreadable_record_means_every_step_runs(tmp_path):
    (tmp_path / steps.FILE).write_text("{not json")
    assert new(tmp_path, {}).unchanged(LANDING, "x") is None


def test_the_shared_code_leaves_out_the_jobs_own_files_the_benchmarks_and_byte_code(tmp_path):
    for name in ("stedi/run.py", "stedi/tools/bench.py", "spark_jobs/one.py", "spark_jobs/two.py",
                 "catalog/tables.toml", "stedi/__pycache__/run.cpython-311.pyc"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    one = tmp_path / "spark_jobs" / "one.py"
    digest = steps.shared_code_digest([one], root=tmp_path)
    for untouched in ("stedi/tools/bench.py", "spark_jobs/one.py", "stedi/__pycache__/run.cpython-311.pyc"):
        (tmp_path / untouched).write_text("changed")
        assert steps.shared_code_digest([one], root=tmp_path) == digest, untouched
    for counted in ("spark_jobs/two.py", "stedi/run.py", "catalog/tables.toml"):
        (tmp_path / counted).write_text("changed " + counted)
        assert steps.shared_code_digest([one], root=tmp_path) != digest, counted
        digest = steps.shared_code_digest([one], root=tmp_path)


def test_a_step_done_without_a_fingerprint_is_done_again_next_time(tmp_path):
    current = {"customer_landing": 1}
    first = new(tmp_path, current)
    first.did(LANDING, "f", ["customer_landing"], {})
    first.save()
    clocked = new(tmp_path, current, skipping=False)
    clocked.did(LANDING, None, ["customer_landing"], {})  # a verdict the clock may change
    clocked.save()
    assert new(tmp_path, current).unchanged(LANDING, "f") is None
