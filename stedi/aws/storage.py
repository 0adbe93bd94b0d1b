"""The bucket and what the deploy puts in it: zone markers, job code, landing data.

The bucket is encrypted by default (SSE-S3), closed to the public and versioned, so an
overwritten landing file or job script can be recovered. Uploaded objects carry the
sha256 of their content in their metadata: comparing it is how a second deploy knows a
file is unchanged without downloading it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from botocore.exceptions import ClientError

from stedi.aws.clients import Aws
from stedi.aws.errors import DeployError, bucket_taken, error_code, is_not_found, not_managed, translated
from stedi.aws.package import Artifact
from stedi.aws.plan import Change
from stedi.tables import Lakehouse

SHA_KEY = "sha256"  # object metadata key (S3 stores it as x-amz-meta-sha256)
ENCRYPTION = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}
PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
ENCRYPTION_SETTING, PUBLIC_SETTING, VERSIONING_SETTING = "default encryption", "public access block", "versioning"
BUCKET = "s3 bucket"
OBJECT = "s3 object"


# ---------------------------------------------------------------------------- bucket


def bucket_exists(aws: Aws) -> bool:
    """Whether the configured bucket exists in this account; refuses one owned by someone else."""
    s3, bucket = aws.s3, aws.config.bucket
    with translated("s3", f"looking for the bucket {bucket}"):
        try:
            head = s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=aws.account)
        except ClientError as error:
            if is_not_found(error) or error_code(error) == "NoSuchBucket":
                return False
            if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 403:
                raise DeployError(
                    f"the bucket {bucket!r} exists but this identity may not use it: another AWS account owns it "
                    "(bucket names are global) or you lack s3:ListBucket on it; set bucket in the [aws] table of "
                    "catalog/tables.toml to a name of your own"
                ) from error
            raise
        if not _owned(aws, bucket):
            raise bucket_taken(bucket)
    region = head.get("BucketRegion") or head["ResponseMetadata"]["HTTPHeaders"].get("x-amz-bucket-region")
    if region and region != aws.config.region:
        raise DeployError(
            f"the bucket {bucket!r} is in {region}, but the deployment's region is {aws.config.region}: "
            "set region in catalog/tables.toml to the bucket's, or choose another bucket name"
        )
    return True


def _owned(aws: Aws, bucket: str) -> bool:
    """Emulators answer HEAD for any account's bucket; the owner's own listing tells them apart."""
    try:
        names = {b["Name"] for page in aws.s3.get_paginator("list_buckets").paginate() for b in page["Buckets"]}
    except ClientError:
        return True  # no s3:ListAllMyBuckets: HEAD with ExpectedBucketOwner already vouched for it
    return bucket in names


def plan_bucket(aws: Aws, exists: bool) -> Change:
    cfg, s3, bucket = aws.config, aws.s3, aws.config.bucket
    if not exists:
        return Change(BUCKET, bucket, "create", "SSE-S3, public access blocked, versioned", lambda: _create(aws))
    with translated("s3", f"reading the settings of the bucket {bucket}"):
        if not cfg.is_ours(_bucket_tags(s3, bucket)):
            raise not_managed(BUCKET, bucket, "emptying it on destroy")
        wrong = []
        if _encryption(s3, bucket) != "AES256":
            wrong.append(ENCRYPTION_SETTING)
        if _public_access_block(s3, bucket) != PUBLIC_ACCESS_BLOCK:
            wrong.append(PUBLIC_SETTING)
        if s3.get_bucket_versioning(Bucket=bucket).get("Status") != "Enabled":
            wrong.append(VERSIONING_SETTING)
    if not wrong:
        return Change(BUCKET, bucket, "unchanged")
    return Change(BUCKET, bucket, "update", "set " + ", ".join(wrong), lambda: _configure(aws, wrong))


def _create(aws: Aws) -> None:
    cfg, s3 = aws.config, aws.s3
    kwargs = {"Bucket": cfg.bucket}
    if cfg.region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": cfg.region}
    try:
        s3.create_bucket(**kwargs)
    except ClientError as error:
        if error_code(error) == "BucketAlreadyExists":
            raise bucket_taken(cfg.bucket) from error
        raise
    s3.put_bucket_tagging(Bucket=cfg.bucket, Tagging={"TagSet": cfg.tag_list()})
    _configure(aws, [PUBLIC_SETTING, ENCRYPTION_SETTING, VERSIONING_SETTING])


def _configure(aws: Aws, settings: list[str]) -> None:
    s3, bucket = aws.s3, aws.config.bucket
    if PUBLIC_SETTING in settings:
        s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=PUBLIC_ACCESS_BLOCK)
    if ENCRYPTION_SETTING in settings:
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=ENCRYPTION)
    if VERSIONING_SETTING in settings:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})


def _bucket_tags(s3, bucket: str) -> dict[str, str]:
    try:
        return {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]}
    except ClientError as error:
        if is_not_found(error):
            return {}
        raise


def _encryption(s3, bucket: str) -> str | None:
    try:
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    except ClientError as error:
        if error_code(error) == "ServerSideEncryptionConfigurationNotFoundError":
            return None
        raise
    return rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] if rules else None


def _public_access_block(s3, bucket: str) -> dict | None:
    try:
        return s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    except ClientError as error:
        if error_code(error) == "NoSuchPublicAccessBlockConfiguration":
            return None
        raise


# ---------------------------------------------------------------------------- objects


def zone_markers(aws: Aws, house: Lakehouse) -> list[str]:
    """Zero-byte folder markers, so the zones show in the console before any data lands."""
    cfg = aws.config
    landing = [house.landing_prefix(t) for t in house.zone("landing")]
    zones = [f"{cfg.warehouse_prefix}/{zone}/" for zone in ("trusted", "curated")]
    return [*landing, f"{cfg.warehouse_prefix}/", *zones, f"{cfg.athena_results_prefix}/"]


def plan_markers(aws: Aws, keys: list[str], exists: bool) -> list[Change]:
    changes = []
    for key in keys:
        if exists and _head(aws, key) is not None:
            changes.append(Change(OBJECT, key, "unchanged"))
        else:
            changes.append(Change(OBJECT, key, "create", "folder marker", _put(aws, key, b"", None)))
    return changes


def plan_register(aws: Aws, exists: bool) -> Change:
    """An empty erasure register where none is yet, never overwritten: every job reads it before its
    intake, and S3 answers a missing object with AccessDenied, not NoSuchKey, to a reader without
    s3:ListBucket on it, which the jobs' roles do not have."""
    key = aws.config.erasures_key
    if exists and _head(aws, key) is not None:
        return Change(OBJECT, key, "unchanged", "the erasure register: never overwritten")
    return Change(OBJECT, key, "create", "empty erasure register (nobody erased yet)", _put(aws, key, b"", None))


