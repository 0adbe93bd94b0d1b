"""accelerometer_landing -> accelerometer_trusted: keep the readings of customers who
consented to research.

`user` is matched to the customer's email trimmed and lower-cased, because the app and
the website do not agree on case. Under the strict policy a reading taken before the
customer's consent date is not covered by that consent and is dropped; the rubric policy
keeps it, as the course does.
"""

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from stedi.job import Job
from stedi.pseudonym import normalized_email


def transform(accelerometer_landing: DataFrame, customer_trusted: DataFrame, *, policy: str) -> DataFrame:
    readings = _with_consent(accelerometer_landing, customer_trusted, how="inner")
    if policy == "strict":
        readings = readings.where(F.col("timestamp") >= F.col("_consent"))
    return readings.select(*accelerometer_landing.columns)


def audit(accelerometer_landing: DataFrame, customer_trusted: DataFrame, *, policy: str) -> dict:
    """Why readings were dropped, in the run summary and the run report."""
    readings = _with_consent(accelerometer_landing, customer_trusted, how="left")
    counts = readings.agg(
        F.count_if(F.col("_consent").isNull()).alias("unmatched"),
        F.count_if(F.col("timestamp") < F.col("_consent")).alias("early"),
    ).first()
    return {"dropped": {"no consenting customer": counts.unmatched,
                        "taken before consent": counts.early if policy == "strict" else 0}}


def _with_consent(accelerometer_landing: DataFrame, customer_trusted: DataFrame, *, how: str) -> DataFrame:
    # One consent per email, the latest if a customer appears twice: a reading is only kept
    # when every record of that customer covers it, and the join cannot duplicate readings.
    consents = customer_trusted.groupBy(normalized_email("email").alias("_email")).agg(
        F.max("shareWithResearchAsOfDate").alias("_consent")
    )
    return accelerometer_landing.withColumn("_email", normalized_email("user")).join(consents, "_email", how)


JOB = Job("accelerometer_landing_to_trusted", transform, audit=audit)

if __name__ == "__main__":
    JOB.main()
