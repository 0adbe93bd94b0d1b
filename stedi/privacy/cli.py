"""`stedi forget`: erase people on request, or prove that they are gone (`--verify`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from stedi.runtime.progress import Progress


def add_forget_parser(commands) -> argparse.ArgumentParser:
    forget = commands.add_parser(
        "forget",
        help="erase people from every table, snapshot and object (GDPR art. 17), or --verify that they are gone",
    )
    forget.add_argument("--email", action="append", default=[], help="the person's email (repeatable)")
    forget.add_argument("--file", type=Path, help="a file of emails, one a line")
    forget.add_argument("--verify", action="store_true", help="change nothing: search every copy and report each hit")
    forget.add_argument(
        "--also",
        action="append",
        default=[],
        metavar="TEXT",
        help="--verify: a name or phone number of the person to search for too (repeatable)",
    )
    forget.add_argument("--key-stdin", action="store_true", help=argparse.SUPPRESS)  # the Docker target's container
    forget.set_defaults(handler=_forget)
    return forget


def emails_of(args) -> list[str]:
    from stedi.privacy.erase import addresses

    emails = list(args.email)
    if args.file:
        emails += addresses(args.file.read_text())
    if not emails:
        raise ValueError("name the people to erase: --email ADDRESS (repeatable) or --file FILE (one a line)")
    return emails


def _forget(args, target) -> int:
    from stedi.privacy import proof

    if args.key_stdin:  # in the Docker stack's Spark container, sent by the host (docker.py)
        return _forget_in_container()
    if target.name == "aws":
        raise ValueError("on AWS the deployed erasure job erases: `make forget-aws` (or `stedi aws forget`)")
    if target.name not in ("embedded", "docker"):
        raise ValueError(f"stedi forget runs on a local stack (embedded or docker) or on aws, not on {target.name}")
    emails = emails_of(args)
    progress = Progress(stream=sys.stderr)
    also = list(args.also)
    stack = target.stack() if target.name == "docker" else None
    if not args.verify:
        outcome = _erase(emails, target, progress)
        if outcome is None:
            return 1
        if not outcome.get("stored", True):
            return 0  # no stack: nothing stored to search
        also += outcome["searchable"]
        if outcome["shared"]:
            print(
                f"not searched: {outcome['shared']} value(s) of theirs that other customers' records hold too "
                "(a shared phone number names nobody)"
            )
    hits = proof.verify(emails, also, progress, stack=stack)
    print(report(hits, len(emails)))
    return 1 if hits else 0


def _erase(emails: list[str], target, progress) -> dict | None:
    """The erasure on the target's stack; None when no address names anyone (said on stderr)."""
    from stedi.privacy import erase

    policy = published_policy(target.name)
    if target.name == "docker":
        answer = target.forget(emails, policy, progress)
        return None if answer.get("unknown") else answer
    try:
        return erase.forget(emails, progress, policy=policy).handed()
    except erase.UnknownPeople as unknown:
        print(f"stedi: {unknown}", file=sys.stderr)
        return None


def _forget_in_container() -> int:
    """The Docker target's erasure, in its Spark container: key, register and addresses on stdin;
    the outcome and the register as left here on stdout, for the host."""
    import json
    import os

    from stedi.privacy import erase, register
    from stedi.runtime import settings
    from stedi.runtime.progress import SUMMARY_MARK

    os.environ[settings.KEY_ENV] = sys.stdin.readline().strip()
    payload = json.loads(sys.stdin.read())
    register.receive(payload["register"])
    progress = Progress(stream=sys.stderr)
    try:
        site = erase.ContainerSite()
        answer = erase.forget(payload["emails"], progress, site=site, policy=payload["policy"]).handed()
    except erase.UnknownPeople as unknown:
        print(f"stedi: {unknown}", file=sys.stderr)
        answer = {"unknown": True}
    print(SUMMARY_MARK + json.dumps({**answer, "register": register.handed_over()}), flush=True)
    return 1 if answer.get("unknown") else 0


def published_policy(target: str) -> str:
    """The policy the target's tables were last published under (the last run's summary): an
    erasure's gates check the tables by its rules."""
    import json

    from stedi.runtime import settings

    try:
        summary = json.loads(settings.last_run_file().read_text())
    except (FileNotFoundError, ValueError):
        return settings.DEFAULT_POLICY
    if summary.get("target") != target:
        return settings.DEFAULT_POLICY
    return summary.get("policy", settings.DEFAULT_POLICY)


def report(hits, people: int) -> str:
    if not hits:
        return f"verified: no trace of the {people} person(s) in any table, snapshot or object"
    lines = [f"{len(hits)} place(s) still hold the {people} person(s):"]
    lines += [f"  {hit.where}: {hit.count:,} x {hit.what}" for hit in hits]
    return "\n".join(lines)
