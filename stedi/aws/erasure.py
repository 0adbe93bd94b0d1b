"""`forget`: erase people on AWS with the erasure Glue job `make deploy` created (spark_jobs/forget.py).

The addresses never travel as a job argument, which Glue shows in its console and keeps with the
run: they are written to a request object under the privacy prefix (encrypted at rest), the job
is started with only that object's key, the job deletes the object once it has read it, and this
command deletes it again whatever happened. The job runs under its own role, the one identity of
the deployment that may rewrite landing objects (stedi/lakehouse/job_policy.py).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from stedi.aws import jobs
from stedi.aws.clients import Aws
from stedi.aws.errors import translated
from stedi.aws.run import JobRun, _require_jobs, _run_one
from stedi.lakehouse.deployment import AwsConfig, load_config
from stedi.runtime.progress import Progress


def forget(
    emails: list[str],
    config: AwsConfig | None = None,
    *,
    aws: Aws | None = None,
    progress: Callable[[str], None] | None = None,
    poll_seconds: float = 15.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> JobRun:
    """Run the erasure job on `emails` and wait for it; raises JobFailed with Glue's reason."""
    config = config or (aws.config if aws else load_config())
    aws = aws.with_config(config) if aws else Aws(config)
    progress = progress or Progress()
    name = config.job_name(jobs.ERASURE_JOB)
    _require_jobs(aws, [name])
    key = f"{config.requests_prefix}/{uuid.uuid4().hex}.txt"
    body = "".join(f"{email.strip()}\n" for email in emails if email.strip())
    with translated("s3", f"leaving the erasure request in s3://{config.bucket}/{config.requests_prefix}/"):
        aws.s3.put_object(Bucket=config.bucket, Key=key, Body=body.encode(), ServerSideEncryption="AES256")
    progress(f"erasure request of {len(emails)} address(es) left for the job (the job deletes it once read)")
    try:
        return _run_one(aws, name, {"--request_key": key}, progress, poll_seconds, 60.0, sleep, clock)
    finally:
        with translated("s3", "deleting the erasure request"):
            aws.s3.delete_object(Bucket=config.bucket, Key=key)
