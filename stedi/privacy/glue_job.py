"""The erasure as an AWS Glue job (spark_jobs/forget.py), started by `stedi aws forget`."""

from __future__ import annotations

import json
import os
import sys

from stedi.privacy import register
from stedi.privacy.erase import GlueSite, UnknownPeople, addresses, forget


def run_forget_script(argv: list[str] | None = None) -> None:
    """spark_jobs/forget.py, the erasure job on AWS (`stedi aws forget` starts it): the addresses
    are read from the request object the command left (never from a job argument, which Glue
    shows and keeps), that object is deleted, and the erasure runs as `stedi forget` runs it,
    its register being the object under `--erasures_uri`. Prints the outcome, counts only."""
    import tempfile

    import boto3
    from awsglue.utils import getResolvedOptions

    from stedi.targets.aws import ARGUMENTS, secret_key

    argv = sys.argv if argv is None else argv
    extra = ("request_key", "erasures_uri")
    args = getResolvedOptions(argv, [*ARGUMENTS, *extra])
    os.environ.setdefault("STEDI_HOME", tempfile.mkdtemp(prefix="stedi-forget-"))  # the run lock's place
    secret_key(args["pseudonym_key_secret"])
    s3 = boto3.client("s3")
    bucket = args["erasures_uri"].removeprefix("s3://").split("/", 1)[0]
    register.from_s3(s3, args["erasures_uri"], keep_there=True)
    try:
        request = s3.get_object(Bucket=bucket, Key=args["request_key"])["Body"].read().decode()
        outcome = forget(
            addresses(request),
            progress=lambda line: print(line, file=sys.stderr),
            site=GlueSite(argv, extra),
            policy=args["policy"],
        )
    except UnknownPeople as unknown:
        raise SystemExit(f"error: {unknown}") from None
    finally:
        s3.delete_object(Bucket=bucket, Key=args["request_key"])  # the addresses leave with the request
    handed = outcome.handed()  # the names and phones it could search for stay out of the job's log
    print(json.dumps({**handed, "searchable": len(handed["searchable"])}))
