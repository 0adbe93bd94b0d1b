"""Erasure's pieces on tiny inputs: the suppression list's tests, the register, the predicates
erasure deletes with, and the proof's readers. The whole erasure runs in
tests/integration/test_privacy.py."""

from __future__ import annotations

import gzip
import io
import json
import zlib

import pyarrow as pa
import pytest

from stedi.intake import read_source
from stedi.lakehouse import read_intake
from stedi.privacy import erase, proof, register
from stedi.privacy.suppression import Suppression, tokens
from stedi.pseudonym import hmac_hex
from stedi.tables import lakehouse

ANA = {"customerName": "Ana Lee", "email": "Ana.Lee@test.com", "phone": "8015551212", "birthDay": "1399-01-01",
       "serialNumber": "serial-ana", "registrationDate": 1655564376361, "lastUpdateDate": 1655564376361,
       "shareWithResearchAsOfDate": 1655564376361}
BO = {**ANA, "customerName": "Bo Kim", "email": "bo@test.com", "serialNumber": "serial-bo"}


def lines(*records) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


@pytest.fixture
def ana_erased(key) -> Suppression:
    return Suppression(key, {hmac_hex("ana.lee@test.com", key)}, {hmac_hex("serial-ana", key)})


def test_an_erased_persons_records_are_dropped_at_the_intake_and_counted(key, ana_erased):
    house = lakehouse()
    broken = b'{"email": " ANA.lee@test.com ", broken\n'
    files = [("c.json", lines(ANA, BO) + broken)]
    customers = read_source(house.table("customer_landing"), files)
    assert (customers.accepted.num_rows, customers.quarantined.num_rows) == (2, 1)
    kept = read_intake(house.table("customer_landing"), files, ana_erased)
    assert kept.accepted.column("email").to_pylist() == ["bo@test.com"]
    assert (kept.quarantined.num_rows, kept.suppressed, kept.records) == (0, 2, 3)  # nothing silently lost
    readings = [("a.json", lines(
        {"user": "ana.lee@TEST.com ", "timestamp": 1655564376400, "x": 1.0, "y": 0.0, "z": 0.0},
        {"user": "bo@test.com", "timestamp": 1655564376400, "x": 1.0, "y": 0.0, "z": 0.0},
    ))]
    assert read_intake(house.table("accelerometer_landing"), readings, ana_erased).accepted.num_rows == 1


def test_a_suppressed_customer_record_teaches_the_list_their_device(key):
    house = lakehouse()
    only_email = Suppression(key, {hmac_hex("ana.lee@test.com", key)})
    read_intake(house.table("customer_landing"), [("c.json", lines(ANA, BO))], only_email)
    device = hmac_hex("serial-ana", key)
    assert only_email.learnt == {hmac_hex("ana.lee@test.com", key): {device}}
    steps = [("s.json", lines(
        {"sensorReadingTime": 1655564376400, "serialNumber": "serial-ana", "distanceFromObject": 10},
        {"sensorReadingTime": 1655564376400, "serialNumber": "serial-bo", "distanceFromObject": 10},
    ))]
    assert read_intake(house.table("step_trainer_landing"), steps, only_email).suppressed == 1


def test_scrubbing_a_landing_object_removes_exactly_the_erased_lines(ana_erased):
    other = lines(BO)
    data = lines(ANA) + other + b'not json but "serial-ana" is here\n' + other
    scrubbed, removed = ana_erased.scrub(data)
    assert (scrubbed, removed) == (other + other, 2)
    packed, removed = ana_erased.scrub(gzip.compress(data))
    assert (gzip.decompress(packed), removed) == (other + other, 2)
    assert ana_erased.scrub(other) == (other, 0)  # untouched bytes are returned as they are
    assert ana_erased.scrub(b"\x00\xff binary") == (b"\x00\xff binary", 0)


def test_tokens_are_json_strings_unescaped_and_bare_words():
    assert {"ana@x.com", "Ana Lee", "a\"b"} <= tokens('{"user":"ana@x.com","name":"Ana Lee","q":"a\\"b"}')
    assert "serial-1" in tokens("user=serial-1, broken")


def test_an_empty_list_needs_no_key_and_suppresses_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv(register.DIR_ENV, str(tmp_path))
    empty = Suppression.current()
    assert not empty and empty.key == b""


