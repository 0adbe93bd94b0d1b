"""Landing intake: every record of a landing file is accepted or quarantined with a reason.

Every case is read twice, by the fast path (pyarrow plus vectorized checks) and by the
line-by-line reference, and the two must agree exactly: the fast path may only be faster.
"""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pytest

from stedi.intake import parser as intake
from stedi.intake.parser import QUARANTINE_SCHEMA, Intake, quarantine_share, read_source
from stedi.intake.rules import RecordRules
from stedi.tables import lakehouse

NOW = 1_700_000_000_000  # 2023-11-14 22:13:20 UTC: the epoch window ends a day later
HOUSE = lakehouse()
ACCELEROMETER = HOUSE.table("accelerometer_landing")
CUSTOMER = HOUSE.table("customer_landing")
STEP = HOUSE.table("step_trainer_landing")
T = 1655564444103  # a starter-data timestamp (2022-06-18)


def reading(user="a@test.com", timestamp=T, x=1.0, y=-1.0, z=0.0, **extra) -> dict:
    return {"user": user, "timestamp": timestamp, "x": x, "y": y, "z": z, **extra}


def customer(email="a@test.com", serial="s-1", **fields) -> dict:
    record = {"customerName": "A B", "email": email, "phone": "8015551212", "birthDay": "1900-01-01"}
    record.update({"serialNumber": serial, "registrationDate": T, "lastUpdateDate": T})
    record.update(fields)
    return record


def row(table, record: dict) -> dict:
    """What an accepted record becomes: the declared columns, absent ones NULL."""
    return {name: record.get(name) for name in table.column_names}


def jsonl(*records) -> bytes:
    return b"".join((r if isinstance(r, bytes) else json.dumps(r).encode()) + b"\n" for r in records)


def read(table, *files: tuple[str, bytes]) -> Intake:
    """Both readers, which must agree to the last byte; the invariant holds for both."""
    fast = intake._read(table, files, NOW, fast=True)
    slow = intake._read(table, files, NOW, fast=False)
    for result in (fast, slow):
        assert result.records == result.accepted.num_rows + result.quarantined.num_rows
        assert result.accepted.schema == table.arrow_schema(all_nullable=True)
        assert result.quarantined.schema == QUARANTINE_SCHEMA
        assert result.files == len(files)
    assert fast.accepted.to_pylist() == slow.accepted.to_pylist()
    assert fast.quarantined.to_pylist() == slow.quarantined.to_pylist()
    assert (fast.notes, fast.duplicates) == (slow.notes, slow.duplicates)
    return fast


def quarantine(result: Intake) -> list[tuple[str, int | None, str]]:
    return [(q["file"], q["line"], q["reason"]) for q in result.quarantined.to_pylist()]


def assert_quarantined(result: Intake, expected: list[tuple[str, int | None, str]]) -> None:
    """Exactly these entries, in order; each reason must contain the given text."""
    got = quarantine(result)
    assert [(f, n) for f, n, _ in got] == [(f, n) for f, n, _ in expected], got
    for (_, _, reason), (_, _, part) in zip(got, expected, strict=True):
        assert part in reason, f"{part!r} not in {reason!r}"


# ------------------------------------------------------------------ malformed lines


def test_a_malformed_line_is_quarantined_with_the_parser_message_and_column():
    data = jsonl(reading(), b'{"user": "a" "timestamp": 1}', reading(user="b"))
    result = read(ACCELEROMETER, ("a.json", data))
    assert result.accepted.to_pylist() == [row(ACCELEROMETER, reading()), row(ACCELEROMETER, reading(user="b"))]
    assert_quarantined(result, [("a.json", 2, "not valid JSON (Expecting ',' delimiter at column 14)")])
    assert result.quarantined.column("raw").to_pylist() == ['{"user": "a" "timestamp": 1}']


