"""The pipeline inside the Docker stack's Spark container.

The docker target (stedi/targets/docker.py) uploads the landing files to the stack's S3 bucket,
then runs `stedi pipeline --target docker --key-stdin --summary -` in the Spark container. There
the docker target opens the run here (`open_run`): the same landing step and five jobs as on the
embedded stack, through the same gate flow, with Spark's own Iceberg catalog (`container_runtime`):
the catalog named in spark-defaults.conf (`glue_catalog`, Iceberg's GlueCatalog on the stack's Glue
API), so table identifiers and the catalog are those of AWS Glue. The landing tables are the Glue
JSON tables the host registered (stedi/lakehouse/glue_tables.py), as on the embedded stack.

Spark runs as a standalone cluster: this driver in the `spark` container next to the master, the
executors in the `spark-worker` containers. The landing JSON is copied from S3 into the driver's
container (boto3) and read there by the intake, as the embedded stack's intake reads it on its
driver, under the objects' `s3://` names; its accepted records reach the executors as Spark
frames. (Spark reads `s3a://` only with hadoop-aws and the 600 MB AWS SDK bundle, which the image
does not carry; Iceberg's own S3FileIO, from iceberg-aws-bundle, serves the tables.)

Also the containers' health checks (`--check` for the master, `--check-worker`), the count of the
master's live workers (`--workers`), and the Spark half of `make smoke` (`--smoke`). Nothing at
module level imports Spark: a health check must answer in well under a second.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

STAGING = Path("/tmp/stedi-landing")
MASTER_UI = "http://127.0.0.1:8080/json/"  # the standalone master's status, in the `spark` container
WORKER_UI = "http://127.0.0.1:8081/json/"  # a worker's, in each `spark-worker` container
CONTAINER_DOCS = "/tmp/stedi/data-docs"  # where the gates write the Data Docs inside the container
SMOKE_NAMESPACE = "stedi_smoke"
SMOKE_TABLE = "spark_check"


def conf_dir() -> Path:
    """Where spark-submit reads spark-defaults.conf (SPARK_CONF_DIR, else $SPARK_HOME/conf)."""
    if os.environ.get("SPARK_CONF_DIR"):
        return Path(os.environ["SPARK_CONF_DIR"])
    return Path(os.environ.get("SPARK_HOME", "/opt/spark")) / "conf"


def spark_defaults(path: Path | None = None) -> dict[str, str]:
    """A spark-defaults.conf as a dict: `key value` per line (or `key=value`), `#` comments."""
    path = path or conf_dir() / "spark-defaults.conf"
    conf = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            key, value = _PROPERTY.match(line).groups()
            conf[key] = value.strip()
    return conf


_PROPERTY = re.compile(r"([^\s=:]+)\s*[=:\s]?\s*(.*)$")  # Java properties: key, then = : or blanks


@dataclass(frozen=True)
class CatalogConf:
    """The default Iceberg catalog of a Spark configuration, and the S3 it writes to."""

    name: str
    uri: str
    warehouse: str
    s3_endpoint: str
    access_key: str
    secret_key: str
    region: str
    path_style: bool

    @classmethod
    def from_conf(cls, get: Callable[[str], str | None]) -> CatalogConf:
        """`get` is `dict.get` over spark-defaults.conf, or a live session's `spark.conf.get`."""
        name = get("spark.sql.defaultCatalog")
        if not name or name == "spark_catalog":
            raise LookupError("spark.sql.defaultCatalog does not name an Iceberg catalog")
        prefix = f"spark.sql.catalog.{name}."

        def option(key: str) -> str:
            value = get(prefix + key)
            if value is None:
                raise LookupError(f"Spark configuration lacks {prefix}{key}")
            return value

        glue = get(prefix + "glue.endpoint")  # Iceberg's GlueCatalog (the embedded stack's, in the tests)
        return cls(
            name=name,
            uri=glue if glue and get(prefix + "uri") is None else option("uri"),
            warehouse=option("warehouse"),
            s3_endpoint=option("s3.endpoint"),
            access_key=option("s3.access-key-id"),
            secret_key=option("s3.secret-access-key"),
            region=option("client.region"),
            path_style=option("s3.path-style-access").lower() == "true",
        )

    def s3_client(self):
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.s3_endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
            config=Config(s3={"addressing_style": "path" if self.path_style else "auto"}),
        )


