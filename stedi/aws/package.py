"""What Glue runs: the five job scripts, and one zip of the code they import.

Glue starts a job from its script and puts `--extra-py-files` on the Python path, so the
zip holds the `stedi` runtime and the `spark_jobs` package, with the table declarations
packed as `stedi/tables.toml` (where `stedi.tables` looks for them when there is no
checkout around it). The zip is byte-for-byte reproducible (sorted entries, fixed
timestamps and permissions), so an unchanged checkout yields the same sha256 and a
second deploy uploads nothing.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from stedi.runtime import settings

FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry
# The deployer, the offline Data Docs assets and the local awsglue layer never run on Glue (AWS Glue
# has its own awsglue: the layer must never shadow it).
EXCLUDED = ("stedi/aws/", "stedi/gates/datadocs_assets/", "stedi/studio/")


@dataclass(frozen=True)
class Artifact:
    """A file to upload: its key in the bucket, its bytes and their sha256."""

    key: str
    body: bytes
    content_type: str

    @property
    def sha256(self) -> str:
        return sha256(self.body)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def package_entries(root: Path | None = None) -> dict[str, bytes]:
    """Archive name -> bytes of everything the zip holds, sorted by name."""
    root = root or settings.project_root()
    entries: dict[str, bytes] = {}
    for folder in ("stedi", "spark_jobs", "expectations"):  # expectations: the quality gates job
        for path in (root / folder).rglob("*.py"):
            name = path.relative_to(root).as_posix()
            if "__pycache__" in path.parts or name.startswith(EXCLUDED):
                continue
            entries[name] = path.read_bytes()
    entries["stedi/tables.toml"] = (root / "catalog" / "tables.toml").read_bytes()
    return dict(sorted(entries.items()))


def build_package(root: Path | None = None) -> bytes:
    """The zip for `--extra-py-files`; the same files always give the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in package_entries(root).items():
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.create_system = 3  # unix, so the permission bits below mean the same everywhere
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return buffer.getvalue()


def job_script(job: str, root: Path | None = None) -> bytes:
    root = root or settings.project_root()
    return (root / "spark_jobs" / f"{job}.py").read_bytes()


def artifacts(config, jobs: list[str], root: Path | None = None) -> list[Artifact]:
    """The package zip, then one script per job, with their keys under the scripts prefix."""
    found = [Artifact(config.package_key, build_package(root), "application/zip")]
    found += [Artifact(config.script_key(job), job_script(job, root), "text/x-python") for job in jobs]
    return found
