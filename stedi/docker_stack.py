"""The Docker Compose stack: LocalStack S3, an Iceberg REST catalog, Spark and Trino on 127.0.0.1.

The same landing step and five jobs as the embedded stack run in the stack's Spark container
(`stedi.docker_pipeline`), through Spark's Iceberg catalog instead of pyiceberg; Trino answers
SQL as Athena does. This module drives the stack from the host: start, stop, health, running the
pipeline, the smoke test, and Trino's connection parameters. Everything it needs is the `docker`
CLI with the Compose v2 plugin; without an engine every command says so in one sentence.

The values shared by the services live in the files they configure (docker-compose.yml,
docker/spark/spark-defaults.conf, docker/trino/catalog/*.properties) and in catalog/tables.toml;
tests/unit/test_compose.py holds them equal to each other and to the constants below.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

PROJECT = "stedi-lakehouse"  # the compose project (`name:` in docker-compose.yml)
HOST = "127.0.0.1"  # every published port is bound to loopback
CATALOG = "glue_catalog"  # the Spark and Trino catalog name: identifiers as on AWS Glue (stedi/runtime.py)
ACCESS_KEY = "test"  # LocalStack's dummy credentials; never real ones
SECRET_KEY = "test"
TRINO_USER = "stedi"
SERVICES = ("s3", "iceberg-rest", "spark", "trino")

NO_ENGINE = (
    "Docker is not running here: the Docker stack needs a Docker engine; "
    "`make pipeline` runs the same jobs on the embedded stack without Docker"
)
NO_COMPOSE = (
    "Docker Compose v2 is not installed here: the Docker stack needs the `docker compose` plugin; "
    "`make pipeline` runs the same jobs on the embedded stack without Docker"
)
NOT_UP = "the Docker stack is not running: start it with `make up`, or run `make pipeline` without it"


class DockerStackError(RuntimeError):
    """The Docker stack cannot do what was asked; the message is one sentence saying what to do."""


@dataclass(frozen=True)
class Port:
    """A port published on 127.0.0.1: the service's own port and the host port (env overridable)."""

    service: str
    container: int
    default: int
    env: str

    @property
    def host(self) -> int:
        value = os.environ.get(self.env)
        return int(value) if value and value.isdigit() else self.default


# The published ports, in one place. docker-compose.yml maps "127.0.0.1:${env:-default}:container".
PORTS = {
    "s3": Port("s3", 4566, 4566, "STEDI_DOCKER_S3_PORT"),
    "iceberg-rest": Port("iceberg-rest", 8181, 8181, "STEDI_DOCKER_CATALOG_PORT"),
    "trino": Port("trino", 8080, 8080, "STEDI_DOCKER_TRINO_PORT"),
}


def compose_file() -> Path:
    from stedi import settings

    return settings.project_root() / "docker-compose.yml"


# ---------------------------------------------------------------- engine and compose


