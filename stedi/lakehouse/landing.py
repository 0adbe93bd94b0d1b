"""Putting landing data in the bucket, where the landing tables expect it.

A landing directory mirrors the S3 layout (`customer/landing/*.json`, ...). Uploading
replaces what the landing prefixes held before, so a re-run with another directory never
mixes two data sets; the files themselves are copied byte for byte and never modified, with one
exception: the records of erased people (stedi/privacy/) are withheld, so they never reach the
bucket again, and a file that held some lands without them (the upload says how many).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from stedi.runtime.progress import bar as progress_bar
from stedi.tables import Lakehouse, lakehouse


class LandingError(ValueError):
    """The landing directory is not laid out like the S3 landing zone."""


def landing_files(directory: Path, house: Lakehouse | None = None) -> dict[str, list[Path]]:
    """The files of each landing table in a local directory, by table name."""
    house = house or lakehouse()
    if not directory.is_dir():
        raise LandingError(f"landing directory {directory} does not exist")
    found = {}
    for table in house.zone("landing"):
        folder = directory / house.landing_prefix(table)
        files = sorted(p for p in folder.glob("*") if p.is_file()) if folder.is_dir() else []
        if not files:
            expected = ", ".join(f"{t.source}/landing/" for t in house.zone("landing"))
            raise LandingError(f"{directory} has no files in {house.landing_prefix(table)} (expected {expected})")
        found[table.name] = files
    return found


@dataclass(frozen=True)
class LocalCopy:
    """A landing object's bytes on local disk, and their MD5 (the object's ETag when identical).

    Size and modification time as uploaded tell, without hashing again, that the file is
    still what was sent.
    """

    path: Path
    md5: str
    size: int
    mtime_ns: int

    def read_if(self, etag: str) -> bytes | None:
        """The bytes, if the object's ETag is theirs and the file has not changed since."""
        stat = self.path.stat()
        if etag != self.md5 or (stat.st_size, stat.st_mtime_ns) != (self.size, self.mtime_ns):
            return None
        return self.path.read_bytes()


def upload(
    directory: Path,
    s3_client,
    progress=None,
    house: Lakehouse | None = None,
    digests: Path | None = None,
    suppression=None,
) -> dict[str, LocalCopy]:
    """Make the landing prefixes hold exactly the directory's files; returns the local copy of each key.

    A file already in the bucket with the same bytes (its ETag is the file's MD5: every object
    is put in one part) is not sent again, so a re-run on the same data skips the emulator's
    slowest path. Objects that are not in the directory are deleted. `digests` keeps each
    file's MD5 by path, size and modification time, so an unchanged file is not even read.
    With a non-empty `suppression` (stedi/privacy/suppression.py) every file is checked for
    erased people's records once per state of the erasure register (remembered beside `digests`),
    and what it finds is counted in `suppression.withheld`, by table.
    """
    house = house or lakehouse()
    known = _load_digests(digests)
    clean = _Clean(digests, suppression)
    copies: dict[str, LocalCopy] = {}
    for name, files in landing_files(directory, house).items():
        prefix = house.landing_prefix(house.table(name))
        present = objects(s3_client, house.bucket, prefix)
        keep = {prefix + f.name: f for f in files}
        for key in present.keys() - keep.keys():
            s3_client.delete_object(Bucket=house.bucket, Key=key)
        sent = withheld = 0
        # one bar per prefix (1000x is 11 GB): the files' bytes, sent or found already in the bucket
        with progress_bar(progress, f"uploading {prefix}", sum(p.stat().st_size for p in files), "bytes",
                          report=False) as bar:
            for key, path in keep.items():
                stat = path.stat()
                bar.advance(stat.st_size)
                md5 = known.get(str(path.resolve()), {}).get(f"{stat.st_size}:{stat.st_mtime_ns}")
                data = None if md5 else path.read_bytes()
                scrubbed_before = clean.scrubbed(path)
                if scrubbed_before and present.get(key) == scrubbed_before[0]:  # already in the bucket without them
                    withheld += scrubbed_before[1]
                    continue
                if not clean.known(path):
                    data = data if data is not None else path.read_bytes()
                    scrubbed, gone = suppression.scrub(data)
                    if gone:  # the object is the file without them: no local copy stands for it
                        withheld += gone
                        clean.add(path, hashlib.md5(scrubbed).hexdigest(), gone)
                        if present.get(key) != hashlib.md5(scrubbed).hexdigest():
                            s3_client.put_object(Bucket=house.bucket, Key=key, Body=scrubbed)
                            sent += 1
                        continue
                    clean.add(path)
                copies[key] = LocalCopy(path, md5 or hashlib.md5(data).hexdigest(), stat.st_size, stat.st_mtime_ns)
                if present.get(key) != copies[key].md5:
                    body = data if data is not None else path.read_bytes()
                    s3_client.put_object(Bucket=house.bucket, Key=key, Body=body)
                    sent += 1
        if withheld:
            suppression.withheld[name] = suppression.withheld.get(name, 0) + withheld
        if progress:
            unchanged = f", {len(files) - sent} unchanged" if sent < len(files) else ""
            erased = f", {withheld:,} records of erased people withheld" if withheld else ""
            progress(f"uploaded {sent} files to s3://{house.bucket}/{prefix}{unchanged}{erased}")
    _save_digests(digests, copies.values())
    clean.save()
    return copies


