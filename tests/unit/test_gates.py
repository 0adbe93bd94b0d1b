"""The quality gates on a tiny hand-made lakehouse: every suite passes on consistent tables,
and each kind of defect a job could introduce is stopped by the expectation meant for it,
with the offending rows quoted. Real Great Expectations, real DuckDB; no Spark except in the
Spark-engine test."""

from __future__ import annotations

import hmac
from hashlib import sha256

import pyarrow as pa
import pytest

from stedi.gates.gate import Gate, GateFailed, PandasEngine, SparkEngine
from stedi.job import JobParams
from stedi.tables import lakehouse

CONSENT = 1_700_000_000_000  # 2023-11-14
BEFORE = CONSENT - 3_600_000
AFTER = CONSENT + 3_600_000

ANA = dict(customerName="Ana Diaz", email="Ana@x.test", phone="8015551212", birthDay="1990-01-01", serialNumber="sn-a")
BEN = dict(customerName="Ben Ode", email="ben@x.test", phone="8015551213", birthDay="1991-01-01", serialNumber="sn-b")


def pseudonym(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode(), sha256).hexdigest()


def arrow(name: str, rows: list[dict]) -> pa.Table:
    schema = lakehouse().table(name).arrow_schema()
    return pa.Table.from_pylist([{c: r.get(c) for c in schema.names} for r in rows], schema=schema)


def customer(person: dict, consent: int | None) -> dict:
    dates = dict(registrationDate=CONSENT - 10, lastUpdateDate=CONSENT - 10, shareWithPublicAsOfDate=0)
    return {**person, **dates, "shareWithResearchAsOfDate": consent}


@pytest.fixture()
def world(key) -> dict[str, pa.Table]:
    """Ana consented (Ben did not); one reading each before and after Ana's consent, strict policy."""
    ana = customer(ANA, CONSENT)
    motion = [
        dict(user="ana@x.test ", timestamp=BEFORE, x=0.1, y=0.2, z=0.3),
        dict(user="ana@x.test ", timestamp=AFTER, x=0.4, y=0.5, z=0.6),
        dict(user="ben@x.test", timestamp=AFTER, x=-0.4, y=-0.5, z=-0.6),
    ]
    steps = [
        dict(serialNumber="sn-a", sensorReadingTime=BEFORE, distanceFromObject=210),
        dict(serialNumber="sn-a", sensorReadingTime=AFTER, distanceFromObject=220),
        dict(serialNumber="sn-b", sensorReadingTime=AFTER, distanceFromObject=230),
    ]
    device = pseudonym(key, "sn-a")
    curated = {k: v for k, v in ana.items() if k in lakehouse().table("customers_curated").column_names}
    return {
        "customer_landing": arrow("customer_landing", [ana, customer(BEN, None)]),
        "accelerometer_landing": arrow("accelerometer_landing", motion),
        "step_trainer_landing": arrow("step_trainer_landing", steps),
        "customer_trusted": arrow("customer_trusted", [ana]),
        "accelerometer_trusted": arrow("accelerometer_trusted", [motion[1]]),
        "customers_curated": arrow(
            "customers_curated", [{**curated, "customer_id": pseudonym(key, "ana@x.test"), "device_id": device}]
        ),
        "step_trainer_trusted": arrow("step_trainer_trusted", [steps[1]]),
        "machine_learning_curated": arrow(
            "machine_learning_curated",
            [
                dict(
                    device_id=device,
                    sensorReadingTime=AFTER,
                    distanceFromObject=220,
                    timestamp=AFTER,
                    x=0.4,
                    y=0.5,
                    z=0.6,
                )
            ],
        ),
    }


def gate_for(world, key, policy="strict", **options) -> Gate:
    return Gate(JobParams(policy=policy, pseudonym_key=key), read_published=world.__getitem__, **options)


def check(world, key, name, rows=None, policy="strict", **facts):
    gate = gate_for(world, key, policy)
    staged = world[name] if rows is None else arrow(name, rows)
    return gate.check(lakehouse().table(name), staged, **facts)


def failure(world, key, name, rows=None, policy="strict", **facts) -> str:
    with pytest.raises(GateFailed) as raised:
        check(world, key, name, rows, policy, **facts)
    assert raised.value.table == name
    return str(raised.value)


