"""The erasure register: who was erased (keyed pseudonyms only), when, and what it removed.

It is the suppression list's source of truth, so it lives outside the stack: a JSON-lines file in
the privacy directory (`.stedi/privacy/`, or STEDI_PRIVACY_DIR), written before any data is
touched and appended to as an erasure advances, which is what lets a killed `stedi forget` be
finished by the next one or by the next pipeline run. `make down` discards the stack, never this.
A run refuses to start when the register exists but cannot be read: running without it would
let an erased person back in.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from stedi.runtime import settings

FILE = "erasures.jsonl"
DIR_ENV = "STEDI_PRIVACY_DIR"
_stored_in: tuple | None = None  # (s3 client, bucket, key) where every append is copied (`from_s3`)


class RegisterUnreadable(RuntimeError):
    """The register exists but cannot be read; nothing may run without it."""


@dataclass(frozen=True)
class Erasure:
    """One person's erasure: their email's pseudonym and their devices' (serial numbers')."""

    erasure_id: str
    requested_at: int  # epoch ms
    customer_id: str  # keyed pseudonym of the normalized email (stedi/pseudonym.py)
    device_ids: tuple[str, ...] = ()
    erased_at: int | None = None  # epoch ms once every copy is gone; None while under way
    removed: dict[str, int] = field(default_factory=dict)  # rows removed per table, by its request

    @property
    def done(self) -> bool:
        return self.erased_at is not None


def directory() -> Path:
    return Path(os.environ.get(DIR_ENV) or settings.state_home() / "privacy")


def path() -> Path:
    return directory() / FILE


def load(where: Path | None = None) -> list[Erasure]:
    """Every erasure, the latest state of each, in the order they were requested."""
    where = where or path()
    try:
        text = where.read_text()
    except (FileNotFoundError, NotADirectoryError):  # none kept here (code imported from a zip on Glue)
        return []
    except OSError as error:
        raise RegisterUnreadable(
            f"the erasure register {where} cannot be read ({error}); nothing runs without it"
        ) from None
    latest: dict[str, Erasure] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            erasure = Erasure(**{**entry, "device_ids": tuple(entry.get("device_ids", ()))})
        except (ValueError, TypeError) as error:
            raise RegisterUnreadable(
                f"the erasure register {where} is damaged at line {number} ({error}); "
                "nothing runs without it: restore it from a backup"
            ) from None
        latest[erasure.erasure_id] = erasure
    return list(latest.values())


def begin(customer_ids: dict[str, tuple[str, ...]], where: Path | None = None) -> list[Erasure]:
    """Record new erasures (customer pseudonym -> its device pseudonyms) before anything is touched."""
    now = int(time.time() * 1000)
    erasures = [
        Erasure(erasure_id=uuid.uuid4().hex, requested_at=now, customer_id=c, device_ids=tuple(sorted(d)))
        for c, d in customer_ids.items()
    ]
    _append(erasures, where)
    return erasures


def finish(erasures: list[Erasure], removed: dict[str, int], where: Path | None = None) -> list[Erasure]:
    """Mark erasures done, with the rows their request removed per table."""
    now = int(time.time() * 1000)
    done = [replace(e, erased_at=now, removed=dict(removed)) for e in erasures]
    _append(done, where)
    return done


def add_devices(erasure: Erasure, device_ids: set[str], where: Path | None = None) -> Erasure:
    """A device learnt later (a suppressed customer record named it): suppressed from then on."""
    updated = replace(erasure, device_ids=tuple(sorted(set(erasure.device_ids) | device_ids)))
    _append([updated], where)
    return updated


def handed_over() -> str:
    """The register as text, for a process that runs elsewhere (the Docker stack's Spark container):
    pseudonyms only, so it may cross a pipe."""
    try:
        return path().read_text()
    except FileNotFoundError:
        return ""


def receive(text: str) -> None:
    """Take a register handed over by the host (`handed_over`): this process suppresses the same
    people. It is kept in a private directory of its own; the host's register stays the record."""
    import tempfile

    where = Path(tempfile.mkdtemp(prefix="stedi-privacy-"))
    (where / FILE).write_text(text)
    os.environ[DIR_ENV] = str(where)
    load()  # refuses now, rather than halfway through a run, if it arrived damaged


def from_s3(s3, uri: str, *, keep_there: bool) -> None:
    """On AWS the register is an object (`s3://<bucket>/privacy/erasures.jsonl`): this process works
    on a private copy of it, and with `keep_there` (the erasure job) every append is written back
    whole before anything else is touched. None there yet means nobody was erased."""
    global _stored_in
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    try:
        text = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    except s3.exceptions.NoSuchKey:
        text = ""
    receive(text)
    _stored_in = (s3, bucket, key) if keep_there else None


def absorb(text: str) -> int:
    """Append what a register handed back from elsewhere holds that this one lacks (its lines are
    this one's, then the other process's own); returns how many lines were new."""
    try:
        known = set(path().read_text().splitlines())
    except FileNotFoundError:
        known = set()
    new = [line for line in text.splitlines() if line.strip() and line not in known]
    if new:
        settings.private_dir(path().parent)
        fd = os.open(path(), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, "".join(line + "\n" for line in new).encode())
            os.fsync(fd)
        finally:
            os.close(fd)
    return len(new)


def learn(learnt: dict[str, list[str]]) -> None:
    """Devices a run elsewhere learnt from suppressed customer records (customer pseudonym -> device
    pseudonyms), added to this register's erasures."""
    for erasure in load():
        new = set(learnt.get(erasure.customer_id, ())) - set(erasure.device_ids)
        if new:
            add_devices(erasure, new)


def _append(erasures: list[Erasure], where: Path | None) -> None:
    where = where or path()
    settings.private_dir(where.parent)
    lines = "".join(json.dumps({**asdict(e), "device_ids": list(e.device_ids)}) + "\n" for e in erasures)
    fd = os.open(where, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, lines.encode())
        os.fsync(fd)  # durable before the data is touched: a crash must not forget a request
    finally:
        os.close(fd)
    if _stored_in is not None and where == path():
        s3, bucket, key = _stored_in
        s3.put_object(Bucket=bucket, Key=key, Body=where.read_bytes())


def rows(erasures: list[Erasure]):
    """The register as `stedi.erasures` rows (catalog/tables.toml `[erasures]`): one per device."""
    import pyarrow as pa

    from stedi.tables import lakehouse

    table = lakehouse().erasures
    out: list[dict] = []
    for e in erasures:
        per_table = " ".join(f"{name}={count}" for name, count in sorted(e.removed.items()))
        for device in e.device_ids or (None,):
            out.append(
                {
                    "erasure_id": e.erasure_id,
                    "requested_at": e.requested_at,
                    "erased_at": e.erased_at,
                    "customer_id": e.customer_id,
                    "device_id": device,
                    "rows_removed": sum(e.removed.values()) if e.done else None,
                    "removed_per_table": per_table or None,
                }
            )
    return pa.Table.from_pylist(out, schema=table.arrow_schema())