def plan_artifacts(aws: Aws, artifacts: list[Artifact], exists: bool) -> list[Change]:
    changes = []
    for artifact in artifacts:
        head = _head(aws, artifact.key) if exists else None
        apply = _put(aws, artifact.key, artifact.body, artifact.sha256, artifact.content_type)
        if head is None:
            changes.append(Change(OBJECT, artifact.key, "create", f"sha256 {artifact.sha256[:12]}", apply))
        elif head.get("Metadata", {}).get(SHA_KEY) != artifact.sha256:
            old = head.get("Metadata", {}).get(SHA_KEY, "unknown")[:12]
            changes.append(Change(OBJECT, artifact.key, "update", f"sha256 {old} -> {artifact.sha256[:12]}", apply))
        else:
            changes.append(Change(OBJECT, artifact.key, "unchanged"))
    return changes


def plan_landing(aws: Aws, directory: Path, house: Lakehouse, exists: bool) -> list[Change]:
    """Upload a local landing directory; files keep their names, and files the directory no
    longer has are removed, as the embedded stack does, so two data sets never mix."""
    from stedi.lakehouse.landing import landing_files

    changes = []
    for name, files in landing_files(directory, house).items():
        prefix = house.landing_prefix(house.table(name))
        wanted = {prefix + f.name: f for f in files}
        present = _keys(aws, prefix) if exists else {}
        for key, path in wanted.items():
            digest = _file_sha256(path)
            apply = _upload(aws, key, path, digest)
            if key not in present:
                changes.append(Change(OBJECT, key, "create", f"landing file, {path.stat().st_size:,} bytes", apply))
            elif (_head(aws, key) or {}).get("Metadata", {}).get(SHA_KEY) != digest:
                changes.append(Change(OBJECT, key, "update", "landing file changed", apply))
            else:
                changes.append(Change(OBJECT, key, "unchanged"))
        for key in sorted(set(present) - set(wanted) - {prefix}):
            changes.append(Change(OBJECT, key, "delete", "not in the landing directory", _delete(aws, key)))
    return changes


def _head(aws: Aws, key: str) -> dict | None:
    with translated("s3", f"reading s3://{aws.config.bucket}/{key}"):
        try:
            return aws.s3.head_object(Bucket=aws.config.bucket, Key=key)
        except ClientError as error:
            if is_not_found(error):
                return None
            raise


def _keys(aws: Aws, prefix: str) -> dict[str, int]:
    with translated("s3", f"listing s3://{aws.config.bucket}/{prefix}"):
        pages = aws.s3.get_paginator("list_objects_v2").paginate(Bucket=aws.config.bucket, Prefix=prefix)
        return {o["Key"]: o["Size"] for page in pages for o in page.get("Contents", [])}


def _put(aws: Aws, key: str, body: bytes, digest: str | None, content_type: str | None = None):
    def apply():
        extra = {"Metadata": {SHA_KEY: digest}} if digest else {}
        if content_type:
            extra["ContentType"] = content_type
        aws.s3.put_object(Bucket=aws.config.bucket, Key=key, Body=body, **extra)

    return apply


def _upload(aws: Aws, key: str, path: Path, digest: str):
    return lambda: aws.s3.upload_file(str(path), aws.config.bucket, key, ExtraArgs={"Metadata": {SHA_KEY: digest}})


def _delete(aws: Aws, key: str):
    return lambda: aws.s3.delete_object(Bucket=aws.config.bucket, Key=key)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------------------- destroy


def empty_and_delete_bucket(aws: Aws, bucket: str) -> int:
    """Delete every version and delete marker, then the bucket; returns how many were deleted."""
    s3 = aws.s3
    # Listed in full before deleting, so the listing's markers never point into deleted keys.
    versions = [
        {"Key": v["Key"], "VersionId": v["VersionId"]}
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket)
        for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
    ]
    for start in range(0, len(versions), 1000):
        answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": versions[start : start + 1000], "Quiet": True})
        if answer.get("Errors"):
            first = answer["Errors"][0]
            raise DeployError(f"could not delete {first['Key']} from {bucket}: {first.get('Message', '')}")
    s3.delete_bucket(Bucket=bucket)
    return len(versions)
