import types

import pytest

from stedi import cli
from stedi.job import SchemaMismatch, conform
from stedi.pipeline import UnknownJob, downstream, jobs, run_jobs
from stedi.tables import lakehouse


def test_jobs_run_in_dependency_order_derived_from_their_inputs():
    assert [job.name for job in jobs()] == [
        "customer_landing_to_trusted",
        "accelerometer_landing_to_trusted",
        "customer_trusted_to_curated",
        "step_trainer_trusted",
        "machine_learning_curated",
    ]
    assert jobs()[-1].inputs == ("step_trainer_trusted", "accelerometer_trusted", "customer_trusted")


def test_stedi_run_takes_the_job_and_every_job_reading_its_output_directly_or_not():
    def names(job):
        return [j.name for j in downstream(job)]

    assert names("machine_learning_curated") == ["machine_learning_curated"]
    assert names("step_trainer_trusted") == ["step_trainer_trusted", "machine_learning_curated"]
    # customers_curated is read by step_trainer_trusted, whose output machine_learning_curated reads
    assert names("customer_trusted_to_curated") == [
        "customer_trusted_to_curated",
        "step_trainer_trusted",
        "machine_learning_curated",
    ]
    assert names("customer_landing_to_trusted") == [job.name for job in jobs()]
    with pytest.raises(UnknownJob, match="no job 'machine_learning'; the jobs are: customer_landing_to_trusted, "):
        downstream("machine_learning")


def test_stedi_run_names_an_unknown_job_and_needs_a_whole_run_first(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("STEDI_HOME", str(tmp_path / "state"))  # a stack that never ran
    monkeypatch.setenv("STEDI_TARGET", "embedded")
    assert cli.main(["run", "machine_learning"]) == 2
    assert "stedi: error: no job 'machine_learning'; the jobs are: " in capsys.readouterr().err
    assert cli.main(["run", "machine_learning_curated"]) == 2
    assert capsys.readouterr().err.strip() == (
        "stedi: error: no pipeline has run on this lakehouse yet: `make pipeline` first, then `stedi run JOB`"
    )


def test_stedi_run_refuses_jobs_whose_inputs_were_never_published():
    class NothingPublished:
        def exists(self, name: str) -> bool:
            return False

    params = types.SimpleNamespace(policy="strict", pseudonym_key=b"")
    expected = "accelerometer_trusted, customer_trusted, step_trainer_trusted: not published on this stack yet"
    with pytest.raises(UnknownJob, match=expected):
        run_jobs(NothingPublished(), params, downstream("machine_learning_curated"))


def test_a_transform_returning_undeclared_columns_is_stopped(spark):
    df = spark.createDataFrame([("a@b.c", 1)], "email string, timestamp long")
    with pytest.raises(SchemaMismatch, match=r"missing \['user', 'x', 'y', 'z'\], unexpected \['email'\]"):
        conform(df, lakehouse().table("accelerometer_trusted"))
