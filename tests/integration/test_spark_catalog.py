"""The Glue code path for real: Spark writes through Iceberg's own catalog (`glue_catalog`:
GlueCatalog and S3FileIO from Iceberg 1.11's jars, resolved from Maven Central) on the embedded
stack's emulator, which serves the Glue Data Catalog API and S3 on one loopback port.

Every table is staged on an Iceberg branch, checked by its gate and published by fast-forwarding
`main` (CALL glue_catalog.system.fast_forward). The job scripts run here as AWS Glue runs them
(only `awsglue`, which exists inside Glue alone, is a stand-in), as `spark-submit` runs them, and
inside the Docker target's container code (on the emulator's Glue API, the same moto server the
Docker stack runs in a container).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from stedi import pipeline
from stedi.datasets import synthetic
from stedi.gates.verify import LakehouseInvalid
from stedi.lakehouse import STAGE_BRANCH
from stedi.lakehouse.glue_tables import register
from stedi.lakehouse.spark_io import SparkCatalogIO
from stedi.privacy import register as erasure_register
from stedi.runtime import jvm, settings
from stedi.runtime.params import JobParams, RunRequest
from stedi.runtime.spark import iceberg_session
from stedi.tables import lakehouse
from stedi.targets import container
from stedi.targets import embedded_stack as stack
from stedi.targets.embedded import EmbeddedTarget
from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    """A small generated data set through the whole pipeline on Spark's Iceberg catalog."""
    landing = tmp_path_factory.mktemp("spark-catalog") / "landing"
    made = synthetic.generate(landing, customers=60, seed=11)
    summary = pipeline.run_embedded(landing, "strict", table_io="spark")
    return {"landing": landing, "expected": made["expected"]["strict"], "summary": summary}


@pytest.fixture(scope="module")
def runtime(lake):
    return EmbeddedTarget().runtime("tests", JobParams.from_settings("strict"), gates=False, table_io="spark")


def spark_session(extra: dict[str, str] | None = None):
    """A session on the test JVM whose `glue_catalog` is the running stack's, as the runtime makes it."""
    from stedi.runtime.spark import local_session

    lake_stack = stack.require()
    session = iceberg_session(
        local_session("tests"),
        "glue_catalog",
        lake_stack.spark_catalog_properties(),
        lake_stack.spark_system_properties(),
    )
    for key, value in (extra or {}).items():
        session.conf.set(key, value)
    return session


def refs(io: SparkCatalogIO, name: str) -> dict[str, int]:
    identifier = io.identifier(lakehouse().table(name))
    return {r.name: r.snapshot_id for r in io.spark.sql(f"SELECT name, snapshot_id FROM {identifier}.refs").collect()}


