"""deploy / run / destroy against a real moto server process (S3, IAM, STS, Secrets Manager,
Glue, Athena, EC2 on one loopback endpoint), with the credentials and endpoint set per test.

moto differs from AWS in ways the deployer must survive, and the tests run into them on
purpose: glue.update_job, glue.update_trigger and athena.update_work_group answer HTTP 500
(the deployer replaces instead, and says so), Glue job runs cannot fail (the one failure
test stubs get_job_run, and only that), and moto keeps a deleted resource's tags (the
deployer untags before deleting, so the tagging API shows nothing left behind).
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import urllib.request
import zipfile
from dataclasses import replace
from pathlib import Path

import boto3
import pytest

from stedi.aws import athena as athena_module
from stedi.aws import cli as aws_cli
from stedi.aws import jobs as jobs_module
from stedi.aws.clients import Aws, new_session
from stedi.aws.deploy import deploy
from stedi.aws.destroy import destroy
from stedi.aws.errors import DeployError
from stedi.aws.package import build_package, package_entries
from stedi.aws.run import JobFailed, run
from stedi.gates.green import code_digest, digest_files, gate_record_problem, record_green
from stedi.lakehouse.deployment import AwsConfig, load_config
from stedi.lakehouse.glue_tables import HIVE_TYPES as ATHENA_DDL_TYPES
from stedi.runtime import settings
from stedi.tables import lakehouse
from tests import moto_server

REGION = "us-east-1"
OURS = {"stedi:project": "stedi-lakehouse", "stedi:managed-by": "stedi-deploy"}


# ---------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def moto_url(tmp_path_factory):
    """One moto server for the module; each test resets it to an empty account."""
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "wb")
    process, url = moto_server.start(log)
    yield url
    process.terminate()
    process.wait(timeout=10)
    log.close()


def _post(url: str, body: bytes = b"") -> None:
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "text/plain"})
    urllib.request.urlopen(request, timeout=10).read()


@pytest.fixture(autouse=True)
def aws_env(moto_url, monkeypatch, tmp_path):
    """Dummy credentials and the emulator's endpoint for this test only; never the user's AWS files."""
    _post(f"{moto_url}/moto-api/reset")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return moto_url


def _copy_code(source: Path, target: Path) -> Path:
    for pattern in (
        "stedi/**/*.py",
        "spark_jobs/*.py",
        "expectations/**/*.py",
        "catalog/tables.toml",
        "catalog/athena/*.sql",
        "requirements.lock",
    ):
        for path in source.glob(pattern):
            if "__pycache__" not in path.parts:
                (target / path.relative_to(source)).parent.mkdir(parents=True, exist_ok=True)
                (target / path.relative_to(source)).write_bytes(path.read_bytes())
    return target


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    """A snapshot of the code the deploys package and gate: edits made to the working tree while
    the tests run must not change the digest or the zip halfway through a test."""
    return _copy_code(settings.project_root(), tmp_path_factory.mktemp("checkout"))


@pytest.fixture(autouse=True)
def from_checkout(checkout, monkeypatch):
    monkeypatch.setattr(settings, "project_root", lambda: checkout)


@pytest.fixture
def green(tmp_path, checkout) -> Path:
    """A record of a green local run of exactly this code."""
    return record_green("strict", path=tmp_path / "gates" / "last_green.json", digest=code_digest(checkout))


@pytest.fixture
def config() -> AwsConfig:
    return load_config()


@pytest.fixture
def landing(tmp_path) -> Path:
    """A tiny landing directory laid out like the S3 landing zone."""
    root = tmp_path / "landing"
    rows = {
        "customer": {"email": "a@example.com", "serialNumber": "s1", "shareWithResearchAsOfDate": 1},
        "accelerometer": {"user": "a@example.com", "timestamp": 2, "x": 0.1, "y": 0.2, "z": 0.3},
        "step_trainer": {"sensorReadingTime": 2, "serialNumber": "s1", "distanceFromObject": 5},
    }
    for source, row in rows.items():
        folder = root / source / "landing"
        folder.mkdir(parents=True)
        (folder / f"{source}-1.json").write_text(json.dumps(row) + "\n")
    return root


def client(service: str):
    """A client with the test's environment (endpoint, dummy credentials), resolved now."""
    return new_session(REGION).client(service)