def test_a_truncated_last_line_says_the_file_looks_truncated():
    data = jsonl(reading()) + b'{"user": "a", "times'
    result = read(ACCELEROMETER, ("a.json", data))
    assert result.accepted.to_pylist() == [row(ACCELEROMETER, reading())]
    assert_quarantined(result, [("a.json", 2, "the file looks truncated")])
    # The same line followed by a newline is merely malformed; a valid last line needs no newline.
    ended = read(ACCELEROMETER, ("a.json", data + b"\n"))
    assert "truncated" not in quarantine(ended)[0][2]
    unterminated = read(ACCELEROMETER, ("a.json", jsonl(reading()) + json.dumps(reading(user="b")).encode()))
    assert unterminated.accepted.num_rows == 2 and unterminated.quarantined.num_rows == 0


def test_json_that_is_not_an_object_is_quarantined_saying_what_it_is():
    # `null` first: pyarrow 26 crashes the process when a block starts with a top-level null.
    data = jsonl(b"null", b"[1, 2]", b"42", b'"text"', b"true", reading(), b"null")
    result = read(ACCELEROMETER, ("a.json", data))
    assert result.accepted.to_pylist() == [row(ACCELEROMETER, reading())]
    assert_quarantined(
        result,
        [
            ("a.json", 1, "valid JSON but null, not an object"),
            ("a.json", 2, "valid JSON but an array, not an object"),
            ("a.json", 3, "valid JSON but the number 42, not an object"),
            ("a.json", 4, 'valid JSON but the string "text", not an object'),
            ("a.json", 5, "valid JSON but the boolean true, not an object"),
            ("a.json", 7, "valid JSON but null, not an object"),
        ],
    )


def test_two_objects_on_one_line_are_one_bad_record():
    data = jsonl(json.dumps(reading()).encode() + b" " + json.dumps(reading()).encode(), reading(user="b"))
    result = read(ACCELEROMETER, ("a.json", data))
    assert result.accepted.to_pylist() == [row(ACCELEROMETER, reading(user="b"))]
    assert_quarantined(result, [("a.json", 1, "not valid JSON (Extra data at column")])


# ------------------------------------------------------------------ types


def test_wrong_types_are_quarantined_naming_the_field_and_what_was_expected():
    data = jsonl(
        reading(x="abc"),
        reading(timestamp="yesterday"),
        reading(timestamp=1.5),
        reading(x=True),
        reading(user=5),
        reading(y={"a": 1}),
        reading(z=[1.0]),
        reading(timestamp=12345678901234567890),
    )
    result = read(ACCELEROMETER, ("a.json", data))
    assert result.accepted.num_rows == 0
    assert_quarantined(
        result,
        [
            ("a.json", 1, '"x" is the string "abc", expected a number'),
            ("a.json", 2, '"timestamp" is the string "yesterday", expected a number (epoch milliseconds)'),
            ("a.json", 3, '"timestamp" is 1.5, expected a whole number'),
            ("a.json", 4, '"x" is the boolean true, expected a number'),
            ("a.json", 5, '"user" is the number 5, expected a string'),
            ("a.json", 6, '"y" is an object, expected a number'),
            ("a.json", 7, '"z" is an array, expected a number'),
            ("a.json", 8, '"timestamp" is 12345678901234567890, outside the range of a 64-bit integer'),
        ],
    )


def test_whole_floats_are_accepted_as_integers_and_integers_as_doubles():
    data = jsonl(
        reading(timestamp=float(T), x=1, y=0, z=-1),
        {"sensorReadingTime": T, "serialNumber": "s", "distanceFromObject": 218.0},
        {"sensorReadingTime": 1655564444e3, "serialNumber": "s", "distanceFromObject": 3000000000},
    )
    accelerometer = read(ACCELEROMETER, ("a.json", data.split(b"\n", 1)[0] + b"\n"))
    assert accelerometer.accepted.to_pylist() == [row(ACCELEROMETER, reading(x=1.0, y=0.0, z=-1.0))]
    step = read(STEP, ("s.json", data.split(b"\n", 1)[1]))
    assert step.accepted.to_pylist() == [{"sensorReadingTime": T, "serialNumber": "s", "distanceFromObject": 218}]
    assert_quarantined(step, [("s.json", 2, '"distanceFromObject" is 3000000000, outside the range of a 32-bit')])


