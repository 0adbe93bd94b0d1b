"""The one rule that picks the target a command acts on (stedi/targets/__init__.py says what a
target is), and the sentence that says which and why.

Standard library only: `make up` runs the Docker checks with the system Python.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from stedi.targets.base import TargetError

NAMES = ("embedded", "docker", "aws")
ENV = "STEDI_TARGET"


@dataclass(frozen=True)
class Choice:
    """The target a command acts on, and the sentence that says which and why."""

    name: str
    sentence: str

    def target(self):
        return get(self.name)


def resolve(explicit: str | None = None, *, embedded_running=None, docker_running=None) -> Choice:
    """Which target a command acts on (see the module docstring for the rule).

    `embedded_running` / `docker_running` are callables answering whether each stack runs;
    by default they ask the stacks themselves (tests pass their own).
    """
    if explicit is None and os.environ.get(ENV):
        explicit, how = os.environ[ENV], f"{ENV}={os.environ[ENV]}"
    else:
        how = f"--target {explicit}"
    if explicit is not None:
        if explicit not in NAMES:
            raise TargetError(f"unknown target {explicit!r}: use one of {', '.join(NAMES)}")
        return Choice(explicit, f"target: {explicit} (chosen with {how})")
    embedded = (embedded_running or _embedded_running)()
    docker = (docker_running or _docker_running)()
    if embedded and docker:
        return Choice(
            "embedded",
            "target: embedded (both the embedded and the Docker stack run; "
            "--target docker or STEDI_TARGET=docker acts on the Docker stack)",
        )
    if docker:
        return Choice("docker", "target: docker (the Docker stack runs; the embedded stack does not)")
    if embedded:
        return Choice("embedded", "target: embedded (the embedded stack runs)")
    return Choice("embedded", "target: embedded (no stack runs yet; --target docker or aws picks another)")


def get(name: str):
    """The target object of that name."""
    if name == "embedded":
        from stedi.targets.embedded import EmbeddedTarget

        return EmbeddedTarget()
    if name == "docker":
        from stedi.targets.docker import DockerTarget

        return DockerTarget()
    if name == "aws":
        from stedi.targets.aws import AwsTarget

        return AwsTarget()
    raise TargetError(f"unknown target {name!r}: use one of {', '.join(NAMES)}")


def _embedded_running() -> bool:
    from stedi.targets import embedded_stack

    return embedded_stack.current() is not None


def _docker_running() -> bool:
    from stedi.targets import compose

    return compose.is_up()
