"""Dirty landing files through the real pipeline: every record is accepted or quarantined with a
reason (malformed, mistyped, or breaking a bound declared in catalog/tables.toml), the good
records give the same tables as clean files, and too many bad records stop the run
before anything is published. Real S3 emulator, real Spark, real Iceberg tables, real gates."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from stedi import pipeline
from stedi.datasets import synthetic
from stedi.intake.quarantine import QuarantineExceeded
from stedi.tables import lakehouse
from stedi.targets import embedded_stack as stack

pytestmark = pytest.mark.e2e

GOOD_READING = '{"user": "ann@test.com", "timestamp": 1655560000000, "x": 1.0, "y": 0.5, "z": -0.5}'
LONG_LINE = '{"sensorReadingTime": 1655560000000, "serialNumber": "' + "s" * (1 << 20) + '"}'

# Each bad record: (file, line, the words its reason must contain). Accepted extras are counted apart.
QUARANTINED = {
    "customer_landing": [
        ("customer-dirty.json", 2, '"shareWithResearchAsOfDate" is the string "2022-01-01"'),
        ("customer-dirty.json", 5, 'no "email", which every customer record must have'),
        ("customer-dirty.json", 6, "not valid JSON"),
    ],
    "accelerometer_landing": [
        ("accelerometer-dirty.json", 1, '"x" is the string "abc", expected a number'),
        ("accelerometer-dirty.json", 2, "it looks like seconds, not milliseconds"),
        ("accelerometer-dirty.json", 3, '"x" is 16.5, outside the declared range -16 .. 16'),
        ("accelerometer-dirty.json", 4, '"z" is -40.0, outside the declared range -16 .. 16'),
        ("accelerometer-dirty.json", 5, '"timestamp" is 4102444800000 (2100-01-01 00:00:00 UTC), outside'),
        ("accelerometer-dirty.json", 6, '"timestamp" is 915148800000 (1999-01-01 00:00:00 UTC), outside'),
        ("accelerometer-dirty.json", 7, "the file looks truncated"),
        ("readme.csv", None, "a CSV file, not JSON lines"),
    ],
    "step_trainer_landing": [
        ("step_trainer-dirty.json", 1, 'no "serialNumber", which every step_trainer record must have'),
        ("step_trainer-dirty.json", 2, "line is 1,048,"),
        ("step_trainer-dirty.json", 3, '"distanceFromObject" is -1, outside the declared range 0 .. 10000'),
    ],
}
ACCEPTED_EXTRA = {"customer_landing": 3, "accelerometer_landing": 0, "step_trainer_landing": 0}


def dirty_copy(clean: Path, dest: Path) -> Path:
    """The generator's files, re-encoded and salted with bad records; no expected_counts.json,
    since the landing counts differ from what the generator made."""
    for source in synthetic.SOURCES:
        shutil.copytree(clean / source, dest / source)
    customers = next((dest / "customer" / "landing").glob("*.json"))
    # a UTF-8 byte-order mark and Windows line endings: the same records
    customers.write_bytes(b"\xef\xbb\xbf" + customers.read_bytes().replace(b"\n", b"\r\n"))
    (dest / "customer" / "landing" / "customer-dirty.json").write_text(
        '{"customerName": "New Person", "email": "new.person@test.com", "serialNumber": "s-1", '
        '"registrationDate": 1655560000000, "favouriteColour": "green"}\n'
        '{"email": "a@test.com", "serialNumber": "s-2", "shareWithResearchAsOfDate": "2022-01-01"}\n'
        '{"email": "b@test.com", "serialNumber": "s-3", "shareWithResearchAsOfDate": 0}\n'
        '{"email": "c@test.com", "serialNumber": "s-4", "shareWithResearchAsOfDate": null}\n'
        '{"serialNumber": "s-5", "shareWithResearchAsOfDate": 1655560000000}\n'
        '{"email": "d@test.com", "serialNumber": "s-6",\n'
    )
    readings = dest / "accelerometer" / "landing"
    first = sorted(readings.glob("*.json"))[0]
    Path(f"{first}.gz").write_bytes(gzip.compress(first.read_bytes()))  # what a delivery stream writes
    first.unlink()
    (readings / "accelerometer-dirty.json").write_text(
        GOOD_READING.replace("1.0", '"abc"')
        + "\n"
        + GOOD_READING.replace("1655560000000", "1655560000")
        + "\n"
        # records that parse but break a bound declared in catalog/tables.toml (stedi/intake/rules.py)
        + GOOD_READING.replace('"x": 1.0', '"x": 16.5')
        + "\n"
        + GOOD_READING.replace('"z": -0.5', '"z": -40.0')
        + "\n"
        + GOOD_READING.replace("1655560000000", "4102444800000")  # 2100
        + "\n"
        + GOOD_READING.replace("1655560000000", "915148800000")  # 1999
        + "\n"
        + GOOD_READING[:40]  # cut short, no final newline
    )
    (readings / "empty.json").write_bytes(b"")
    (readings / "readme.csv").write_text("user,timestamp,x,y,z\nann@test.com,1655560000000,1,2,3\n")
    (dest / "step_trainer" / "landing" / "step_trainer-dirty.json").write_text(
        '{"sensorReadingTime": 1655560000000, "distanceFromObject": 200}\n'
        + LONG_LINE
        + "\n"
        + '{"sensorReadingTime": 1655560000000, "serialNumber": "s-1", "distanceFromObject": -1}\n'
    )
    return dest


def quarantine_rows(name: str) -> list[tuple]:
    quarantine = lakehouse().quarantine_of(lakehouse().table(name))
    arrow = stack.require().catalog().load_table((lakehouse().namespace, quarantine.name)).scan().to_arrow()
    return sorted(
        ((Path(r["file"]).name, r["line"], r["reason"], len(r["raw"])) for r in arrow.to_pylist()),
        key=lambda row: (row[0], row[1] or 0),
    )


def current_snapshots() -> dict[str, int | None]:
    catalog = stack.require().catalog()
    house = lakehouse()
    names = list(house.iceberg_tables)
    return {n: catalog.load_table((house.namespace, n)).current_snapshot().snapshot_id for n in names}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    clean = tmp_path_factory.mktemp("clean")
    return clean, synthetic.generate(clean, customers=200, seed=11)


@pytest.fixture(scope="module")
def dirty_run(generated, tmp_path_factory, spark):
    clean, made = generated
    landing = dirty_copy(clean, tmp_path_factory.mktemp("dirty"))
    messages: list[str] = []
    summary = pipeline.run_embedded(landing, "strict", progress=messages.append)
    return {"summary": summary, "messages": messages, "landing": landing, "expected": made["expected"]["strict"]}


def test_every_record_is_accepted_or_quarantined_exactly(dirty_run):
    clean = dirty_run["expected"]
    for name, bad in QUARANTINED.items():
        landed = dirty_run["summary"]["landing"][name]
        assert landed["records"] == landed["accepted"] + landed["quarantined"], name
        assert landed["quarantined"] == len(bad), name
        assert landed["accepted"] == landed["rows"] == clean[name] + ACCEPTED_EXTRA[name], name
        assert dirty_run["summary"]["quarantine"][f"{name}_quarantine"] == len(bad)


def test_each_bad_record_is_in_its_sources_quarantine_with_file_line_and_reason(dirty_run):
    for name, bad in QUARANTINED.items():
        rows = quarantine_rows(name)
        assert [(file, line) for file, line, _, _ in rows] == [(file, line) for file, line, _ in bad], name
        for (_, _, reason, raw_length), (_, _, words) in zip(rows, bad, strict=True):
            assert words in reason, (name, reason)
            assert raw_length <= 10_100  # the 1 MiB line is kept cut, not whole


def test_good_records_in_dirty_files_give_the_same_tables_as_clean_files(dirty_run):
    tables = dirty_run["summary"]["tables"]
    for name, count in dirty_run["expected"].items():
        if lakehouse().table(name).zone != "landing":
            assert tables[name] == count, name
    assert dirty_run["summary"]["gates"]["tables"]["customer_landing"]["expectations"] > 0


def test_the_run_warns_and_notes_what_it_repaired(dirty_run):
    messages = "\n".join(dirty_run["messages"])
    warning = "warning: 8 of 16,084 accelerometer records (0.0%) quarantined in stedi.accelerometer_landing_quarantine"
    assert warning in messages
    notes = " ".join(dirty_run["summary"]["landing"]["customer_landing"]["notes"])
    assert "byte-order mark" in notes and "CRLF" in notes
    assert "gzip" in " ".join(dirty_run["summary"]["landing"]["accelerometer_landing"]["notes"])


def test_too_many_bad_records_stop_the_run_and_publish_nothing(dirty_run):
    before = current_snapshots()
    with pytest.raises(QuarantineExceeded) as raised:
        pipeline.run_embedded(dirty_run["landing"], "strict", max_quarantine=0.0)
    message = str(raised.value)
    assert message.startswith("the run stopped before publishing anything")
    assert "- customer: 3 of 206 records (1.5%) are above the 0.0% ceiling" in message
    assert 'x "shareWithResearchAsOfDate": expected a number' in message or "shareWithResearchAsOfDate" in message
    assert "--max-quarantine" in message
    assert current_snapshots() == before


def test_the_quarantine_is_queryable_with_athena_sql(dirty_run):
    import subprocess
    import sys

    from tests.conftest import PROJECT_ROOT

    sql = "SELECT line, reason FROM stedi.step_trainer_landing_quarantine ORDER BY line"
    completed = subprocess.run(
        [sys.executable, "-m", "stedi.cli", "query", "--format", "csv", sql],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    lines = completed.stdout.strip().splitlines()
    assert lines[0] == "line,reason" and len(lines) == 1 + len(QUARANTINED["step_trainer_landing"])
    assert lines[1].startswith('1,"no ""serialNumber"", which every step_trainer record must have')


def test_the_gates_job_script_revalidates_the_published_lakehouse(dirty_run):
    """spark_jobs/quality_gates.py, the last Glue job on AWS, run here on the embedded stack."""
    import json
    import subprocess
    import sys

    from tests.conftest import PROJECT_ROOT

    completed = subprocess.run(
        [sys.executable, "spark_jobs/quality_gates.py", "--policy", "strict"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    summary = json.loads(completed.stdout.strip().splitlines()[-1])
    assert sorted(summary["tables"]) == sorted(lakehouse().queryable)  # the quarantines pass their gate too
    assert summary["quarantined"] == {f"{name}_quarantine": len(bad) for name, bad in QUARANTINED.items()}
    assert "passed stedi.machine_learning_curated" in completed.stderr
