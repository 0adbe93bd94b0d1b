"""S3 as a Glue job sees it, on the stack's emulator: which objects a path names, their bytes
staged on local disk for Spark's readers, and written parts uploaded.

Spark here has no S3 filesystem (hadoop-aws and its 600 MB AWS SDK would clash with Iceberg's own
SDK), so a script's `s3://` reads are listed and fetched under the Glue jobs' identity into the
run's scratch directory, where Spark's own JSON, CSV and Parquet readers read them; a sink's files
are written there by Spark and uploaded, never replacing an object (Glue's sinks append).
"""

from __future__ import annotations

import fnmatch
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from stedi.lakehouse.landing import hidden

SCHEMES = ("s3://", "s3a://", "s3n://")


class S3PathError(ValueError):
    """A path that is not an s3:// URI."""


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str
    size: int
    last_modified_ms: int

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def split(uri: str) -> tuple[str, str]:
    """(bucket, key) of an s3:// (or s3a://, s3n://) URI."""
    for scheme in SCHEMES:
        if uri.startswith(scheme):
            bucket, _, key = uri[len(scheme):].partition("/")
            if not bucket:
                raise S3PathError(f"{uri!r} names no bucket")
            return bucket, key
    raise S3PathError(f"{uri!r} is not an S3 path (s3://bucket/prefix/): local Glue jobs read and write S3 only")


def folder(uri: str) -> str:
    """A path as the prefix of a folder: `s3://b/x` -> `s3://b/x/`."""
    return uri if uri.endswith("/") else uri + "/"


def listing(client, uri: str, *, recurse: bool, exclusions: list[str] | None = None) -> list[S3Object]:
    """The objects a read of `uri` takes, in key order: the object itself when it names one, else
    the files in that folder (and its sub-folders with `recurse`), without hidden files."""
    bucket, key = split(uri)
    found: list[S3Object] = []
    if key and not key.endswith("/"):
        try:
            head = client.head_object(Bucket=bucket, Key=key)
            return [S3Object(bucket, key, head["ContentLength"], _ms(head["LastModified"]))]
        except client.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
                raise
        key += "/"
    arguments = {"Bucket": bucket, "Prefix": key}
    if not recurse:
        arguments["Delimiter"] = "/"
    for page in client.get_paginator("list_objects_v2").paginate(**arguments):
        for item in page.get("Contents", []):
            if item["Key"].endswith("/") or hidden(item["Key"]):
                continue
            found.append(S3Object(bucket, item["Key"], item["Size"], _ms(item["LastModified"])))
    patterns = exclusions or []
    return sorted((o for o in found if not _excluded(o, patterns)), key=lambda o: o.key)


def exclusion_patterns(option) -> list[str]:
    """Glue's `exclusions`: a JSON list of globs in a string (or, leniently, a list)."""
    if not option:
        return []
    if isinstance(option, str):
        try:
            option = json.loads(option)
        except ValueError:
            example = '"[\\"**.pdf\\"]"'
            raise ValueError(f"exclusions must be a JSON list of globs, such as {example}, not {option!r}") from None
    return [str(p) for p in option]


def _excluded(item: S3Object, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(item.uri, p) or fnmatch.fnmatchcase(item.key, p) for p in patterns)


def _ms(moment) -> int:
    return int(moment.timestamp() * 1000)


def stage(client, objects: list[S3Object], directory: Path, *, suffix: str = "") -> list[Path]:
    """Each object's bytes in `directory` (bucket/key kept as the path), `suffix` appended where a
    compression named by option is not in the name (Spark picks a codec by extension)."""
    def fetch(item: S3Object) -> Path:
        target = directory / item.bucket / (item.key + (suffix if suffix and not item.key.endswith(suffix) else ""))
        target.parent.mkdir(parents=True, exist_ok=True)
        client.download_file(item.bucket, item.key, str(target))
        return target

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(fetch, objects))


def upload(client, files: list[tuple[Path, str]], bucket: str) -> None:
    """Local files to their keys in `bucket`; an existing object is never replaced (checked before)."""
    def send(item: tuple[Path, str]) -> None:
        path, key = item
        client.upload_file(str(path), bucket, key)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(send, files))