def test_non_finite_numbers_are_refused_in_declared_columns_and_ignored_elsewhere():
    good = json.dumps(reading())[:-1]
    data = jsonl(
        b'{"user": "a", "timestamp": %d, "x": NaN}' % T,
        b'{"user": "a", "timestamp": %d, "y": -Infinity}' % T,
        b'{"user": "a", "timestamp": %d, "z": Inf}' % T,
        (good + ', "extra": NaN, "more": -NaN, "most": Inf}').encode(),
    )
    result = read(ACCELEROMETER, ("a.json", data))
    assert result.accepted.to_pylist() == [row(ACCELEROMETER, reading())]
    assert_quarantined(
        result,
        [
            ("a.json", 1, '"x" is NaN, expected a finite number'),
            ("a.json", 2, '"y" is -Infinity, expected a finite number'),
            ("a.json", 3, '"z" is Infinity, expected a finite number'),
        ],
    )


def test_a_declared_field_given_twice_is_ambiguous_an_unknown_one_is_ignored():
    data = jsonl(
        b'{"user": "a", "user": "b", "timestamp": %d}' % T,
        b'{"user": "a", "timestamp": %d, "q": 1, "q": 2}' % T,
    )
    result = read(ACCELEROMETER, ("a.json", data))
    assert result.accepted.to_pylist() == [row(ACCELEROMETER, {"user": "a", "timestamp": T})]
    assert_quarantined(result, [("a.json", 1, '"user" appears 2 times in the record')])


# ------------------------------------------------------------------ required and unknown fields


def test_a_missing_or_null_required_field_is_quarantined():
    no_email = customer()
    del no_email["email"]
    data = jsonl(no_email, customer(email=None), customer(serial=None), customer(phone=None))
    result = read(CUSTOMER, ("c.json", data))
    assert result.accepted.to_pylist() == [row(CUSTOMER, customer(phone=None))]
    assert_quarantined(
        result,
        [
            ("c.json", 1, 'no "email", which every customer record must have'),
            ("c.json", 2, '"email" is null, but every customer record must have one'),
            ("c.json", 3, '"serialNumber" is null, but every customer record must have one'),
        ],
    )


def test_every_problem_of_a_record_is_named():
    result = read(ACCELEROMETER, ("a.json", jsonl({"x": "1"})))
    reason = quarantine(result)[0][2]
    assert reason == (
        'no "user", which every accelerometer record must have; '
        'no "timestamp", which every accelerometer record must have; '
        '"x" is the string "1", expected a number written without quotes'
    )


def test_unknown_fields_are_accepted_and_ignored():
    data = jsonl(reading(device={"os": "ios", "v": [1, 2]}, note="hi"), reading(note=7))
    result = read(ACCELEROMETER, ("a.json", data))
    assert result.accepted.to_pylist() == [row(ACCELEROMETER, reading())] * 2
    assert result.quarantined.num_rows == 0


# ------------------------------------------------------------------ files, encodings, line endings


def test_empty_files_hold_no_records_and_get_a_note():
    result = read(ACCELEROMETER, ("empty.json", b""), ("blank.json", b" \n\r\n\t\n"), ("a.json", jsonl(reading())))
    assert result.records == 1 and result.files == 3
    assert result.notes == (
        "empty.json: empty file (0 bytes), no records",
        "blank.json: empty file (only whitespace, 6 bytes), no records",
    )


def test_blank_lines_are_not_records_and_line_numbers_stay_physical():
    data = b"\n" + jsonl(reading()) + b"   \n\n" + jsonl(b"oops", reading(user="b")) + b"\n"
    result = read(ACCELEROMETER, ("a.json", data))
    assert result.accepted.to_pylist() == [row(ACCELEROMETER, reading()), row(ACCELEROMETER, reading(user="b"))]
    assert_quarantined(result, [("a.json", 5, "not valid JSON")])
    assert result.notes == ("a.json: 4 blank lines skipped (not records)",)


