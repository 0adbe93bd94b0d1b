"""A learner's buckets, databases and tables on the stack, beside the pipeline's own.

- **Buckets on first use.** A bucket named by `stedi land`, by a script or by Athena DDL is created
  (by the stack's administrator, `landing.ensure_bucket`) when it is missing, so nobody renames anything.
- **What a script may touch.** A script runs under the Glue jobs' identity and its least-privilege
  policy, as the pipeline's jobs do, plus one more inline policy for the length of the run: the
  S3 prefixes the script names (its `s3://` literals and arguments, and the locations of the tables
  of the databases it names) and those databases in the catalog, as a learner's own Glue role grants
  their bucket. Anything else is refused by IAM and said in one sentence.
- **One catalog, two owners**: a learner's table may take a name the pipeline uses
  (stedi/lakehouse/glue_tables.py, `claim` and `reclaim`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from stedi.lakehouse.job_policy import CATALOG_ACTIONS
from stedi.lakehouse.landing import ensure_bucket
from stedi.studio import s3
from stedi.tables import lakehouse

POLICY_NAME = "stedi-glue-studio"
PARTITION_ACTIONS = ["glue:GetPartition", "glue:GetPartitions", "glue:BatchCreatePartition", "glue:CreatePartition"]
URI = re.compile(r"""s3[an]?://[A-Za-z0-9][A-Za-z0-9.\-_]*(?:/[^\s'"\\)\]}>,]*)?""")
DATABASE = re.compile(r"""\b(?:database|catalogDatabase|name_space)\s*=\s*["']([^"']+)["']""")


def named_paths(text: str) -> list[str]:
    return sorted(set(URI.findall(text)))


def named_databases(text: str) -> list[str]:
    return sorted(set(DATABASE.findall(text)))


def table_locations(admin_glue, databases: list[str]) -> list[str]:
    """The locations of every Hive table of these databases (their files are what a script reads)."""
    found = []
    for database in databases:
        try:
            pages = list(admin_glue.get_paginator("get_tables").paginate(DatabaseName=database))
        except admin_glue.exceptions.EntityNotFoundException:
            continue
        for page in pages:
            for table in page["TableList"]:
                location = table.get("StorageDescriptor", {}).get("Location")
                if location and location.startswith(s3.SCHEMES):
                    found.append(location)
    return found


def grant_document(paths: list[str], databases: list[str], account: str, region: str) -> dict:
    """The run's extra policy: read, write and list under each path; the catalog in each database."""
    objects, listings = [], {}
    for path in paths:
        bucket, key = s3.split(path)
        objects.append(f"arn:aws:s3:::{bucket}/{key}*")
        patterns = listings.setdefault(bucket, set())
        patterns.update({f"{key}*", key.rstrip("/")} if key else {"*", ""})
    statements = []
    if objects:
        actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
        statements.append({"Sid": "ScriptPaths", "Effect": "Allow", "Action": actions,
                           "Resource": sorted(set(objects))})
    for index, (bucket, patterns) in enumerate(sorted(listings.items())):
        statements.append({"Sid": f"ListScriptPaths{index}", "Effect": "Allow", "Action": ["s3:ListBucket"],
                           "Resource": [f"arn:aws:s3:::{bucket}"],
                           "Condition": {"StringLike": {"s3:prefix": sorted(patterns)}}})
    if databases:
        glue = f"arn:aws:glue:{region}:{account}"
        resources = [f"{glue}:catalog"]
        for database in databases:
            resources += [f"{glue}:database/{database}", f"{glue}:table/{database}/*"]
        statements.append({"Sid": "ScriptDatabases", "Effect": "Allow", "Action": CATALOG_ACTIONS + PARTITION_ACTIONS,
                           "Resource": resources})
    return {"Version": "2012-10-17", "Statement": statements}


def grant(admin, jobs_user: str, paths: list[str], databases: list[str]) -> dict | None:
    """Put the run's extra policy on the jobs' identity (None when the script names nothing)."""
    document = grant_document(paths, databases, admin.keys.account, lakehouse().region)
    if not document["Statement"]:
        return None
    admin.client("iam").put_user_policy(UserName=jobs_user, PolicyName=POLICY_NAME, PolicyDocument=json.dumps(document))
    return document


def revoke(admin, jobs_user: str) -> None:
    iam = admin.client("iam")
    try:
        iam.delete_user_policy(UserName=jobs_user, PolicyName=POLICY_NAME)
    except iam.exceptions.NoSuchEntityException:
        pass


# ------------------------------------------------------------------ stedi land


def land(client, directory: Path, destination: str, say) -> list[str]:
    """Upload every file under `directory` to `destination` (s3://bucket/prefix/) with the stack's
    administrator's S3 client, relative paths kept, the bucket created on first use; returns the keys."""
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory} is not a directory")
    bucket, prefix = s3.split(s3.folder(destination))
    ensure_bucket(client, bucket, say)
    files = sorted(p for p in directory.rglob("*") if p.is_file() and not s3.hidden(p.name))
    if not files:
        raise FileNotFoundError(f"{directory} holds no files to land")
    uploads = [(p, prefix + p.relative_to(directory).as_posix()) for p in files]
    s3.upload(client, uploads, bucket)
    size = sum(p.stat().st_size for p in files)
    say(f"landed {len(files)} files ({size / 1e6:.1f} MB) from {directory} in s3://{bucket}/{prefix}")
    return [key for _, key in uploads]
