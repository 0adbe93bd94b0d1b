"""What every target is (stedi/targets/__init__.py says which one a command acts on).

Standard library only, like the package's __init__ and stedi.runtime.settings: `make up` imports
it with the system Python.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from stedi.runtime import settings


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
    steps: Any = None  # what the run may skip and what it did (stedi/runtime/steps.py); None: every step, nothing kept

    def jobs_identity(self) -> AbstractContextManager[None]:
        """While jobs run, code in them that uses the default credential chain (boto3 in a job
        script) acts as the jobs' identity, as on Glue it acts as the job's role; afterwards the
        process environment is as it was."""
        if not self.environment:
            return settings.environment({})
        return settings.environment({**self.environment, "AWS_SESSION_TOKEN": None, "AWS_PROFILE": None})


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
