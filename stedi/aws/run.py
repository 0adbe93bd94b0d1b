"""`run`: the five Glue jobs and then the quality gates, one after the other, watched until each ends.

The jobs are started here in the pipeline's order rather than through the workflow, so each
run's state and error message are read directly and a failure stops the chain at once with
Glue's own reason. (The workflow stays for the console and for schedules; moto's workflow
runs do not start jobs at all.) A job that fails ends the run with a DeployError carrying
Glue's ErrorMessage; later jobs are not started.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from botocore.exceptions import ClientError

from stedi.aws import jobs
from stedi.aws.clients import Aws
from stedi.aws.errors import DeployError, is_not_found, translated
from stedi.lakehouse.deployment import AwsConfig, load_config
from stedi.runtime import settings
from stedi.runtime.progress import Progress

SUCCEEDED = "SUCCEEDED"
ENDED_BADLY = ("FAILED", "ERROR", "TIMEOUT", "STOPPED", "EXPIRED")


class JobFailed(DeployError):
    """A Glue job run ended in a state other than SUCCEEDED; the message carries Glue's reason."""


@dataclass(frozen=True)
class JobRun:
    job: str
    run_id: str
    state: str
    seconds: float
    states: tuple[str, ...]  # every state seen while polling, in order


def run(
    config: AwsConfig | None = None,
    *,
    policy: str | None = None,
    aws: Aws | None = None,
    progress: Callable[[str], None] | None = None,
    poll_seconds: float = 15.0,
    report_every: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> list[JobRun]:
    """Run every job in order and wait for each; returns the runs, or raises on the first failure."""
    config = config or (aws.config if aws else load_config())
    aws = aws.with_config(config) if aws else Aws(config)
    progress = progress or Progress()
    order = [config.job_name(j) for j in jobs.job_order()]
    _require_jobs(aws, order)
    arguments = {"--policy": settings.check_policy(policy)} if policy else {}
    progress(f"running {len(order)} Glue jobs in order" + (f", policy {policy}" if policy else ""))
    runs = []
    for name in order:
        runs.append(_run_one(aws, name, arguments, progress, poll_seconds, report_every, sleep, clock))
    total = sum(r.seconds for r in runs)
    progress(f"all {len(runs)} jobs SUCCEEDED ({total:.0f}s)")
    return runs


def run_request(request, progress) -> dict:
    """`stedi pipeline --target aws`: the deployed jobs, on the landing data already in the bucket."""
    if request.landing is not None:
        raise DeployError("the aws target runs on the landing data in its bucket: `make deploy LANDING=dir` uploads it")
    runs = run(policy=request.policy, progress=progress)
    return {
        "target": "aws",
        "policy": request.policy,
        "jobs": {r.job: {"state": r.state, "seconds": round(r.seconds, 1)} for r in runs},
        "tables": {},
    }


def _require_jobs(aws: Aws, names: list[str]) -> None:
    with translated("glue", "looking for the deployed jobs"):
        missing = []
        for name in names:
            try:
                aws.glue.get_job(JobName=name)
            except ClientError as error:
                if not is_not_found(error):
                    raise
                missing.append(name)
    if missing:
        raise DeployError(
            f"the Glue jobs {', '.join(missing)} do not exist in {aws.config.region}: run `make deploy` first"
        )


def _run_one(aws, name, arguments, progress, poll_seconds, report_every, sleep, clock) -> JobRun:
    with translated("glue", f"starting the Glue job {name}"):
        run_id = aws.glue.start_job_run(JobName=name, Arguments=arguments)["JobRunId"]
    started = clock()
    states: list[str] = []
    last_report = started
    progress(f"job  {name}: started (run {run_id})")
    while True:
        with translated("glue", f"watching the Glue job {name}"):
            job_run = aws.glue.get_job_run(JobName=name, RunId=run_id)["JobRun"]
        state = job_run["JobRunState"]
        elapsed = clock() - started
        if not states or state != states[-1] or clock() - last_report >= report_every:
            progress(f"job  {name}: {state} after {elapsed:.0f}s")
            last_report = clock()
        if not states or state != states[-1]:
            states.append(state)
        if state == SUCCEEDED:
            return JobRun(name, run_id, state, elapsed, tuple(states))
        if state in ENDED_BADLY:
            reason = job_run.get("ErrorMessage") or "Glue gave no error message"
            raise JobFailed(
                f"the Glue job {name} ended {state} after {elapsed:.0f}s: {reason} "
                f"(run {run_id}; its logs are in CloudWatch under /aws-glue/jobs/error); later jobs were not started"
            )
        sleep(poll_seconds)
