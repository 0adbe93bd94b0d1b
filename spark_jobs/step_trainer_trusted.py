"""step_trainer_landing -> step_trainer_trusted: keep the readings of devices that belong
to curated customers.

customers_curated only knows devices by pseudonym, so each reading's serial number is
pseudonymized with the same key before the match. Under the strict policy a reading taken
before its owner's consent date is dropped.
"""

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from stedi.job import Job
from stedi.pseudonym import hmac_sha256


def transform(
    step_trainer_landing: DataFrame, customers_curated: DataFrame, *, policy: str, pseudonym_key: bytes
) -> DataFrame:
    readings = _with_consent(step_trainer_landing, customers_curated, pseudonym_key, how="inner")
    if policy == "strict":
        readings = readings.where(F.col("sensorReadingTime") >= F.col("_consent"))
    return readings.select(*step_trainer_landing.columns)


def audit(
    step_trainer_landing: DataFrame, customers_curated: DataFrame, *, policy: str, pseudonym_key: bytes
) -> dict:
    """Why readings were dropped, in the run summary and the run report."""
    readings = _with_consent(step_trainer_landing, customers_curated, pseudonym_key, how="left")
    counts = readings.agg(
        F.count_if(F.col("_consent").isNull()).alias("unmatched"),
        F.count_if(F.col("sensorReadingTime") < F.col("_consent")).alias("early"),
    ).first()
    return {"dropped": {"device of no curated customer": counts.unmatched,
                        "taken before consent": counts.early if policy == "strict" else 0}}


def _with_consent(step_trainer_landing: DataFrame, customers_curated: DataFrame, key: bytes, *, how: str):
    devices = customers_curated.groupBy("device_id").agg(F.max("shareWithResearchAsOfDate").alias("_consent"))
    return step_trainer_landing.withColumn("device_id", hmac_sha256(F.col("serialNumber"), key)).join(
        devices, "device_id", how
    )


JOB = Job("step_trainer_trusted", transform, audit=audit)

if __name__ == "__main__":
    JOB.main()
