"""`stedi forget --verify`: the proof that an erased person is in no copy.

It looks everywhere a person could remain, with the same tests the intake applies
(suppression.py) and the clear text of what it is given:
- every Iceberg table at every retained snapshot (branches and tags point at snapshots too),
  read through pyiceberg, row by row;
- the bytes of every object in the bucket: Parquet decoded (and its footer's statistics read as
  they are), gzip inflated, Avro blocks (Iceberg's manifests and their column bounds) inflated,
  JSON and anything else as text.
What it looks for: the email (any case), the names and phone numbers given, every token whose
keyed pseudonym is the person's or one of their devices' (so a serial number is found in clear
without being stored), and those pseudonyms themselves. A hit says where, and what kind of value,
never the value. The suppression list itself (`stedi.erasures` and its files, and the register
object of the erasure job, `privacy/erasures.jsonl`) holds the pseudonyms by design, so that the
person stays out: it is not searched.
"""

from __future__ import annotations

import gzip
import io
import zlib
from dataclasses import dataclass

from stedi.privacy import register
from stedi.privacy.erase import normalized
from stedi.privacy.suppression import Suppression
from stedi.pseudonym import hmac_hex
from stedi.runtime import settings
from stedi.tables import Lakehouse, lakehouse


@dataclass(frozen=True)
class Hit:
    where: str  # "stedi.customer_trusted@<snapshot>" or "s3://bucket/key"
    what: str  # "email", "name or phone", "serial number or email (keyed match)", "pseudonym"
    count: int


class Terms:
    """What one proof looks for (see the module docstring)."""

    def __init__(self, emails: list[str], also: list[str], key: bytes):
        customer_ids = {hmac_hex(normalized(e), key) for e in emails}
        devices = {d for e in register.load() if e.customer_id in customer_ids for d in e.device_ids}
        self.matcher = Suppression(key, customer_ids, devices)
        self.emails = [normalized(e) for e in emails]
        self.also = [a.strip().lower() for a in also if a.strip()]
        self.pseudonyms = customer_ids | devices

    def kinds(self, text: str) -> list[str]:
        """What kinds of the person's values `text` holds (empty: none)."""
        lowered = text.lower()
        found = []
        if any(e in lowered for e in self.emails):
            found.append("email")
        if any(a in lowered for a in self.also):
            found.append("name or phone")
        if any(p in lowered for p in self.pseudonyms):
            found.append("pseudonym")
        if "email" not in found and self.matcher.text_hits(text):
            found.append("serial number or email (keyed match)")
        return found


def verify(
    emails: list[str], also: list[str] = (), progress=print, stack=None, house: Lakehouse | None = None
) -> list[Hit]:
    """Every place the people named by `emails` (and the clear values in `also`) remain, on the
    running embedded stack unless another `stack` is given (its `catalog()` and `s3_client()`)."""
    from stedi.targets import embedded_stack

    house = house or lakehouse()
    stack = stack or embedded_stack.require()
    terms = Terms(list(emails), list(also), settings.pseudonym_key())
    hits = _tables(stack, house, terms, progress) + _objects(stack, house, terms, progress)
    return hits


def _tables(stack, house: Lakehouse, terms: Terms, progress) -> list[Hit]:
    from pyiceberg.exceptions import NoSuchTableError

    catalog = stack.catalog()
    hits, snapshots = [], 0
    for table in house.iceberg_tables.values():
        if table is house.erasures:
            continue
        try:
            iceberg = catalog.load_table(f"{house.namespace}.{table.name}")
        except NoSuchTableError:
            continue
        for snapshot in iceberg.snapshots():
            snapshots += 1
            rows = iceberg.scan(snapshot_id=snapshot.snapshot_id).to_arrow()
            for what, count in _rows(rows, terms).items():
                hits.append(Hit(f"{house.namespace}.{table.name}@{snapshot.snapshot_id}", what, count))
    progress(f"read every retained snapshot of every table: {snapshots} snapshots")
    return hits


