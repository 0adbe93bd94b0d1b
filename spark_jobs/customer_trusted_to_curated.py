"""customer_trusted -> customers_curated: the consenting customers who actually have
accelerometer data, one row each, anonymized.

Name, email, phone and birthday are dropped; the email and the device serial number are
replaced by keyed pseudonyms so that downstream tables can still be joined per customer
and per device without revealing either.
"""

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from stedi.job import Job
from stedi.pseudonym import hmac_sha256, normalized_email

CONSENT_DATES = [
    "registrationDate",
    "lastUpdateDate",
    "shareWithResearchAsOfDate",
    "shareWithPublicAsOfDate",
    "shareWithFriendsAsOfDate",
]


def transform(customer_trusted: DataFrame, accelerometer_trusted: DataFrame, *, pseudonym_key: bytes) -> DataFrame:
    with_readings = accelerometer_trusted.select(normalized_email("user").alias("_email")).distinct()
    customers = customer_trusted.withColumn("_email", normalized_email("email")).join(
        with_readings, "_email", "left_semi"
    )
    return customers.select(
        hmac_sha256(F.col("_email"), pseudonym_key).alias("customer_id"),
        hmac_sha256(F.col("serialNumber"), pseudonym_key).alias("device_id"),
        *CONSENT_DATES,
    ).dropDuplicates(["customer_id"])


JOB = Job("customer_trusted_to_curated", transform)

if __name__ == "__main__":
    JOB.main()
