"""What the AWS deployment is called and how it is sized, read from catalog/tables.toml.

The [lakehouse] table gives the namespace, bucket, warehouse prefix and region that the
embedded stack uses too; an optional [aws] table overrides or adds what only AWS needs
(worker sizing, Glue version, resource names). Every setting has a default here, so a
declaration without [aws] deploys as is, and an unknown key is refused rather than
silently ignored: a typo in a worker count must not deploy the default.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields

from stedi import tables
from stedi.runtime import settings

MANAGED_BY = "stedi-deploy"
TAG_PROJECT = "stedi:project"
TAG_MANAGED_BY = "stedi:managed-by"

WORKER_TYPES = ("G.025X", "G.1X", "G.2X", "G.4X", "G.8X", "G.12X", "G.16X", "R.1X", "R.2X", "R.4X", "R.8X")


@dataclass(frozen=True)
class AwsConfig:
    region: str
    bucket: str
    namespace: str
    warehouse_prefix: str
    project: str = "stedi-lakehouse"  # the stedi:project tag; load_config defaults it to the bucket name
    glue_version: str = "6.0"
    worker_type: str = "G.1X"
    number_of_workers: int = 2
    timeout_minutes: int = 60
    job_prefix: str = "stedi-"
    role_name: str = "stedi-glue-jobs"
    role_path: str = "/stedi/"
    policy_name: str = "stedi-glue-least-privilege"
    secret_name: str = "stedi/pseudonym-key"
    workflow: str = "stedi-pipeline"
    workgroup: str = "stedi"
    scripts_prefix: str = "glue"
    athena_results_prefix: str = "athena-results"
    docs_prefix: str = "data-docs"  # the quality gates job writes its Data Docs here
    # The erasure job (`stedi aws forget`) runs under a role of its own: it alone may rewrite landing objects.
    erasure_role_name: str = "stedi-glue-erasure"
    erasure_policy_name: str = "stedi-glue-erasure-least-privilege"
    privacy_prefix: str = "privacy"  # the erasure register (pseudonyms only) and, briefly, erasure requests
    policy: str = settings.DEFAULT_POLICY

    # ------------------------------------------------------------------ tags

    @property
    def tags(self) -> dict[str, str]:
        """The two tags that mark a resource as created by this deployer for this project."""
        return {TAG_PROJECT: self.project, TAG_MANAGED_BY: MANAGED_BY}

    def tag_list(self) -> list[dict[str, str]]:
        return [{"Key": k, "Value": v} for k, v in self.tags.items()]

    def is_ours(self, tags: dict[str, str] | list[dict[str, str]] | None) -> bool:
        if isinstance(tags, list):
            tags = {t["Key"]: t["Value"] for t in tags}
        tags = tags or {}
        return all(tags.get(k) == v for k, v in self.tags.items())

    # ------------------------------------------------------------------ names

    def job_name(self, job: str) -> str:
        return f"{self.job_prefix}{job}"

    @property
    def warehouse_uri(self) -> str:
        return f"s3://{self.bucket}/{self.warehouse_prefix}/"

    @property
    def athena_results_uri(self) -> str:
        return f"s3://{self.bucket}/{self.athena_results_prefix}/"

    @property
    def docs_uri(self) -> str:
        return f"s3://{self.bucket}/{self.docs_prefix}/"

    def script_key(self, job: str) -> str:
        return f"{self.scripts_prefix}/spark_jobs/{job}.py"

    @property
    def package_key(self) -> str:
        return f"{self.scripts_prefix}/lib/stedi_lakehouse.zip"

    @property
    def erasures_key(self) -> str:
        """The erasure register on AWS: what the jobs' intake suppresses, what the erasure job appends to."""
        return f"{self.privacy_prefix}/erasures.jsonl"

    @property
    def erasures_uri(self) -> str:
        return f"s3://{self.bucket}/{self.erasures_key}"

    @property
    def requests_prefix(self) -> str:
        """Where `stedi aws forget` leaves the addresses for the erasure job, which deletes them."""
        return f"{self.privacy_prefix}/requests"

    def role_arn(self, account: str, role_name: str | None = None) -> str:
        return f"arn:{self.partition}:iam::{account}:role{self.role_path}{role_name or self.role_name}"

    @property
    def partition(self) -> str:
        if self.region.startswith("cn-"):
            return "aws-cn"
        if self.region.startswith("us-gov-"):
            return "aws-us-gov"
        return "aws"


def load_config(text: str | None = None, **overrides) -> AwsConfig:
    """The deployment settings: [lakehouse], then [aws], then explicit overrides (CLI flags)."""
    doc = tomllib.loads(text if text is not None else tables._declaration_text())
    house = doc["lakehouse"]
    values = {
        "region": house["region"],
        "bucket": house["bucket"],
        "namespace": house["namespace"],
        "warehouse_prefix": house["warehouse_prefix"].strip("/"),
    }
    known = {f.name: f for f in fields(AwsConfig)}
    for key, value in doc.get("aws", {}).items():
        if key not in known or key == "namespace":
            allowed = ", ".join(sorted(k for k in known if k != "namespace"))
            raise ValueError(f"catalog/tables.toml [aws] has an unknown setting {key!r}; the settings are: {allowed}")
        values[key] = value
    values.update({k: v for k, v in overrides.items() if v is not None})
    # The bucket name is globally unique, so it tells two deployments in one account apart.
    values.setdefault("project", values["bucket"])
    config = AwsConfig(**values)
    _check(config)
    return config


def _check(config: AwsConfig) -> None:
    for f in fields(AwsConfig):
        value = getattr(config, f.name)
        expected = int if f.type in ("int", int) else str
        if not isinstance(value, expected) or isinstance(value, bool):
            raise ValueError(f"[aws] {f.name} must be a{'n integer' if expected is int else ' string'}, not {value!r}")
    if config.worker_type not in WORKER_TYPES:
        raise ValueError(
            f"[aws] worker_type {config.worker_type!r} is not a Glue worker type: {', '.join(WORKER_TYPES)}"
        )
    if config.number_of_workers < 2:
        raise ValueError("[aws] number_of_workers must be at least 2 (a Glue Spark job needs a driver and an executor)")
    if config.timeout_minutes < 1:
        raise ValueError("[aws] timeout_minutes must be at least 1")
    if not (config.role_path.startswith("/") and config.role_path.endswith("/")):
        raise ValueError(f"[aws] role_path must begin and end with '/', not {config.role_path!r}")
    settings.check_policy(config.policy)
