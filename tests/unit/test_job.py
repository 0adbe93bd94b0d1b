import pytest

from stedi.job import SchemaMismatch, conform
from stedi.pipeline import jobs
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


def test_a_transform_returning_undeclared_columns_is_stopped(spark):
    df = spark.createDataFrame([("a@b.c", 1)], "email string, timestamp long")
    with pytest.raises(SchemaMismatch, match=r"missing \['user', 'x', 'y', 'z'\], unexpected \['email'\]"):
        conform(df, lakehouse().table("accelerometer_trusted"))
