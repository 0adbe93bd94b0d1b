"""The Glue jobs' IAM role: who may assume it, and the least it needs to do its work.

`make deploy` attaches this policy to the jobs' role on AWS (stedi/aws/identity.py), and the
embedded stack attaches the very same document, for its own bucket, account and region, to the
identity its jobs run under (stedi/targets/stack_keys.py): a grant the jobs lack fails locally
first, with the action and the resource named.

Each statement names the narrowest resources the jobs touch: the landing prefixes read
only, the Iceberg warehouse read and written, the Data Docs written, the scripts read only, the `stedi` database
and its tables in the Data Catalog, the Glue log groups, and the one secret holding the
pseudonym key. No statement has a `*` resource: the jobs publish no custom metrics, which
is the one Glue permission (cloudwatch:PutMetricData) that cannot be scoped.
"""

from __future__ import annotations

from dataclasses import replace

from stedi.lakehouse.deployment import AwsConfig, load_config
from stedi.tables import Lakehouse, lakehouse

VERSION = "2012-10-17"
CATALOG_ACTIONS = [
    "glue:GetDatabase",
    "glue:GetTable",
    "glue:GetTables",
    "glue:CreateTable",
    "glue:UpdateTable",
    "glue:DeleteTable",
]
LOG_ACTIONS = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]


def trust_policy() -> dict:
    """Only the Glue service may assume the role."""
    return {
        "Version": VERSION,
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }


def secret_arn_pattern(config: AwsConfig, account: str) -> str:
    """Secrets Manager appends six random characters to a secret's ARN; `??????` matches exactly those."""
    return f"arn:{config.partition}:secretsmanager:{config.region}:{account}:secret:{config.secret_name}-??????"


def landing_prefixes(house: Lakehouse) -> list[str]:
    return [house.landing_prefix(t) for t in house.zone("landing")]


def job_role_policy(config: AwsConfig, account: str, house: Lakehouse) -> dict:
    """The inline policy of the jobs' role."""
    p, region, bucket = config.partition, config.region, config.bucket
    bucket_arn = f"arn:{p}:s3:::{bucket}"
    landing = landing_prefixes(house)
    warehouse = config.warehouse_prefix
    listed = sorted({pattern for prefix in [*landing, f"{warehouse}/"] for pattern in _list_patterns(prefix)})
    glue_arn = f"arn:{p}:glue:{region}:{account}"
    logs_arn = f"arn:{p}:logs:{region}:{account}:log-group:/aws-glue/*"
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "ReadLandingZone",
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": [f"{bucket_arn}/{prefix}*" for prefix in landing],
            },
            {
                "Sid": "ListLandingZoneAndWarehouse",
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": [bucket_arn],
                "Condition": {"StringLike": {"s3:prefix": listed}},
            },
            {
                "Sid": "ReadWriteWarehouse",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                "Resource": [f"{bucket_arn}/{warehouse}/*"],
            },
            {
                "Sid": "WriteDataDocs",
                "Effect": "Allow",
                "Action": ["s3:PutObject"],
                "Resource": [f"{bucket_arn}/{config.docs_prefix}/*"],
            },
            {
                "Sid": "ReadJobScripts",
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": [f"{bucket_arn}/{config.scripts_prefix}/*"],
            },
            {
                "Sid": "DataCatalogStediOnly",
                "Effect": "Allow",
                "Action": CATALOG_ACTIONS,
                "Resource": [
                    f"{glue_arn}:catalog",
                    f"{glue_arn}:database/{config.namespace}",
                    f"{glue_arn}:table/{config.namespace}/*",
                ],
            },
            {
                "Sid": "GlueJobLogs",
                "Effect": "Allow",
                "Action": LOG_ACTIONS,
                "Resource": [logs_arn, f"{logs_arn}:log-stream:*"],
            },
            {
                "Sid": "PseudonymKey",
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue"],
                "Resource": [secret_arn_pattern(config, account)],
            },
        ],
    }


def _list_patterns(prefix: str) -> list[str]:
    """The s3:prefix values a listing of `prefix` sends: the folder itself and anything below it."""
    folder = prefix.rstrip("/")
    return [folder, f"{folder}/*"]


def local_config() -> AwsConfig:
    """The deployment's names (role, policy, prefixes) with the embedded stack's bucket and region."""
    house = lakehouse()
    return replace(load_config(), bucket=house.bucket, region=house.region)


def local_job_policy(account: str) -> dict:
    """The policy `make deploy` attaches to the jobs' role, for the embedded stack's bucket,
    account and region: the jobs run under it locally, so a missing grant fails here first."""
    return job_role_policy(local_config(), account, lakehouse())
