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
    user = iam.create_user(UserName=config.role_name, Path=config.role_path)["User"]
    iam.put_user_policy(
        UserName=config.role_name,
        PolicyName=config.policy_name,
        PolicyDocument=json.dumps(local_job_policy(account)),
    )
    created = iam.create_access_key(UserName=config.role_name)["AccessKey"]
    keys = Keys(config.role_name, user["Arn"], account, created["AccessKeyId"], created["SecretAccessKey"])
    write(folder(home) / JOB_FILE, keys)
    return keys