def _rows(rows, terms: Terms) -> dict[str, int]:
    """Rows holding each kind of the person's values."""
    import pyarrow as pa
    import pyarrow.compute as pc

    counts: dict[str, int] = {}
    for name in rows.column_names:
        column = rows.column(name)
        if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
            continue
        for value in pc.unique(column).to_pylist():
            if value is None:
                continue
            for what in terms.kinds(value):
                n = pc.sum(pc.equal(column, value)).as_py() or 0
                counts[what] = counts.get(what, 0) + n
    return counts


def _objects(stack, house: Lakehouse, terms: Terms, progress) -> list[Hit]:
    s3 = stack.s3_client()
    hits, seen, size = [], 0, 0
    from stedi.lakehouse.deployment import load_config

    kept = house.table_location(house.erasures).removeprefix(f"s3://{house.bucket}/") + "/" if house.erasures else None
    register_object = load_config().erasures_key
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=house.bucket):
        for item in page.get("Contents", []):
            if (kept and item["Key"].startswith(kept)) or item["Key"] == register_object:
                continue
            data = s3.get_object(Bucket=house.bucket, Key=item["Key"])["Body"].read()
            seen, size = seen + 1, size + len(data)
            for what, count in _bytes(item["Key"], data, terms).items():
                hits.append(Hit(f"s3://{house.bucket}/{item['Key']}", what, count))
    progress(f"read every object in s3://{house.bucket}: {seen} objects, {size / 1e6:.1f} MB")
    return hits


def _bytes(key: str, data: bytes, terms: Terms) -> dict[str, int]:
    counts: dict[str, int] = {}
    if data[:4] == b"PAR1" and data[-4:] == b"PAR1":
        import pyarrow.parquet as pq

        counts = _rows(pq.read_table(io.BytesIO(data)), terms)
        texts = [data.decode("utf-8", "replace")]  # the footer's min/max statistics, as stored
    elif data[:2] == b"\x1f\x8b":
        texts = [gzip.decompress(data).decode("utf-8", "replace")]
    elif data[:4] == b"Obj\x01":
        texts = [block.decode("utf-8", "replace") for block in avro_blocks(data)]
    else:
        texts = [data.decode("utf-8", "replace")]
    for text in texts:
        for line in text.splitlines() or [text]:
            for what in terms.kinds(line):
                counts[what] = counts.get(what, 0) + 1
    return counts


# ------------------------------------------------------------------------- Avro container files
# Iceberg's manifests are Avro files with deflate-compressed blocks, and their column bounds hold
# values as bytes. The lock has no general Avro reader (pyiceberg's reads Iceberg's own schemas),
# and the proof needs no decoding, only the blocks' bytes: the container format is a header (magic,
# a metadata map, a 16-byte sync marker), then blocks of (count, size, bytes, sync).


def avro_blocks(data: bytes) -> list[bytes]:
    """The inflated bytes of each block of an Avro container file."""
    stream = io.BytesIO(data)
    stream.read(4)
    metadata = {}
    while True:
        count = _long(stream)
        if count == 0:
            break
        if count < 0:
            count = -count
            _long(stream)
        for _ in range(count):
            name = stream.read(_long(stream)).decode()
            metadata[name] = stream.read(_long(stream))
    codec = metadata.get("avro.codec", b"null").decode()
    stream.read(16)
    blocks = []
    while stream.tell() < len(data):
        _long(stream)
        raw = stream.read(_long(stream))
        stream.read(16)
        blocks.append(zlib.decompress(raw, -15) if codec == "deflate" else raw)
    return blocks


def _long(stream) -> int:
    shift = result = 0
    while True:
        byte = stream.read(1)
        if not byte:
            raise EOFError("truncated Avro file")
        result |= (byte[0] & 0x7F) << shift
        if not byte[0] & 0x80:
            return (result >> 1) ^ -(result & 1)
        shift += 7
