"""Putting landing data in the bucket, where the landing tables expect it.

A landing directory mirrors the S3 layout (`customer/landing/*.json`, ...). Uploading
replaces what the landing prefixes held before, so a re-run with another directory never
mixes two data sets; the files themselves are copied byte for byte and never modified.
"""

from __future__ import annotations

from pathlib import Path

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


def upload(directory: Path, s3_client, progress=None, house: Lakehouse | None = None) -> dict[str, int]:
    """Upload every landing file; returns the number of files per landing table."""
    house = house or lakehouse()
    uploaded = {}
    for name, files in landing_files(directory, house).items():
        prefix = house.landing_prefix(house.table(name))
        keep = {prefix + f.name for f in files}
        for key in _keys(s3_client, house.bucket, prefix):
            if key not in keep:
                s3_client.delete_object(Bucket=house.bucket, Key=key)
        for f in files:
            s3_client.upload_file(str(f), house.bucket, prefix + f.name)
        uploaded[name] = len(files)
        if progress:
            progress(f"uploaded {len(files)} files to s3://{house.bucket}/{prefix}")
    return uploaded


def _keys(s3_client, bucket: str, prefix: str) -> list[str]:
    pages = s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [obj["Key"] for page in pages for obj in page.get("Contents", [])]
