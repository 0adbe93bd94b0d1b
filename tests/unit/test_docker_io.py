"""The Docker stack's I/O path, as far as it runs without Docker.

Spark here is real (a local session reading real JSON), but it has no Iceberg jars (no Maven
Central on these machines), so nothing can execute `DataFrameWriterV2.createOrReplace()` against an
Iceberg catalog: the writes are RECORDED by a stand-in that keeps each written frame in memory, so
the jobs downstream read what upstream jobs wrote. Everything else is the code the container runs:
the identifiers SparkCatalogIO builds, the statements it issues, the landing JSON staged from S3
(moto in-process) and read by Spark, and the whole pipeline driven by `stedi.docker_pipeline.run`.

The Docker side is tested for what this machine can show for real: no engine runs here, so
`make up` must fail with one clear sentence.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from stedi import docker_pipeline, docker_stack, landing, pipeline, runtime, synthetic
from stedi.docker_pipeline import CatalogConf, spark_defaults
from stedi.tableio import SparkCatalogIO, Written
from stedi.tables import lakehouse

ROOT = Path(__file__).resolve().parents[2]
SPARK_DEFAULTS = ROOT / "docker" / "spark" / "spark-defaults.conf"

no_engine = pytest.mark.skipif(docker_stack.engine_available(), reason="a Docker engine runs here")


# ---------------------------------------------------------------- stand-ins for the Iceberg catalog


class DictConf:
    """`spark.conf` of the container: the values of docker/spark/spark-defaults.conf."""

    def __init__(self, values: dict[str, str]):
        self.values = values

    def get(self, key, default=None):
        return self.values.get(key, default)


class Row:
    def __init__(self, snapshot_id):
        self.snapshot_id = snapshot_id


class Result:
    def __init__(self, row):
        self.row = row

    def first(self):
        return self.row


class RecordingWriter:
    """Stands in for DataFrameWriterV2: records the calls; createOrReplace keeps the frame."""

    def __init__(self, catalog: RecordingCatalog, frame, identifier: str):
        self.catalog, self.frame, self.identifier = catalog, frame, identifier
        self.calls: list[tuple] = [("writeTo", identifier)]

    def using(self, provider):
        self.calls.append(("using", provider))
        return self

    def tableProperty(self, key, value):  # noqa: N802 (Spark's name)
        self.calls.append(("tableProperty", key, value))
        return self

    def createOrReplace(self):  # noqa: N802
        self.calls.append(("createOrReplace",))
        # Materialized, as a committed table is: readers downstream do not recompute its lineage.
        self.catalog.tables[self.identifier] = self.frame
        self.catalog.writes.append(self.calls)


class RecordingCatalog:
    """A SparkSession whose reads are real and whose Iceberg catalog is a dict."""

    def __init__(self, spark=None, conf: dict[str, str] | None = None):
        self.spark = spark
        self.conf = DictConf(conf if conf is not None else spark_defaults(SPARK_DEFAULTS))
        self.tables: dict = {}
        self.writes: list[list[tuple]] = []
        self.statements: list[str] = []

    @property
    def read(self):
        return self.spark.read

    def table(self, identifier: str):
        return self.tables[identifier]

    def createDataFrame(self, *args, **kwargs):  # noqa: N802 (Spark's name)
        return self.spark.createDataFrame(*args, **kwargs)

    def sql(self, statement: str):
        self.statements.append(statement)
        if ".snapshots" in statement:
            return Result(Row(snapshot_id=len(self.writes)))
        return Result(None)


@pytest.fixture
def recording(spark, monkeypatch):
    catalog = RecordingCatalog(spark)
    frame_class = type(spark.range(1))
    monkeypatch.setattr(frame_class, "writeTo", lambda frame, identifier: RecordingWriter(catalog, frame, identifier))
    return catalog


T = 1_655_560_000_000  # epoch milliseconds in June 2022: a plausible reading time


def _write_landing(directory: Path) -> dict[str, int]:
    """Two customer files (one with an absent consent key and an unknown field), one file each
    for accelerometer and step trainer; returns the row counts."""
    customers = directory / "customer" / "landing"
    customers.mkdir(parents=True)
    (customers / "customer-1.json").write_text(
        json.dumps(
            {
                "customerName": "Ann",
                "email": "Ann@test.com",
                "phone": "1",
                "birthDay": "1967-01-01",
                "serialNumber": "s-1",
                "registrationDate": T + 10,
                "lastUpdateDate": T + 11,
                "shareWithResearchAsOfDate": T + 11,
                "shareWithPublicAsOfDate": T + 11,
                "shareWithFriendsAsOfDate": T + 11,
                "unexpected": "dropped",
            }
        )
        + "\n"
    )
    (customers / "customer-2.json").write_text(
        json.dumps(
            {
                "customerName": "Bob",
                "email": "bob@test.com",
                "phone": "2",
                "birthDay": "0967-01-01",
                "serialNumber": "s-2",
                "registrationDate": T + 20,
                "lastUpdateDate": T + 21,
            }
        )
        + "\n"
    )
    accelerometer = directory / "accelerometer" / "landing"
    accelerometer.mkdir(parents=True)
    (accelerometer / "accelerometer-1.json").write_text(
        "".join(
            json.dumps({"user": "ann@test.com", "timestamp": T + t, "x": 1.0, "y": 0.5, "z": -1.0}) + "\n"
            for t in (11, 12, 13)
        )
    )
    steps = directory / "step_trainer" / "landing"
    steps.mkdir(parents=True)
    (steps / "step_trainer-1.json").write_text(
        "".join(
            json.dumps({"sensorReadingTime": T + t, "serialNumber": "s-1", "distanceFromObject": 250}) + "\n"
            for t in (12, 13)
        )
    )
    return {"customer_landing": 2, "accelerometer_landing": 3, "step_trainer_landing": 2}


# ---------------------------------------------------------------- identifiers and configuration


def test_docker_io_uses_the_default_catalog_of_spark_defaults_with_glue_identifiers():
    io = runtime.docker_io(RecordingCatalog())
    house = lakehouse()
    assert io.catalog_name == docker_stack.CATALOG == "glue_catalog"
    assert io.identifier(house.table("customer_trusted")) == "glue_catalog.stedi.customer_trusted"
    assert {io.identifier(t) for t in house.tables.values()} == {
        f"glue_catalog.{house.namespace}.{name}" for name in house.tables
    }
    assert io.materialize_landing  # Trino reads Iceberg copies of the landing tables


def test_catalog_configuration_from_spark_defaults():
    conf = CatalogConf.from_conf(spark_defaults(SPARK_DEFAULTS).get)
    assert conf.name == docker_stack.CATALOG
    assert conf.uri == "http://iceberg-rest:8181"
    assert conf.path_style and conf.region == lakehouse().region
    client = conf.s3_client()
    assert client.meta.endpoint_url == conf.s3_endpoint
    assert client.meta.config.s3["addressing_style"] == "path"


def test_catalog_configuration_names_what_is_missing():
    with pytest.raises(LookupError, match="defaultCatalog"):
        CatalogConf.from_conf({}.get)
    with pytest.raises(LookupError, match=r"spark\.sql\.catalog\.glue_catalog\.uri"):
        CatalogConf.from_conf({"spark.sql.defaultCatalog": "glue_catalog"}.get)


def test_spark_defaults_parser_reads_java_property_separators(tmp_path):
    path = tmp_path / "spark-defaults.conf"
    path.write_text("# comment\n\nspark.a   1\nspark.b=two words\nspark.c: http://x:1\nspark.d\n")
    assert spark_defaults(path) == {"spark.a": "1", "spark.b": "two words", "spark.c": "http://x:1", "spark.d": ""}


def test_prepare_creates_the_namespace_the_rest_catalog_does_not_create():
    catalog = RecordingCatalog()
    docker_pipeline.prepare(catalog, docker_stack.CATALOG, lakehouse().namespace)
    assert catalog.statements == ["CREATE NAMESPACE IF NOT EXISTS glue_catalog.stedi"]


# ---------------------------------------------------------------- real Spark, real JSON


def test_landing_files_are_read_by_real_spark_through_the_intake(spark, recording, tmp_path):
    counts = _write_landing(tmp_path)
    (tmp_path / "customer" / "landing" / "customer-3.json").write_text('{"email": "x@test.com", "serialNumber": 7}\n')
    io = SparkCatalogIO(recording, docker_stack.CATALOG, tmp_path.as_uri(), materialize_landing=False)
    intake = io.intake("customer_landing")
    assert (intake.files, intake.records, intake.quarantined.num_rows) == (3, 3, 1)
    landed = io.land("customer_landing", intake)
    assert (landed.files, landed.rows, landed.snapshot_id) == (3, counts["customer_landing"], None)
    quarantine = recording.tables["glue_catalog.stedi.customer_landing_quarantine"].collect()
    assert [(Path(r.file).name, r.line, r.reason) for r in quarantine] == [
        ("customer-3.json", 1, '"serialNumber" is the number 7, expected a string')
    ]
    frame = io.read("customer_landing")  # Glue reads landing tables from their files: accepted records only
    assert frame.columns == lakehouse().table("customer_landing").column_names  # "unexpected" dropped
    consent = {r.email: r.shareWithResearchAsOfDate for r in frame.collect()}
    assert consent == {"Ann@test.com": T + 11, "bob@test.com": None}  # an absent key reads as NULL


def test_write_issues_create_or_replace_of_a_format_2_iceberg_table(spark, recording):
    frame = spark.createDataFrame([("a@b.c",)], "email STRING")
    written = SparkCatalogIO(recording, docker_stack.CATALOG, "file:///unused", materialize_landing=True).write(
        "customer_trusted", frame
    )
    assert written == Written(rows=1, snapshot_id=1)
    assert recording.writes == [
        [
            ("writeTo", "glue_catalog.stedi.customer_trusted"),
            ("using", "iceberg"),
            ("tableProperty", "format-version", "2"),
            ("createOrReplace",),
        ]
    ]
    assert recording.statements == [
        "SELECT snapshot_id FROM glue_catalog.stedi.customer_trusted.snapshots ORDER BY committed_at DESC LIMIT 1"
    ]


def test_landing_is_staged_from_s3_and_materialized_as_iceberg(spark, recording, tmp_path):
    from moto import mock_aws

    counts = _write_landing(tmp_path / "local")
    house = lakehouse()
    with mock_aws():
        import boto3

        client = boto3.client("s3", region_name=house.region)
        client.create_bucket(Bucket=house.bucket)
        client.put_object(Bucket=house.bucket, Key="customer/landing/stale.json", Body=b"{}\n")
        landing.upload(tmp_path / "local", client)  # as docker_stack.run_pipeline does from the host
        staged = docker_pipeline.stage_landing(client, tmp_path / "staged", house)
    local = sorted(p.relative_to(tmp_path / "local") for p in (tmp_path / "local").rglob("*.json"))
    assert sorted(p.relative_to(staged) for p in staged.rglob("*.json")) == local  # stale file deleted by upload

    io = runtime.docker_io(recording, landing_root=staged.as_uri())
    assert io.landing_root == staged.as_uri().rstrip("/")
    for name, rows in counts.items():
        landed = io.land(name, io.intake(name))
        assert (landed.files, landed.rows) == (1 + (name == "customer_landing"), rows)
        assert recording.tables[f"glue_catalog.stedi.{name}"].count() == rows
    assert [calls[0] for calls in recording.writes] == [
        ("writeTo", f"glue_catalog.stedi.{table}") for n in counts for table in (n, f"{n}_quarantine")
    ]


def test_the_container_entry_runs_the_whole_pipeline_through_the_spark_catalog(spark, recording, tmp_path, monkeypatch):
    from moto import mock_aws

    generated = synthetic.generate(tmp_path / "landing", customers=30, seed=7)
    house = lakehouse()
    monkeypatch.setattr(docker_pipeline, "STAGING", tmp_path / "staged")
    with mock_aws():
        import boto3

        client = boto3.client("s3", region_name=house.region)
        client.create_bucket(Bucket=house.bucket)
        landing.upload(tmp_path / "landing", client)
        monkeypatch.setattr(CatalogConf, "s3_client", lambda self: client)
        summary = docker_pipeline.run("strict", progress=lambda message: None, spark=recording)

    expected = {k: v for k, v in generated["expected"]["strict"].items() if k in house.tables}
    assert summary["tables"] == expected
    assert summary["catalog"] == docker_stack.CATALOG
    assert recording.statements[0] == "CREATE NAMESPACE IF NOT EXISTS glue_catalog.stedi"
    written = [calls[0][1] for calls in recording.writes]
    assert sorted(written) == sorted(f"glue_catalog.stedi.{name}" for name in house.queryable)
    assert all(
        calls[1:] == [("using", "iceberg"), ("tableProperty", "format-version", "2"), ("createOrReplace",)]
        for calls in recording.writes
    )


def test_the_summary_line_is_found_among_other_output():
    stdout = "noise\n" + docker_pipeline.SUMMARY_MARK + json.dumps({"tables": {"a": 1}}) + "\nmore noise\n"
    assert docker_stack.summary_from(stdout) == {"tables": {"a": 1}}
    with pytest.raises(docker_stack.DockerStackError, match="no run summary"):
        docker_stack.summary_from("nothing\n")


# ---------------------------------------------------------------- the host side


def test_compose_ps_output_of_old_and_new_compose_versions():
    new = (
        '{"Service":"s3","State":"running","Health":"healthy"}\n'
        '{"Service":"trino","State":"running","Health":"starting"}\n'
    )
    old = json.dumps([{"Service": "s3", "State": "running", "Health": "healthy"}])
    assert [e["Service"] for e in docker_stack.parse_ps(new)] == ["s3", "trino"]
    assert docker_stack.parse_ps(old) == [{"Service": "s3", "State": "running", "Health": "healthy"}]
    assert docker_stack.parse_ps("") == []
    states = {e["Service"]: e for e in docker_stack.parse_ps(new)}
    assert docker_stack.unhealthy(states) == ["iceberg-rest", "spark", "trino"]
    all_up = {name: {"State": "running", "Health": "healthy"} for name in docker_stack.SERVICES}
    assert docker_stack.healthy(all_up)


class _Fake(BaseHTTPRequestHandler):
    routes: dict = {}
    log: list = []

    def _answer(self):
        self.log.append((self.command, self.path))
        missing = (404, {"error": {"type": "NoSuchNamespaceException"}})
        status, body = self.routes.get((self.command, self.path), missing)
        payload = json.dumps(body(self) if callable(body) else body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_server():
    handler = type("Handler", (_Fake,), {"routes": {}, "log": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server, handler
    server.shutdown()
    server.server_close()


def test_tables_whose_files_s3_lost_are_dropped_from_the_catalog(fake_server):
    server, handler = fake_server
    url = f"http://127.0.0.1:{server.server_port}"
    tables = "/v1/namespaces/stedi/tables"
    handler.routes.update(
        {
            ("GET", "/v1/config"): (200, {"defaults": {}, "overrides": {}}),
            ("GET", tables): (
                200,
                {"identifiers": [{"namespace": ["stedi"], "name": "kept"}, {"namespace": ["stedi"], "name": "lost"}]},
            ),
            ("GET", f"{tables}/kept"): (200, {"metadata-location": "s3://b/m.json"}),
            ("GET", f"{tables}/lost"): (
                404,
                {
                    "error": {
                        "type": "NotFoundException",
                        "code": 404,
                        "message": "Location does not exist: s3://b/m.json",
                    }
                },
            ),
            ("DELETE", f"{tables}/lost"): (204, {}),
        }
    )
    assert docker_stack.drop_dangling_tables(url, "stedi") == ["lost"]
    assert [entry for entry in handler.log if entry[0] == "DELETE"] == [("DELETE", f"{tables}/lost")]
    assert docker_stack.drop_dangling_tables(url, "no_such_namespace") == []


def test_a_catalog_that_cannot_load_a_table_for_another_reason_is_not_touched(fake_server):
    server, handler = fake_server
    url = f"http://127.0.0.1:{server.server_port}"
    tables = "/v1/namespaces/stedi/tables"
    handler.routes.update(
        {
            ("GET", "/v1/config"): (200, {}),
            ("GET", tables): (200, {"identifiers": [{"namespace": ["stedi"], "name": "t"}]}),
            ("GET", f"{tables}/t"): (503, {"error": {"type": "ServiceUnavailableException", "message": "busy"}}),
        }
    )
    with pytest.raises(docker_stack.DockerStackError, match="cannot load stedi.t"):
        docker_stack.drop_dangling_tables(url, "stedi")
    assert not [entry for entry in handler.log if entry[0] == "DELETE"]


def test_trino_client_follows_next_uri_and_reports_errors(fake_server, monkeypatch):
    server, handler = fake_server
    base = f"http://127.0.0.1:{server.server_port}"
    monkeypatch.setenv(docker_stack.PORTS["trino"].env, str(server.server_port))

    def first(request):
        assert request.headers["X-Trino-Catalog"] == docker_stack.CATALOG
        assert request.headers["X-Trino-Schema"] == lakehouse().namespace
        length = int(request.headers["Content-Length"])
        assert request.rfile.read(length) == b"SELECT count(*) FROM machine_learning_curated"
        return {"id": "q1", "nextUri": f"{base}/v1/statement/q1/1"}

    handler.routes.update(
        {
            ("POST", "/v1/statement"): (200, first),
            ("GET", "/v1/statement/q1/1"): (
                200,
                {"columns": [{"name": "_col0"}], "data": [[43681]], "nextUri": f"{base}/v1/statement/q1/2"},
            ),
            ("GET", "/v1/statement/q1/2"): (200, {"columns": [{"name": "_col0"}]}),
        }
    )
    assert docker_stack.trino_query("SELECT count(*) FROM machine_learning_curated") == (["_col0"], [[43681]])

    handler.routes[("POST", "/v1/statement")] = (200, {"id": "q2", "error": {"message": "Table 'x' does not exist"}})
    with pytest.raises(docker_stack.DockerStackError, match="Table 'x' does not exist"):
        docker_stack.trino_query("SELECT * FROM x")


@no_engine
def test_without_an_engine_the_stack_is_not_up_and_the_pipeline_says_so():
    assert not docker_stack.engine_available()
    assert not docker_stack.is_up()
    with pytest.raises(docker_stack.DockerStackError) as raised:
        docker_stack.run_pipeline("strict")
    assert str(raised.value) == docker_stack.NOT_UP
    with pytest.raises(docker_stack.DockerStackError) as raised:
        docker_stack.up(progress=lambda message: None)
    assert str(raised.value) == docker_stack.NO_ENGINE


@no_engine
def test_docker_stack_up_without_an_engine_fails_with_one_sentence():
    result = subprocess.run(
        [sys.executable, "-m", "stedi.docker_stack", "up"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [f"stedi: error: {docker_stack.NO_ENGINE}"]
    assert "`make pipeline`" in docker_stack.NO_ENGINE and docker_stack.NO_ENGINE.count(". ") == 0


@no_engine
@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_up_without_an_engine_fails_at_once_with_one_sentence():
    # The engine check comes before anything else, so .venv is neither needed nor created.
    result = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "up",
            f"PYTHON={sys.executable}",
            "VENV=build/no-such-venv",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines[0] == f"stedi: error: {docker_stack.NO_ENGINE}"
    # make's own "Error 2" line ("make[1]: ***" when the suite itself runs under `make test`)
    assert all(re.match(r"make(\[\d+\])?: \*\*\*", line) for line in lines[1:]), lines
    assert not (ROOT / "build" / "no-such-venv").exists()


@no_engine
def test_docker_down_without_an_engine_is_a_quiet_no_op():
    result = subprocess.run(
        [sys.executable, "-m", "stedi.docker_stack", "down", "--if-up"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_the_glue_gates_job_validates_what_the_jobs_published_through_the_spark_catalog(
    spark, recording, tmp_path, key
):
    """spark_jobs/quality_gates.py as Glue runs it (landing read from its files, tables from the
    catalog, Spark frames into the gates), on the recorded catalog: only awsglue is missing here."""
    from pyspark.sql import functions as F

    from stedi.job import JobParams
    from stedi.verify import LakehouseInvalid, verify

    synthetic.generate(tmp_path / "landing", customers=30, seed=7)
    params = JobParams("strict", key)
    writer = SparkCatalogIO(recording, docker_stack.CATALOG, (tmp_path / "landing").as_uri(), materialize_landing=True)
    pipeline.run(writer, params)
    glue = SparkCatalogIO(recording, docker_stack.CATALOG, (tmp_path / "landing").as_uri(), materialize_landing=False)

    summary = verify(glue, params, docs_dir=tmp_path / "docs", spark=recording.spark, progress=lambda line: None)
    assert sorted(summary["tables"]) == sorted(lakehouse().tables)
    assert summary["quarantined"] == {
        f"{n}_quarantine": 0 for n in ("customer_landing", "accelerometer_landing", "step_trainer_landing")
    }
    assert (tmp_path / "docs" / "index.html").exists()

    curated = "glue_catalog.stedi.customers_curated"
    recording.tables[curated] = recording.tables[curated].withColumn("registrationDate", F.lit(5))
    with pytest.raises(LakehouseInvalid) as raised:
        verify(glue, params, docs_dir=tmp_path / "docs", spark=recording.spark, progress=lambda line: None)
    message = str(raised.value)
    assert message.startswith("the quality gates failed on 1 published table(s): stedi.customers_curated")
    assert "registrationDate" in message and f"Data Docs: {tmp_path / 'docs' / 'index.html'}" in message


def test_the_glue_entry_points_run_the_jobs_then_the_gates(spark, recording, tmp_path, key, capsys, monkeypatch):
    """The scripts as AWS Glue starts them. `awsglue` exists only inside Glue, so a stand-in
    provides GlueContext, Job and getResolvedOptions; everything else is the code Glue runs:
    the landing files through the intake, the jobs and the gates through SparkCatalogIO, the
    key from Secrets Manager and the Data Docs uploaded to S3 (both moto, in-process)."""
    import types

    from moto import mock_aws

    from stedi import settings
    from stedi.aws.jobs import job_order

    committed: list[str] = []
    glue_modules = {
        "awsglue": types.ModuleType("awsglue"),
        "awsglue.context": types.SimpleNamespace(GlueContext=lambda sc: types.SimpleNamespace(spark_session=recording)),
        "awsglue.job": types.SimpleNamespace(
            Job=lambda context: types.SimpleNamespace(
                init=lambda name, args: None, commit=lambda: committed.append("commit")
            )
        ),
        "awsglue.utils": types.SimpleNamespace(
            getResolvedOptions=lambda argv, names: {n: argv[argv.index(f"--{n}") + 1] for n in names}
        ),
    }
    for name, module in glue_modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setenv(settings.KEY_ENV, key.hex())  # restored afterwards: the entry point sets it
    generated = synthetic.generate(tmp_path / "landing", customers=30, seed=7)
    house = lakehouse()
    arguments = ["--JOB_NAME", "stedi-x", "--policy", "strict", "--landing_root", (tmp_path / "landing").as_uri()]
    arguments += ["--pseudonym_key_secret", "stedi/pseudonym-key", "--docs_uri", f"s3://{house.bucket}/data-docs/"]
    with mock_aws():
        import boto3

        boto3.client("secretsmanager", region_name=house.region).create_secret(
            Name="stedi/pseudonym-key", SecretString=key.hex()
        )
        s3 = boto3.client("s3", region_name=house.region)
        s3.create_bucket(Bucket=house.bucket)
        monkeypatch.setenv("AWS_DEFAULT_REGION", house.region)
        for job in job_order():
            module = __import__(f"spark_jobs.{job}", fromlist=["_"])
            if job == "quality_gates":
                runtime.run_gates_script([f"{job}.py", *arguments])
            else:
                module.JOB.main([f"{job}.py", *arguments])
        docs = [o["Key"] for o in s3.list_objects_v2(Bucket=house.bucket, Prefix="data-docs/")["Contents"]]

    lines = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    expected = generated["expected"]["strict"]
    assert [(r["output"], r["rows"]) for r in lines[:-1]] == [
        (t, expected[t])
        for t in (
            "customer_trusted",
            "accelerometer_trusted",
            "customers_curated",
            "step_trainer_trusted",
            "machine_learning_curated",
        )
    ]
    assert sorted(lines[-1]["tables"]) == sorted(house.tables)
    assert lines[-1]["docs"] == f"s3://{house.bucket}/data-docs/"
    assert "data-docs/index.html" in docs and len(committed) == 6