def test_a_byte_order_mark_is_removed_with_a_note():
    data = b"\xef\xbb\xbf" + jsonl(reading(), reading(user="b"))
    result = read(ACCELEROMETER, ("a.json", data))
    assert result.accepted.to_pylist() == [row(ACCELEROMETER, reading()), row(ACCELEROMETER, reading(user="b"))]
    assert result.notes == ("a.json: UTF-8 byte-order mark removed",)
    concatenated = read(ACCELEROMETER, ("b.json", data + data))
    assert concatenated.accepted.num_rows == 4 and concatenated.quarantined.num_rows == 0
    assert concatenated.notes[1] == "b.json: UTF-8 byte-order mark removed at the start of line 3 (concatenated files?)"


def test_invalid_utf8_quarantines_only_its_line_and_shows_replacement_characters():
    data = jsonl(reading(), b'{"user": "caf\xe9", "timestamp": 1655564444103}', reading(user="\u00e9l\u00e8ve"))
    result = read(ACCELEROMETER, ("a.json", data))
    assert result.accepted.to_pylist() == [row(ACCELEROMETER, reading()), row(ACCELEROMETER, reading(user="élève"))]
    assert_quarantined(result, [("a.json", 2, "not valid UTF-8 (byte 0xe9 at column 14)")])
    assert result.quarantined.column("raw").to_pylist() == ['{"user": "caf\ufffd", "timestamp": 1655564444103}']


def test_windows_line_endings_are_accepted():
    data = jsonl(reading(), b"oops", reading(user="b")).replace(b"\n", b"\r\n")
    result = read(ACCELEROMETER, ("a.json", data))
    assert result.accepted.to_pylist() == [row(ACCELEROMETER, reading()), row(ACCELEROMETER, reading(user="b"))]
    assert_quarantined(result, [("a.json", 2, "not valid JSON")])
    assert result.quarantined.column("raw").to_pylist() == ["oops"]
    assert result.notes == ("a.json: Windows (CRLF) line endings",)


def test_a_lone_carriage_return_does_not_split_a_record():
    # pyarrow alone would read this line as two rows; a record is a line ended by \n.
    data = jsonl(json.dumps(reading()).encode() + b"\r" + json.dumps(reading(user="b")).encode(), reading(user="c"))
    result = read(ACCELEROMETER, ("a.json", data))
    assert result.accepted.to_pylist() == [row(ACCELEROMETER, reading(user="c"))]
    assert_quarantined(result, [("a.json", 1, "not valid JSON (Extra data")])


def test_gzip_files_are_decompressed_and_a_corrupt_one_is_one_whole_file_record():
    data = jsonl(reading(), reading(user="b"))
    packed = gzip.compress(data, mtime=0)
    result = read(
        ACCELEROMETER,
        ("a.json.gz", packed),
        ("b.json", packed),  # gzip magic bytes, whatever the name says
        ("c.json.gz", packed[:-12]),  # cut short
        ("d.json.gz", b"not gzip at all"),
    )
    assert result.accepted.to_pylist() == [row(ACCELEROMETER, reading()), row(ACCELEROMETER, reading(user="b"))] * 2
    assert_quarantined(
        result,
        [
            ("c.json.gz", None, "not a readable gzip file (Compressed file ended"),
            ("d.json.gz", None, "not a readable gzip file"),
        ],
    )
    assert result.records == 6
    assert result.notes == (
        f"a.json.gz: gzip-compressed, {len(packed)} bytes decompressed to {len(data)}",
        f"b.json: gzip-compressed (the name does not say so), {len(packed)} bytes decompressed to {len(data)}",
    )


