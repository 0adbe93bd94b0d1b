"""The Glue jobs' IAM role: who may assume it, and the least it needs to do its work.

`make deploy` attaches this policy to the jobs' role on AWS (stedi/aws/identity.py), and the
embedded stack attaches the very same document, for its own bucket, account and region, to the
identity its jobs run under (stedi/targets/stack_keys.py): a grant the jobs lack fails locally
first, with the action and the resource named.

Each statement names the narrowest resources the jobs touch: the landing prefixes read
only, the Iceberg warehouse read and written, the Data Docs written, the scripts read only, the `stedi` database
and its tables in the Data Catalog, the Glue log groups, the erasure register read only (the intake
keeps erased people out), and the one secret holding the pseudonym key. No statement has a `*`
resource: the jobs publish no custom metrics, which is the one Glue permission
(cloudwatch:PutMetricData) that cannot be scoped.

The erasure job has a role of its own (`erasure_role_policy`): it is the one identity that may
rewrite landing objects and delete their older versions, append to the erasure register and
delete the requests it has read; it writes no Data Docs.
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
    objects = _objects_arn(config)
    return {
        "Version": VERSION,
        "Statement": [
            _allow("ReadLandingZone", ["s3:GetObject"], [f"{objects}/{p}*" for p in landing_prefixes(house)]),
            _listing(config, house, ["s3:ListBucket"]),
            _warehouse_statement(config),
            _allow("WriteDataDocs", ["s3:PutObject"], [f"{objects}/{config.docs_prefix}/*"]),
            _scripts_statement(config),
            _allow("ReadErasureRegister", ["s3:GetObject"], [f"{objects}/{config.erasures_key}"]),
            _catalog_statement(config, account),
            _logs_statement(config, account),
            _key_statement(config, account),
        ],
    }


def erasure_role_policy(config: AwsConfig, account: str, house: Lakehouse) -> dict:
    """The inline policy of the erasure job's role: what `stedi forget` does, and nothing else."""
    objects = _objects_arn(config)
    landing = [f"{objects}/{p}*" for p in landing_prefixes(house)]
    return {
        "Version": VERSION,
        "Statement": [
            _allow("RewriteLandingZone", ["s3:GetObject", "s3:PutObject", "s3:DeleteObjectVersion"], landing),
            _listing(config, house, ["s3:ListBucket", "s3:ListBucketVersions"]),
            _allow("LandingVersioning", ["s3:GetBucketVersioning"], [objects]),
            _warehouse_statement(config),
            _allow("AppendErasureRegister", ["s3:GetObject", "s3:PutObject"], [f"{objects}/{config.erasures_key}"]),
            _allow(
                "TakeErasureRequests", ["s3:GetObject", "s3:DeleteObject"], [f"{objects}/{config.requests_prefix}/*"]
            ),
            _scripts_statement(config),
            _catalog_statement(config, account),
            _logs_statement(config, account),
            _key_statement(config, account),
        ],
    }


def _objects_arn(config: AwsConfig) -> str:
    """The bucket's ARN; with `/<key>` appended, its objects'."""
    return f"arn:{config.partition}:s3:::{config.bucket}"


def _allow(sid: str, actions: list[str], resources: list[str]) -> dict:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}


def _listing(config: AwsConfig, house: Lakehouse, actions: list[str]) -> dict:
    """Listing the bucket, limited to the landing prefixes and the warehouse."""
    prefixes = [*landing_prefixes(house), f"{config.warehouse_prefix}/"]
    listed = sorted({pattern for prefix in prefixes for pattern in _list_patterns(prefix)})
    statement = _allow("ListLandingZoneAndWarehouse", actions, [_objects_arn(config)])
    return {**statement, "Condition": {"StringLike": {"s3:prefix": listed}}}


def _warehouse_statement(config: AwsConfig) -> dict:
    actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    return _allow("ReadWriteWarehouse", actions, [f"{_objects_arn(config)}/{config.warehouse_prefix}/*"])


def _scripts_statement(config: AwsConfig) -> dict:
    return _allow("ReadJobScripts", ["s3:GetObject"], [f"{_objects_arn(config)}/{config.scripts_prefix}/*"])


def _catalog_statement(config: AwsConfig, account: str) -> dict:
    glue_arn = f"arn:{config.partition}:glue:{config.region}:{account}"
    tables = [
        f"{glue_arn}:catalog",
        f"{glue_arn}:database/{config.namespace}",
        f"{glue_arn}:table/{config.namespace}/*",
    ]
    return _allow("DataCatalogStediOnly", CATALOG_ACTIONS, tables)


def _logs_statement(config: AwsConfig, account: str) -> dict:
    logs_arn = f"arn:{config.partition}:logs:{config.region}:{account}:log-group:/aws-glue/*"
    return _allow("GlueJobLogs", LOG_ACTIONS, [logs_arn, f"{logs_arn}:log-stream:*"])


def _key_statement(config: AwsConfig, account: str) -> dict:
    return _allow("PseudonymKey", ["secretsmanager:GetSecretValue"], [secret_arn_pattern(config, account)])


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


def local_erasure_policy(account: str) -> dict:
    """The erasure job's policy for the embedded stack: every local `stedi forget` runs under it."""
    return erasure_role_policy(local_config(), account, lakehouse())