def _session_getter(spark) -> Callable[[str], str | None]:
    return lambda key: spark.conf.get(key, None)


def stage_landing(s3_client, dest: Path = STAGING, house=None) -> Path:
    """Copy every landing object from the bucket into `dest`, laid out like the bucket.

    `dest` is emptied first, so files deleted from the landing zone do not linger.
    """
    from stedi.tables import lakehouse

    house = house or lakehouse()
    if dest.exists():
        shutil.rmtree(dest)
    for table in house.zone("landing"):
        prefix = house.landing_prefix(table)
        pages = s3_client.get_paginator("list_objects_v2").paginate(Bucket=house.bucket, Prefix=prefix)
        for page in pages:
            for obj in page.get("Contents", []):
                key = obj["Key"]
                if key.endswith("/"):
                    continue
                target = dest / key
                target.parent.mkdir(parents=True, exist_ok=True)
                s3_client.download_file(house.bucket, key, str(target))
    return dest


def staged_files(root: Path, bucket: str, house=None):
    """The landing reader over `stage_landing`'s copy: (s3 path, bytes) of every file under a landing
    table's prefix, in key order, as LandingReader gives them on the embedded stack."""
    from stedi.tables import lakehouse

    house = house or lakehouse()

    def read(table):
        folder = root / house.landing_prefix(table)
        for path in sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []:
            yield f"s3://{bucket}/{path.relative_to(root).as_posix()}", path.read_bytes()

    return read


def prepare(spark, catalog: str, namespace: str) -> None:
    """The Glue catalog creates no database on its own."""
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {catalog}.{namespace}")


def container_runtime(
    app: str, params, *, gates: bool = True, spark=None, landing_root: str | None = None, progress=None
):
    """The docker target's runtime, inside the Spark container: the session spark-defaults.conf
    configures, Spark's Iceberg catalog, the landing files copied from the stack's bucket, and
    the quality gate (its Data Docs under /tmp/stedi/data-docs, copied to the host after a run)."""
    from pyspark.sql import SparkSession

    from stedi.gates.gate import new_gate
    from stedi.lakehouse.spark_io import SparkCatalogIO
    from stedi.tables import lakehouse
    from stedi.targets.base import Runtime

    progress = progress or (lambda line: None)
    house = lakehouse()
    spark = spark or SparkSession.builder.appName(app).getOrCreate()
    conf = CatalogConf.from_conf(_session_getter(spark))
    landing = None
    if landing_root is None:
        landing = stage_landing(conf.s3_client(), STAGING, house)
        landing_root = f"s3://{house.bucket}"
        progress(f"staged s3://{house.bucket} landing files in the driver's container")
    elif landing_root.startswith("file:"):
        landing = Path(landing_root.removeprefix("file://"))
    files = staged_files(landing, house.bucket, house) if landing else None
    io = SparkCatalogIO(spark, conf.name, landing_root, landing_files=files)
    io.prepare()
    gate = new_gate(params, io, landing, docs_dir=Path(CONTAINER_DOCS), spark=spark) if gates else None
    facts = {"target": "docker", "catalog": conf.name, "catalog_uri": conf.uri, "warehouse": conf.warehouse}
    return Runtime("docker", spark, io, params, gate, facts=facts)


@contextmanager
def open_run(request, progress, spark=None):
    """A pipeline run in the container: the Spark session and the stack's landing files."""
    from stedi.runtime.params import JobParams

    params = JobParams.from_settings(request.policy)
    runtime = container_runtime("stedi-pipeline", params, gates=request.gates, spark=spark, progress=progress)
    _reclaim(runtime.spark, progress)
    context = runtime.spark.sparkContext
    executors = _wait_for_executors(context)
    progress(f"Spark {context.version} driver in the container, master {context.master}, {executors} executors")
    yield runtime


def _reclaim(spark, progress) -> None:
    """Tables of Glue Studio scripts run in this container (`stedi glue run --target docker`) may have
    taken the pipeline's names: it takes them back, as on the embedded stack."""
    import boto3

    from stedi.lakehouse.glue_tables import reclaim
    from stedi.runtime import settings

    conf = CatalogConf.from_conf(_session_getter(spark))
    glue = boto3.client("glue", endpoint_url=conf.uri, aws_access_key_id=conf.access_key,
                        aws_secret_access_key=conf.secret_key, region_name=conf.region)
    reclaim(glue, settings.state_home(), progress)