def emulator_state(url: str) -> dict:
    """Everything the emulator holds: moto's own dump of its models (every instance ever created
    since the reset, with its attributes) plus what only the APIs show (Glue jobs and workflows,
    tags, object versions), minus the fields moto computes on each call (CreationTime)."""

    def clean(answer: dict) -> dict:
        answer.pop("ResponseMetadata", None)
        return answer

    state: dict = {}
    glue, s3, iam, athena = client("glue"), client("s3"), client("iam"), client("athena")
    state["jobs"] = clean(glue.get_jobs())
    state["workflows"] = {n: clean(glue.get_workflow(Name=n)) for n in glue.list_workflows()["Workflows"]}
    state["triggers"] = clean(glue.get_triggers())
    state["tables"] = {
        d["Name"]: clean(glue.get_tables(DatabaseName=d["Name"])) for d in glue.get_databases()["DatabaseList"]
    }
    state["tagged"] = clean(client("resourcegroupstaggingapi").get_resources())
    state["objects"] = {
        b["Name"]: clean(s3.list_object_versions(Bucket=b["Name"])) for b in s3.list_buckets()["Buckets"]
    }
    state["roles"] = {
        r["RoleName"]: (
            clean(iam.list_role_policies(RoleName=r["RoleName"])),
            clean(iam.list_role_tags(RoleName=r["RoleName"])),
        )
        for r in iam.list_roles()["Roles"]
    }
    state["secrets"] = clean(client("secretsmanager").list_secrets())
    groups = athena.list_work_groups()["WorkGroups"]
    state["workgroups"] = {
        g["Name"]: {
            k: v for k, v in athena.get_work_group(WorkGroup=g["Name"])["WorkGroup"].items() if k != "CreationTime"
        }
        for g in groups
    }
    state["endpoints"] = clean(client("ec2").describe_vpc_endpoints())
    # Last, so every backend the calls above touch already exists (moto creates them on first use).
    with urllib.request.urlopen(f"{url}/moto-api/data.json", timeout=30) as answer:
        models = json.loads(answer.read())
    # moto records a new S3 key instance on every read of a key, so these lists grow without any
    # write; the object versions listed above are what shows a write to S3.
    for copied_on_read in ("FakeKey", "FakeAcl", "FakeGrant", "FakeGrantee"):
        models["s3"].pop(copied_on_read, None)
    state["models"] = models
    return state


def tagged_ours(url: str) -> list[str]:
    """Every resource still carrying our tags, service by service (the tagging API does not cover
    IAM or EC2 in moto, so those are asked directly)."""
    found = [
        r["ResourceARN"]
        for r in client("resourcegroupstaggingapi").get_resources(
            TagFilters=[{"Key": k, "Values": [v]} for k, v in OURS.items()]
        )["ResourceTagMappingList"]
    ]
    iam = client("iam")
    found += [
        r["Arn"] for r in iam.list_roles()["Roles"] if _is_ours(iam.list_role_tags(RoleName=r["RoleName"])["Tags"])
    ]
    found += [
        e["VpcEndpointId"]
        for e in client("ec2").describe_vpc_endpoints()["VpcEndpoints"]
        if e["State"] != "deleted" and _is_ours(e.get("Tags", []))
    ]
    found += [s["ARN"] for s in client("secretsmanager").list_secrets()["SecretList"] if _is_ours(s.get("Tags", []))]
    glue = client("glue")
    found += glue.list_jobs(Tags=OURS)["JobNames"] + glue.list_triggers(Tags=OURS)["TriggerNames"]
    return found


def _is_ours(tags: list[dict]) -> bool:
    return all({t["Key"]: t["Value"] for t in tags}.get(k) == v for k, v in OURS.items())


def vpc_with_route_table() -> tuple[str, str]:
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    return vpc, ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]


# ---------------------------------------------------------------------------- deploy


