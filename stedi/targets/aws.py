"""The `aws` target: AWS Glue 6.0 jobs over the Glue Data Catalog, as `make deploy` set them up.

From the laptop, `stedi pipeline --target aws` (or `make run-aws`) starts the deployed Glue jobs in
order and waits for each (stedi/aws/run.py, the deployer's).
Inside Glue (`awsglue` imports), this target's runtime is what each job script starts with: its
arguments from getResolvedOptions, Spark's Iceberg catalog `glue_catalog` over the Glue Data
Catalog, the landing files under `--landing_root`, the pseudonym key from AWS Secrets Manager, and
the quality gate, so a job's output is checked before it is published there too. The erasure
register (`--erasures_uri`) is read before any landing record is: an erased person stays out.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from stedi.runtime import settings
from stedi.targets.base import Runtime, TargetError

CATALOG = "glue_catalog"  # the Spark catalog name Glue's --conf declares (stedi/aws/jobs.py)
ARGUMENTS = ("JOB_NAME", "policy", "landing_root", "pseudonym_key_secret")
OPTIONAL = ("erasures_uri",)  # deployed jobs have it; a job deployed before erasure existed does not


class AwsTarget:
    name = "aws"

    def running(self) -> bool:
        return False  # nothing of it runs on this machine

    def status_lines(self) -> list[str]:
        return [
            "aws: the Glue jobs of `make deploy` (`make deploy PLAN=1` shows what is deployed or would change); "
            "`make run-aws` or `stedi pipeline --target aws` runs them"
        ]

    def stop(self) -> bool:
        raise TargetError("nothing of the aws target runs here to stop: `make destroy` removes the deployment")

    def docs_dir(self) -> Path:
        raise TargetError(
            "the quality gates on AWS write their Data Docs to s3://<bucket>/data-docs/ (see `make deploy`)"
        )

    delegates = True

    def delegate(self, request, progress) -> dict:
        """Runs on AWS are started by the deployer, which knows the deployed jobs (stedi/aws/run.py):
        `stedi pipeline --target aws` calls it from the command line."""
        raise TargetError("the aws target's runs are started with `make run-aws` (or `stedi pipeline --target aws`)")

    def open_run(self, request, progress):
        raise TargetError("the aws target runs in AWS Glue, not here: `make run-aws`")

    def runtime(
        self, app: str, params=None, *, argv: list[str], extra: tuple[str, ...] = (), suppress: bool = True
    ) -> Runtime:
        """Inside a Glue job: its arguments, the Glue job, the parameters, the table I/O, the gate.
        With `suppress` (every job but the erasure, which brings its own list) the intake keeps
        the register's people out."""
        from awsglue.context import GlueContext
        from awsglue.job import Job as GlueJob
        from awsglue.utils import getResolvedOptions
        from pyspark.context import SparkContext

        from stedi.gates.gate import new_gate
        from stedi.lakehouse.spark_io import SparkCatalogIO
        from stedi.runtime.params import JobParams

        optional = tuple(name for name in OPTIONAL if f"--{name}" in argv and name not in extra)
        args = getResolvedOptions(argv, [*ARGUMENTS, *extra, *optional])
        glue = GlueContext(SparkContext.getOrCreate())
        glue_job = GlueJob(glue)
        glue_job.init(args["JOB_NAME"], args)
        params = JobParams(policy=args["policy"], pseudonym_key=secret_key(args["pseudonym_key_secret"]))
        spark = glue.spark_session
        io = SparkCatalogIO(spark, CATALOG, args["landing_root"], suppression=_suppression(args) if suppress else None)
        docs_dir = Path(tempfile.mkdtemp(prefix="stedi-data-docs-"))  # published to S3 by the gates job
        gate = new_gate(params, io, None, docs_dir=docs_dir, spark=spark, offline_docs=False)
        return Runtime(self.name, spark, io, params, gate, finish=glue_job.commit, arguments=args)


def _suppression(args: dict):
    """The people the erasure register names (none when the job has no `--erasures_uri`)."""
    import boto3

    from stedi.privacy import register
    from stedi.privacy.suppression import Suppression

    if not args.get("erasures_uri"):
        return None
    register.from_s3(boto3.client("s3"), args["erasures_uri"], keep_there=False)
    return Suppression.current()


def secret_key(secret_id: str) -> bytes:
    import boto3

    value = boto3.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
    os.environ[settings.KEY_ENV] = value.strip()
    return settings.pseudonym_key()
