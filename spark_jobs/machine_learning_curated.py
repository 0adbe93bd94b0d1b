"""step_trainer_trusted + accelerometer_trusted -> machine_learning_curated: each Step
Trainer reading beside the accelerometer readings taken at the same moment, anonymized.

Accelerometer timestamps are shared between customers, so the strict policy pairs a
reading only with the motion of the device's own customer (serial number -> customer ->
email -> accelerometer user). The rubric policy reproduces the course's join on the
timestamp alone; `audit` counts the rows where that pairs two different customers.
"""

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from stedi.job import Job
from stedi.pseudonym import hmac_sha256, normalized_email


def transform(
    step_trainer_trusted: DataFrame,
    accelerometer_trusted: DataFrame,
    customer_trusted: DataFrame,
    *,
    policy: str,
    pseudonym_key: bytes,
) -> DataFrame:
    pairs = _pairs(step_trainer_trusted, accelerometer_trusted, customer_trusted, policy)
    return pairs.select(
        hmac_sha256(F.col("serialNumber"), pseudonym_key).alias("device_id"),
        "sensorReadingTime",
        "distanceFromObject",
        "timestamp",
        "x",
        "y",
        "z",
    )


def audit(
    step_trainer_trusted: DataFrame, accelerometer_trusted: DataFrame, customer_trusted: DataFrame, *, policy: str
) -> dict:
    if policy == "strict":  # its join pairs a reading only with its own customer's motion: none cross
        return {"cross_customer_pairs": 0}
    pairs = _pairs(step_trainer_trusted, accelerometer_trusted, customer_trusted, policy)
    crossed = pairs.where(F.col("_owner").isNull() | (F.col("_owner") != F.col("_user"))).count()
    return {"cross_customer_pairs": crossed}


def _pairs(steps: DataFrame, motion: DataFrame, customers: DataFrame, policy: str) -> DataFrame:
    """Step readings joined to accelerometer readings, each side tagged with its customer."""
    owners = customers.select("serialNumber", normalized_email("email").alias("_owner")).dropDuplicates(
        ["serialNumber"]
    )
    steps = steps.join(owners, "serialNumber", "left")
    motion = motion.withColumn("_user", normalized_email("user"))
    same_moment = steps["sensorReadingTime"] == motion["timestamp"]
    if policy == "strict":
        return steps.join(motion, same_moment & (steps["_owner"] == motion["_user"]))
    return steps.join(motion, same_moment)


JOB = Job("machine_learning_curated", transform, audit=audit)

if __name__ == "__main__":
    JOB.main()