def test_a_file_that_is_not_json_lines_is_one_quarantined_record_naming_its_type():
    ds_store = b"\x00\x00\x00\x01Bud1" + bytes(range(256)) * 4
    csv = b"user,timestamp\n" + b"a@test.com,1655564444103\n" * 20
    result = read(
        ACCELEROMETER,
        ("landing/.DS_Store", ds_store),
        ("landing/notes.txt", b"remember to upload the rest\n"),
        ("landing/data.csv", csv),
        ("landing/blob", b"\x89\x00\x01garbage"),
        ("landing/part-0000", jsonl(reading())),  # no extension, starts with `{`: JSON lines
        ("landing/_SUCCESS", b""),  # an empty marker holds no record
        ("landing/data.csv.gz", gzip.compress(csv)),
    )
    assert result.accepted.to_pylist() == [row(ACCELEROMETER, reading())]
    assert_quarantined(
        result,
        [
            ("landing/.DS_Store", None, "a macOS Finder metadata file (.DS_Store), not JSON lines"),
            ("landing/notes.txt", None, "a text file, not JSON lines"),
            ("landing/data.csv", None, "a CSV file, not JSON lines"),
            ("landing/blob", None, "a binary file with no extension"),
            ("landing/data.csv.gz", None, "a CSV file, not JSON lines"),
        ],
    )
    raws = result.quarantined.column("raw").to_pylist()
    assert raws[2] == csv.decode()[:200] and len(raws[0]) == 200 and "\ufffd" in raws[0]
    assert result.records == 6 and result.files == 7
    assert "landing/_SUCCESS: empty file (0 bytes), no records" in result.notes


def test_a_very_long_line_is_quarantined_unparsed_and_cut():
    long = b'{"user": "' + b"a" * (intake.MAX_LINE_BYTES + 10) + b'", "timestamp": 1655564444103}'
    result = read(ACCELEROMETER, ("a.json", jsonl(reading(), long, reading(user="b"))))
    assert result.accepted.to_pylist() == [row(ACCELEROMETER, reading()), row(ACCELEROMETER, reading(user="b"))]
    assert_quarantined(result, [("a.json", 2, f"line is {len(long):,} bytes long, over the 1,048,576-byte limit")])
    raw = result.quarantined.column("raw")[0].as_py()
    assert raw.startswith('{"user": "aaa') and raw.endswith(f"... [cut: the line is {len(long):,} bytes]")
    assert len(raw) < 1_100


def test_the_raw_text_of_a_quarantined_line_is_capped():
    bad = b'{"user": "' + b"b" * 50_000 + b'" "timestamp": 1}'
    result = read(ACCELEROMETER, ("a.json", jsonl(bad)))
    raw = result.quarantined.column("raw")[0].as_py()
    assert raw.startswith('{"user": "bbb') and raw.endswith(f"... [cut: the line is {len(bad):,} characters]")
    assert len(raw) <= intake.MAX_RAW_CHARS + 60


# ------------------------------------------------------------------ duplicates, dates, emails, consent


def test_every_declared_bound_is_applied_record_by_record():
    """min/max and the epoch window from catalog/tables.toml (stedi/intake/rules.py): a record
    outside one is quarantined naming the field, the bound and the value; the edges are inside."""
    motion = jsonl(
        reading(x=16.0, y=-16.0),  # on the bounds: accepted
        reading(x=16.5),
        reading(y=-17),  # a whole number in a double column
        reading(z=100.25),
        reading(timestamp=NOW + 86_400_000 + 1),  # more than a day ahead of the clock
        reading(timestamp=946_684_799_999),  # a millisecond before 2000
    )
    steps = jsonl(
        {"sensorReadingTime": T, "serialNumber": "s-1", "distanceFromObject": 0},
        {"sensorReadingTime": T, "serialNumber": "s-1", "distanceFromObject": -1},
        {"sensorReadingTime": T, "serialNumber": "s-1", "distanceFromObject": 10_001},
    )
    result = read(ACCELEROMETER, ("a.json", motion))
    assert result.accepted.num_rows == 1
    assert_quarantined(
        result,
        [
            ("a.json", 2, '"x" is 16.5, outside the declared range -16 .. 16'),
            ("a.json", 3, '"y" is -17.0, outside the declared range -16 .. 16'),
            ("a.json", 4, '"z" is 100.25, outside the declared range -16 .. 16'),
            ("a.json", 5, '"timestamp" is 1700086400001 (2023-11-15 22:13:20 UTC), outside the plausible range'),
            ("a.json", 6, '"timestamp" is 946684799999 (1999-12-31 23:59:59 UTC), outside the plausible range'),
        ],
    )
    result = read(STEP, ("s.json", steps))
    assert result.accepted.column("distanceFromObject").to_pylist() == [0]
    assert_quarantined(
        result,
        [
            ("s.json", 2, '"distanceFromObject" is -1, outside the declared range 0 .. 10000'),
            ("s.json", 3, '"distanceFromObject" is 10001, outside the declared range 0 .. 10000'),
        ],
    )


