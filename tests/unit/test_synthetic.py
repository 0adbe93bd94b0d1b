"""The synthetic generator: layout, determinism, traps, and its expected counts.

The expected counts are checked against the independent plain-Python oracle, and
that oracle is itself checked against the counts published for the starter data.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from stedi.datasets import synthetic
from tests.conftest import STARTER_DATA
from tests.oracle import PUBLISHED, expected_by_policy, records

read_source = records


def norm(email: str) -> str:
    return email.strip().lower()


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("small")
    return out, synthetic.generate(out, customers=60, seed=7)


@pytest.fixture(scope="module")
def default(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("default")
    return out, synthetic.generate(out)


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# --- the oracle --------------------------------------------------------------------------


def test_brute_force_reproduces_the_published_starter_counts():
    if not STARTER_DATA.is_dir():
        pytest.fail(f"the reference data is missing: expected it at {STARTER_DATA}")
    counts = expected_by_policy(STARTER_DATA)
    rubric = dict(counts["rubric"])
    assert rubric.pop("cross_customer_pairs") == 43_681 - 40_981
    assert rubric == PUBLISHED["rubric"]
    assert counts["strict"] == PUBLISHED["strict"]


def test_expected_counts_match_expected_by_policy(small):
    out, result = small
    assert result["expected"] == expected_by_policy(out)
    assert json.loads((out / "expected_counts.json").read_text()) == result


def test_expected_counts_match_brute_force_across_settle_windows(tmp_path):
    # 700 customers pass two of the tally's settle points: this checks that the
    # time-only join forgets no timestamp a later customer can still produce.
    result = synthetic.generate(tmp_path, customers=700, seed=3)
    assert result["expected"] == expected_by_policy(tmp_path)


def test_result_reports_records_per_source(small):
    out, result = small
    assert result["seed"] == 7 and result["customers"] == 60
    for source in synthetic.SOURCES:
        assert result["files"][source] == len(read_source(out, source))


def test_policy_counts_can_be_skipped(tmp_path):
    result = synthetic.generate(tmp_path, customers=20, policy_counts=False)
    assert "expected" not in result
    assert result["files"]["customer"] == 20


# --- determinism and layout --------------------------------------------------------------


def test_same_seed_gives_byte_identical_files(tmp_path, small):
    out, result = small
    again = synthetic.generate(tmp_path, customers=60, seed=7)
    assert again == result
    assert tree(tmp_path) == tree(out)


def test_another_seed_gives_other_data(tmp_path, small):
    out, _ = small
    synthetic.generate(tmp_path, customers=60, seed=8)
    assert tree(tmp_path) != tree(out)


def test_rerun_replaces_earlier_files(tmp_path):
    synthetic.generate(tmp_path, customers=1_200, seed=1)
    synthetic.generate(tmp_path, customers=50, seed=1)
    files = list((tmp_path / "accelerometer" / "landing").glob("*.json"))
    assert len(files) == 1
    assert len(read_source(tmp_path, "customer")) == 50


def test_layout_and_file_sizes(default):
    out, result = default
    names = {source: sorted(p.name for p in (out / source / "landing").iterdir()) for source in synthetic.SOURCES}
    for source, files in names.items():
        assert all(re.fullmatch(rf"{source}-\d{{13}}\.json", f) for f in files), files
    assert len(names["customer"]) == 1
    assert 8 <= len(names["accelerometer"]) <= 10
    assert len(names["step_trainer"]) == 3
    for path in (out / "accelerometer" / "landing").iterdir():
        data = path.read_bytes()
        assert data.endswith(b"}\n") and b"\r" not in data
        assert data.count(b"\n") <= synthetic.FILE_ROWS


def test_counts_are_of_the_starter_datas_order(default):
    _, result = default
    files = result["files"]
    assert files["customer"] == 1_000
    assert 75_000 <= files["accelerometer"] <= 90_000
    assert 27_000 <= files["step_trainer"] <= 31_000
    rubric, strict = result["expected"]["rubric"], result["expected"]["strict"]
    assert 440 <= rubric["customer_trusted"] <= 560
    assert 0.72 <= strict["accelerometer_trusted"] / rubric["accelerometer_trusted"] <= 0.84
    assert 1.03 <= rubric["machine_learning_curated"] / rubric["accelerometer_trusted"] <= 1.10


# --- fields and formatting ---------------------------------------------------------------


def test_records_have_the_starter_datas_fields_types_and_formatting(default):
    out, _ = default
    customer_file = next((out / "customer" / "landing").iterdir())
    first = customer_file.read_text().splitlines()[0]
    assert first.startswith('{"customerName": "')  # json.dumps spacing, like the starter file
    for c in read_source(out, "customer"):
        assert list(c)[:7] == [
            "customerName",
            "email",
            "phone",
            "birthDay",
            "serialNumber",
            "registrationDate",
            "lastUpdateDate",
        ]
        assert all(isinstance(c[k], str) for k in ("customerName", "email", "phone", "birthDay", "serialNumber"))
        assert all(isinstance(v, int) for k, v in c.items() if k.endswith("Date"))
        assert uuid.UUID(c["serialNumber"]).version == 4
    acc_line = next((out / "accelerometer" / "landing").iterdir()).read_text().splitlines()[0]
    assert re.fullmatch(r'\{"user":"[^"]+","timestamp":\d{13},"x":-?[01]\.0,"y":-?[01]\.0,"z":-?[01]\.0\}', acc_line)
    step_line = next((out / "step_trainer" / "landing").iterdir()).read_text().splitlines()[0]
    assert re.fullmatch(
        r'\{"sensorReadingTime":\d{13},"serialNumber":"[0-9a-f-]{36}","distanceFromObject":\d+\}', step_line
    )
    for a in read_source(out, "accelerometer")[:1000]:
        assert all(isinstance(a[k], float) for k in "xyz") and isinstance(a["timestamp"], int)
    for s in read_source(out, "step_trainer")[:1000]:
        assert isinstance(s["distanceFromObject"], int) and isinstance(s["sensorReadingTime"], int)


def test_consents_never_given_are_absent_keys(default):
    out, _ = default
    customers = read_source(out, "customer")
    for key in ("shareWithResearchAsOfDate", "shareWithPublicAsOfDate", "shareWithFriendsAsOfDate"):
        present = [c[key] for c in customers if key in c]
        assert all(isinstance(v, int) and v > 0 for v in present)  # never null, never 0
        assert 0.4 <= len(present) / len(customers) <= 0.6


def test_birthdays_carry_fake_years_formatted_like_the_starter_data(default):
    out, _ = default
    birthdays = [c["birthDay"] for c in read_source(out, "customer")]
    assert all(re.fullmatch(r"\d{3,4}-01-01", b) for b in birthdays)
    assert any(len(b) == 9 for b in birthdays)  # e.g. "967-01-01": a year below 1000, unpadded
    assert sum(int(b[:4].rstrip("-")) < 1900 for b in birthdays) > len(birthdays) / 2


def test_identifiers_are_unique(default):
    out, _ = default
    customers = read_source(out, "customer")
    assert len({c["serialNumber"] for c in customers}) == len(customers)
    assert len({norm(c["email"]) for c in customers}) == len(customers)
    emails = {c["email"] for c in customers}
    assert {a["user"] for a in read_source(out, "accelerometer")} <= emails


def test_emails_stay_unique_beyond_the_name_pairs(tmp_path):
    count = len(synthetic.FIRST_NAMES) * len(synthetic.LAST_NAMES) + 50
    synthetic.generate(tmp_path, customers=count, policy_counts=False)
    emails = [c["email"] for c in read_source(tmp_path, "customer")]
    assert len(set(map(norm, emails))) == count


# --- the traps ---------------------------------------------------------------------------


def test_traps_are_present(default):
    out, result = default
    customers = read_source(out, "customer")
    readings = read_source(out, "accelerometer")
    steps = read_source(out, "step_trainer")
    by_email = {c["email"]: c for c in customers}

    # many readings predate the customer's research consent
    consented = [a for a in readings if "shareWithResearchAsOfDate" in by_email[a["user"]]]
    early = [a for a in consented if a["timestamp"] < by_email[a["user"]]["shareWithResearchAsOfDate"]]
    assert 0.15 <= len(early) / len(consented) <= 0.30

    # (user, timestamp) is not a key: 1 to 6 rows per pair, mostly 3
    per_pair = Counter(Counter((a["user"], a["timestamp"]) for a in readings).values())
    assert set(per_pair) <= set(range(1, 7)) and {1, 2, 3} <= set(per_pair)
    assert per_pair.most_common(1)[0][0] == 3

    # timestamps shared between customers, so a time-only join pairs different people
    users_at = defaultdict(set)
    for a in readings:
        users_at[a["timestamp"]].add(a["user"])
    assert sum(len(u) > 1 for u in users_at.values()) > 100
    assert result["expected"]["rubric"]["cross_customer_pairs"] > 1_000

    # every step reading has a same-customer accelerometer reading at its time
    times_of = defaultdict(set)
    for a in readings:
        times_of[a["user"]].add(a["timestamp"])
    email_of = {c["serialNumber"]: c["email"] for c in customers}
    assert all(s["sensorReadingTime"] in times_of[email_of[s["serialNumber"]]] for s in steps)

    # some customers have no readings at all
    assert len(set(by_email) - set(times_of)) >= 5
    assert len(set(by_email) - set(times_of)) == len(set(email_of) - {s["serialNumber"] for s in steps})


def test_consent_dating_changes_every_downstream_count(default):
    _, result = default
    rubric, strict = result["expected"]["rubric"], result["expected"]["strict"]
    assert rubric["customer_trusted"] == strict["customer_trusted"]
    for table in ("accelerometer_trusted", "customers_curated", "step_trainer_trusted", "machine_learning_curated"):
        assert strict[table] < rubric[table], table
    assert rubric["customers_curated"] < rubric["customer_trusted"]  # customers without readings


def test_progress_reports_without_printing(tmp_path, capsys):
    messages = []
    synthetic.generate(tmp_path, customers=30, progress=messages.append)
    assert messages and "30" in messages[-1]
    assert capsys.readouterr() == ("", "")


def test_rejects_an_empty_run(tmp_path):
    with pytest.raises(ValueError):
        synthetic.generate(tmp_path, customers=0)
