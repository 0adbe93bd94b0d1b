"""What a run may skip: a step whose inputs are exactly those of the last run that did it, and
whose tables nobody changed since, is not done again (`stedi pipeline` after editing one job
file re-runs that job and the jobs downstream of it, not the landing step and the other jobs).

A step's fingerprint covers everything that shapes its tables:
- for every step: the code outside the job files (the stedi package, catalog/, expectations/,
  the lock), the policy, the pseudonym key (as a keyed hash, never the key), whether the gates
  ran, the table I/O;
- the landing step: every landing object (key and ETag, as the bucket lists them; a revocation
  is a landing record), the erasure register (an erasure always lands again) and the quarantine
  limit; a landing step that set a record aside for an instant past the clock's window (now + 1
  day) is never reused, since the same bytes may be judged otherwise later;
- a job: its own file, and the snapshot each of its input tables is at now (a landing table, JSON
  over the landing objects, counts as the landing step's fingerprint).

A step is skipped only when its fingerprint is the recorded one and each table it published is
still at the snapshot it published (a Glue script, `stedi forget` or a killed run that wrote one
makes it run again). The record (`<state>/steps.json`) is written when a run ends without an
error; a run that did not finish leaves the last good one. `stedi pipeline --full` does every step.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Callable, Iterable
from pathlib import Path

from stedi.pseudonym import hmac_hex
from stedi.runtime import settings
from stedi.tables import lakehouse

FILE = "steps.json"
LANDING = "landing"
# The code every step depends on; each job's own file counts for that job only.
SHARED_CODE = ("stedi/**/*.py", "spark_jobs/*.py", "catalog/tables.toml", "expectations/**/*", "requirements.lock")
NOT_RUN_CODE = ("stedi/tools/", "stedi/report/", "stedi/aws/")  # benchmarks, the report, the deployer


def path(home: Path | None = None) -> Path:
    return (home or settings.state_home()) / FILE


def shared_code_digest(job_files: Iterable[Path] = (), root: Path | None = None) -> str:
    """sha256 over the path and content of every file of SHARED_CODE but the jobs' own files, in path order."""
    root = root or settings.project_root()
    own = {Path(p).resolve() for p in job_files}
    found = {p for pattern in SHARED_CODE for p in root.glob(pattern)
             if p.is_file() and "__pycache__" not in p.parts and p.resolve() not in own
             and not p.relative_to(root).as_posix().startswith(NOT_RUN_CODE)}
    return files_digest(found, root)


def files_digest(files: Iterable[Path], root: Path) -> str:
    """sha256 over each file's path relative to `root` and its content, in path order: renaming or
    moving a file changes it as an edit does (also the promotion gate's code digest, gates/green.py)."""
    outer = hashlib.sha256()
    for file in sorted(files, key=lambda p: p.relative_to(root).as_posix()):
        outer.update(file.relative_to(root).as_posix().encode() + b"\0")
        outer.update(_sha256(file.read_bytes()).encode() + b"\n")
    return outer.hexdigest()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _digest(*parts) -> str:
    return _sha256(json.dumps(parts, sort_keys=True, default=str).encode())


class Steps:
    """The steps of one run: which may be skipped (`skipping`), and what each one did, recorded
    for the next run. `snapshots(names)` gives each table's current snapshot id (None: no table);
    `landing` is the landing step's fingerprint, set by the target that lists the landing objects."""

    def __init__(self, record: Path, snapshots: Callable[[Iterable[str]], dict[str, int | None]], *,
                 shared: dict, skipping: bool):
        self.record, self.snapshots, self.skipping = record, snapshots, skipping
        self.shared = _digest(shared)
        self.landing: str | None = None
        self.previous = _load(record)
        self.fresh: dict[str, tuple[str, list[str], dict]] = {}  # step -> what this run did
        self.skipped: list[str] = []

    def landing_fingerprint(self, objects: dict[str, str], register: str, max_quarantine) -> str:
        """`register`: the erasure register's text (the suppression list is made from it)."""
        return _digest(self.shared, LANDING, sorted(objects.items()), register, max_quarantine)

    def job_fingerprint(self, job) -> str:
        """A landing table is JSON over the landing objects, not an Iceberg table: it has no snapshot,
        and the landing step's fingerprint (which lists those objects) stands for its version."""
        inputs = {name: self.landing if snapshot is None else snapshot
                  for name, snapshot in self.snapshots(job.inputs).items()}
        return _digest(self.shared, job.name, _sha256(job_file(job).read_bytes()), sorted(inputs.items()))

    def unchanged(self, step: str, fingerprint: str | None) -> dict | None:
        """What the last run recorded of the step, when it may be skipped; else None."""
        last = self.previous.get(step)
        if not self.skipping or fingerprint is None or not last or last.get("fingerprint") != fingerprint:
            return None
        if self.snapshots(list(last["snapshots"])) != last["snapshots"]:
            return None  # a table of the step was written since, by something else
        self.skipped.append(step)
        figures = dict(last["summary"])
        if "snapshots" in figures:  # as read now from the catalog, which they were just checked against
            checked = last["snapshots"]
            figures["snapshots"] = {name: checked.get(name, was) for name, was in figures["snapshots"].items()}
        return figures

    def did(self, step: str, fingerprint: str | None, tables: list[str], summary: dict) -> None:
        """The step ran and published `tables`; its summary figures are kept for a run that skips it.
        Without a fingerprint, what it did may not be reused: the next run does it again."""
        self.fresh[step] = (fingerprint, tables, summary)

    def save(self) -> None:
        """Once the run ended without an error: each step it did, with the snapshots its tables are at now."""
        record = dict(self.previous)
        now = self.snapshots({name for _, tables, _ in self.fresh.values() for name in tables})
        for step, (fingerprint, tables, summary) in self.fresh.items():
            if fingerprint is None:
                record.pop(step, None)
                continue
            record[step] = {"fingerprint": fingerprint, "snapshots": {n: now[n] for n in tables}, "summary": summary}
        self.record.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.record.with_suffix(".tmp")
        temporary.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
        temporary.replace(self.record)


def _load(record: Path) -> dict:
    try:
        loaded = json.loads(record.read_text())
    except (OSError, ValueError):
        return {}  # none yet, or unreadable: every step runs
    return loaded if isinstance(loaded, dict) else {}


def job_file(job) -> Path:
    """The file that holds the job's transform (spark_jobs/<job>.py)."""
    return Path(inspect.getsourcefile(job.transform))


def shared_inputs(policy: str, key: bytes, gates: bool, table_io: str) -> dict:
    """What every step's fingerprint holds besides its own inputs (each job's own file, named by
    catalog/tables.toml, counts for that job only)."""
    jobs = settings.project_root() / "spark_jobs"
    own = [jobs / f"{table.job}.py" for table in lakehouse().tables.values() if table.job]
    return {"code": shared_code_digest(own), "policy": policy,
            "key": hmac_hex("stedi steps", key) if key else None,
            "gates": gates, "table_io": table_io}
