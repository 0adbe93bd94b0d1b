"""The run's verdict on quarantined records: group the reasons, warn, or stop above the ceiling."""

from __future__ import annotations

import pytest

from stedi.intake import quarantine
from stedi.intake.parser import read_source
from stedi.tables import lakehouse

GOOD = b'{"user": "a@test.com", "timestamp": 1655560000000, "x": 1, "y": 2, "z": 3}\n'


def intake(*lines: bytes):
    table = lakehouse().table("accelerometer_landing")
    return table, read_source(table, [("s3://b/accelerometer/landing/a.json", b"".join(lines))])


def test_reasons_that_differ_only_in_the_value_are_one_reason():
    _, result = intake(GOOD, GOOD.replace(b'"x": 1', b'"x": "abc"'), GOOD.replace(b'"x": 1', b'"x": "q"'), b"{oops\n")
    assert quarantine.reasons(result) == [
        ('"x": expected a number', 2, "s3://b/accelerometer/landing/a.json:2"),
        ("not valid JSON", 1, "s3://b/accelerometer/landing/a.json:4"),
    ]


def test_below_the_ceiling_a_warning_above_it_a_stop(monkeypatch):
    table, result = intake(GOOD, GOOD, GOOD, b"{oops\n")
    house = lakehouse()
    warning = quarantine.warning(table, house.quarantine_of(table), result, house.namespace)
    assert warning == (
        "warning: 1 of 4 accelerometer records (25.0%) quarantined in stedi.accelerometer_landing_quarantine; "
        "commonest: not valid JSON (s3://b/accelerometer/landing/a.json:4)"
    )
    quarantine.check({table: result}, 0.25)  # at the ceiling: goes on
    with pytest.raises(quarantine.QuarantineExceeded, match=r"- accelerometer: 1 of 4 records \(25.0%\)"):
        quarantine.check({table: result}, 0.2)
    assert quarantine.summary(result) == {
        "files": 1,
        "records": 4,
        "accepted": 3,
        "quarantined": 1,
        "suppressed": 0,
        "duplicates": 2,
        "notes": [],
        "spooled": False,
    }


def test_the_ceiling_comes_from_the_flag_the_environment_or_the_declaration(monkeypatch):
    house = lakehouse()
    monkeypatch.delenv(quarantine.MAX_SHARE_ENV, raising=False)
    assert quarantine.max_share(house) == house.quarantine_max_share == 0.05
    monkeypatch.setenv(quarantine.MAX_SHARE_ENV, "0.2")
    assert quarantine.max_share(house) == 0.2 and quarantine.max_share(house, 0.5) == 0.5
    monkeypatch.setenv(quarantine.MAX_SHARE_ENV, "lots")
    with pytest.raises(ValueError, match="STEDI_QUARANTINE_MAX_SHARE must be a fraction"):
        quarantine.max_share(house)
    with pytest.raises(ValueError, match="between 0 and 1"):
        quarantine.max_share(house, 5)


def test_only_an_instant_past_the_clocks_window_is_a_verdict_the_clock_may_change():
    _, broken = intake(GOOD, b"{oops\n", GOOD.replace(b'"x": 1', b'"x": "abc"'))
    assert not quarantine.judged_by_the_clock(broken)  # these stay wrong whatever the time
    _, ahead = intake(GOOD, GOOD.replace(b"1655560000000", b"4102444800000"))  # 2100-01-01
    assert quarantine.judged_by_the_clock(ahead)