def test_deploy_creates_every_resource_as_intended_and_a_second_deploy_changes_nothing(config, green, landing, capsys):
    vpc, route_table = vpc_with_route_table()
    result = deploy(config, gate_record=green, landing=landing, vpc_id=vpc, route_table_ids=[route_table])
    assert result.applied and result.gate_problem is None
    assert {c.action for c in result.plan.changes} == {"create"}
    house = lakehouse()
    order = jobs_module.job_order()
    bucket = config.bucket
    s3, iam, glue, athena = client("s3"), client("iam"), client("glue"), client("athena")

    # bucket: encrypted, closed to the public, versioned, tagged
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert _is_ours(s3.get_bucket_tagging(Bucket=bucket)["TagSet"])
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    landing_prefixes = {house.landing_prefix(t) for t in house.zone("landing")}
    assert landing_prefixes | {"warehouse/", "warehouse/trusted/", "warehouse/curated/", "athena-results/"} <= keys
    assert {f"{p}{p.split('/')[0]}-1.json" for p in landing_prefixes} <= keys
    # the erasure register, empty until someone is erased: every job reads it before its intake
    assert s3.get_object(Bucket=bucket, Key="privacy/erasures.jsonl")["Body"].read() == b""
    # job code: the zip as built here, with its sha256 in the metadata; one script per job
    package = s3.get_object(Bucket=bucket, Key=config.package_key)
    body = package["Body"].read()
    assert body == build_package()
    assert package["Metadata"]["sha256"] == __import__("hashlib").sha256(body).hexdigest()
    for job in jobs_module.deployed_jobs():  # the erasure job's script too
        script = s3.get_object(Bucket=bucket, Key=config.script_key(job))["Body"].read()
        assert script == (settings.project_root() / "spark_jobs" / f"{job}.py").read_bytes()

    # role: trusted by Glue only; inline policy without a "*" resource, each statement narrow
    role = iam.get_role(RoleName=config.role_name)["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    assert iam.list_role_policies(RoleName=config.role_name)["PolicyNames"] == [config.policy_name]
    assert iam.list_attached_role_policies(RoleName=config.role_name)["AttachedPolicies"] == []
    document = iam.get_role_policy(RoleName=config.role_name, PolicyName=config.policy_name)["PolicyDocument"]
    statements = {s["Sid"]: s for s in document["Statement"]}
    for statement in statements.values():
        assert statement["Effect"] == "Allow"
        assert "*" not in statement["Resource"], statement
        assert not any(a.endswith(":*") for a in statement["Action"]), statement
    arn = "arn:aws:s3:::stedi-lakehouse"
    assert statements["ReadLandingZone"]["Action"] == ["s3:GetObject"]
    assert sorted(statements["ReadLandingZone"]["Resource"]) == sorted(f"{arn}/{p}*" for p in landing_prefixes)
    assert statements["ReadWriteWarehouse"]["Action"] == ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    assert statements["ReadWriteWarehouse"]["Resource"] == [f"{arn}/warehouse/*"]
    assert statements["WriteDataDocs"]["Action"] == ["s3:PutObject"]
    assert statements["WriteDataDocs"]["Resource"] == [f"{arn}/data-docs/*"]
    assert statements["ReadJobScripts"] == {
        "Sid": "ReadJobScripts",
        "Effect": "Allow",
        "Action": ["s3:GetObject"],
        "Resource": [f"{arn}/glue/*"],
    }
    assert statements["ListLandingZoneAndWarehouse"]["Resource"] == [arn]
    assert "warehouse/*" in statements["ListLandingZoneAndWarehouse"]["Condition"]["StringLike"]["s3:prefix"]
    assert statements["DataCatalogStediOnly"]["Resource"] == [
        "arn:aws:glue:us-east-1:123456789012:catalog",
        "arn:aws:glue:us-east-1:123456789012:database/stedi",
        "arn:aws:glue:us-east-1:123456789012:table/stedi/*",
    ]
    assert all(
        r.startswith("arn:aws:logs:us-east-1:123456789012:log-group:/aws-glue/")
        for r in statements["GlueJobLogs"]["Resource"]
    )
    assert statements["PseudonymKey"] == {
        "Sid": "PseudonymKey",
        "Effect": "Allow",
        "Action": ["secretsmanager:GetSecretValue"],
        "Resource": ["arn:aws:secretsmanager:us-east-1:123456789012:secret:stedi/pseudonym-key-??????"],
    }
    assert statements["ReadErasureRegister"]["Action"] == ["s3:GetObject"]  # the intake keeps the erased out
    assert statements["ReadErasureRegister"]["Resource"] == [f"{arn}/privacy/erasures.jsonl"]

    # the erasure job's own role: the one identity that rewrites landing objects; no Data Docs, no other prefix
    erasure_role = iam.get_role(RoleName=config.erasure_role_name)["Role"]
    assert erasure_role["AssumeRolePolicyDocument"] == role["AssumeRolePolicyDocument"]
    assert iam.list_role_policies(RoleName=config.erasure_role_name)["PolicyNames"] == [config.erasure_policy_name]
    erasure_document = iam.get_role_policy(RoleName=config.erasure_role_name, PolicyName=config.erasure_policy_name)
    granted = {s["Sid"]: s for s in erasure_document["PolicyDocument"]["Statement"]}
    assert set(granted) == {
        "RewriteLandingZone",
        "ListLandingZoneAndWarehouse",
        "LandingVersioning",
        "ReadWriteWarehouse",
        "AppendErasureRegister",
        "TakeErasureRequests",
        "ReadJobScripts",
        "DataCatalogStediOnly",
        "GlueJobLogs",
        "PseudonymKey",
    }
    assert granted["RewriteLandingZone"]["Action"] == ["s3:GetObject", "s3:PutObject", "s3:DeleteObjectVersion"]
    assert sorted(granted["RewriteLandingZone"]["Resource"]) == sorted(f"{arn}/{p}*" for p in landing_prefixes)
    assert granted["AppendErasureRegister"]["Resource"] == [f"{arn}/privacy/erasures.jsonl"]
    assert granted["TakeErasureRequests"] == {
        "Sid": "TakeErasureRequests",
        "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:DeleteObject"],
        "Resource": [f"{arn}/privacy/requests/*"],
    }
    assert all("*" not in s["Resource"] for s in granted.values())
    erasure_job = glue.get_job(JobName=config.job_name("forget"))["Job"]
    assert erasure_job["Role"] == "arn:aws:iam::123456789012:role/stedi/stedi-glue-erasure"
    assert erasure_job["DefaultArguments"]["--erasures_uri"] == "s3://stedi-lakehouse/privacy/erasures.jsonl"

    # the key: created once, 256 bits, never printed
    key = client("secretsmanager").get_secret_value(SecretId=config.secret_name)["SecretString"]
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert key not in capsys.readouterr().out

    # catalog: database and landing tables with the declared columns
    assert glue.get_database(Name="stedi")["Database"]["Name"] == "stedi"
    for table in house.zone("landing"):
        stored = glue.get_table(DatabaseName="stedi", Name=table.name)["Table"]
        sd = stored["StorageDescriptor"]
        assert [(c["Name"], c["Type"]) for c in sd["Columns"]] == [
            (c.name.lower(), ATHENA_DDL_TYPES[c.type]) for c in table.columns
        ]
        assert sd["Location"] == f"s3://stedi-lakehouse/{house.landing_prefix(table)}"
        assert sd["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
        assert stored["Parameters"]["classification"] == "json"
        ddl = (settings.project_root() / "catalog" / "athena" / f"{table.name}.sql").read_text()
        for key_name, value in sd["SerdeInfo"]["Parameters"].items():
            assert f"'{key_name}' = '{value}'" in ddl  # the same table the course's Athena DDL makes

    # jobs: Glue 6.0, Spark on Python 3, Iceberg on the Glue catalog, the runtime's four arguments
    for job in order:
        definition = glue.get_job(JobName=config.job_name(job))["Job"]
        assert definition["GlueVersion"] == "6.0"
        assert definition["Command"] == {
            "Name": "glueetl",
            "PythonVersion": "3",
            "ScriptLocation": f"s3://stedi-lakehouse/glue/spark_jobs/{job}.py",
        }
        assert (definition["WorkerType"], definition["NumberOfWorkers"]) == ("G.1X", 2)
        assert definition["Role"] == "arn:aws:iam::123456789012:role/stedi/stedi-glue-jobs"
        args = definition["DefaultArguments"]
        assert args["--datalake-formats"] == "iceberg"
        assert args["--extra-py-files"] == "s3://stedi-lakehouse/glue/lib/stedi_lakehouse.zip"
        assert (args["--policy"], args["--landing_root"], args["--pseudonym_key_secret"]) == (
            "strict",
            "s3://stedi-lakehouse",
            "stedi/pseudonym-key",
        )
        # every job gates its output before publishing it: Great Expectations and DuckDB on each
        assert args["--additional-python-modules"] == "great_expectations==1.24.1,duckdb==1.5.5"
        conf = dict(pair.split("=", 1) for pair in args["--conf"].split(" --conf "))
        assert conf["spark.sql.catalog.glue_catalog"] == "org.apache.iceberg.spark.SparkCatalog"
        assert conf["spark.sql.catalog.glue_catalog.catalog-impl"] == "org.apache.iceberg.aws.glue.GlueCatalog"
        assert conf["spark.sql.catalog.glue_catalog.warehouse"] == "s3://stedi-lakehouse/warehouse/"
        assert conf["spark.sql.extensions"] == "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"

    # the quality gates: the last job, with the suites' libraries at the versions pinned here
    gates_args = glue.get_job(JobName=config.job_name("quality_gates"))["Job"]["DefaultArguments"]
    assert gates_args["--additional-python-modules"] == "great_expectations==1.24.1,duckdb==1.5.5"
    assert gates_args["--docs_uri"] == "s3://stedi-lakehouse/data-docs/"
    assert "expectations/schema.py" in __import__("zipfile").ZipFile(__import__("io").BytesIO(body)).namelist()

    # workflow: the first job on demand, then each one after its predecessor SUCCEEDED
    assert order[0] == "customer_landing_to_trusted" and order[-2:] == ["machine_learning_curated", "quality_gates"]
    triggers = {t["Name"]: t for t in glue.get_triggers()["Triggers"]}
    assert len(triggers) == len(order)
    first = triggers[f"stedi-start-{order[0]}"]
    assert (first["Type"], first["WorkflowName"], first["Actions"]) == (
        "ON_DEMAND",
        "stedi-pipeline",
        [{"JobName": f"stedi-{order[0]}"}],
    )
    for before, job in zip(order, order[1:], strict=False):
        trigger = triggers[f"stedi-start-{job}"]
        assert trigger["Type"] == "CONDITIONAL" and trigger["State"] == "ACTIVATED"
        assert trigger["Actions"] == [{"JobName": f"stedi-{job}"}]
        assert trigger["Predicate"]["Conditions"] == [
            {"LogicalOperator": "EQUALS", "JobName": f"stedi-{before}", "State": "SUCCEEDED"}
        ]

    # Athena: results in the bucket, enforced; the validation queries saved one per statement
    group = athena.get_work_group(WorkGroup="stedi")["WorkGroup"]["Configuration"]
    assert group["ResultConfiguration"]["OutputLocation"] == "s3://stedi-lakehouse/athena-results/"
    assert group["EnforceWorkGroupConfiguration"] is True
    saved = [
        athena.get_named_query(NamedQueryId=i)["NamedQuery"]
        for i in athena.list_named_queries(WorkGroup="stedi")["NamedQueryIds"]
    ]
    statements_sql = athena_module.validation_statements()
    assert len(statements_sql) == len(house.tables)
    assert sorted(q["QueryString"] for q in saved) == sorted(statements_sql)
    assert {q["Database"] for q in saved} == {"stedi"}

    # the optional S3 gateway endpoint
    endpoint = client("ec2").describe_vpc_endpoints()["VpcEndpoints"][0]
    assert (endpoint["VpcEndpointType"], endpoint["ServiceName"], endpoint["RouteTableIds"]) == (
        "Gateway",
        "com.amazonaws.us-east-1.s3",
        [route_table],
    )

    # and again: nothing to do
    again = deploy(config, gate_record=green, landing=landing, vpc_id=vpc, route_table_ids=[route_table])
    assert not again.applied and not again.plan.has_changes
    assert again.plan.summary().startswith("no changes")
    assert client("secretsmanager").get_secret_value(SecretId=config.secret_name)["SecretString"] == key


def test_plan_writes_nothing(aws_env, config, green, landing):
    client("sts").get_caller_identity()
    emulator_state(aws_env)  # moto creates each service's backend on first use: not a write of ours
    empty = emulator_state(aws_env)
    plan = deploy(config, plan_only=True, gate_record=green, landing=landing).plan
    assert plan.has_changes and {c.action for c in plan.changes} == {"create"}
    assert emulator_state(aws_env) == empty

    deploy(config, gate_record=green)
    deployed = emulator_state(aws_env)
    changed = replace(config, number_of_workers=5, policy="rubric")
    plan = deploy(changed, plan_only=True, gate_record=green, landing=landing).plan
    assert {c.action for c in plan.pending} == {"replace", "create"}  # the jobs, and the landing files
    assert emulator_state(aws_env) == deployed


def test_the_cli_prints_a_plan_table_then_no_changes(config, green, capsys):
    assert aws_cli.main(["deploy", "--plan", "--gate-record", str(green)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^create\s+glue job\s+stedi-machine_learning_curated", out, re.MULTILINE)
    assert "plan only: nothing was written" in out
    assert client("s3").list_buckets()["Buckets"] == []
    assert aws_cli.main(["deploy", "--gate-record", str(green)]) == 0
    assert "deployed in" in capsys.readouterr().out
    assert aws_cli.main(["deploy", "--gate-record", str(green)]) == 0
    assert "no changes" in capsys.readouterr().out


def test_changed_settings_code_and_drift_are_planned_and_applied(config, green, checkout, tmp_path):
    deploy(config, gate_record=green)
    glue, s3, iam = client("glue"), client("s3"), client("iam")
    bigger = replace(config, number_of_workers=4, worker_type="G.2X")
    plan = deploy(bigger, plan_only=True, gate_record=green).plan
    job_changes = [c for c in plan.pending if c.kind == "glue job"]
    assert len(job_changes) == len(jobs_module.deployed_jobs()) and {c.action for c in plan.pending} == {"replace"}
    assert all("replaced (update_job not supported by this endpoint)" in c.detail for c in job_changes)
    assert "NumberOfWorkers 2 -> 4" in job_changes[0].detail
    deploy(bigger, gate_record=green)
    for job in jobs_module.job_order():
        definition = glue.get_job(JobName=bigger.job_name(job))["Job"]
        assert (definition["WorkerType"], definition["NumberOfWorkers"]) == ("G.2X", 4)
        assert glue.get_tags(ResourceArn=f"arn:aws:glue:{REGION}:123456789012:job/stedi-{job}")["Tags"] == OURS
    assert not deploy(bigger, plan_only=True, gate_record=green).plan.has_changes

    # drift: suspended versioning, a widened role policy and an edited script are put back, in place
    s3.put_bucket_versioning(Bucket=config.bucket, VersioningConfiguration={"Status": "Suspended"})
    wide = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    iam.put_role_policy(RoleName=config.role_name, PolicyName=config.policy_name, PolicyDocument=json.dumps(wide))
    key = config.script_key("step_trainer_trusted")
    s3.put_object(Bucket=config.bucket, Key=key, Body=b"print('edited in the console')\n")
    plan = deploy(bigger, plan_only=True, gate_record=green).plan
    assert [(c.action, c.kind, c.name, c.detail) for c in plan.pending if c.kind != "s3 object"] == [
        ("update", "s3 bucket", config.bucket, "set versioning"),
        (
            "update",
            "iam inline policy",
            f"{config.role_name}/{config.policy_name}",
            "missing ReadLandingZone, ListLandingZoneAndWarehouse, ReadWriteWarehouse, WriteDataDocs, ReadJobScripts, "
            "ReadErasureRegister, DataCatalogStediOnly, GlueJobLogs, PseudonymKey; unexpected unnamed statement 1",
        ),
    ]
    assert [(c.action, c.name) for c in plan.pending if c.kind == "s3 object"] == [("update", key)]
    deploy(bigger, gate_record=green)
    assert s3.get_bucket_versioning(Bucket=config.bucket)["Status"] == "Enabled"
    assert (
        s3.get_object(Bucket=config.bucket, Key=key)["Body"].read()
        == (settings.project_root() / "spark_jobs" / "step_trainer_trusted.py").read_bytes()
    )
    document = iam.get_role_policy(RoleName=config.role_name, PolicyName=config.policy_name)["PolicyDocument"]
    assert all("*" not in s["Resource"] for s in document["Statement"])
    assert not deploy(bigger, plan_only=True, gate_record=green).plan.has_changes

    # changed code: refused until that code has a green run, then uploaded over the old objects
    edited = _copy_code(checkout, tmp_path / "edited")
    script = edited / "spark_jobs" / "customer_landing_to_trusted.py"
    script.write_text(script.read_text() + "# reviewed\n")
    with pytest.raises(DeployError, match="the code changed since the last green run"):
        deploy(bigger, gate_record=green, root=edited)
    record_green("strict", path=green, digest=code_digest(edited))
    plan = deploy(bigger, gate_record=green, root=edited).plan
    key = config.script_key("customer_landing_to_trusted")
    assert [(c.action, c.name) for c in plan.pending] == [("update", config.package_key), ("update", key)]
    assert s3.get_object(Bucket=config.bucket, Key=key)["Body"].read() == script.read_bytes()
    assert len(s3.list_object_versions(Bucket=config.bucket, Prefix=key)["Versions"]) == 2  # the old one kept


# ---------------------------------------------------------------------------- run


def test_run_starts_the_jobs_in_order_and_watches_each_until_it_succeeds(aws_env, config, green):
    deploy(config, gate_record=green)
    # moto's job runs move STARTING -> RUNNING -> SUCCEEDED; "manual" makes each state last two looks
    transition = {"model_name": "glue::job_run", "transition": {"progression": "manual", "times": 2}}
    _post(f"{aws_env}/moto-api/state-manager/set-transition", json.dumps(transition).encode())
    lines: list[str] = []
    try:
        runs = run(config, policy="rubric", progress=lines.append, sleep=lambda _: None)
    finally:
        _post(
            f"{aws_env}/moto-api/state-manager/unset-transition", json.dumps({"model_name": "glue::job_run"}).encode()
        )
    order = [config.job_name(j) for j in jobs_module.job_order()]
    assert [r.job for r in runs] == order
    assert all(r.states == ("STARTING", "RUNNING", "SUCCEEDED") for r in runs)
    started = [line.split(":")[0].removeprefix("job  ") for line in lines if ": started (run jr_" in line]
    assert started == order
    assert any(re.search(r"RUNNING after \d+s", line) for line in lines)
    glue = client("glue")
    for r in runs:
        job_run = glue.get_job_run(JobName=r.job, RunId=r.run_id)["JobRun"]
        assert job_run["Arguments"]["--policy"] == "rubric"


def test_forget_on_aws_hands_the_addresses_over_in_an_object_never_as_an_argument(aws_env, config, green):
    """`make forget-aws` against moto's Glue, whose job runs execute no script (the script itself runs
    in tests/integration/test_privacy.py): the run carries the request object's key only, the
    object holds the addresses while the job runs, and is gone when it ends."""
    from stedi.aws.erasure import forget

    deploy(config, gate_record=green)
    s3, seen = client("s3"), {}

    def watch(line: str) -> None:
        if ": started (run jr_" in line:
            [listed] = s3.list_objects_v2(Bucket=config.bucket, Prefix="privacy/requests/")["Contents"]
            seen["request"] = s3.get_object(Bucket=config.bucket, Key=listed["Key"])["Body"].read().decode()

    job_run = forget(["Someone@Example.com", " other@example.com "], config, progress=watch, sleep=lambda _: None)
    assert job_run.job == config.job_name("forget") and job_run.state == "SUCCEEDED"
    assert seen["request"] == "Someone@Example.com\nother@example.com\n"
    arguments = client("glue").get_job_run(JobName=job_run.job, RunId=job_run.run_id)["JobRun"]["Arguments"]
    assert arguments["--request_key"].startswith("privacy/requests/")
    assert not any("@" in value for value in arguments.values())  # the job's defaults and the key, no address
    assert "Contents" not in s3.list_objects_v2(Bucket=config.bucket, Prefix="privacy/requests/")


def test_a_failed_job_stops_the_run_with_glues_error_message(config, green):
    deploy(config, gate_record=green)
    aws = Aws(config)
    real_get_job_run = aws.glue.get_job_run
    second = config.job_name(jobs_module.job_order()[1])

    def failing(**kwargs):
        # The only stub in this module: moto cannot make a job run fail.
        answer = real_get_job_run(**kwargs)
        if kwargs["JobName"] == second:
            answer["JobRun"].update(JobRunState="FAILED", ErrorMessage="AnalysisException: no such column `user`")
        return answer

    aws.glue.get_job_run = failing
    with pytest.raises(JobFailed, match=r"stedi-accelerometer_landing_to_trusted ended FAILED .*no such column"):
        run(config, aws=aws, progress=lambda _: None, sleep=lambda _: None)
    glue = client("glue")
    assert len(glue.get_job_runs(JobName=config.job_name(jobs_module.job_order()[0]))["JobRuns"]) == 1
    for job in jobs_module.job_order()[2:]:
        assert glue.get_job_runs(JobName=config.job_name(job))["JobRuns"] == []


def test_run_before_deploy_says_to_deploy(config):
    with pytest.raises(DeployError, match="do not exist .*run `make deploy` first"):
        run(config, progress=lambda _: None)


# ---------------------------------------------------------------------------- destroy


def test_destroy_removes_everything_tagged_and_nothing_else_and_is_idempotent(aws_env, config, green, landing):
    vpc, route_table = vpc_with_route_table()
    # Someone else's things, some with our names' shapes: they must survive.
    client("s3").create_bucket(Bucket="not-ours")
    client("glue").create_job(Name="stedi-handmade", Role="r", Command={"Name": "glueetl", "ScriptLocation": "s3://x"})
    deploy(config, gate_record=green, landing=landing, vpc_id=vpc, route_table_ids=[route_table])
    deploy(replace(config, number_of_workers=3), gate_record=green)  # versions and replaced jobs to clean up
    client("s3").delete_object(
        Bucket=config.bucket,
        Key=sorted(
            o["Key"] for o in client("s3").list_objects_v2(Bucket=config.bucket, Prefix="customer/landing/")["Contents"]
        )[-1],
    )  # a delete marker too
    assert tagged_ours(aws_env)

    plan = destroy(config, progress=lambda _: None)
    kinds = [c.kind for c in plan.changes]
    assert kinds.index("glue trigger") < kinds.index("glue job") < kinds.index("iam role") < kinds.index("s3 bucket")
    assert tagged_ours(aws_env) == []
    assert [b["Name"] for b in client("s3").list_buckets()["Buckets"]] == ["not-ours"]
    assert client("glue").list_jobs()["JobNames"] == ["stedi-handmade"]
    assert client("glue").get_databases()["DatabaseList"] == []
    assert [g["Name"] for g in client("athena").list_work_groups()["WorkGroups"]] == ["primary"]
    assert client("iam").list_roles()["Roles"] == []
    assert destroy(config, progress=lambda _: None).changes == []

    # and the lakehouse can be deployed again from nothing
    assert {c.action for c in deploy(config, gate_record=green).plan.changes} == {"create"}


# ---------------------------------------------------------------------------- the promotion gate


def test_the_gate_refuses_without_a_green_record_or_with_a_stale_one_and_force_overrides(config, tmp_path):
    record = tmp_path / "last_green.json"
    with pytest.raises(DeployError, match=r"deploy refused: no green run .*--force"):
        deploy(config, gate_record=record)
    assert client("s3").list_buckets()["Buckets"] == []  # refused before touching AWS

    record.write_text(json.dumps({"digest": "0" * 64, "policy": "strict", "finished_at": "2026-01-01T00:00:00+00:00"}))
    with pytest.raises(DeployError, match=r"deploy refused: the code changed since the last green run"):
        deploy(config, gate_record=record)

    plan = deploy(config, gate_record=record, plan_only=True).plan  # a plan is still shown, with the reason
    assert any(n.startswith("deploy would refuse: the code changed") for n in plan.notes)
    forced = deploy(config, gate_record=record, force=True)
    assert forced.applied and any(n.startswith("gate overridden with --force") for n in forced.plan.notes)

    record_green("rubric", path=record)
    assert gate_record_problem(record, code_digest()) is None


def test_the_digest_covers_jobs_runtime_declarations_and_expectations(tmp_path):
    root = tmp_path / "checkout"
    for relative in ("spark_jobs/a.py", "stedi/b.py", "stedi/query/not_covered.py", "catalog/tables.toml", "README.md"):
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(relative)
    before = code_digest(root)
    assert [p.relative_to(root).as_posix() for p in digest_files(root)] == [
        "catalog/tables.toml",
        "spark_jobs/a.py",
        "stedi/b.py",
    ]  # no expectations/ yet: nothing from it
    (root / "README.md").write_text("docs change nothing")
    (root / "stedi/query/not_covered.py").write_text("nor does this")
    assert code_digest(root) == before
    (root / "expectations/suites").mkdir(parents=True)
    (root / "expectations/suites/consent.py").write_text("x = 1")
    with_expectations = code_digest(root)
    assert with_expectations != before
    (root / "spark_jobs/a.py").write_text("changed")
    assert code_digest(root) != with_expectations
    assert gate_record_problem(tmp_path / "unreadable.json", before) is not None
    (tmp_path / "unreadable.json").write_text("{not json")
    assert "unreadable" in gate_record_problem(tmp_path / "unreadable.json", before)


# ---------------------------------------------------------------------------- package and settings


def test_the_package_is_reproducible_and_importable_from_the_zip(tmp_path):
    first, second = build_package(), build_package()
    assert first == second
    archive = zipfile.ZipFile(io.BytesIO(first))
    names = archive.namelist()
    assert names == sorted(names)
    assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert "stedi/tables.toml" in names and "spark_jobs/machine_learning_curated.py" in names
    assert {"spark_jobs/quality_gates.py", "stedi/gates/verify.py", "expectations/lineage.py"} <= set(names)  # gates
    assert not any(n.startswith(("stedi/aws/", "stedi/gates/datadocs_assets/")) for n in names)
    assert archive.read("stedi/tables.toml") == (settings.project_root() / "catalog" / "tables.toml").read_bytes()
    assert set(names) == set(package_entries())
    # As on Glue: only the zip on the path (no site-packages, no checkout), tables.toml read from inside it.
    zip_path = tmp_path / "stedi_lakehouse.zip"
    zip_path.write_bytes(first)
    probe = (
        "import stedi.tables, stedi.runtime; h = stedi.tables.lakehouse(); "
        "assert '.zip' in stedi.tables.__file__, stedi.tables.__file__; print(h.namespace, len(h.tables))"
    )
    answer = subprocess.run(
        [sys.executable, "-S", "-c", probe],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(zip_path), "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.split() == ["stedi", str(len(lakehouse().tables))]


def test_aws_settings_come_from_tables_toml_with_defaults():
    declared = (settings.project_root() / "catalog" / "tables.toml").read_text()
    defaults = load_config(declared)
    # the same declarations with the [aws] table left out, so the test can write its own
    text = re.sub(r"(?ms)^\[aws\]\n.*?(?=^# -{10,}|^\[)", "", declared)
    assert "[aws]" not in text and load_config(text) == defaults
    assert (defaults.region, defaults.bucket, defaults.namespace, defaults.glue_version) == (
        "us-east-1",
        "stedi-lakehouse",
        "stedi",
        "6.0",
    )
    custom = load_config(text + '\n[aws]\nworker_type = "G.2X"\nnumber_of_workers = 10\nbucket = "my-stedi"\n')
    assert (custom.worker_type, custom.number_of_workers, custom.bucket) == ("G.2X", 10, "my-stedi")
    assert custom.warehouse_uri == "s3://my-stedi/warehouse/"
    with pytest.raises(ValueError, match="unknown setting 'workers'"):
        load_config(text + "\n[aws]\nworkers = 3\n")
    with pytest.raises(ValueError, match="number_of_workers must be an integer"):
        load_config(text + '\n[aws]\nnumber_of_workers = "3"\n')


# ---------------------------------------------------------------------------- errors in plain sentences


def test_missing_credentials(config, green, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(DeployError, match="no AWS credentials were found"):
        deploy(config, gate_record=green, plan_only=True)


def test_unknown_region(config, green):
    with pytest.raises(DeployError, match="'us-nowhere-1' is not an AWS region"):
        deploy(replace(config, region="us-nowhere-1"), gate_record=green, plan_only=True)


def test_bucket_taken_by_another_account(config, green):
    other = client("sts").assume_role(RoleArn="arn:aws:iam::111111111111:role/other", RoleSessionName="other")
    credentials = other["Credentials"]
    boto3.client(
        "s3",
        region_name=REGION,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    ).create_bucket(Bucket="stedi-taken")
    with pytest.raises(DeployError, match="'stedi-taken' is taken by another AWS account"):
        deploy(replace(config, bucket="stedi-taken"), gate_record=green, plan_only=True)


def test_unreachable_endpoint(config, green, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{moto_server.free_port()}")
    with pytest.raises(DeployError, match=r"cannot reach the endpoint http://127.0.0.1:\d+ \(AWS_ENDPOINT_URL\)"):
        deploy(config, gate_record=green, aws=Aws(config, max_attempts=1))


def test_permission_denied_names_the_action(aws_env, config, green):
    iam = client("iam")
    iam.create_user(UserName="deployer")
    keys = iam.create_access_key(UserName="deployer")["AccessKey"]
    readonly = [
        "sts:GetCallerIdentity",
        "s3:*",
        "iam:Get*",
        "iam:List*",
        "secretsmanager:Describe*",
        "glue:Get*",
        "glue:List*",
        "athena:Get*",
        "athena:List*",
    ]
    iam.put_user_policy(
        UserName="deployer",
        PolicyName="almost",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": readonly, "Resource": "*"}]}
        ),
    )
    session = boto3.session.Session(
        aws_access_key_id=keys["AccessKeyId"], aws_secret_access_key=keys["SecretAccessKey"], region_name=REGION
    )
    _post(f"{aws_env}/moto-api/reset-auth", b"0")  # from now on moto checks every request's permissions
    try:
        with pytest.raises(
            DeployError,
            match=r"permission denied: your AWS identity may not iam:CreateRole "
            r"while creating the iam role stedi-glue-jobs",
        ):
            deploy(config, gate_record=green, aws=Aws(config, session=session, max_attempts=1))
    finally:
        _post(f"{aws_env}/moto-api/reset-auth", b"inf")


def test_bucket_in_another_region(config, green):
    client("s3").create_bucket(Bucket="stedi-elsewhere", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    with pytest.raises(
        DeployError, match="'stedi-elsewhere' is in eu-west-1, but the deployment's region is us-east-1"
    ):
        deploy(replace(config, bucket="stedi-elsewhere", project="stedi-elsewhere"), gate_record=green, plan_only=True)


def test_cli_errors_are_one_sentence(tmp_path, capsys):
    assert aws_cli.main(["deploy", "--gate-record", str(tmp_path / "none.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("stedi: error: deploy refused: no green run") and err.count("\n") == 1
    assert aws_cli.main(["run"]) == 2
    assert "run `make deploy` first" in capsys.readouterr().err
    assert aws_cli.main(["destroy"]) == 0
    assert "nothing to destroy" in capsys.readouterr().out


def test_the_embedded_stack_attaches_the_deployed_policies_but_for_bucket_account_and_region(config):
    """What `make deploy` attaches to the jobs' role and the erasure job's, deployed here for another
    bucket and region, against what the embedded stack attached to the identities its jobs and its
    erasures run under (stedi/targets/stack_keys.py)."""
    from stedi.aws.identity import ERASURE, JOBS, plan_role, plan_role_policy
    from stedi.lakehouse.job_policy import local_config
    from stedi.targets import embedded_stack

    local_stack, mine = embedded_stack.up(), local_config()
    local_stack.as_erasure_job()  # made now on a stack started before the erasure identity existed
    elsewhere = replace(config, bucket="acme-balance-data", region="eu-west-1")
    aws = Aws(elsewhere)
    for role_of in (JOBS, ERASURE):
        user, policy = role_of.names(mine)
        attached = local_stack.client("iam").get_user_policy(UserName=user, PolicyName=policy)
        role, _ = plan_role(aws, role_of)
        role.apply()
        plan_role_policy(aws, lakehouse(), False, role_of).apply()
        deployed = aws.iam.get_role_policy(RoleName=user, PolicyName=policy)

        text = json.dumps(deployed["PolicyDocument"])
        assert elsewhere.bucket in text and f":{elsewhere.region}:" in text and mine.bucket not in text
        for theirs, ours in (
            (f":::{elsewhere.bucket}", f":::{mine.bucket}"),
            (f":{elsewhere.region}:", f":{mine.region}:"),
            (f":{aws.account}:", f":{local_stack.keys.account}:"),
        ):
            text = text.replace(theirs, ours)
        assert json.loads(text) == attached["PolicyDocument"]
