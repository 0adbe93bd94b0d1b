"""customer_landing -> customer_trusted: keep the customers who agreed to share their
data for research, as their latest record says.

Consent is an absent key in the raw JSON when it was never given (NULL here), and a 0
would be an unset date rather than a consent, so both are excluded.

A customer may appear more than once (the website sends a new record when they change their
settings): the record with the latest `lastUpdateDate` is the one in force, so a newer record
without research consent revokes it, and one with a later consent date moves it. At equal update
times the more restrictive record wins (no consent, then the later consent date).
"""

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from stedi.job import Job
from stedi.pseudonym import normalized_email


def transform(customer_landing: DataFrame) -> DataFrame:
    consent = F.col("shareWithResearchAsOfDate")
    return latest_records(customer_landing).where(consent.isNotNull() & (consent != 0))


def latest_records(customers: DataFrame) -> DataFrame:
    """Each customer's record in force: one per email (trimmed, lower-cased)."""
    consent = F.col("shareWithResearchAsOfDate")
    newest_first = Window.partitionBy(normalized_email("email")).orderBy(
        F.col("lastUpdateDate").desc_nulls_last(),
        F.when(consent.isNull() | (consent == 0), 0).otherwise(1),
        consent.desc(),
    )
    return customers.withColumn("_order", F.row_number().over(newest_first)).where("_order = 1").drop("_order")


JOB = Job("customer_landing_to_trusted", transform)

if __name__ == "__main__":
    JOB.main()