def test_the_pipeline_ran_on_sparks_iceberg_catalog_registered_in_glue(lake):
    summary, house = lake["summary"], lakehouse()
    assert summary["table_io"] == "spark"
    assert summary["tables"] == {t: lake["expected"][t] for t in house.tables}
    glue = stack.require().client("glue")
    for table in house.queryable.values():
        entry = glue.get_table(DatabaseName=house.namespace, Name=table.name)["Table"]
        if table.zone == "landing" and table.quarantine_of is None:  # a JSON table, as `make deploy` registers it
            assert (
                entry["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
            )
            assert entry["StorageDescriptor"]["Location"] == f"s3://{house.bucket}/{house.landing_prefix(table)}"
        else:
            assert entry["Parameters"]["table_type"].upper() == "ICEBERG"
            assert entry["Parameters"]["metadata_location"].startswith(house.table_location(table) + "/metadata/")
    assert all(g["expectations"] > 0 for g in summary["gates"]["tables"].values())


def test_stedi_run_reruns_a_job_and_its_downstream_on_the_published_tables(lake):
    """`stedi run customer_trusted_to_curated` after that job's file was edited: it and the two
    jobs downstream of it publish new snapshots, each through its gate, with the same rows;
    the tables upstream keep theirs; no landing step; no green record; the Data Docs stay."""
    catalog, house = stack.require().catalog(), lakehouse()

    def heads() -> dict[str, int]:
        tables = {n: catalog.load_table((house.namespace, n)) for n in house.iceberg_tables}
        return {n: table.current_snapshot().snapshot_id for n, table in tables.items()}

    before, docs = heads(), Path(os.environ["STEDI_DOCS_DIR"]) / "index.html"
    docs_written = docs.stat().st_mtime_ns
    chosen = tuple(job.name for job in pipeline.downstream("customer_trusted_to_curated"))
    request = RunRequest(landing=lake["landing"], policy="strict", jobs=chosen)
    summary = pipeline.execute(EmbeddedTarget(), request)
    assert list(summary["jobs"]) == ["customer_trusted_to_curated", "step_trainer_trusted", "machine_learning_curated"]
    rerun = {pipeline_job.output.name for pipeline_job in pipeline.jobs() if pipeline_job.name in chosen}
    assert summary["tables"] == {t: lake["expected"][t] for t in rerun}
    assert set(summary["gates"]["tables"]) == rerun and summary["gates"]["docs"] is None
    assert "landing" not in summary and "green_record" not in summary
    after = heads()
    assert {t for t in house.iceberg_tables if after[t] != before[t]} == rerun
    assert docs.stat().st_mtime_ns == docs_written


def test_a_staged_table_is_invisible_until_published_and_a_discarded_one_leaves_nothing(runtime):
    io, name = runtime.io, "customer_trusted"
    table = lakehouse().table(name)
    published = io.read(name)
    rows, before = published.count(), refs(io, name)
    original = published.toArrow()

    staged = io.stage(table, published.limit(5))
    assert (staged.rows, io.staged_rows(staged).count()) == (5, 5)
    assert io.read(name).count() == rows and refs(io, name)["main"] == before["main"]
    assert refs(io, name)[STAGE_BRANCH] == staged.snapshot_id
    io.discard(staged)
    assert refs(io, name) == before and io.read(name).count() == rows

    staged = io.stage(table, io.read(name).limit(5))
    written = io.publish(staged)
    assert (written.rows, written.snapshot_id) == (5, staged.snapshot_id)
    assert refs(io, name) == {"main": staged.snapshot_id} and io.read(name).count() == 5
    io.publish(io.stage(table, original))  # as the pipeline left it
    assert io.read(name).count() == rows


def test_orphans_are_removed_by_icebergs_action_and_nothing_referenced_goes(runtime):
    """Iceberg's DeleteOrphanFiles (prefix listing on S3FileIO) against pyiceberg's reading of the
    same metadata: it removes what no snapshot refers to, and every referenced file stays."""
    from pyarrow import fs as pafs

    from stedi.lakehouse.pyiceberg_io import orphan_files

    io, house, lake_stack = runtime.io, lakehouse(), stack.require()
    fs, catalog = lake_stack.arrow_fs(), lake_stack.catalog()
    io.remove_orphan_files()  # whatever earlier tests in this session left
    location = house.table_location(house.table("accelerometer_trusted")).removeprefix("s3://")
    orphan = f"{location}/data/left-by-a-killed-run.parquet"
    with fs.open_output_stream(orphan) as out:
        out.write(b"PAR1 not a real file")
    counts = {name: io.read(name).count() for name in house.iceberg_tables}
    assert io.remove_orphan_files() == 1
    assert fs.get_file_info(orphan).type == pafs.FileType.NotFound
    for name in house.iceberg_tables:
        table = catalog.load_table((house.namespace, name))
        assert orphan_files(table, fs) == [], name
        assert io.read(name).count() == counts[name], name


def test_expiry_keeps_the_newest_snapshots_and_with_orphan_removal_leaves_no_stray_file(runtime):
    """The expiry deletes every data file the expired snapshots alone used, staged snapshots
    whose branch was dropped included (the incremental cleanup would leave those:
    apache/iceberg#12819), so a run needs no orphan removal after it. A metadata file of a commit
    whose outcome the catalog could not confirm may stay (about 5 KB, no rows); the orphan
    removal after an unfinished run takes those."""
    from stedi.lakehouse.pyiceberg_io import orphan_files

    io, house, lake_stack = runtime.io, lakehouse(), stack.require()
    counts = {name: io.read(name).count() for name in house.iceberg_tables}
    refused = io.stage(house.table("customers_curated"), io.read("customers_curated"))
    io.discard(refused)  # as a refusing gate does: the stage's files now belong to no branch
    assert io.expire_snapshots(keep=1) > 0
    for name, rows in counts.items():
        identifier = io.identifier(house.table(name))
        assert io.spark.sql(f"SELECT count(*) FROM {identifier}.snapshots").first()[0] == 1, name
        assert io.read(name).count() == rows, name
        table = lake_stack.catalog().load_table((house.namespace, name))
        left = orphan_files(table, lake_stack.arrow_fs())
        assert [path for path in left if "/metadata/" not in path] == [], name  # no data file, no manifest
        assert all(path.endswith(".metadata.json") for path in left), name
    io.remove_orphan_files()
    for name in counts:
        table = lake_stack.catalog().load_table((house.namespace, name))
        assert orphan_files(table, lake_stack.arrow_fs()) == [], name


def test_spark_submit_runs_a_job_script_as_glue_does_and_publishes_a_gated_snapshot(lake, runtime, tmp_path):
    """`spark-submit spark_jobs/<job>.py --policy strict` against the running stack."""
    before = refs(runtime.io, "customer_trusted")["main"]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env["STEDI_DOCS_DIR"] = str(tmp_path / "docs")  # the job's own gate writes its Data Docs here
    completed = subprocess.run(
        ["spark-submit", "spark_jobs/customer_landing_to_trusted.py", "--policy", "strict"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    # spark-submit passes the Python driver's stderr on through its own stdout
    assert "target: embedded (the embedded stack runs)" in completed.stdout + completed.stderr
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert (result["output"], result["rows"]) == ("customer_trusted", lake["expected"]["customer_trusted"])
    after = refs(runtime.io, "customer_trusted")
    assert after == {"main": result["snapshot_id"]} and result["snapshot_id"] != before
    pages = [p.name for p in (tmp_path / "docs" / "validations").rglob("*.html")]
    assert any(p.endswith("customer_trusted.html") for p in pages), pages


def test_the_docker_containers_pipeline_runs_through_the_spark_catalog(lake, tmp_path, monkeypatch):
    """stedi/targets/container.py as the Spark container runs it: landing files copied from the
    bucket, the landing JSON tables registered in the Glue API as the host registers them, every
    table gated. Its Glue API here is the embedded stack's (the Docker stack's is the same moto
    server in a container), under a namespace of its own so the two runs' tables do not meet."""
    declarations = tmp_path / "tables.toml"
    text = (PROJECT_ROOT / "catalog" / "tables.toml").read_text()
    text = text.replace('namespace = "stedi"', 'namespace = "stedi_docker"', 1)
    declarations.write_text(text.replace('warehouse_prefix = "warehouse"', 'warehouse_prefix = "warehouse-docker"', 1))
    monkeypatch.setenv("STEDI_TABLES", str(declarations))
    lakehouse.cache_clear()
    monkeypatch.setattr(container, "STAGING", tmp_path / "staged")
    monkeypatch.setattr(container, "CONTAINER_DOCS", str(tmp_path / "docs"))
    try:
        session = spark_session({"spark.sql.defaultCatalog": "glue_catalog"})
        house = lakehouse()
        register(stack.require().client("glue"), house, house.bucket)  # what `make up` and the host do
        messages: list[str] = []
        with container.open_run(RunRequest(policy="strict"), messages.append, spark=session) as runtime:
            summary = pipeline.run(runtime.io, runtime.params, messages.append, runtime.gate)
        assert (house.namespace, house.warehouse_prefix) == ("stedi_docker", "warehouse-docker")
        assert summary["tables"] == {t: lake["expected"][t] for t in house.tables}
        assert runtime.facts["catalog"] == "glue_catalog"
        glue_table = stack.require().client("glue").get_table(DatabaseName="stedi_docker", Name="customer_landing")
        assert glue_table["Table"]["Parameters"]["classification"] == "json"  # Trino reads it as Athena does
        assert sorted(summary["gates"]["tables"]) == sorted(house.queryable)
        assert (tmp_path / "docs" / "index.html").exists()
    finally:
        lakehouse.cache_clear()


@pytest.fixture
def glue(monkeypatch, key):
    """`awsglue` as a stand-in (it exists inside AWS Glue only), over a real session on the stack's
    Glue catalog; boto3 (Secrets Manager, S3) on the same emulator."""
    lake_stack = stack.require()
    session = spark_session()
    committed: list[str] = []
    modules = {
        "awsglue": types.ModuleType("awsglue"),
        "awsglue.context": types.SimpleNamespace(GlueContext=lambda sc: types.SimpleNamespace(spark_session=session)),
        "awsglue.job": types.SimpleNamespace(
            Job=lambda context: types.SimpleNamespace(init=lambda name, args: None, commit=lambda: committed.append(1))
        ),
        "awsglue.utils": types.SimpleNamespace(
            getResolvedOptions=lambda argv, names: {n: argv[argv.index(f"--{n}") + 1] for n in names}
        ),
    }
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setenv("AWS_ENDPOINT_URL", lake_stack.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", lake_stack.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", lake_stack.secret_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", lakehouse().region)
    monkeypatch.setenv(settings.KEY_ENV, key.hex())  # restored afterwards: the entry point sets it
    # restored afterwards too: a job takes the register from --erasures_uri into a directory of its own
    monkeypatch.setenv(erasure_register.DIR_ENV, os.environ.get(erasure_register.DIR_ENV, ""))
    lake_stack.client("secretsmanager").create_secret(Name="stedi/pseudonym-key-test", SecretString=key.hex())
    yield types.SimpleNamespace(session=session, committed=committed, stack=lake_stack)
    lake_stack.client("secretsmanager").delete_secret(
        SecretId="stedi/pseudonym-key-test", ForceDeleteWithoutRecovery=True
    )


def test_the_glue_entry_points_gate_each_job_before_publishing_then_verify(lake, glue, capsys):
    """The five scripts and the gates job as AWS Glue starts them, in the deployed order."""
    from stedi import script
    from stedi.aws.jobs import job_order

    house = lakehouse()
    arguments = ["--JOB_NAME", "stedi-x", "--policy", "strict", "--landing_root", lake["landing"].as_uri()]
    arguments += ["--pseudonym_key_secret", "stedi/pseudonym-key-test", "--docs_uri", f"s3://{house.bucket}/data-docs/"]
    arguments += ["--erasures_uri", f"s3://{house.bucket}/privacy/erasures.jsonl"]  # none yet: nobody erased
    for job in job_order():
        if job == "quality_gates":
            script.run_gates_script([f"{job}.py", *arguments])
        else:
            __import__(f"spark_jobs.{job}", fromlist=["_"]).JOB.main([f"{job}.py", *arguments])
    lines = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    expected = lake["expected"]
    assert [(r["output"], r["rows"]) for r in lines[:-1]] == [
        (j.output.name, expected[j.output.name]) for j in pipeline.jobs()
    ]
    gates = lines[-1]
    # the `lake` pipeline run published stedi.erasures, so the gates job checks it too
    assert sorted(gates["tables"]) == sorted(house.queryable)
    assert gates["quarantined"] == {f"{t.name}_quarantine": 0 for t in house.zone("landing")}
    assert len(glue.committed) == len(job_order())
    docs = glue.stack.s3_client().list_objects_v2(Bucket=house.bucket, Prefix="data-docs/")["Contents"]
    assert "data-docs/index.html" in {o["Key"] for o in docs}


def test_the_glue_gates_job_names_a_tampered_table(lake, glue, runtime, tmp_path):
    from stedi.gates.verify import verify
    from stedi.targets.aws import AwsTarget

    io, name = runtime.io, "customers_curated"
    original = io.read(name).toArrow()
    arguments = ["x.py", "--JOB_NAME", "x", "--policy", "strict", "--landing_root", lake["landing"].as_uri()]
    glue_runtime = AwsTarget().runtime("gates", argv=[*arguments, "--pseudonym_key_secret", "stedi/pseudonym-key-test"])
    from pyspark.sql import functions as F

    io.replace(lakehouse().table(name), io.read(name).withColumn("registrationDate", F.lit(5)))
    try:
        with pytest.raises(LakehouseInvalid) as raised:
            verify(
                glue_runtime.io,
                glue_runtime.params,
                docs_dir=tmp_path / "docs",
                spark=glue.session,
                progress=lambda line: None,
            )
    finally:
        io.replace(lakehouse().table(name), original)
    message = str(raised.value)
    assert message.startswith("the quality gates failed on 1 published table(s): stedi.customers_curated")
    assert "registrationDate" in message and f"Data Docs: {tmp_path / 'docs' / 'index.html'}" in message


def test_the_jar_lock_holds_the_checksums_of_the_jars_spark_loads():
    locked = {j.file: j.sha256 for j in jvm.locked()}
    resolved = jvm.iceberg_jars()
    assert resolved is not None, "Maven is on this machine: the jars come from its local repository"
    assert {p.name: jvm.sha256(p) for p in resolved} == locked
    assert set(locked) == {"iceberg-spark-runtime-4.1_2.13-1.11.0.jar", "iceberg-aws-bundle-1.11.0.jar"}


def _path_without_maven(tmp_path: Path) -> str:
    """The PATH of this machine, but for Maven: the programs of each entry, linked into one folder."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for entry in [str(Path(sys.executable).parent), *os.environ["PATH"].split(os.pathsep)]:
        for program in Path(entry).glob("*") if Path(entry).is_dir() else []:
            target = folder / program.name
            if not program.name.startswith("mvn") and not target.exists():
                target.symlink_to(program)
    return str(folder)


def test_without_maven_sparks_own_resolver_fetches_the_locked_jars(tmp_path):
    """No `mvn` on the PATH: `spark.jars.packages` (Ivy) resolves the same coordinates into the
    cache and the files are checked against the lock before the session is handed out."""
    code = (
        "from stedi.runtime.spark import local_session, has_iceberg; "
        "s = local_session('no-maven'); "
        "print('ICEBERG', has_iceberg(s), s._jvm.org.apache.iceberg.spark.SparkCatalog().getClass().getName())"
    )
    env = {**os.environ, "PATH": _path_without_maven(tmp_path), "STEDI_CACHE": str(tmp_path / "cache")}
    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "ICEBERG True org.apache.iceberg.spark.SparkCatalog" in completed.stdout
    fetched = sorted(p.name for p in (tmp_path / "cache" / "ivy" / "jars").glob("*.jar"))
    assert fetched == [f"org.apache.iceberg_{j.file}" for j in sorted(jvm.locked(), key=lambda j: j.file)]


def test_offline_with_nothing_cached_the_pipeline_says_so_and_runs_on_the_bridge(tmp_path):
    """A machine cut off from Maven Central, with no jar cached: one sentence names what is
    missing, and the embedded stack runs on the pyiceberg bridge, with the same gates."""
    from tests.unit.test_jvm import offline_maven

    env = {**os.environ, **offline_maven(tmp_path / "home"), "STEDI_CACHE": str(tmp_path / "cache")}
    completed = subprocess.run(
        [sys.executable, "-m", "stedi.cli", "pipeline", "--customers", "40", "--seed", "3"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    out = completed.stdout
    warning = next(line for line in out.splitlines() if "warning: the Iceberg jars for Spark" in line)
    assert "Maven could not fetch them" in warning and "offline mode" in warning
    assert "runs on the pyiceberg bridge instead" in warning
    assert "table I/O: the pyiceberg bridge" in out and "quality gates: 12 tables" in out
