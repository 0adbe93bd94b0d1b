"""The run a Glue script is part of: what `stedi glue run` hands the scripts' process.

The command writes one session file per script (the job's name and run id, the stack's endpoint,
where the Glue jobs' keys are kept, a scratch directory, where bookmarks are kept), and the
process (stedi/studio/bootstrap.py) activates each before its script runs; the `awsglue` layer
reads it here. While a script runs, everything it reads and writes is noted, and the notes are
written beside its session file for the command to report (`write_result`).
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path


class NoSession(RuntimeError):
    """The layer was imported outside `stedi glue run`."""


@dataclass
class Session:
    job_name: str
    run_id: str
    script: str
    home: str  # the stack's state directory
    s3_endpoint: str
    glue_endpoint: str
    region: str
    keys_file: str | None  # the Glue jobs' identity (0600), never the keys themselves; None: the stack checks none
    scratch: str  # the run's own directory: staged objects, written parts
    bookmarks: str  # where job bookmarks are kept
    target: str = "embedded"  # or docker: the Docker stack's Spark, whose spark-defaults name the catalog
    started: float = field(default_factory=time.time)
    reads: list[dict] = field(default_factory=list)
    writes: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return Path(self.scratch) / "session.json"

    def as_dict(self) -> dict:
        return asdict(self)

    def save(self) -> Path:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.as_dict(), indent=1))
        return self.path

    def say(self, message: str) -> None:
        """One progress line, timed from the start of the run, on stderr (stdout is the script's)."""
        print(f"[{time.time() - self.started:7.1f}s] {message}", file=sys.stderr, flush=True)

    def note(self, message: str) -> None:
        """A warning worth repeating in the run's summary (said now too)."""
        self.notes.append(message)
        self.say(f"warning: {message}")

    def keys(self):
        from stedi.targets.stack_keys import read

        return read(Path(self.keys_file))

    def stack(self):
        """The stack's clients: the embedded stack under the Glue jobs' identity, or the Docker
        stack's S3 and Glue API (dummy keys, which LocalStack does not check)."""
        if self.target == "embedded":
            from stedi.targets.embedded_stack import Stack

            port = int(self.s3_endpoint.rsplit(":", 1)[1])
            return Stack(home=Path(self.home), port=port, pid=0, keys=self.keys())
        return Endpoints(self.s3_endpoint, self.glue_endpoint, self.region)

    def started_marker(self) -> Path:
        return Path(self.scratch) / "started"

    def result_path(self) -> Path:
        return Path(self.scratch) / "result.json"

    def write_result(self, **extra) -> None:
        outcome = {"reads": self.reads, "writes": self.writes, "notes": self.notes, "started": self.started,
                   "seconds": round(time.time() - self.started, 1), **extra}
        self.result_path().write_text(json.dumps(outcome, indent=1))


@dataclass(frozen=True)
class Endpoints:
    """The Docker stack's services as its Spark container reaches them."""

    s3: str
    glue: str
    region: str

    def client(self, service: str):
        import os

        import boto3
        from botocore.config import Config

        config = Config(s3={"addressing_style": "path"}) if service == "s3" else None
        return boto3.client(service, endpoint_url=self.glue if service == "glue" else self.s3, region_name=self.region,
                            aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
                            aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"), config=config)

    def s3_client(self):
        return self.client("s3")


_current: Session | None = None


def current() -> Session:
    """The run the script now running belongs to."""
    if _current is None:
        raise NoSession("this awsglue is the local layer of `stedi glue run`: run the script with "
                        "`stedi glue run SCRIPT --JOB_NAME NAME` (it is never shipped to AWS Glue)")
    return _current


def active() -> Session | None:
    """The run, if this process belongs to one (tests of the layer run without)."""
    try:
        return current()
    except NoSession:
        return None


def say(message: str) -> None:
    """A progress line of the run (on stderr without one)."""
    session = active()
    if session is not None:
        session.say(message)
    else:
        print(message, file=sys.stderr, flush=True)


def note(message: str) -> None:
    """A warning of the run, repeated in its summary."""
    session = active()
    if session is not None:
        session.note(message)
    else:
        print(f"warning: {message}", file=sys.stderr, flush=True)


def load(path: Path) -> Session:
    return Session(**json.loads(path.read_text()))


def activate(session: Session) -> None:
    global _current
    _current = session
