"""The commands: `python -m stedi.aws deploy|run|forget|destroy`, and the same under `stedi aws`.

    python -m stedi.aws deploy --plan        # what would be created or changed; writes nothing
    python -m stedi.aws deploy               # create or update, idempotently
    python -m stedi.aws run                  # the five Glue jobs, then the gates, in order, with progress
    python -m stedi.aws destroy              # everything the deploy created, and nothing else
    python -m stedi.aws forget --email A     # the erasure job on those people, watched until it ends

Errors a person can fix print as one sentence and exit 2; a Glue job that fails exits 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from stedi.runtime import settings
from stedi.runtime.progress import Progress


def add_aws_parsers(subparsers, *, grouped: bool = True) -> None:
    """Add the commands to an argparse subparsers object.

    grouped=True adds one `aws` command holding deploy/run/forget/destroy (for the `stedi` CLI);
    grouped=False adds the four directly (for `python -m stedi.aws`).
    """
    if grouped:
        aws = subparsers.add_parser(
            "aws", help="deploy the lakehouse to AWS, run its Glue jobs, erase people, destroy it"
        )
        subparsers = aws.add_subparsers(dest="aws_command", required=True)

    deploy = subparsers.add_parser("deploy", help="create or update the lakehouse on AWS (--plan: show only)")
    deploy.add_argument("--plan", action="store_true", help="show what would be created or changed; write nothing")
    deploy.add_argument("--force", action="store_true", help="deploy even without a green run of the local gates")
    deploy.add_argument("--landing", type=Path, help="upload this landing directory (customer/landing/*.json, ...)")
    deploy.add_argument("--policy", choices=settings.POLICIES, help="the jobs' default policy (default: [aws] policy)")
    deploy.add_argument("--vpc-id", help="also create an S3 gateway endpoint in this VPC")
    deploy.add_argument(
        "--route-table-id",
        action="append",
        default=[],
        dest="route_table_ids",
        help="route table for the gateway endpoint (repeat for several)",
    )
    deploy.add_argument("--gate-record", type=Path, help="record of the last green local run (default: .stedi/gates/)")
    deploy.set_defaults(handler=_deploy)

    run = subparsers.add_parser("run", help="run the five Glue jobs, then the quality gates, and wait for each")
    run.add_argument("--policy", choices=settings.POLICIES, help="override the jobs' policy for this run")
    run.add_argument("--poll", type=float, default=15.0, help="seconds between two looks at a running job")
    run.set_defaults(handler=_run)

    forget = subparsers.add_parser("forget", help="erase people with the deployed erasure job and wait for it")
    forget.add_argument("--email", action="append", default=[], help="the person's email (repeatable)")
    forget.add_argument("--file", type=Path, help="a file of emails, one a line")
    forget.add_argument("--poll", type=float, default=15.0, help="seconds between two looks at the running job")
    forget.set_defaults(handler=_forget)

    destroy = subparsers.add_parser("destroy", help="remove everything the deploy created (found by its tags)")
    destroy.add_argument("--plan", action="store_true", help="list what would be deleted; delete nothing")
    destroy.set_defaults(handler=_destroy)


def _guarded(handler):
    """One sentence on stderr for what a person can fix; a traceback only for real bugs."""

    def wrapped(args) -> int:
        from stedi.aws.errors import DeployError
        from stedi.aws.run import JobFailed
        from stedi.lakehouse.landing import LandingError

        try:
            return handler(args)
        except JobFailed as error:
            print(f"stedi: {error}", file=sys.stderr)
            return 1
        except (DeployError, LandingError, ValueError, FileNotFoundError) as error:
            print(f"stedi: error: {error}", file=sys.stderr)
            return 2

    return wrapped


@_guarded
def _deploy(args) -> int:
    from stedi.aws.deploy import deploy

    progress = Progress()

    def show(plan):
        print(plan.render(all_rows=args.plan))
        if plan.has_changes and not args.plan:
            print()

    result = deploy(
        plan_only=args.plan,
        force=args.force,
        landing=args.landing,
        policy=args.policy,
        vpc_id=args.vpc_id,
        route_table_ids=args.route_table_ids,
        gate_record=args.gate_record,
        progress=progress,
        on_plan=show,
    )
    if args.plan:
        print("plan only: nothing was written")
    elif result.applied:
        print(f"\ndeployed in {progress.elapsed:.1f}s: {result.plan.summary()}")
    return 0


@_guarded
def _run(args) -> int:
    from stedi.aws.run import run

    run(policy=args.policy, poll_seconds=args.poll)
    return 0


@_guarded
def _forget(args) -> int:
    from stedi.aws.erasure import forget
    from stedi.privacy.cli import emails_of

    forget(emails_of(args), poll_seconds=args.poll)
    return 0


@_guarded
def _destroy(args) -> int:
    from stedi.aws.destroy import destroy

    progress = Progress()
    plan = destroy(plan_only=args.plan, progress=None if args.plan else progress)
    if not plan.changes:
        print("nothing to destroy: no resource carries this deployment's tags")
        return 0
    if args.plan:
        print(plan.render())
        print("plan only: nothing was deleted")
    else:
        print(f"destroyed {len(plan.changes)} resources in {progress.elapsed:.1f}s")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stedi.aws", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    add_aws_parsers(commands, grouped=False)
    args = parser.parse_args(argv)
    return args.handler(args)
