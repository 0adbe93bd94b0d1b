"""Each job's transform on tiny frames, against rows written out by hand."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from pyspark.testing import assertDataFrameEqual

from spark_jobs import (
    accelerometer_landing_to_trusted,
    customer_landing_to_trusted,
    customer_trusted_to_curated,
    machine_learning_curated,
    step_trainer_trusted,
)
from stedi.job import conform
from stedi.tables import lakehouse

ANA = {
    "customerName": "Ana Lee",
    "email": "Ana.Lee@test.com",
    "phone": "8015551212",
    "birthDay": "1399-01-01",
    "serialNumber": "serial-ana",
    "registrationDate": 100,
    "lastUpdateDate": 100,
    "shareWithResearchAsOfDate": 1000,
}
BO = {
    "customerName": "Bo Kim",
    "email": "bo.kim@test.com",
    "phone": "8015551213",
    "birthDay": "1980-05-05",
    "serialNumber": "serial-bo",
    "registrationDate": 200,
    "lastUpdateDate": 200,
    "shareWithResearchAsOfDate": 2000,
    "shareWithPublicAsOfDate": 2000,
}
CY = {
    "customerName": "Cy Diaz",
    "email": "cy@test.com",
    "phone": "8015551214",
    "birthDay": "0967-01-01",
    "serialNumber": "serial-cy",
    "registrationDate": 300,
    "lastUpdateDate": 300,
}  # never consented
DEE = {
    **CY,
    "customerName": "Dee",
    "email": "dee@test.com",
    "serialNumber": "serial-dee",
    "shareWithResearchAsOfDate": 0,
}


def frame(spark, table: str, *rows: dict):
    """A frame with the table's declared schema; absent keys are NULL, as in the JSON."""
    schema = lakehouse().table(table).spark_schema()
    return spark.createDataFrame([tuple(r.get(f.name) for f in schema.fields) for r in rows], schema)


def pseudonym(value: str, key: bytes) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def reading(user, timestamp, x=0.0):
    return {"user": user, "timestamp": timestamp, "x": x, "y": 1.0, "z": -1.0}


def step(serial, time, distance):
    return {"sensorReadingTime": time, "serialNumber": serial, "distanceFromObject": distance}


def test_customer_trusted_keeps_only_customers_with_a_research_consent(spark):
    landing = frame(spark, "customer_landing", ANA, BO, CY, DEE)
    result = customer_landing_to_trusted.transform(landing)
    assertDataFrameEqual(result, frame(spark, "customer_landing", ANA, BO))


def test_a_newer_customer_record_without_consent_revokes_it(spark):
    revoked = {**ANA, "email": " ana.lee@test.COM", "lastUpdateDate": 5000, "shareWithResearchAsOfDate": None}
    landing = frame(spark, "customer_landing", ANA, revoked, BO)
    result = customer_landing_to_trusted.transform(landing)
    assertDataFrameEqual(result, frame(spark, "customer_landing", BO))


def test_a_newer_customer_record_with_a_later_consent_date_moves_it(spark):
    later = {**BO, "lastUpdateDate": 5000, "shareWithResearchAsOfDate": 4000}
    older = {**ANA, "lastUpdateDate": 50}  # an older record of Ana's: the newer one (ANA) stands
    landing = frame(spark, "customer_landing", BO, later, ANA, older)
    result = customer_landing_to_trusted.transform(landing)
    assertDataFrameEqual(result, frame(spark, "customer_landing", ANA, later))


def test_at_equal_update_times_the_more_restrictive_customer_record_wins(spark):
    withdrawn = {**ANA, "shareWithResearchAsOfDate": 0}
    later_consent = {**BO, "shareWithResearchAsOfDate": 3000}
    landing = frame(spark, "customer_landing", ANA, withdrawn, BO, later_consent)
    result = customer_landing_to_trusted.transform(landing)
    assertDataFrameEqual(result, frame(spark, "customer_landing", later_consent))


@pytest.mark.parametrize("policy", ["strict", "rubric"])
def test_accelerometer_trusted_matches_users_case_and_space_insensitively(spark, policy):
    customers = frame(spark, "customer_trusted", ANA, BO)
    readings = frame(
        spark,
        "accelerometer_landing",
        reading(" ana.lee@TEST.com", 1500),  # Ana after consent, written differently
        reading("Ana.Lee@test.com", 900),  # Ana before her consent (1000)
        reading("bo.kim@test.com", 2000),  # Bo exactly at consent
        reading("cy@test.com", 5000),  # Cy never consented
    )
    result = accelerometer_landing_to_trusted.transform(readings, customers, policy=policy)
    expected = [reading(" ana.lee@TEST.com", 1500), reading("bo.kim@test.com", 2000)]
    if policy == "rubric":
        expected.append(reading("Ana.Lee@test.com", 900))
    assertDataFrameEqual(result, frame(spark, "accelerometer_trusted", *expected))


@pytest.mark.parametrize("policy", ["strict", "rubric"])
def test_accelerometer_audit_says_why_each_dropped_reading_went(spark, policy):
    customers = frame(spark, "customer_trusted", ANA, BO)
    readings = frame(
        spark,
        "accelerometer_landing",
        reading(" ana.lee@TEST.com", 1500),
        reading("Ana.Lee@test.com", 900),  # before Ana's consent (1000)
        reading("bo.kim@test.com", 2000),
        reading("cy@test.com", 5000),  # Cy never consented
    )
    audit = accelerometer_landing_to_trusted.audit(readings, customers, policy=policy)
    early = 1 if policy == "strict" else 0  # the rubric keeps it
    assert audit == {"dropped": {"no consenting customer": 1, "taken before consent": early}}
    kept = accelerometer_landing_to_trusted.transform(readings, customers, policy=policy).count()
    assert kept + sum(audit["dropped"].values()) == readings.count()