class _Clean:
    """What each file holds of erased people under the register's current state: nothing, or the
    MD5 of its bytes without them and how many records went; an unchanged file is not read again to
    find out (kept beside the upload digests)."""

    def __init__(self, digests: Path | None, suppression):
        self.suppression = suppression
        self.path = digests.with_name("landing-clean.json") if digests else None
        self.stamp = suppression.fingerprint() if suppression else ""
        try:
            saved = json.loads(self.path.read_text()) if self.path else {}
        except (FileNotFoundError, ValueError):
            saved = {}
        self.files = saved.get("files", {}) if saved.get("register") == self.stamp else {}

    def known(self, path: Path) -> bool:
        """Whether the file, as it is, holds nobody erased."""
        if not self.suppression:
            return True
        return self.files.get(str(path.resolve())) == [_stamp(path)]

    def scrubbed(self, path: Path) -> tuple[str, int] | None:
        """(MD5 without them, records withheld) of a file, as it is, that holds someone erased."""
        entry = self.files.get(str(path.resolve())) if self.suppression else None
        return (entry[1], entry[2]) if entry and len(entry) == 3 and entry[0] == _stamp(path) else None

    def add(self, path: Path, md5: str | None = None, withheld: int = 0) -> None:
        self.files[str(path.resolve())] = [_stamp(path), md5, withheld] if md5 else [_stamp(path)]

    def save(self) -> None:
        if self.path and self.suppression:
            self.path.write_text(json.dumps({"register": self.stamp, "files": self.files}))


def _stamp(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def _load_digests(path: Path | None) -> dict[str, dict[str, str]]:
    try:
        return json.loads(path.read_text()) if path else {}
    except (FileNotFoundError, ValueError):
        return {}


def _save_digests(path: Path | None, copies) -> None:
    if path is None:
        return
    entries = {str(c.path.resolve()): {f"{c.size}:{c.mtime_ns}": c.md5} for c in copies}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(entries))


def ensure_bucket(admin_s3, bucket: str, say=None) -> bool:
    """The bucket exists (created by the administrator if not); returns whether it was created."""
    try:
        admin_s3.head_bucket(Bucket=bucket)
        return False
    except admin_s3.exceptions.ClientError as error:
        if error.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
            raise
    admin_s3.create_bucket(Bucket=bucket)
    if say:
        say(f"created bucket s3://{bucket} (first use)")
    return True


def hidden(key: str) -> bool:
    """Hadoop's readers, and so Athena and Glue, skip files whose name starts with `_` or `.`
    (`_SUCCESS`, `.crc`): they are not data."""
    name = key.rstrip("/").rsplit("/", 1)[-1]
    return name.startswith(("_", "."))


def objects(s3_client, bucket: str, prefix: str) -> dict[str, str]:
    """Key -> ETag (without quotes) of every object under the prefix."""
    pages = s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return {obj["Key"]: obj["ETag"].strip('"') for page in pages for obj in page.get("Contents", [])}


class LandingReader:
    """(s3 path, bytes) of every object under a landing table's prefix, in key order.

    The bytes go to the intake as they are (no transparent gunzip): it tells gzip, JSON and
    whatever else was dropped in the prefix apart itself. A file's local copy (`upload`'s
    LocalCopy) is read instead of the object when the object's ETag still equals its MD5:
    one trip less through the emulator, which serves under 100 MB/s.
    """

    def __init__(self, stack, house: Lakehouse | None = None, local_copies: dict[str, LocalCopy] | None = None):
        self.stack = stack
        self.house = house or lakehouse()
        self.local_copies = local_copies or {}
        self.fs = stack.arrow_fs()

    def __call__(self, table):
        from stedi.runtime.retry import retry

        prefix = self.house.landing_prefix(table)
        found = retry(lambda: objects(self.stack.s3_client(), self.house.bucket, prefix), what="S3 emulator")
        for key, etag in sorted((k, e) for k, e in found.items() if not k.endswith("/")):
            yield f"s3://{self.house.bucket}/{key}", self._read(key, etag)

    def _read(self, key: str, etag: str) -> bytes:
        from stedi.runtime.retry import retry

        local = self.local_copies.get(key)
        data = local.read_if(etag) if local is not None else None
        if data is not None:
            return data

        def read() -> bytes:
            with self.fs.open_input_stream(f"{self.house.bucket}/{key}", compression=None) as stream:
                return stream.read()

        return retry(read, what="S3 emulator")
