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
    devices = customers_curated.groupBy("device_id").agg(F.max("shareWithResearchAsOfDate").alias("_consent"))
    readings = step_trainer_landing.withColumn("device_id", hmac_sha256(F.col("serialNumber"), pseudonym_key)).join(
        devices, "device_id"
    )
    if policy == "strict":
        readings = readings.where(F.col("sensorReadingTime") >= F.col("_consent"))
    return readings.select(*step_trainer_landing.columns)


JOB = Job("step_trainer_trusted", transform)

if __name__ == "__main__":
    JOB.main()
