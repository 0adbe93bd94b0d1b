"""The promotion gate: only code that passed the local quality gates goes to AWS.

A green local run leaves a record with the digest of the code it ran; deploy recomputes the
digest of the code it is about to upload and refuses when the two differ, so what runs on
Glue is exactly what was checked on the laptop. The digest covers what decides the jobs'
output: the job scripts, the runtime they import, the table declarations and the
expectation suites.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from stedi.runtime import settings
from stedi.runtime.steps import files_digest

DIGEST_GLOBS = (
    "spark_jobs/*.py",
    *(f"stedi/{part}*.py" for part in ("", "runtime/", "intake/", "lakehouse/", "gates/", "targets/")),
    "catalog/tables.toml",
    "expectations/**/*.py",
)


def default_record_path() -> Path:
    return settings.state_home() / "gates" / "last_green.json"


def digest_files(root: Path | None = None) -> list[Path]:
    """The files the digest covers, sorted by their path relative to the project root."""
    root = root or settings.project_root()
    found = {p for pattern in DIGEST_GLOBS for p in root.glob(pattern) if p.is_file() and "__pycache__" not in p.parts}
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def code_digest(root: Path | None = None) -> str:
    """sha256 over each covered file's relative path and content, in sorted path order.

    The path is part of it, so renaming or moving a file changes the digest as an edit does;
    a missing `expectations/` simply contributes nothing.
    """
    root = root or settings.project_root()
    return files_digest(digest_files(root), root)


def gate_record_problem(record_path: Path, digest: str) -> str | None:
    """Why the code with this digest may not be promoted, or None when its last run was green."""
    record_path = Path(record_path)
    how = "run the pipeline with its quality gates (`make pipeline`) first"
    if not record_path.exists():
        return f"no green run of the local quality gates is recorded ({record_path} does not exist): {how}"
    try:
        record = json.loads(record_path.read_text())
        recorded = record["digest"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        return f"the record of the last green run ({record_path}) is unreadable ({error}): {how}"
    if recorded != digest:
        when = record.get("finished_at", "at an unknown time")
        policy = record.get("policy", "unknown")
        return (
            f"the code changed since the last green run of the local quality gates "
            f"(finished {when}, policy {policy}; digest {str(recorded)[:12]}, now {digest[:12]}): {how}"
        )
    return None


def record_green(policy: str, *, path: Path | None = None, digest: str | None = None) -> Path:
    """Write the record of a green run (what the pipeline does after its gates pass)."""
    path = Path(path or default_record_path())
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "digest": digest or code_digest(),
        "policy": settings.check_policy(policy),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path