def _wait_for_executors(context, timeout: float = 60) -> int:
    """Executors register with the driver a moment after the session exists: wait (bounded) until
    every live worker of the master (in this container) has given one; returns how many did."""
    import time

    def registered() -> int:
        return context._jsc.sc().getExecutorMemoryStatus().size() - 1  # the driver counts itself

    if not context.master.startswith("spark://"):
        return registered()
    deadline = time.monotonic() + timeout
    try:
        wanted = alive_workers()
    except (OSError, ValueError):
        wanted = 1
    while registered() < wanted and time.monotonic() < deadline:
        time.sleep(0.2)
    return registered()


def smoke(spark=None) -> dict:
    """Spark's half of `make smoke`: write a 3-row Iceberg table and read it back."""
    from pyspark.sql import SparkSession

    spark = spark or SparkSession.builder.appName("stedi-smoke").getOrCreate()
    conf = CatalogConf.from_conf(_session_getter(spark))
    prepare(spark, conf.name, SMOKE_NAMESPACE)
    identifier = f"{conf.name}.{SMOKE_NAMESPACE}.{SMOKE_TABLE}"
    frame = spark.createDataFrame([(1, "one"), (2, "two"), (3, "three")], "id INT, label STRING")
    frame.writeTo(identifier).using("iceberg").tableProperty("format-version", "2").createOrReplace()
    rows = spark.table(identifier).count()
    location = spark.sql(f"SELECT file_path FROM {identifier}.files LIMIT 1").first().file_path
    return {"table": identifier, "rows": rows, "data_file": location}


def check(conf_path: Path | None = None) -> str | None:
    """The container's health check: None when healthy, else the reason."""
    conf_path = conf_path or conf_dir() / "spark-defaults.conf"
    try:
        conf = CatalogConf.from_conf(spark_defaults(conf_path).get)
    except (OSError, LookupError) as error:
        return f"Spark configuration: {error}"
    jars = Path(os.environ.get("SPARK_HOME", "/opt/spark")) / "jars"
    lock = conf_path.parent / "jars.lock"
    if lock.exists():
        for line in lock.read_text().splitlines():
            fields = line.split()
            if len(fields) >= 2 and not line.startswith("#") and not (jars / fields[1]).exists():
                return f"{fields[1]} is missing from {jars}"
    try:
        with urllib.request.urlopen(conf.uri, timeout=5):
            pass
    except urllib.error.HTTPError:
        pass  # it answers: the Glue API refuses a bare GET, which is all a health check needs
    except (urllib.error.URLError, OSError) as error:
        return f"the Glue Data Catalog API at {conf.uri} does not answer: {error}"
    return None


def _status(url: str, timeout: float = 5) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


def master_check() -> str | None:
    """The master container's health: the checks above, and the master alive."""
    problem = check()
    if problem:
        return problem
    try:
        state = _status(MASTER_UI)
    except (OSError, ValueError) as error:
        return f"the Spark master does not answer at {MASTER_UI}: {error}"
    return None if state.get("status") == "ALIVE" else f"the Spark master is {state.get('status')}"


def worker_check() -> str | None:
    """A worker container's health: it runs and the master lists it alive."""
    try:
        worker = _status(WORKER_UI)
        master = _status(worker["masterwebuiurl"].rstrip("/") + "/json/")
    except (OSError, ValueError, KeyError) as error:
        return f"the worker or its master does not answer: {error}"
    alive = {w.get("id") for w in master.get("workers", []) if w.get("state") == "ALIVE"}
    return None if worker.get("id") in alive else f"worker {worker.get('id')} is not registered with the master"


def alive_workers() -> int:
    return int(_status(MASTER_UI).get("aliveworkers", 0))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stedi.targets.container", description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="health check of the master (and driver) container")
    mode.add_argument("--check-worker", action="store_true", help="health check of a worker container")
    mode.add_argument("--workers", action="store_true", help="print how many workers the master has alive")
    mode.add_argument("--smoke", action="store_true", help="write and read back a small Iceberg table")
    args = parser.parse_args(argv)

    if args.check or args.check_worker:
        problem = master_check() if args.check else worker_check()
        if problem:
            print(f"unhealthy: {problem}", file=sys.stderr)
            return 1
        return 0
    if args.workers:
        print(alive_workers())
        return 0
    from stedi.runtime.progress import SUMMARY_MARK

    print(SUMMARY_MARK + json.dumps(smoke()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