def test_the_gates_check_the_bounds_the_intake_applies():
    """One set of numbers: the ranges suite is built from the same rules the intake applied."""
    from expectations import ranges
    from expectations.context import Audit

    for table in (ACCELEROMETER, STEP, CUSTOMER, HOUSE.table("machine_learning_curated")):
        audit = Audit(table, HOUSE, None, None, "strict", b"k" * 32, lambda name: None, now_ms=NOW)
        (suite,) = ranges.suites(audit)
        checked = {e.column: (e.min_value, e.max_value) for e in suite.expectations}
        rules = RecordRules(table, NOW)
        assert checked == {name: (b.low, b.high) for name, b in rules.bounds.items()}
    assert RecordRules(ACCELEROMETER, NOW).epoch_window == (946_684_800_000, NOW + 86_400_000)


def test_duplicate_records_are_kept_and_counted_within_and_across_files():
    same_again_reordered = json.dumps(dict(reversed(list(reading().items())))).encode()
    result = read(
        ACCELEROMETER,
        ("a.json", jsonl(reading(), reading(user="b"), reading())),
        ("b.json", jsonl(same_again_reordered, reading(z=-0.0), reading(x=0.0))),
    )
    assert result.accepted.num_rows == 6 and result.quarantined.num_rows == 0
    assert result.duplicates == 3  # the reordered copy, the same again, and z -0.0 == 0.0


def test_absurd_timestamps_are_quarantined_showing_the_date():
    data = jsonl(
        reading(timestamp=99999999999999),
        reading(timestamp=1655564444),
        reading(timestamp=0),
        reading(timestamp=-5),
        reading(timestamp=NOW + 86_400_000),  # a day ahead of the clock: still plausible
        reading(timestamp=NOW + 2 * 86_400_000),
        reading(timestamp=946_684_800_000),
        reading(timestamp=9_000_000_000_000_000_000),
    )
    result = read(ACCELEROMETER, ("a.json", data))
    assert [r["timestamp"] for r in result.accepted.to_pylist()] == [NOW + 86_400_000, 946_684_800_000]
    window = "outside the plausible range 2000-01-01 .. 2023-11-15"
    assert_quarantined(
        result,
        [
            ("a.json", 1, f'"timestamp" is 99999999999999 (5138-11-16 09:46:39 UTC), {window}'),
            ("a.json", 2, f'"timestamp" is 1655564444 (1970-01-20 03:52:44 UTC), {window}; it looks like seconds'),
            ("a.json", 3, '"timestamp" is 0 (1970-01-01 00:00:00 UTC)'),
            ("a.json", 4, '"timestamp" is -5 (1969-12-31 23:59:59 UTC)'),
            ("a.json", 6, '"timestamp" is 1700172800000 (2023-11-16 22:13:20 UTC)'),
            ("a.json", 8, '"timestamp" is 9000000000000000000 (after the year 9999)'),
        ],
    )


