"""The jobs' IAM role and the erasure job's, each with its inline policy, and the pseudonym key in
Secrets Manager.

The key is generated here once, inside AWS: it is never printed, never part of a plan and
never overwritten, because every pseudonym in the curated tables depends on it and a new
key would silently break joins with earlier data.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from botocore.exceptions import ClientError

from stedi.aws.clients import Aws
from stedi.aws.errors import DeployError, is_not_found, not_managed, translated
from stedi.aws.plan import Change
from stedi.lakehouse.deployment import AwsConfig
from stedi.lakehouse.job_policy import erasure_role_policy, job_role_policy, trust_policy
from stedi.tables import Lakehouse

ROLE = "iam role"
ROLE_POLICY = "iam inline policy"
SECRET = "secret"


@dataclass(frozen=True)
class RoleOf:
    """One of the deployment's roles: its names in the configuration, its policy and what it is for."""

    role: str  # the AwsConfig field naming the role
    policy: str  # the AwsConfig field naming its inline policy
    document: object  # (config, account, house) -> the inline policy
    description: str

    def names(self, config: AwsConfig) -> tuple[str, str]:
        return getattr(config, self.role), getattr(config, self.policy)


JOBS = RoleOf(
    "role_name",
    "policy_name",
    job_role_policy,
    "STEDI Glue jobs: least privilege on the lakehouse bucket, catalog and key",
)
ERASURE = RoleOf(
    "erasure_role_name",
    "erasure_policy_name",
    erasure_role_policy,
    "STEDI erasure job: rewrites landing objects and deletes what holds an erased person",
)


def _same(a: dict, b: dict) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _document(value) -> dict:
    """IAM documents come back decoded by boto3, or as JSON text from some endpoints."""
    return json.loads(value) if isinstance(value, str) else value


def plan_role(aws: Aws, role_of: RoleOf = JOBS) -> tuple[Change, bool]:
    """The role's change, and whether the role exists now."""
    cfg, iam = aws.config, aws.iam
    role_name, _ = role_of.names(cfg)
    with translated("iam", f"reading the IAM role {role_name}"):
        try:
            role = iam.get_role(RoleName=role_name)["Role"]
        except ClientError as error:
            if not is_not_found(error):
                raise
            role = None
        if role is None:

            def create():
                iam.create_role(
                    RoleName=role_name,
                    Path=cfg.role_path,
                    AssumeRolePolicyDocument=json.dumps(trust_policy()),
                    Description=role_of.description,
                    Tags=cfg.tag_list(),
                )
                # IAM is eventually consistent: wait until the new role reads back before jobs name it.
                iam.get_waiter("role_exists").wait(RoleName=role_name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})

            return Change(ROLE, role_name, "create", "assumed by glue.amazonaws.com", create), False
        tags = iam.list_role_tags(RoleName=role_name)["Tags"]
    if not cfg.is_ours(tags):
        raise not_managed(ROLE, role_name, "deleting it on destroy")
    if role["Path"] != cfg.role_path:
        raise DeployError(
            f"the IAM role {role_name} is at the path {role['Path']}, the configuration says {cfg.role_path}: "
            "a role cannot move; destroy the deployment first or set role_path in the [aws] table"
        )
    if _same(_document(role["AssumeRolePolicyDocument"]), trust_policy()):
        return Change(ROLE, role_name, "unchanged"), True

    def update():
        iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=json.dumps(trust_policy()))

    return Change(ROLE, role_name, "update", "trust policy differs", update), True


def plan_role_policy(aws: Aws, house: Lakehouse, role_exists: bool, role_of: RoleOf = JOBS) -> Change:
    cfg, iam = aws.config, aws.iam
    role_name, policy_name = role_of.names(cfg)
    wanted = role_of.document(cfg, aws.account, house)
    name = f"{role_name}/{policy_name}"

    def put():
        iam.put_role_policy(RoleName=role_name, PolicyName=policy_name, PolicyDocument=json.dumps(wanted))

    if not role_exists:
        return Change(ROLE_POLICY, name, "create", f"{len(wanted['Statement'])} statements", put)
    with translated("iam", f"reading the inline policy {name}"):
        try:
            answer = iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)
            current = _document(answer["PolicyDocument"])
        except ClientError as error:
            if not is_not_found(error):
                raise
            return Change(ROLE_POLICY, name, "create", f"{len(wanted['Statement'])} statements", put)
    if _same(current, wanted):
        return Change(ROLE_POLICY, name, "unchanged")
    return Change(ROLE_POLICY, name, "update", _policy_difference(current, wanted), put)


def _policy_difference(current: dict, wanted: dict) -> str:
    """Which statements (by Sid) are missing, extra or different: enough to see what drifted."""
    statements = current.get("Statement", [])
    statements = [statements] if isinstance(statements, dict) else statements
    have = {s.get("Sid") or f"unnamed statement {i + 1}": s for i, s in enumerate(statements)}
    want = {s["Sid"]: s for s in wanted["Statement"]}
    missing = [sid for sid in want if sid not in have]
    extra = [sid for sid in have if sid not in want]
    changed = [sid for sid in want if sid in have and not _same(have[sid], want[sid])]
    parts = (("missing", missing), ("unexpected", extra), ("changed", changed))
    return "; ".join(f"{label} {', '.join(sids)}" for label, sids in parts if sids)


def plan_secret(aws: Aws) -> Change:
    cfg, sm = aws.config, aws.secrets
    with translated("secretsmanager", f"looking for the secret {cfg.secret_name}"):
        try:
            found = sm.describe_secret(SecretId=cfg.secret_name)
        except ClientError as error:
            if not is_not_found(error):
                raise
            found = None
    if found is None:

        def create():
            sm.create_secret(
                Name=cfg.secret_name,
                Description="Key of the keyed pseudonyms (HMAC-SHA256) in the STEDI curated tables",
                SecretString=secrets.token_hex(32),
                Tags=cfg.tag_list(),
            )

        return Change(SECRET, cfg.secret_name, "create", "new random 256-bit key, generated in place", create)
    if not cfg.is_ours(found.get("Tags", [])):
        raise not_managed(SECRET, cfg.secret_name, "deleting the key on destroy")
    if found.get("DeletedDate"):
        return Change(
            SECRET,
            cfg.secret_name,
            "update",
            "restore: it is scheduled for deletion",
            lambda: sm.restore_secret(SecretId=cfg.secret_name),
        )
    return Change(SECRET, cfg.secret_name, "unchanged", "kept as is: never overwritten")
