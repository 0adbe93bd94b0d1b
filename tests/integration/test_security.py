"""Nobody in without the stack's keys, and the jobs run under the Glue role's own policy.

All on the real emulator process of the embedded stack (stedi/targets/emulator.py: moto with IAM
enforced from its first request) and real Spark: requests with the dummy keys, unsigned ones and
the jobs' identity reaching outside its policy are refused with the emulator's error codes; the
whole pipeline runs under that policy on the starter data; a job script edited to read outside
it fails in one sentence naming the action and the resource, and publishes nothing.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import urllib.error
import urllib.request

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from stedi import pipeline
from stedi.lakehouse import STAGE_BRANCH
from stedi.lakehouse.job_policy import local_config
from stedi.lakehouse.landing import objects
from stedi.runtime import settings
from stedi.tables import lakehouse
from stedi.targets import embedded_stack, stack_keys
from tests.conftest import PROJECT_ROOT
from tests.oracle import expected_counts

pytestmark = pytest.mark.e2e

OUTSIDE = "exports/lookup.json"  # a prefix the jobs' policy grants nothing on


@pytest.fixture(scope="module")
def lake(starter_data):
    """The starter data through the whole pipeline, in this process, under the jobs' identity."""
    summary = pipeline.run_embedded(starter_data, "strict")
    admin = embedded_stack.require()
    admin.s3_client().put_object(Bucket=admin.bucket, Key=OUTSIDE, Body=b'{"threshold": 1}')
    return {"summary": summary, "admin": admin, "job": admin.as_glue_job()}


def error_of(call) -> dict:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response["Error"] | {"status": raised.value.response["ResponseMetadata"]["HTTPStatusCode"]}


def client(endpoint: str, service: str, key: str | None = None, secret: str | None = None):
    signing = {"aws_access_key_id": key, "aws_secret_access_key": secret} if key else {
        "config": Config(signature_version=UNSIGNED)}
    return boto3.client(service, endpoint_url=endpoint, region_name=lakehouse().region, **signing)


def test_the_pipeline_runs_under_the_jobs_policy_and_publishes_the_expected_counts(lake, starter_data):
    summary, job = lake["summary"], lake["job"]
    config = local_config()
    role_like = f"arn:aws:iam::{job.keys.account}:user{config.role_path}{config.role_name}"
    assert summary["jobs_identity"] == job.keys.arn == role_like
    assert summary["tables"] == expected_counts(starter_data, "strict")[0]
    # The jobs' Spark session wrote through the catalog with the jobs' keys, not the administrator's.
    from pyspark.sql import SparkSession

    conf = SparkSession.getActiveSession().conf
    assert conf.get("spark.sql.catalog.glue_catalog.s3.access-key-id") == job.access_key != lake["admin"].access_key
    attached = lake["admin"].client("iam").list_user_policies(UserName=config.role_name)["PolicyNames"]
    assert attached == [config.policy_name]


def test_dummy_keys_unsigned_requests_and_the_jobs_keys_outside_their_policy_are_refused(lake):
    admin, job = lake["admin"], lake["job"]
    bucket, endpoint = admin.bucket, admin.endpoint
    landing_key = next(iter(objects(admin.s3_client(), bucket, "customer/landing/")))

    dummy = error_of(lambda: client(endpoint, "s3", "test", "test").get_object(Bucket=bucket, Key=landing_key))
    assert (dummy["Code"], dummy["status"]) == ("InvalidAccessKeyId", 403)
    dummy_glue = error_of(lambda: client(endpoint, "glue", "test", "test").get_tables(DatabaseName="stedi"))
    assert (dummy_glue["Code"], dummy_glue["status"]) == ("UnrecognizedClientException", 403)

    unsigned = error_of(lambda: client(endpoint, "s3").get_object(Bucket=bucket, Key=landing_key))
    assert (unsigned["Code"], unsigned["status"]) == ("MissingAuthenticationToken", 403)
    with pytest.raises(urllib.error.HTTPError) as raw:  # no SDK at all: a plain GET of a customer file
        urllib.request.urlopen(f"{endpoint}/{bucket}/{landing_key}", timeout=10)
    assert raw.value.code == 403 and b"<Code>MissingAuthenticationToken</Code>" in raw.value.read()

    jobs_s3, jobs_glue = job.s3_client(), job.client("glue")
    assert jobs_s3.get_object(Bucket=bucket, Key=landing_key)["Body"].read()  # inside its policy
    outside = error_of(lambda: jobs_s3.get_object(Bucket=bucket, Key=OUTSIDE))
    assert (outside["Code"], outside["status"]) == ("AccessDenied", 403)
    assert f"not authorized to perform: s3:GetObject on resource: arn:aws:s3:::{bucket}/{OUTSIDE}" in outside["Message"]
    listing = error_of(lambda: jobs_s3.list_objects_v2(Bucket=bucket, Prefix="exports/"))
    assert listing["Code"] == "AccessDenied" and "s3:ListBucket" in listing["Message"]
    writing_landing = error_of(lambda: jobs_s3.put_object(Bucket=bucket, Key="customer/landing/new.json", Body=b"{}"))
    assert writing_landing["Code"] == "AccessDenied"  # the landing zone is read only to the jobs
    other_database = error_of(lambda: jobs_glue.get_tables(DatabaseName="default"))
    assert (other_database["Code"], other_database["status"]) == ("AccessDeniedException", 403)
    assert "glue:GetTables on resource: arn:aws:glue:" in other_database["Message"]
    assert error_of(lambda: job.client("iam").list_users())["Code"] == "AccessDenied"


