"""Consent: every trusted and curated row belongs to a customer who gave research consent,
and under the strict policy no reading predates that consent.

A customer's consent is `shareWithResearchAsOfDate`, absent or 0 when never given. Readings
are tied to their customer the way the jobs tie them (accelerometer by the normalized email,
Step Trainer readings by the device pseudonym), then each row is given its customer's
consent date: NULL means the row has no consenting customer at all.
"""

from __future__ import annotations

import great_expectations.expectations as gxe

from expectations.context import Audit, Suite

CONSENT = "shareWithResearchAsOfDate"
EMAIL = "lower(trim({}))"  # as stedi.pseudonym.normalized_email
# The latest consent per device: a reading is kept only when every record of its customer covers it.
DEVICES = f"SELECT device_id, max({CONSENT}) AS consent FROM customers_curated GROUP BY device_id"


def suites(audit: Audit) -> list[Suite]:
    table = audit.table
    if table.zone == "landing":
        return []
    if CONSENT in table.column_names:  # customer tables carry their own consent
        start, _ = audit.rules.epoch_window
        checks = [
            gxe.ExpectColumnValuesToNotBeNull(column=CONSENT),
            gxe.ExpectColumnValuesToBeBetween(column=CONSENT, min_value=start),
        ]
        return [Suite(table.name, checks)]
    view = _readings_with_consent(audit)
    if view is None:
        return []
    query, moment_columns, uses, extra = view
    checks = [gxe.ExpectColumnValuesToNotBeNull(column="consent_date")]
    if audit.strict:
        checks += [
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A=moment, column_B="consent_date", or_equal=True)
            for moment in moment_columns
        ]
    return [Suite(f"{table.name}.consent", checks, view=query, uses=uses, extra=extra)]


def _readings_with_consent(audit: Audit):
    """(SQL giving each staged row its customer's consent_date, moment columns, tables, frames)."""
    name = audit.table.name
    if name == "accelerometer_trusted":
        consents = (
            f"SELECT {EMAIL.format('email')} AS email, max({CONSENT}) AS consent "
            f"FROM customer_trusted GROUP BY {EMAIL.format('email')}"
        )
        query = (
            f"SELECT t.user, t.timestamp, c.consent AS consent_date FROM t "
            f"LEFT JOIN ({consents}) c ON {EMAIL.format('t.user')} = c.email"
        )
        return query, ["timestamp"], ("customer_trusted",), {}
    if name == "step_trainer_trusted":
        ids = audit.pseudonyms(audit.engine.distinct_values(audit.staged, "serialNumber"))
        query = (
            "SELECT t.serialNumber, t.sensorReadingTime, d.consent AS consent_date FROM t "
            "LEFT JOIN ids ON t.serialNumber = ids.value "
            f"LEFT JOIN ({DEVICES}) d ON ids.pseudonym = d.device_id"
        )
        return query, ["sensorReadingTime"], ("customers_curated",), {"ids": ids}
    if name == "machine_learning_curated":
        query = (
            "SELECT t.device_id, t.sensorReadingTime, t.timestamp, d.consent AS consent_date FROM t "
            f"LEFT JOIN ({DEVICES}) d ON t.device_id = d.device_id"
        )
        return query, ["sensorReadingTime", "timestamp"], ("customers_curated",), {}
    return None