def test_every_suite_passes_on_consistent_tables(world, key):
    gate = gate_for(world, key)
    for name, table in lakehouse().tables.items():
        facts = {"landing_records": world[name].num_rows} if table.zone == "landing" else {}
        outcome = gate.check(table, world[name], **facts)
        assert outcome.engine == "pandas" and outcome.expectations >= 5, outcome
    assert [o.table for o in gate.outcomes] == list(lakehouse().tables)


def test_a_null_in_a_required_column_is_named_with_its_row(world, key):
    rows = world["accelerometer_landing"].to_pylist()
    rows[1]["timestamp"] = None
    message = failure(world, key, "accelerometer_landing", rows)
    assert "was not published" in message
    assert "expect_column_values_to_not_be_null(column=timestamp): 1 of 3 rows" in message
    assert '"x": 0.4' in message  # the offending row itself


def test_duplicate_keys_fail(world, key):
    rows = world["step_trainer_trusted"].to_pylist() * 2
    message = failure(world, key, "step_trainer_trusted", rows)
    assert "expect_compound_columns_to_be_unique" in message


def test_values_out_of_physical_range_and_absurd_instants_fail(world, key):
    rows = world["accelerometer_landing"].to_pylist()
    rows[0]["x"] = 99.0
    rows[2]["timestamp"] = 1_700_000_000  # seconds, not milliseconds: 1970
    message = failure(world, key, "accelerometer_landing", rows)
    assert "expect_column_values_to_be_between(column=x, min_value=-16.0, max_value=16.0" in message
    assert "expect_column_values_to_be_between(column=timestamp" in message


def test_a_consent_date_of_zero_means_never_given_in_landing_but_fails_in_trusted(world, key):
    landing = world["customer_landing"].to_pylist()
    landing[1]["shareWithResearchAsOfDate"] = 0
    check(world, key, "customer_landing", landing)
    message = failure(world, key, "customer_trusted", [landing[0], landing[1]])
    assert "expect_column_values_to_be_between(column=shareWithResearchAsOfDate" in message


def test_a_reading_of_a_customer_without_consent_fails(world, key):
    rows = world["accelerometer_trusted"].to_pylist() + [world["accelerometer_landing"].to_pylist()[2]]
    message = failure(world, key, "accelerometer_trusted", rows)
    assert "accelerometer_trusted.consent: expect_column_values_to_not_be_null(column=consent_date)" in message
    assert '"user": "ben@x.test"' in message


def test_a_reading_before_consent_fails_under_strict_only(world, key):
    rows = world["accelerometer_landing"].to_pylist()[:2]
    message = failure(world, key, "accelerometer_trusted", rows)
    assert "expect_column_pair_values_a_to_be_greater_than_b(column_A=timestamp, column_B=consent_date" in message
    assert f'"timestamp": {BEFORE}' in message
    check(world, key, "accelerometer_trusted", rows, policy="rubric")


def test_a_raw_serial_number_as_device_id_fails_anonymization(world, key):
    rows = world["customers_curated"].to_pylist()
    rows[0]["device_id"] = "sn-a"
    message = failure(world, key, "customers_curated", rows)
    assert (
        "customers_curated.pseudonyms: expect_column_values_to_be_in_set(column=device_id_is_a_raw_serialNumber"
        in message
    )
    assert "expect_column_values_to_match_regex(column=device_id" in message


def test_an_email_or_phone_number_in_a_curated_value_fails(world, key):
    rows = world["machine_learning_curated"].to_pylist()
    leaked = [dict(rows[0], device_id="ana@x.test"), dict(rows[0], device_id="+1 (801) 555-1212")]
    message = failure(world, key, "machine_learning_curated", leaked)
    assert "expect_column_values_to_not_match_regex_list(column=device_id" in message
    assert "2 of 2 rows" in message


def test_the_email_pattern_finds_what_the_unbounded_one_found():
    """One character before the @ instead of `+`: a search finds the same values, in linear time."""
    import random
    import re

    from expectations.anonymization import EMAIL

    unbounded = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
    found = re.compile(EMAIL)
    rng = random.Random(7)
    values = ["ana@x.test", " a@b.co ", "@x.test", "a@b", "a @b.co", "x@@y.org", "a@b.c", "me@host.io,", ""]
    values += ["".join(rng.choice("ab@. \t.x1") for _ in range(rng.randint(0, 12))) for _ in range(5000)]
    values += [f"{rng.getrandbits(256):064x}" for _ in range(100)]
    assert [bool(found.search(v)) for v in values] == [bool(unbounded.search(v)) for v in values]
    assert sum(bool(found.search(v)) for v in values) > 10


