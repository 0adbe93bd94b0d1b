"""A source past the intake's memory budget is spooled to Parquet, and nothing else changes.

The same landing files are read twice: held in memory, and spooled with a budget of a few
kilobytes. Both must give the same accepted rows, quarantine, duplicate count and notes.
"""

from __future__ import annotations

import json
import random

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from stedi.intake import read_source
from stedi.intake.spool import BUCKETS, BUDGET_ENV, Spooled, SpoolRoot, bucket_ids
from stedi.lakehouse import spark_frame
from stedi.tables import lakehouse

NOW = 1_700_000_000_000
T = 1655564444103
HOUSE = lakehouse()
ACCELEROMETER = HOUSE.table("accelerometer_landing")


def readings(seed: int, count: int) -> list[dict]:
    """Readings a few users took 10 ms apart (so their timestamps share low bits), some repeated."""
    rng = random.Random(seed)
    rows = [
        {"user": f"u{rng.randrange(5)}@test.com", "timestamp": T + 10 * rng.randrange(count), "x": 1.0, "y": 0.5,
         "z": -1.0}
        for _ in range(count)
    ]
    return rows + rows[: count // 10]  # a tenth read twice: duplicates, some across files


def files(rows: list[dict], per_file: int) -> list[tuple[str, bytes]]:
    lines = [json.dumps(r).encode() + b"\n" for r in rows]
    lines.insert(7, b'{"user": "bad", "timestamp": "not a number", "x": 0, "y": 0, "z": 0}\n')
    return [
        (f"accelerometer/landing/part-{i:03d}.json", b"".join(lines[i : i + per_file]))
        for i in range(0, len(lines), per_file)
    ]


def ordered(table: pa.Table) -> list[dict]:
    return table.sort_by([(c, "ascending") for c in table.column_names]).to_pylist()


@pytest.fixture
def tiny_budget(monkeypatch):
    monkeypatch.setenv(BUDGET_ENV, "0.004")  # about 4 KB: every source here goes past it


def test_a_spooled_source_holds_what_the_same_source_held_in_memory(tmp_path, tiny_budget):
    landing = files(readings(1, 3000), per_file=400)
    held = read_source(ACCELEROMETER, landing, NOW)
    spooled = read_source(ACCELEROMETER, landing, NOW, spool=tmp_path / "accelerometer_landing")
    assert isinstance(held.accepted, pa.Table) and not held.spooled
    assert isinstance(spooled.accepted, Spooled) and spooled.spooled
    assert spooled.accepted.num_rows == held.accepted.num_rows == 3300
    assert ordered(spooled.accepted.to_arrow()) == ordered(held.accepted)
    assert (spooled.records, spooled.duplicates, spooled.notes) == (held.records, held.duplicates, held.notes)
    assert held.duplicates >= 300  # the repeated tenth, and equal readings drawn twice
    assert spooled.quarantined.to_pylist() == held.quarantined.to_pylist()
    assert len(spooled.accepted.files) == BUCKETS  # 10 ms apart, the timestamps still reach every file
    assert spooled.accepted.column("user").to_pylist().count("u0@test.com") == sum(
        1 for r in held.accepted.column("user").to_pylist() if r == "u0@test.com"
    )


def test_equal_rows_share_a_file_so_duplicates_are_counted_file_by_file():
    keys = pa.array([T + 10 * i for i in range(1000)] * 3, pa.int64())
    first, second = bucket_ids(keys[:1000], BUCKETS), bucket_ids(keys[1000:2000], BUCKETS)
    assert first.to_pylist() == second.to_pylist()
    counts = pc.value_counts(first).field("counts").to_pylist()
    assert len(counts) == BUCKETS and min(counts) > 1000 / BUCKETS / 3  # spread, though all end in 0 or 5 ms


def test_withheld_rows_are_counted_as_suppressed_in_memory_and_spooled(tmp_path, tiny_budget):
    landing = files(readings(2, 1000), per_file=300)

    def withhold(rows):
        return pc.equal(rows.column("user"), "u3@test.com")

    held = read_source(ACCELEROMETER, landing, NOW, withhold=withhold)
    spooled = read_source(ACCELEROMETER, landing, NOW, withhold=withhold, spool=tmp_path / "a")
    everything = read_source(ACCELEROMETER, landing, NOW)
    users = everything.accepted.column("user").to_pylist()
    assert held.suppressed == spooled.suppressed == users.count("u3@test.com") > 0
    assert held.records == spooled.records == everything.records
    assert "u3@test.com" not in spooled.accepted.column("user").to_pylist()
    assert ordered(spooled.accepted.to_arrow()) == ordered(held.accepted)


def test_a_source_within_the_budget_is_held_even_with_a_spool(tmp_path):
    result = read_source(ACCELEROMETER, files(readings(3, 200), per_file=50), NOW, spool=tmp_path / "a")
    assert isinstance(result.accepted, pa.Table)
    assert not (tmp_path / "a").exists()


def test_spark_reads_the_spooled_files_with_the_declared_schema(spark, tmp_path, tiny_budget):
    landing = files(readings(4, 2000), per_file=500)
    held = read_source(ACCELEROMETER, landing, NOW)
    spooled = read_source(ACCELEROMETER, landing, NOW, spool=tmp_path / "a")
    frame = spark_frame(spark, ACCELEROMETER, spooled.accepted)
    in_memory = spark_frame(spark, ACCELEROMETER, held.accepted)
    # a file source's columns are all nullable in Spark; the gates check the required ones
    assert [(f.name, f.dataType) for f in frame.schema] == [(f.name, f.dataType) for f in in_memory.schema]
    assert ordered(frame.toArrow().cast(held.accepted.schema)) == ordered(held.accepted)


def test_the_spool_root_is_emptied(tmp_path, tiny_budget):
    root = SpoolRoot(tmp_path / "intake-spool")
    read_source(ACCELEROMETER, files(readings(5, 500), per_file=100), NOW, spool=root.for_source("a"))
    assert any(root.directory.rglob("*.parquet"))
    root.clear()
    assert not root.directory.exists()