def test_the_register_keeps_the_latest_state_of_each_erasure(tmp_path):
    where = tmp_path / "erasures.jsonl"
    [started] = register.begin({"c1": ("d1",)}, where)
    assert register.load(where) == [started] and not started.done
    register.add_devices(started, {"d2"}, where)
    [done] = register.finish([register.load(where)[0]], {"customer_trusted": 1}, where)
    [loaded] = register.load(where)
    assert loaded == done and loaded.done and loaded.device_ids == ("d1", "d2")
    assert (where.stat().st_mode & 0o777) == 0o600


def test_a_damaged_register_stops_everything(tmp_path):
    where = tmp_path / "erasures.jsonl"
    register.begin({"c1": ()}, where)
    with where.open("a") as f:
        f.write('{"erasure_id": "x", "requ\n')
    with pytest.raises(register.RegisterUnreadable, match="damaged at line 2"):
        register.load(where)


def test_the_erasures_table_has_a_row_per_device_and_no_direct_identifier(tmp_path):
    where = tmp_path / "erasures.jsonl"
    started = register.begin({"c1": ("d1", "d2"), "c2": ()}, where)
    register.finish(started[:1], {"customer_trusted": 1, "accelerometer_trusted": 5}, where)
    rows = register.rows(register.load(where)).to_pylist()
    assert [(r["customer_id"], r["device_id"], r["rows_removed"]) for r in rows] == [
        ("c1", "d1", 6), ("c1", "d2", 6), ("c2", None, None)]
    assert rows[0]["removed_per_table"] == "accelerometer_trusted=5 customer_trusted=1"
    assert register.rows([]).schema == lakehouse().erasures.arrow_schema()


def test_erasure_finds_a_persons_rows_through_the_declarations_alone():
    house = lakehouse()
    assert erase.searched(house.table("customer_trusted")) == {"email": "email", "serialNumber": "serialNumber"}
    assert erase.searched(house.table("accelerometer_trusted")) == {"user": "email"}
    curated = {"customer_id": "customer_ids", "device_id": "device_ids"}
    assert erase.searched(house.table("customers_curated")) == curated
    assert erase.searched(house.table("machine_learning_curated")) == {"device_id": "device_ids"}
    assert erase.searched(house.table("step_trainer_landing_quarantine")) == {"raw": "text"}


def test_the_proof_names_what_kind_of_value_it_found_never_the_value(key, tmp_path, monkeypatch):
    monkeypatch.setenv(register.DIR_ENV, str(tmp_path))
    register.begin({hmac_hex("ana.lee@test.com", key): (hmac_hex("serial-ana", key),)})
    terms = proof.Terms(["Ana.Lee@test.com"], ["Ana Lee"], key)
    assert terms.kinds(json.dumps(ANA)) == ["email", "name or phone"]
    assert terms.kinds('{"serialNumber": "serial-ana"}') == ["serial number or email (keyed match)"]
    assert terms.kinds(hmac_hex("serial-ana", key)) == ["pseudonym"]
    assert terms.kinds(json.dumps(BO)) == []
    table = pa.table({"email": ["x", "ANA.LEE@test.com", "ANA.LEE@test.com"], "n": [1, 2, 3]})
    assert proof._rows(table, terms) == {"email": 2}


def _long(n: int) -> bytes:
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _avro(blocks: list[bytes], codec: str) -> bytes:
    """An Avro container file, written by hand (the spec's layout) with the given block payloads."""
    sync = bytes(range(16))
    meta = {b"avro.schema": b'"bytes"', b"avro.codec": codec.encode()}
    out = io.BytesIO()
    out.write(b"Obj\x01" + _long(len(meta)))
    for k, v in meta.items():
        out.write(_long(len(k)) + k + _long(len(v)) + v)
    out.write(_long(0) + sync)
    for payload in blocks:
        packed = zlib.compress(payload)[2:-4] if codec == "deflate" else payload
        out.write(_long(1) + _long(len(packed)) + packed + sync)
    return out.getvalue()


@pytest.mark.parametrize("codec", ["deflate", "null"])
def test_the_proof_reads_the_blocks_of_an_avro_file_such_as_an_iceberg_manifest(codec):
    payloads = [b"lower bound ana.lee@test.com", b"x" * 300]
    assert proof.avro_blocks(_avro(payloads, codec)) == payloads