def test_an_identifier_column_in_a_curated_table_fails():
    from expectations.anonymization import suites
    from expectations.context import Audit

    engine = PandasEngine()
    table = lakehouse().table("customers_curated")
    staged = pa.table({"customer_id": ["x"], "email": ["ana@x.test"]})
    audit = Audit(
        table=table,
        house=lakehouse(),
        staged=staged,
        engine=engine,
        policy="strict",
        pseudonym_key=b"k",
        published=lambda name: None,
        now_ms=0,
    )
    columns = next(s for s in suites(audit) if s.name == "customers_curated.columns")
    frame = engine.sql(columns.view, {"t": staged, **columns.extra})
    assert frame.column("column_name").to_pylist() == ["customer_id", "email"]
    assert "email" in columns.expectations[0].value_set


def test_a_curated_customer_unknown_to_trusted_fails_lineage(world, key):
    rows = world["customers_curated"].to_pylist()
    rows[0]["customer_id"] = pseudonym(key, "somebody@else.test")
    message = failure(world, key, "customers_curated", rows)
    assert "customers_curated.lineage: expect_column_values_to_be_in_set(column=found_in_customer_trusted" in message


def test_a_trusted_row_that_is_not_in_landing_fails_lineage(world, key):
    rows = world["accelerometer_trusted"].to_pylist()
    rows[0]["z"] = 0.61  # altered on the way
    message = failure(world, key, "accelerometer_trusted", rows)
    assert "accelerometer_trusted.lineage" in message and "found_in_accelerometer_landing" in message


def test_a_stranger_s_motion_beside_a_device_s_steps_fails_under_strict_only(world, key):
    ml = world["machine_learning_curated"].to_pylist()[0]
    stranger = dict(user="ben@x.test", timestamp=AFTER, x=-0.4, y=-0.5, z=-0.6)
    world["accelerometer_trusted"] = arrow(
        "accelerometer_trusted", world["accelerometer_trusted"].to_pylist() + [stranger]
    )
    rows = [ml, dict(ml, x=-0.4, y=-0.5, z=-0.6)]
    message = failure(world, key, "machine_learning_curated", rows)
    assert "expect_column_values_to_be_in_set(column=paired_with_own_reading" in message
    assert "1 of 2 rows" in message
    check(world, key, "machine_learning_curated", rows, policy="rubric")


def test_row_counts_reconcile_with_the_files_and_never_grow_through_a_filter(world, key):
    check(world, key, "customer_landing", landing_records=3, quarantined=1)
    message = failure(world, key, "customer_landing", landing_records=3)
    assert "expect_table_row_count_to_equal(value=3): observed 2" in message

    rows = world["customer_landing"].to_pylist()
    more = [dict(rows[0], email=f"{i}@x.test", shareWithResearchAsOfDate=CONSENT) for i in range(3)]
    message = failure(world, key, "customer_trusted", more)
    assert "expect_table_row_count_to_be_between(min_value=0, max_value=2): observed 3" in message


def test_known_totals_are_checked(world, key):
    gate = gate_for(world, key, expected_rows={"customer_trusted": 2})
    with pytest.raises(GateFailed, match=r"expect_table_row_count_to_equal\(value=2\): observed 1"):
        gate.check(lakehouse().table("customer_trusted"), world["customer_trusted"])


def test_the_spark_engine_runs_the_same_suites(world, key, spark):
    """Big tables in a Spark stack stay in Spark: same suites, same verdicts."""
    frames = {
        name: spark.createDataFrame(t.to_pandas(), lakehouse().table(name).spark_schema()) for name, t in world.items()
    }
    gate = Gate(JobParams("strict", key), read_published=frames.__getitem__, spark=spark, pandas_max_rows=0)
    outcome = gate.check(lakehouse().table("machine_learning_curated"), frames["machine_learning_curated"])
    assert outcome.engine == "spark" and outcome.validations == 5
    assert spark._jsparkSession.sharedState().cacheManager().isEmpty()  # GX persisted each batch: let go

    early = spark.createDataFrame(
        world["accelerometer_landing"].to_pandas().iloc[:2], lakehouse().table("accelerometer_trusted").spark_schema()
    )
    with pytest.raises(GateFailed, match="expect_column_pair_values_a_to_be_greater_than_b") as raised:
        gate.check(lakehouse().table("accelerometer_trusted"), early)
    assert str(BEFORE) in str(raised.value)


