"""What every target is (stedi/targets/__init__.py says which one a command acts on).

Standard library only, like the package's __init__: `make up` imports it with the system Python.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol


class TargetError(ValueError):
    """An unknown target name; the message lists the known ones."""


@dataclass
class Runtime:
    """What a process needs to run jobs for a target: a Spark session, the table I/O, the
    parameters and the quality gate; `finish` is called once the work is done (Glue's commit)."""

    target: str
    spark: Any
    io: Any
    params: Any
    gate: Any = None
    finish: Callable[[], None] = field(default=lambda: None)
    arguments: dict = field(default_factory=dict)  # a Glue job's resolved arguments
    facts: dict = field(default_factory=dict)  # what the run summary says about where the run went
    after_green: Callable[[], dict] = field(default=dict)  # once every gate passed: more facts
    # The AWS SDK variables of the identity the jobs run under (the embedded stack's Glue jobs' keys)
    environment: dict = field(default_factory=dict)

    @contextmanager
    def jobs_identity(self) -> Iterator[None]:
        """While jobs run, code in them that uses the default credential chain (boto3 in a job
        script) acts as the jobs' identity, as on Glue it acts as the job's role; afterwards the
        process environment is as it was."""
        saved = {name: os.environ.get(name) for name in (*self.environment, "AWS_SESSION_TOKEN", "AWS_PROFILE")}
        os.environ.update(self.environment)
        if self.environment:
            os.environ.pop("AWS_SESSION_TOKEN", None)
            os.environ.pop("AWS_PROFILE", None)
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


class Target(Protocol):
    """What every target says (embedded.py, docker.py, aws.py). `stedi.pipeline.execute` runs the
    pipeline on one: in this process (`open_run`), or elsewhere when it `delegates`."""

    name: str
    delegates: bool  # True: the run happens elsewhere (the Docker stack's container, AWS Glue)

    def running(self) -> bool: ...

    def status_lines(self) -> list[str]: ...

    def stop(self) -> bool: ...

    def docs_dir(self): ...

    def open_run(self, request, progress) -> AbstractContextManager[Runtime]: ...

    def delegate(self, request, progress) -> dict: ...

    def runtime(self, app: str, params, **options) -> Runtime: ...
