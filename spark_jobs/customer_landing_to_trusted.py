"""customer_landing -> customer_trusted: keep the customers who agreed to share their
data for research.

Consent is an absent key in the raw JSON when it was never given (NULL here), and a 0
would be an unset date rather than a consent, so both are excluded.
"""

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from stedi.job import Job


def transform(customer_landing: DataFrame) -> DataFrame:
    consent = F.col("shareWithResearchAsOfDate")
    return customer_landing.where(consent.isNotNull() & (consent != 0))


JOB = Job("customer_landing_to_trusted", transform)

if __name__ == "__main__":
    JOB.main()