def test_a_spark_stack_validates_small_tables_on_pandas(world, key, spark):
    frame = spark.createDataFrame(
        world["customer_trusted"].to_pandas(), lakehouse().table("customer_trusted").spark_schema()
    )
    outcome = gate_for(world, key, spark=spark).check(lakehouse().table("customer_trusted"), frame)
    assert outcome.engine == "pandas"


def test_a_small_table_joined_against_spooled_landing_records_is_checked_on_spark(world, key, spark):
    """Landing records past the intake's budget are Parquet files only Spark reads (a Spark frame, not
    Arrow): the check of a small table that joins against them runs on Spark, not collected to pandas."""
    published = dict(world)
    for name in ("customer_landing", "step_trainer_landing"):  # the raw identifiers customers_curated is held to
        published[name] = spark.createDataFrame(world[name].to_pandas(), lakehouse().table(name).spark_schema())
    gate = Gate(JobParams("strict", key), read_published=published.__getitem__, spark=spark)
    outcome = gate.check(lakehouse().table("customers_curated"), world["customers_curated"])
    assert outcome.engine == "spark"
    raw = {**world["customers_curated"].to_pylist()[0]}
    raw["device_id"] = "sn-a"  # a raw serial number where its pseudonym belongs
    with pytest.raises(GateFailed, match="device_id"):
        gate.check(lakehouse().table("customers_curated"), arrow("customers_curated", [raw]))


def test_the_engines_name_declared_types_as_ge_observes_them(spark):
    assert [PandasEngine().type_name(t) for t in ("string", "long", "int", "double")] == [
        "str",
        "int64",
        "int32",
        "float64",
    ]
    assert SparkEngine(spark).type_name("long") == "LongType"


class Snapshots:
    """The published tables of `world`, each at a snapshot that moves when the test says so; counts reads."""

    def __init__(self, world):
        self.world, self.ids, self.reads = world, dict.fromkeys(world, 1), []

    def current(self, name):
        return None if lakehouse().table(name).is_landing_files else self.ids[name]

    def read(self, name, snapshot_id=None):
        assert snapshot_id in (None, self.current(name))
        self.reads.append(name)
        return self.world[name]


def test_a_later_run_joins_against_the_published_snapshots_it_kept_and_reads_what_moved(world, key):
    from stedi.gates.published import Kept

    kept, tables = Kept(2**20), Snapshots(world)

    def run():
        gate = gate_for(world, key, kept=kept)
        gate.read_published, gate.published_snapshot = tables.read, tables.current
        gate.check(lakehouse().table("machine_learning_curated"), world["machine_learning_curated"])
        return gate

    run()
    first = sorted(tables.reads)
    assert first == ["accelerometer_trusted", "customer_landing", "customers_curated", "step_trainer_landing",
                     "step_trainer_trusted"]  # each once, though several suites join against some
    tables.reads.clear()
    run()
    assert sorted(tables.reads) == ["customer_landing", "step_trainer_landing"]  # a landing table has no snapshot
    tables.reads.clear()
    tables.ids["accelerometer_trusted"] = 2  # written since
    gate = run()
    assert sorted(tables.reads) == ["accelerometer_trusted", "customer_landing", "step_trainer_landing"]

    tables.reads.clear()
    gate.published(lakehouse().table("machine_learning_curated"), 9)  # the rows it checked are now snapshot 9
    location = lakehouse().table_location(lakehouse().table("machine_learning_curated"))
    assert kept.get(location, 9) is world["machine_learning_curated"]
    assert kept.get(location, 10) is None and kept.get(location, 9) is None  # an older snapshot is dropped


def test_what_a_process_keeps_is_one_snapshot_per_table_within_its_budget():
    from stedi.gates.published import Kept

    small, big = pa.table({"v": list(range(100))}), pa.table({"v": list(range(10_000))})
    kept = Kept(budget_bytes=small.nbytes * 3)
    kept.put("a", 1, small)
    kept.put("a", 2, small)
    assert kept.get("a", 1) is None and len(kept) == 0  # replaced, then dropped as older than asked
    kept.put("a", 2, small), kept.put("b", 1, small), kept.put("c", 1, small)
    assert kept.get("a", 2) is small  # used last: the next to go is b
    kept.put("d", 1, small)
    assert kept.get("b", 1) is None and kept.get("a", 2) is small and len(kept) == 3
    kept.put("e", 1, big)  # bigger than the budget: never kept
    assert kept.get("e", 1) is None
    kept.put("a", None, small)  # published without a snapshot, or not checked in memory: forgotten
    assert kept.get("a", 2) is None
    kept.clear()
    assert len(kept) == 0