def test_consent_dates_zero_null_absent_are_kept_a_string_is_a_wrong_type():
    data = jsonl(
        customer(email="zero@test.com", shareWithResearchAsOfDate=0),
        customer(email="null@test.com", shareWithResearchAsOfDate=None),
        customer(email="absent@test.com"),
        customer(email="text@test.com", shareWithResearchAsOfDate="1655564376361"),
        customer(email="before@test.com", shareWithPublicAsOfDate=-1),
        customer(email="reg@test.com", registrationDate=0),
    )
    result = read(CUSTOMER, ("c.json", data))
    assert [(r["email"], r["shareWithResearchAsOfDate"]) for r in result.accepted.to_pylist()] == [
        ("zero@test.com", 0),
        ("null@test.com", None),
        ("absent@test.com", None),
    ]
    assert_quarantined(
        result,
        [
            (
                "c.json",
                4,
                '"shareWithResearchAsOfDate" is the string "1655564376361", '
                "expected a number (epoch milliseconds) written without quotes",
            ),
            ("c.json", 5, '"shareWithPublicAsOfDate" is -1 (1969-12-31 23:59:59 UTC)'),
            ("c.json", 6, '"registrationDate" is 0 (1970-01-01 00:00:00 UTC)'),
        ],
    )


def test_emails_differing_in_case_or_spaces_are_accepted_as_written():
    data = jsonl(customer(email="Ann.Lee@test.com"), customer(email=" ann.lee@TEST.com "))
    result = read(CUSTOMER, ("c.json", data))
    assert [r["email"] for r in result.accepted.to_pylist()] == ["Ann.Lee@test.com", " ann.lee@TEST.com "]
    assert result.duplicates == 0 and result.quarantined.num_rows == 0


# ------------------------------------------------------------------ the invariant, the starter data, the fast path


def test_records_are_accepted_plus_quarantined_and_the_share_is_their_ratio():
    result = read(ACCELEROMETER, ("a.json", jsonl(reading(), b"x", reading(), b"[]")), ("b.txt", b"hello"))
    assert (result.records, result.accepted.num_rows, result.quarantined.num_rows) == (5, 2, 3)
    assert quarantine_share(result) == 3 / 5
    assert quarantine_share(read(ACCELEROMETER)) == 0.0
    with pytest.raises(AssertionError, match="went missing"):
        Intake(result.accepted, result.quarantined, files=2, records=4, duplicates=0)


@pytest.mark.parametrize(
    ("table_name", "published"),
    [("customer_landing", 956), ("accelerometer_landing", 81_273), ("step_trainer_landing", 28_680)],
)
def test_the_starter_data_is_accepted_whole_with_the_published_counts(starter_data: Path, table_name, published):
    table = HOUSE.table(table_name)
    paths = sorted((starter_data / table.source / "landing").glob("*.json"))
    if not paths:
        pytest.fail(f"no landing files for {table.source} under {starter_data}")
    files = [(str(p), p.read_bytes()) for p in paths]
    result = read_source(table, files)
    assert (result.accepted.num_rows, result.quarantined.num_rows, result.records) == (published, 0, published)
    assert read(table, *files).accepted.equals(result.accepted)  # and the line-by-line reader agrees
    assert result.duplicates == 0 and result.notes == ()
    assert result.accepted.schema == table.arrow_schema(all_nullable=True)


