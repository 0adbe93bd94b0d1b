"""The embedded stack's two identities, and where their keys are kept.

The emulator enforces IAM from its first request (stedi/targets/emulator.py): nobody reads the
lakehouse without one of these keys.

- The administrator, `stedi-admin`, allowed everything. The emulator creates it before it
  serves anything. It does what the stack itself manages: creating the bucket, uploading the
  landing files, registering the Glue database and the landing tables. It also does what a
  person does with the lakehouse: `stedi query` (DuckDB, Trino), the run report, `stedi keys`.
- The Glue jobs' identity, a user named after the role `make deploy` creates (`role_name` in
  catalog/tables.toml) and holding the very policy document `make deploy` attaches to that role
  (stedi/lakehouse/job_policy.py), for the stack's bucket, account and region. Everything a Glue
  job does runs under it: the landing step's intake, the five jobs, the quality gates, snapshot
  expiry and orphan removal. A user rather than a role: moto cannot check a trust policy whose
  principal is the Glue service, and a user's keys do not expire in the middle of a run.
- The erasure job's identity, named after its role (`erasure_role_name`), holding the policy
  `make deploy` attaches to that role (`erasure_role_policy`): every `stedi forget` runs under it,
  the one identity that may rewrite landing objects.

Keys are JSON files in <state>/keys/. The directory is 0700 and each file 0600. Each file is
written whole, a temporary file renamed, so a reader never sees half a key.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from stedi.runtime import settings

ADMIN_FILE = "admin.json"
JOB_FILE = "glue-job.json"
ERASURE_FILE = "glue-erasure.json"


@dataclass(frozen=True)
class Keys:
    user: str
    arn: str
    account: str
    access_key_id: str
    secret_access_key: str = field(repr=False)


def folder(home: Path) -> Path:
    return home / "keys"


def read(path: Path) -> Keys:
    return Keys(**json.loads(path.read_text()))


def write(path: Path, keys: Keys) -> None:
    settings.private_dir(path.parent)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.unlink(missing_ok=True)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as out:
        json.dump(asdict(keys), out)
    os.replace(temporary, path)


def create_job_identity(iam, account: str, home: Path) -> Keys:
    """The Glue jobs' identity with the deployed policy attached, its keys kept in the state dir."""
    from stedi.lakehouse.job_policy import local_config, local_job_policy

    config = local_config()
    return _create(
        iam,
        account,
        folder(home) / JOB_FILE,
        config.role_name,
        config.policy_name,
        local_job_policy(account),
        config.role_path,
    )


def create_erasure_identity(iam, account: str, home: Path) -> Keys:
    """The erasure job's identity with its deployed policy attached, its keys kept in the state dir."""
    from stedi.lakehouse.job_policy import local_config, local_erasure_policy

    config = local_config()
    return _create(
        iam,
        account,
        folder(home) / ERASURE_FILE,
        config.erasure_role_name,
        config.erasure_policy_name,
        local_erasure_policy(account),
        config.role_path,
    )


def _create(iam, account: str, path: Path, user_name: str, policy_name: str, policy: dict, user_path: str) -> Keys:
    """The user with the policy as declared now and one fresh key. On a lakehouse the emulator
    loaded from disk the user exists: its old keys are deleted, as they died with their emulator."""
    try:
        user = iam.create_user(UserName=user_name, Path=user_path)["User"]
    except iam.exceptions.EntityAlreadyExistsException:
        user = iam.get_user(UserName=user_name)["User"]
        for old in iam.list_access_keys(UserName=user_name)["AccessKeyMetadata"]:
            iam.delete_access_key(UserName=user_name, AccessKeyId=old["AccessKeyId"])
    iam.put_user_policy(UserName=user_name, PolicyName=policy_name, PolicyDocument=json.dumps(policy))
    created = iam.create_access_key(UserName=user_name)["AccessKey"]
    keys = Keys(user_name, user["Arn"], account, created["AccessKeyId"], created["SecretAccessKey"])
    write(path, keys)
    return keys