def test_the_pseudonym_key_secret_is_granted_by_its_arns_wildcards_as_iam_reads_them(lake):
    """`stedi/pseudonym-key-??????`: the six characters Secrets Manager appends, and no more."""
    admin, job = lake["admin"], lake["job"]
    config = local_config()
    secrets = admin.client("secretsmanager")
    secrets.create_secret(Name=config.secret_name, SecretString="00" * 32)
    secrets.create_secret(Name=f"{config.secret_name}-other", SecretString="11" * 32)
    try:
        reader = job.client("secretsmanager")
        assert reader.get_secret_value(SecretId=config.secret_name)["SecretString"] == "00" * 32
        refused = error_of(lambda: reader.get_secret_value(SecretId=f"{config.secret_name}-other"))
        assert (refused["Code"], refused["status"]) == ("AccessDeniedException", 403)
    finally:
        for name in (config.secret_name, f"{config.secret_name}-other"):
            secrets.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)


def test_the_emulators_control_api_is_closed(lake):
    """moto's /moto-api/ answers anyone: reset-auth would switch authentication off."""
    endpoint = lake["admin"].endpoint
    request = urllib.request.Request(f"{endpoint}/moto-api/reset-auth", data=b"inf", method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 403
    dummy = error_of(lambda: client(endpoint, "s3", "test", "test").list_buckets())
    assert dummy["Code"] == "InvalidAccessKeyId"  # still enforced


def test_keys_state_data_docs_and_report_are_readable_by_the_user_only(lake):
    from stedi import report

    admin = lake["admin"]
    report.write(lake["summary"], admin, settings.report_dir())
    for folder in (admin.home, stack_keys.folder(admin.home), settings.docs_dir(), settings.report_dir()):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    for keys in (stack_keys.ADMIN_FILE, stack_keys.JOB_FILE, stack_keys.ERASURE_FILE):
        assert stat.S_IMODE((stack_keys.folder(admin.home) / keys).stat().st_mode) == 0o600


def test_stedi_keys_prints_variables_the_aws_sdks_read(lake):
    completed = subprocess.run(
        [sys.executable, "-m", "stedi.cli", "keys"], capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=60
    )
    assert completed.returncode == 0, completed.stderr
    exported = dict(line.removeprefix("export ").split("=", 1) for line in completed.stdout.splitlines())
    assert exported["AWS_ENDPOINT_URL"] == lake["admin"].endpoint
    assert "admin.json (mode 0600)" in completed.stderr
    s3 = boto3.client(
        "s3",
        endpoint_url=exported["AWS_ENDPOINT_URL"],
        aws_access_key_id=exported["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=exported["AWS_SECRET_ACCESS_KEY"],
        region_name=exported["AWS_REGION"],
    )
    assert s3.list_objects_v2(Bucket=lakehouse().bucket, Prefix="customer/landing/")["KeyCount"] > 0


def test_a_job_script_edited_to_read_outside_the_policy_fails_naming_it_and_publishes_nothing(lake, tmp_path):
    """A Glue script's boto3 call gets the job's role; here it gets the jobs' identity, and its policy."""
    source = (PROJECT_ROOT / "spark_jobs" / "customer_trusted_to_curated.py").read_text()
    signature = next(line for line in source.splitlines(keepends=True) if line.startswith("def transform("))
    edit = (
        "    import boto3  # the edit: a lookup file read from a prefix the policy does not grant\n"
        f"    boto3.client('s3').get_object(Bucket='{lakehouse().bucket}', Key='{OUTSIDE}')\n"
    )
    script = tmp_path / "customer_trusted_to_curated.py"
    script.write_text(source.replace(signature, signature + edit))
    name = "customers_curated"
    table = lake["admin"].catalog().load_table((lakehouse().namespace, name))
    before = table.current_snapshot().snapshot_id

    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL"):
        env.pop(variable, None)  # whatever the job's code gets, it gets from the job's runtime
    completed = subprocess.run(
        [sys.executable, str(script), "--policy", "strict"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert completed.returncode != 0
    last = completed.stderr.strip().splitlines()[-1]
    resource = f"arn:aws:s3:::{lakehouse().bucket}/{OUTSIDE}"
    assert last == (
        f"error: job customer_trusted_to_curated was refused s3:GetObject on {resource} "
        "by the Glue jobs' IAM policy (the one `make deploy` attaches, made in stedi/lakehouse/job_policy.py), "
        "here as it would be on AWS; its output was not published"
    ), completed.stderr[-3000:]
    table = table.refresh()
    assert table.current_snapshot().snapshot_id == before
    assert STAGE_BRANCH not in table.refs()


