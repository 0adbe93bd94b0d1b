"""A step refused by the jobs' IAM policy, said in one sentence.

The embedded stack runs the jobs under the policy `make deploy` attaches to their role, and its
emulator, like AWS, names the action and the resource it refused ("User: ... is not authorized
to perform: s3:GetObject on resource: arn:aws:s3:::bucket/key because ..."). That sentence comes
back wrapped: in botocore's ClientError, in a Py4J error around Iceberg's S3FileIO or GlueCatalog
exception with a Java stack trace. `named_denials` finds it and says which step was refused
what, before the step's output is published.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

DENIAL = re.compile(
    r"User: (?P<principal>\S+) is not authorized to perform: (?P<action>\S+) on resource: (?P<resource>.+?)"
    r"(?: because|\s*\(Service|$)",
    re.MULTILINE,
)


@dataclass(frozen=True)
class Denial:
    principal: str
    action: str
    resource: str


class PolicyDenied(PermissionError):
    """A step needed an action on a resource that the jobs' IAM policy does not grant."""

    def __init__(self, step: str, denial: Denial):
        self.step, self.denial = step, denial
        super().__init__(
            f"{step} was refused {denial.action} on {denial.resource} by the Glue jobs' IAM policy "
            f"(the one `make deploy` attaches, made in stedi/lakehouse/job_policy.py), here as it would be on AWS; "
            f"its output was not published"
        )


def find_denial(error: BaseException) -> Denial | None:
    """The refusal an error carries, looking through its causes too."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        found = DENIAL.search(str(error))
        if found:
            return Denial(found["principal"], found["action"], found["resource"].strip())
        error = error.__cause__ or error.__context__
    return None


@contextmanager
def named_denials(step: str) -> Iterator[None]:
    """Turns a refusal raised inside `step` into PolicyDenied; any other error passes unchanged."""
    try:
        yield
    except PolicyDenied:
        raise
    except Exception as error:
        denial = find_denial(error)
        if denial is None:
            raise
        raise PolicyDenied(step, denial) from error
