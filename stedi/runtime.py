"""How a job script finds its session, its table I/O and its parameters.

The same file runs three ways, and only this module tells them apart:
- on AWS Glue (`awsglue` imports): arguments from getResolvedOptions, the Glue Data
  Catalog as Iceberg catalog, the pseudonym key from AWS Secrets Manager;
- in the Docker stack (`--stack docker`): Spark's Iceberg REST catalog from spark-defaults;
- on the embedded stack (default): a local session and pyiceberg on the S3 emulator.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict

from stedi import settings
from stedi.job import Job, JobParams
from stedi.tables import lakehouse

STACKS = ("embedded", "docker")


def run_script(job: Job, argv: list[str] | None = None) -> None:
    argv = sys.argv if argv is None else argv
    try:
        import awsglue  # noqa: F401  (present only inside AWS Glue)
    except ImportError:
        result = _run_locally(job, argv[1:])
    else:
        result = _run_on_glue(job, argv)
    print(json.dumps(asdict(result)))


def _run_locally(job: Job, args: list[str]):
    parser = argparse.ArgumentParser(prog=job.name, description=job.transform.__module__)
    parser.add_argument("--policy", default=settings.DEFAULT_POLICY, choices=settings.POLICIES)
    parser.add_argument("--stack", default=os.environ.get("STEDI_STACK", "embedded"), choices=STACKS)
    options = parser.parse_args(args)
    params = JobParams(policy=options.policy, pseudonym_key=settings.pseudonym_key())
    if options.stack == "docker":
        return job.run(docker_io(), params)
    from stedi import stack
    from stedi.spark import local_session
    from stedi.tableio import EmbeddedIO

    return job.run(EmbeddedIO(local_session(job.name), stack.require()), params)


def docker_io(spark=None, landing_root: str | None = None):
    """Spark's Iceberg catalog as configured in docker/spark/spark-defaults.conf.

    `landing_root` is where the landing JSON is read from: the bucket by default, or a local
    copy where the image has no S3 filesystem for Spark (see stedi/docker_pipeline.py).
    """
    from pyspark.sql import SparkSession

    from stedi.tableio import SparkCatalogIO

    spark = spark or SparkSession.builder.getOrCreate()
    catalog = spark.conf.get("spark.sql.defaultCatalog", "stedi")
    root = landing_root or f"s3a://{lakehouse().bucket}"
    return SparkCatalogIO(spark, catalog, root, materialize_landing=True)


def _run_on_glue(job: Job, argv: list[str]):
    glue_job, _, params, io = _glue_start(argv)
    result = job.run(io, params)
    glue_job.commit()
    return result


def _glue_start(argv: list[str], *extra: str):
    """What every Glue job starts with: its arguments, the Glue job, the parameters, the table I/O."""
    from awsglue.context import GlueContext
    from awsglue.job import Job as GlueJob
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext

    from stedi.tableio import SparkCatalogIO

    args = getResolvedOptions(argv, ["JOB_NAME", "policy", "landing_root", "pseudonym_key_secret", *extra])
    glue = GlueContext(SparkContext.getOrCreate())
    glue_job = GlueJob(glue)
    glue_job.init(args["JOB_NAME"], args)
    params = JobParams(
        policy=settings.check_policy(args["policy"]),
        pseudonym_key=_secret_key(args["pseudonym_key_secret"]),
    )
    io = SparkCatalogIO(glue.spark_session, "glue_catalog", args["landing_root"], materialize_landing=False)
    return glue_job, args, params, io


def run_gates_script(argv: list[str] | None = None) -> None:
    """spark_jobs/quality_gates.py: the gates over the published lakehouse, after the five jobs."""
    argv = sys.argv if argv is None else argv
    try:
        import awsglue  # noqa: F401  (present only inside AWS Glue)
    except ImportError:
        summary = _verify_locally(argv[1:])
    else:
        summary = _verify_on_glue(argv)
    print(json.dumps(summary))


def _verify_locally(args: list[str]) -> dict:
    from stedi import stack
    from stedi.spark import local_session
    from stedi.tableio import EmbeddedIO
    from stedi.verify import verify

    parser = argparse.ArgumentParser(prog="quality_gates", description=run_gates_script.__doc__)
    parser.add_argument("--policy", default=settings.DEFAULT_POLICY, choices=settings.POLICIES)
    options = parser.parse_args(args)
    params = JobParams(policy=options.policy, pseudonym_key=settings.pseudonym_key())
    io = EmbeddedIO(local_session("quality_gates"), stack.require())
    return verify(io, params, docs_dir=settings.docs_dir(), progress=_to_stderr)


def _verify_on_glue(argv: list[str]) -> dict:
    import tempfile
    from pathlib import Path

    from stedi.verify import publish_docs, verify

    glue_job, args, params, io = _glue_start(argv, "docs_uri")
    docs_dir = Path(tempfile.mkdtemp(prefix="stedi-data-docs-"))
    try:
        summary = verify(io, params, docs_dir=docs_dir, spark=io.spark, offline_docs=False, progress=_to_stderr)
    finally:  # the report matters most when a gate failed
        publish_docs(docs_dir, args["docs_uri"])
    glue_job.commit()
    return {**summary, "docs": args["docs_uri"]}


def _to_stderr(line: str) -> None:
    """Progress goes to stderr: stdout carries one JSON summary line, for whoever runs the script."""
    print(line, file=sys.stderr)


def _secret_key(secret_id: str) -> bytes:
    import boto3

    value = boto3.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
    os.environ[settings.KEY_ENV] = value.strip()
    return settings.pseudonym_key()