@pytest.mark.parametrize(("piece", "line_by_line"), [(4096, 64 << 10), (1 << 20, 300)])
def test_fast_and_line_by_line_readers_agree_on_a_mixed_file_cut_in_many_pieces(monkeypatch, piece, line_by_line):
    """Every kind of line pyarrow could bend (whole floats, NaN, escaped keys, a null after an
    object, a CR, huge integers into a double, -0.0) between valid ones, in small pieces, or in
    big ones that are cut into ranges until the bad lines are found."""
    lines = []
    for i in range(3000):
        kind = i % 23
        if kind == 0:
            lines.append(b"null")
        elif kind == 1:
            lines.append(b"")
        elif kind == 2:
            lines.append(json.dumps(reading(timestamp=T + i, x="abc")).encode())
        elif kind == 3:
            lines.append(json.dumps(reading(timestamp=None)).encode())
        elif kind == 4:
            lines.append(json.dumps(reading(timestamp=float(T + i))).encode())
        elif kind == 5:
            lines.append(json.dumps(reading(timestamp=1655564444)).encode())
        elif kind == 6:
            lines.append(b'{"user": "u", "timestamp": %d, "x": NaN, "q": -NaN}' % (T + i))
        elif kind == 7:
            lines.append(b'{"user": "caf\xe9", "timestamp": 1}')
        elif kind == 8:
            lines.append(b"  " + json.dumps(reading(timestamp=T + i)).encode())
        elif kind == 9:
            lines.append(json.dumps(reading(timestamp=T + i, x=123456789012345678901234567890)).encode() + b"\r")
        elif kind == 10:
            lines.append(json.dumps(reading(timestamp=T + i))[:-5].encode())
        elif kind == 11:
            lines.append(json.dumps(reading(timestamp=T + i, x=0.1 + i / 7)).encode() + b" null")
        elif kind == 12:
            lines.append(b'{"us\\u0065r": "\\u00e9", "timestamp": %d, "x": 1e-400, "y": -0.0}' % (T + i))
        else:
            lines.append(json.dumps(reading(user=f"u{i % 5}@test.com", timestamp=T + i, x=1 + i % 45 / 3)).encode())
    data = b"\n".join(lines)  # no final newline: the last line is an unterminated valid record
    parsed = []
    real_parse = intake._Rules.parse
    monkeypatch.setattr(intake._Rules, "parse", lambda self, buffer: parsed.append(1) or real_parse(self, buffer))
    monkeypatch.setattr(intake, "CHUNK_BYTES", piece)
    monkeypatch.setattr(intake, "_LINE_BY_LINE_BYTES", line_by_line)
    clean = jsonl(*[reading(timestamp=T + i) for i in range(500)])
    result = read(ACCELEROMETER, ("mixed.json", data), ("clean.json", clean))
    assert parsed, "the fast path never used pyarrow"
    assert result.records == 3000 - len(range(1, 3000, 23)) + 500
    # kind 9's huge integer is a finite double, but beyond the declared ±16 g (stedi/intake/rules.py)
    assert result.accepted.num_rows == 500 + sum(1 for i in range(3000) if i % 23 in (4, 8, 12) or i % 23 > 12)
    lines_quarantined = result.quarantined.column("line").to_pylist()
    assert lines_quarantined == sorted(lines_quarantined)
    assert {r["user"] for r in result.accepted.to_pylist() if r["x"] == 0.0} == {"é"}


def test_fast_and_line_by_line_readers_agree_on_random_damage(monkeypatch):
    """Seeded damage (cuts, insertions, odd tokens) to valid records, in pieces of every size."""
    tokens = [b"null", b"", b" ", b"\r", b"{}", b"[]", b"1.0", b"1.5", b"NaN", b"-NaN", b"Inf", b"1e999", b"\xff"]
    tokens += [b"\xef\xbb\xbf", b'"\\ud800"', b'"a\tb"', b'"user"', b'"email"', b"3000000000", b'"1655564376361"']
    rnd = random.Random(20240618)
    for table in (ACCELEROMETER, CUSTOMER, STEP) * 8:
        monkeypatch.setattr(intake, "CHUNK_BYTES", rnd.choice([64, 1000, 1 << 20]))
        monkeypatch.setattr(intake, "_LINE_BY_LINE_BYTES", rnd.choice([100, 2000, 64 << 10]))
        records = []
        for _ in range(rnd.randint(1, 120)):
            record = {c.name: rnd.choice(["a@x", 1.0, T, 0, None, True]) for c in table.columns if rnd.random() < 0.9}
            line = json.dumps(record).encode()
            damage = rnd.random()
            if damage < 0.15:
                at = rnd.randrange(len(line) + 1)
                line = line[:at] + rnd.choice(tokens) + line[at:]
            elif damage < 0.25:
                line = line[: rnd.randrange(len(line) + 1)]
            elif damage < 0.3:
                line = rnd.choice(tokens)
            records.append(line)
        data = rnd.choice([b"\n", b"\r\n"]).join(records) + rnd.choice([b"", b"\n"])
        read(table, ("random.json", data))  # asserts that both readers agree
