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
    forget.add_argument("--also", action="append", default=[], metavar="TEXT",
                        help="--verify: a name or phone number of the person to search for too (repeatable)")
    forget.set_defaults(handler=_forget)
    return forget


def emails_of(args) -> list[str]:
    emails = list(args.email)
    if args.file:
        emails += [line.strip() for line in args.file.read_text().splitlines() if line.strip()]
    if not emails:
        raise ValueError("name the people to erase: --email ADDRESS (repeatable) or --file FILE (one a line)")
    return emails


def _forget(args, target) -> int:
    from stedi.privacy import erase, proof

    if target.name != "embedded":
        raise ValueError(f"stedi forget runs on the embedded stack for now, not on the {target.name} target")
    emails = emails_of(args)
    progress = Progress(stream=sys.stderr)
    also = list(args.also)
    if not args.verify:
        try:
            outcome = erase.forget(emails, progress)
        except erase.UnknownPeople as unknown:
            print(f"stedi: {unknown}", file=sys.stderr)
            return 1
        also += sorted(outcome.searchable)
        if outcome.shared:
            print(f"not searched: {outcome.shared} value(s) of theirs that other customers' records hold too "
                  "(a shared phone number names nobody)")
    hits = proof.verify(emails, also, progress)
    print(report(hits, len(emails)))
    return 1 if hits else 0


def report(hits, people: int) -> str:
    if not hits:
        return f"verified: no trace of the {people} person(s) in any table, snapshot or object"
    lines = [f"{len(hits)} place(s) still hold the {people} person(s):"]
    lines += [f"  {hit.where}: {hit.count:,} x {hit.what}" for hit in hits]
    return "\n".join(lines)