def test_accelerometer_trusted_never_duplicates_a_reading_of_a_customer_listed_twice(spark):
    customers = frame(spark, "customer_trusted", ANA, {**ANA, "shareWithResearchAsOfDate": 1200})
    readings = frame(
        spark, "accelerometer_landing", reading("ana.lee@test.com", 1100), reading("ana.lee@test.com", 1300)
    )
    result = accelerometer_landing_to_trusted.transform(readings, customers, policy="strict")
    assertDataFrameEqual(result, frame(spark, "accelerometer_trusted", reading("ana.lee@test.com", 1300)))


def test_customers_curated_has_one_pseudonymous_row_per_customer_with_readings(spark, key):
    customers = frame(spark, "customer_trusted", ANA, BO)
    readings = frame(
        spark, "accelerometer_trusted", reading("ANA.LEE@test.com", 1500), reading("ana.lee@test.com", 1600)
    )
    result = customer_trusted_to_curated.transform(customers, readings, pseudonym_key=key)
    expected = {
        "customer_id": pseudonym("ana.lee@test.com", key),
        "device_id": pseudonym("serial-ana", key),
        "registrationDate": 100,
        "lastUpdateDate": 100,
        "shareWithResearchAsOfDate": 1000,
    }
    assertDataFrameEqual(
        conform(result, lakehouse().table("customers_curated")), frame(spark, "customers_curated", expected)
    )


@pytest.mark.parametrize("policy", ["strict", "rubric"])
def test_step_trainer_trusted_keeps_curated_devices_and_drops_early_readings_under_strict(spark, key, policy):
    curated = frame(
        spark,
        "customers_curated",
        {"customer_id": "c-ana", "device_id": pseudonym("serial-ana", key), "shareWithResearchAsOfDate": 1000},
    )
    steps = frame(
        spark,
        "step_trainer_landing",
        step("serial-ana", 1500, 210),
        step("serial-ana", 500, 220),
        step("serial-bo", 2500, 230),
    )
    result = step_trainer_trusted.transform(steps, curated, policy=policy, pseudonym_key=key)
    expected = [step("serial-ana", 1500, 210)] + ([step("serial-ana", 500, 220)] if policy == "rubric" else [])
    assertDataFrameEqual(result, frame(spark, "step_trainer_trusted", *expected))


@pytest.mark.parametrize("policy", ["strict", "rubric"])
def test_step_trainer_audit_says_why_each_dropped_reading_went(spark, key, policy):
    curated = frame(
        spark,
        "customers_curated",
        {"customer_id": "c-ana", "device_id": pseudonym("serial-ana", key), "shareWithResearchAsOfDate": 1000},
    )
    steps = frame(
        spark, "step_trainer_landing", step("serial-ana", 1500, 210), step("serial-ana", 500, 220),
        step("serial-bo", 2500, 230), step("serial-bo", 2600, 240),
    )
    audit = step_trainer_trusted.audit(steps, curated, policy=policy, pseudonym_key=key)
    early = 1 if policy == "strict" else 0
    assert audit == {"dropped": {"device of no curated customer": 2, "taken before consent": early}}
    kept = step_trainer_trusted.transform(steps, curated, policy=policy, pseudonym_key=key).count()
    assert kept + sum(audit["dropped"].values()) == steps.count()


def _ml_inputs(spark):
    customers = frame(spark, "customer_trusted", ANA, BO)
    steps = frame(spark, "step_trainer_trusted", step("serial-ana", 1500, 210), step("serial-bo", 2500, 230))
    # Ana and Bo both moved at 1500: the timestamp alone cannot tell whose motion it was.
    motion = frame(
        spark,
        "accelerometer_trusted",
        reading("ana.lee@test.com", 1500, x=1.0),
        reading("ana.lee@test.com", 1500, x=2.0),
        reading("bo.kim@test.com", 1500, x=9.0),
    )
    return steps, motion, customers


def ml_row(key, serial, time, distance, x):
    return {
        "device_id": pseudonym(serial, key),
        "sensorReadingTime": time,
        "distanceFromObject": distance,
        "timestamp": time,
        "x": x,
        "y": 1.0,
        "z": -1.0,
    }


def test_machine_learning_curated_strict_pairs_a_device_only_with_its_owners_motion(spark, key):
    steps, motion, customers = _ml_inputs(spark)
    result = machine_learning_curated.transform(steps, motion, customers, policy="strict", pseudonym_key=key)
    assertDataFrameEqual(
        result,
        frame(
            spark,
            "machine_learning_curated",
            ml_row(key, "serial-ana", 1500, 210, 1.0),
            ml_row(key, "serial-ana", 1500, 210, 2.0),
        ),
    )
    assert machine_learning_curated.audit(steps, motion, customers, policy="strict") == {"cross_customer_pairs": 0}


def test_machine_learning_curated_rubric_joins_on_time_alone_and_counts_the_crossed_pairs(spark, key):
    steps, motion, customers = _ml_inputs(spark)
    result = machine_learning_curated.transform(steps, motion, customers, policy="rubric", pseudonym_key=key)
    assertDataFrameEqual(
        result,
        frame(
            spark,
            "machine_learning_curated",
            ml_row(key, "serial-ana", 1500, 210, 1.0),
            ml_row(key, "serial-ana", 1500, 210, 2.0),
            ml_row(key, "serial-ana", 1500, 210, 9.0),
        ),
    )
    assert machine_learning_curated.audit(steps, motion, customers, policy="rubric") == {"cross_customer_pairs": 1}