def engine_available() -> bool:
    """Whether a Docker engine answers (`docker info` succeeds)."""
    docker = shutil.which("docker")
    if not docker:
        return False
    try:
        result = subprocess.run(
            [docker, "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0 and bool(result.stdout.strip())


def compose_available() -> bool:
    try:
        result = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def require_engine() -> None:
    if not engine_available():
        raise DockerStackError(NO_ENGINE)
    if not compose_available():
        raise DockerStackError(NO_COMPOSE)


def compose_command(*args: str) -> list[str]:
    root = compose_file().parent
    return ["docker", "compose", "--project-directory", str(root), "--file", str(compose_file()), *args]


def _compose(*args: str, capture: bool = True, timeout: float | None = 120) -> subprocess.CompletedProcess:
    return subprocess.run(compose_command(*args), capture_output=capture, text=True, timeout=timeout)


def parse_ps(output: str) -> list[dict]:
    """`docker compose ps --format json`: a JSON array (Compose < 2.21) or one object per line."""
    text = output.strip()
    if not text:
        return []
    if text.startswith("["):
        return json.loads(text)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def service_states() -> dict[str, dict]:
    """Each service's container state, by service name (empty when nothing was started)."""
    result = _compose("ps", "--all", "--format", "json")
    if result.returncode != 0:
        raise DockerStackError(f"`docker compose ps` failed: {result.stderr.strip().splitlines()[-1:]}")
    return {entry.get("Service", ""): entry for entry in parse_ps(result.stdout)}


def unhealthy(states: dict[str, dict]) -> list[str]:
    """The services that are not running with a healthy health check."""
    return [
        name
        for name in SERVICES
        if not (states.get(name, {}).get("State") == "running" and states.get(name, {}).get("Health") == "healthy")
    ]


def healthy(states: dict[str, dict]) -> bool:
    return not unhealthy(states)


def is_up() -> bool:
    """Whether every service of the stack runs and is healthy. Never raises."""
    if not (engine_available() and compose_available()):
        return False
    try:
        return healthy(service_states())
    except (DockerStackError, OSError, ValueError, subprocess.TimeoutExpired):
        return False


# ---------------------------------------------------------------- endpoints


def published_port(service: str) -> int:
    """The host port of a service: asked of Compose when the stack runs, else the configured one."""
    port = PORTS[service]
    try:
        result = _compose("port", service, str(port.container), timeout=30)
        if result.returncode == 0 and result.stdout.strip():
            return int(result.stdout.strip().splitlines()[0].rsplit(":", 1)[1])
    except (OSError, ValueError, IndexError, subprocess.TimeoutExpired):
        pass
    return port.host


def s3_endpoint() -> str:
    return f"http://{HOST}:{published_port('s3')}"


def catalog_url() -> str:
    return f"http://{HOST}:{published_port('iceberg-rest')}"


def trino_url() -> str:
    return f"http://{HOST}:{published_port('trino')}"


def s3_client(endpoint: str | None = None):
    import boto3
    from botocore.config import Config

    from stedi.tables import lakehouse

    return boto3.client(
        "s3",
        endpoint_url=endpoint or s3_endpoint(),
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name=lakehouse().region,
        config=Config(s3={"addressing_style": "path"}),
    )


def trino_connection() -> dict:
    """Connection parameters for Trino, as `trino.dbapi.connect(**trino_connection())` takes them.

    Catalog `glue_catalog` and schema `stedi` are the defaults, so `SELECT count(*) FROM
    machine_learning_curated` works as it does in Athena with database `stedi`.
    """
    from stedi.tables import lakehouse

    return {
        "host": HOST,
        "port": published_port("trino"),
        "user": TRINO_USER,
        "catalog": CATALOG,
        "schema": lakehouse().namespace,
        "http_scheme": "http",
    }


# ---------------------------------------------------------------- life cycle


def up(progress=print) -> list[str]:
    """Build and start the stack, wait until every service is healthy; returns the tables
    dropped from the catalog because S3 lost their files (see `drop_dangling_tables`)."""
    require_engine()
    progress("starting the Docker stack (first start builds the Spark image and pulls ~3 GB of images)")
    result = _compose("up", "--detach", "--build", "--wait", "--wait-timeout", "900", capture=False, timeout=None)
    if result.returncode != 0:
        raise DockerStackError(
            "the Docker stack did not become healthy: see `docker compose logs` (Compose's messages are above)"
        )
    return reconcile(progress)


def down(volumes: bool = False) -> None:
    """Stop and remove the containers; `volumes` also deletes the catalog's volume."""
    require_engine()
    args = ["down", "--remove-orphans"] + (["--volumes"] if volumes else [])
    result = _compose(*args, capture=False, timeout=300)
    if result.returncode != 0:
        raise DockerStackError("`docker compose down` failed: its messages are above")


def reconcile(progress=print) -> list[str]:
    from stedi.tables import lakehouse

    dropped = drop_dangling_tables(catalog_url(), lakehouse().namespace)
    if dropped:
        progress(
            f"dropped {len(dropped)} tables from the Iceberg catalog whose files LocalStack lost when it "
            f"restarted (its free edition keeps S3 in memory): {', '.join(dropped)}; `make pipeline` rebuilds them"
        )
    return dropped


def drop_dangling_tables(catalog: str, namespace: str) -> list[str]:
    """Unregister the tables whose metadata files are gone.

    The catalog's database is on a volume and survives restarts; LocalStack's free edition keeps
    S3 in memory, so after `make down` and `make up` the catalog would point at files that no
    longer exist, and every job writing those tables would fail. A table that the catalog lists
    but cannot load (HTTP 404: its metadata file is missing) is dropped without purge.
    """
    base = _rest_namespace_url(catalog, namespace) + "/tables"
    status, body = _http("GET", base)
    if status == 404:
        return []  # no namespace yet
    if status != 200:
        raise DockerStackError(f"the Iceberg catalog at {catalog} answered HTTP {status} when listing {namespace}")
    dropped = []
    for identifier in body.get("identifiers", []):
        name = identifier["name"]
        table_url = f"{base}/{urllib.parse.quote(name)}"
        status, body_ = _http("GET", table_url)
        if status == 200:
            continue
        if not _missing_metadata(status, body_):
            raise DockerStackError(
                f"the Iceberg catalog cannot load {namespace}.{name}: HTTP {status} {_message(body_)}"
            )
        status, body_ = _http("DELETE", table_url)
        if status not in (200, 204):
            raise DockerStackError(f"the Iceberg catalog could not drop {namespace}.{name}: HTTP {status}")
        dropped.append(name)
    return dropped


def _rest_namespace_url(catalog: str, namespace: str) -> str:
    status, config = _http("GET", f"{catalog}/v1/config")
    if status != 200:
        raise DockerStackError(f"the Iceberg catalog at {catalog} answered HTTP {status}")
    prefix = {**config.get("defaults", {}), **config.get("overrides", {})}.get("prefix")
    root = f"{catalog}/v1/{prefix}" if prefix else f"{catalog}/v1"
    return f"{root}/namespaces/{urllib.parse.quote(namespace)}"


def _missing_metadata(status: int, body: dict) -> bool:
    message = _message(body)
    return status == 404 or (status >= 500 and any(s in message for s in ("NotFound", "NoSuchKey", "does not exist")))


def _message(body: dict) -> str:
    error = body.get("error", {}) if isinstance(body, dict) else {}
    return f"{error.get('type', '')}: {error.get('message', '')}".strip(": ")


def _http(
    method: str, url: str, data: bytes | None = None, headers: dict | None = None, timeout: float = 30
) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        payload, status = error.read(), error.code
    except (urllib.error.URLError, OSError) as error:
        raise DockerStackError(f"{url} does not answer ({error}): is the Docker stack up (`make up`)?") from None
    try:
        return status, json.loads(payload) if payload else {}
    except ValueError:
        return status, {"error": {"message": payload[:200].decode(errors="replace")}}


# ---------------------------------------------------------------- pipeline, queries, smoke


def run_pipeline(
    policy: str,
    landing_dir: Path | None = None,
    progress=None,
    seed: int = 42,
    customers: int = 1000,
    max_quarantine: float | None = None,
) -> dict:
    """Upload the landing files to the stack's bucket and run landing + five jobs in the Spark
    container; returns the run summary (same shape as the embedded pipeline's)."""
    from stedi import landing, quarantine, settings
    from stedi.pipeline import synthetic_landing
    from stedi.progress import Progress
    from stedi.tables import lakehouse

    progress = progress or Progress(quiet=True)
    settings.check_policy(policy)
    if not is_up():
        raise DockerStackError(NOT_UP)
    key = settings.pseudonym_key()
    endpoint = s3_endpoint()
    progress(f"Docker stack up: LocalStack S3 {endpoint}, Iceberg REST catalog {catalog_url()}, Trino {trino_url()}")
    reconcile(progress)
    source = landing_dir or synthetic_landing(seed, customers, progress)
    landing.upload(Path(source), s3_client(endpoint), progress)
    progress("running the landing step and the five jobs in the Spark container (catalog glue_catalog)")
    # The key goes through stdin: neither the host's process list nor the container's env shows it.
    ceiling = quarantine.max_share(lakehouse(), max_quarantine)  # the host's setting, environment included
    command = ["python", "-m", "stedi.docker_pipeline", "--policy", policy, "--max-quarantine", str(ceiling)]
    result = subprocess.run(
        compose_command("exec", "-T", "spark", *command, "--key-stdin"),
        input=key.hex() + "\n",
        stdout=subprocess.PIPE,
        text=True,
    )
    if result.returncode != 0:
        raise DockerStackError(
            f"the pipeline failed in the Spark container (exit {result.returncode}): its log is above"
        )
    summary = summary_from(result.stdout)
    summary.update(stack="docker", landing_dir=str(source), s3_endpoint=endpoint)
    return summary


def summary_from(stdout: str) -> dict:
    from stedi.docker_pipeline import SUMMARY_MARK

    lines = [line for line in stdout.splitlines() if line.startswith(SUMMARY_MARK)]
    if not lines:
        raise DockerStackError("the Spark container printed no run summary: its log is above")
    return json.loads(lines[-1][len(SUMMARY_MARK) :])


def trino_query(
    sql: str, catalog: str = CATALOG, schema: str | None = None, timeout: float = 300
) -> tuple[list[str], list[list]]:
    """Run one statement on the stack's Trino over its HTTP protocol; returns (columns, rows)."""
    from stedi.tables import lakehouse

    headers = {
        "X-Trino-User": TRINO_USER,
        "X-Trino-Catalog": catalog,
        "X-Trino-Schema": schema or lakehouse().namespace,
        "Content-Type": "text/plain",
    }
    status, page = _http("POST", f"{trino_url()}/v1/statement", sql.encode(), headers)
    columns: list[str] = []
    rows: list[list] = []
    deadline = time.monotonic() + timeout
    while True:
        if status != 200:
            raise DockerStackError(f"Trino answered HTTP {status}: {_message(page) or page}")
        if "error" in page:
            raise DockerStackError(f"Trino: {page['error'].get('message', page['error'])}")
        columns = columns or [c["name"] for c in page.get("columns", [])]
        rows.extend(page.get("data", []))
        if "nextUri" not in page:
            return columns, rows
        if time.monotonic() > deadline:
            raise DockerStackError(f"Trino did not finish within {timeout:.0f}s: {sql}")
        status, page = _http("GET", page["nextUri"], headers={"X-Trino-User": TRINO_USER})


def smoke(progress=print) -> None:
    """Check every path of the running stack: S3 from the host, the catalog, Spark writing an
    Iceberg table through the catalog to S3, and Trino reading and dropping it."""
    from stedi.docker_pipeline import SMOKE_NAMESPACE
    from stedi.tables import lakehouse

    house = lakehouse()
    require_engine()
    failing = unhealthy(service_states())
    if failing:
        raise DockerStackError(f"not healthy: {', '.join(failing)}; start the stack with `make up`")
    progress(f"ok  services healthy: {', '.join(SERVICES)}")
    client = s3_client()
    client.head_bucket(Bucket=house.bucket)
    progress(f"ok  S3 bucket s3://{house.bucket} at {s3_endpoint()}")
    status, config = _http("GET", f"{catalog_url()}/v1/config")
    if status != 200:
        raise DockerStackError(f"the Iceberg catalog answered HTTP {status}")
    progress(f"ok  Iceberg REST catalog at {catalog_url()}")
    result = subprocess.run(
        compose_command("exec", "-T", "spark", "python", "-m", "stedi.docker_pipeline", "--smoke"),
        stdout=subprocess.PIPE,
        text=True,
    )
    if result.returncode != 0:
        raise DockerStackError(f"Spark could not write an Iceberg table (exit {result.returncode}): its log is above")
    spark_side = summary_from(result.stdout)
    progress(f"ok  Spark wrote {spark_side['table']} ({spark_side['rows']} rows, files in {spark_side['data_file']})")
    _, rows = trino_query(f"SELECT count(*) FROM {spark_side['table']}")
    if rows != [[spark_side["rows"]]]:
        raise DockerStackError(f"Trino counted {rows} rows in {spark_side['table']}, Spark wrote {spark_side['rows']}")
    progress(f"ok  Trino reads {spark_side['table']}: {rows[0][0]} rows")
    trino_query(f"DROP TABLE {spark_side['table']}")
    trino_query(f"DROP SCHEMA {CATALOG}.{SMOKE_NAMESPACE}")
    progress("ok  Trino dropped the smoke table: the Docker stack works end to end")


def status_lines() -> list[str]:
    if not engine_available():
        return ["Docker stack: no Docker engine here"]
    if not compose_available():
        return ["Docker stack: `docker compose` is not installed"]
    states = service_states()
    if not states:
        return ["Docker stack: not running"]
    lines = [f"Docker stack: {'up' if healthy(states) else 'not healthy'}"]
    for name in SERVICES:
        state = states.get(name, {})
        health = state.get("Health") or "-"
        lines.append(f"  {name:<13}: {state.get('State', 'absent')} ({health})")
    lines += [
        f"  S3 endpoint  : {s3_endpoint()}",
        f"  catalog      : {catalog_url()}",
        f"  Trino        : {trino_url()}",
    ]
    return lines


# ---------------------------------------------------------------- command line (docker/compose.mk)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stedi.docker_stack", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check-engine", help="fail with one sentence unless a Docker engine and Compose v2 answer")
    commands.add_parser("up", help="build and start the stack, wait until healthy")
    down_cmd = commands.add_parser("down", help="stop the stack")
    down_cmd.add_argument("--volumes", action="store_true", help="also delete the catalog's volume")
    down_cmd.add_argument("--if-up", action="store_true", help="do nothing (and succeed) when no stack runs")
    commands.add_parser("status", help="show the services and their health")
    commands.add_parser("smoke", help="check every path of the running stack")
    pipeline_cmd = commands.add_parser("pipeline", help="run the pipeline in the Spark container")
    pipeline_cmd.add_argument("--policy", default="strict")
    pipeline_cmd.add_argument("--landing", type=Path)
    pipeline_cmd.add_argument("--summary", type=Path)
    args = parser.parse_args(argv)
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (DockerStackError, ValueError) as error:
        print(f"stedi: error: {error}", file=sys.stderr)
        return 2


def _dispatch(args) -> int:
    if args.command == "check-engine":
        require_engine()
    elif args.command == "up":
        up()
        print("\n".join(status_lines()))
        print(
            "The Docker stack is up: `make pipeline` now runs the jobs in its Spark container; `make smoke` checks it."
        )
    elif args.command == "down":
        if args.if_up and not (engine_available() and compose_available() and service_states()):
            return 0
        down(volumes=args.volumes)
        print("Docker stack stopped" + (" and its catalog volume deleted" if args.volumes else ""))
    elif args.command == "status":
        print("\n".join(status_lines()))
    elif args.command == "smoke":
        smoke()
    elif args.command == "pipeline":
        _pipeline(args)
    return 0


def _pipeline(args) -> None:
    from stedi.pipeline import write_summary
    from stedi.progress import Progress, table
    from stedi.tables import lakehouse

    progress = Progress()
    summary = run_pipeline(args.policy, args.landing, progress)
    if args.summary:
        write_summary(summary, args.summary)
    house = lakehouse()
    rows = [(name, house.table(name).zone, count) for name, count in summary["tables"].items()]
    print()
    print(table(rows, ("table", "zone", "rows")))
    print(
        f"\npolicy {summary['policy']} on the Docker stack: done in {progress.elapsed:.1f}s. "
        f"Query with Trino: catalog {CATALOG}, schema {house.namespace} at {trino_url()}."
    )


if __name__ == "__main__":
    sys.exit(main())
