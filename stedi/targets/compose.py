"""Docker Compose from the host: is an engine there, start and stop the stack, its services'
health, and the host ports they publish on 127.0.0.1.

Everything it needs is the `docker` CLI with the Compose v2 plugin; without an engine every
command says so in one sentence. Standard library only: `make up` runs the engine check with the
system Python before the project is installed.

The values shared by the services live in the files they configure (docker-compose.yml,
docker/spark/spark-defaults.conf, catalog/trino/*.properties) and in catalog/tables.toml;
tests/unit/test_compose.py holds them equal to each other and to the constants below.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

PROJECT = "stedi-lakehouse"  # the compose project (`name:` in docker-compose.yml)
HOST = "127.0.0.1"  # every published port is bound to loopback
CATALOG = "glue_catalog"  # Spark's Iceberg catalog: identifiers as on AWS Glue
TRINO_CATALOG = "awsdatacatalog"  # Trino's, as Athena names the Glue Data Catalog
ACCESS_KEY = "test"  # the emulators' dummy credentials; never real ones
SECRET_KEY = "test"
TRINO_USER = "stedi"
SERVICES = ("s3", "glue", "spark", "trino")

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
    "glue": Port("glue", 5000, 5000, "STEDI_DOCKER_GLUE_PORT"),
    "trino": Port("trino", 8080, 8080, "STEDI_DOCKER_TRINO_PORT"),
}


def compose_file() -> Path:
    from stedi.runtime import settings

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
    """The stack's Glue Data Catalog API, from the host."""
    return f"http://{HOST}:{published_port('glue')}"


def trino_url() -> str:
    return f"http://{HOST}:{published_port('trino')}"


def s3_client(endpoint: str | None = None):
    from botocore.config import Config

    return _client("s3", endpoint or s3_endpoint(), config=Config(s3={"addressing_style": "path"}))


def glue_client(endpoint: str | None = None):
    return _client("glue", endpoint or catalog_url())


def _client(service: str, endpoint: str, **options):
    """A boto3 client of the stack's emulators: their dummy keys, the lakehouse's region."""
    import boto3

    from stedi.tables import lakehouse

    return boto3.client(service, endpoint_url=endpoint, aws_access_key_id=ACCESS_KEY,
                        aws_secret_access_key=SECRET_KEY, region_name=lakehouse().region, **options)


def trino_connection() -> dict:
    """Connection parameters for Trino, as `trino.dbapi.connect(**trino_connection())` takes them.

    Catalog `awsdatacatalog` and schema `stedi` are the defaults, so `SELECT count(*) FROM
    machine_learning_curated` works as it does in Athena with database `stedi`.
    """
    from stedi.tables import lakehouse

    return {
        "host": HOST,
        "port": published_port("trino"),
        "user": TRINO_USER,
        "catalog": TRINO_CATALOG,
        "schema": lakehouse().namespace,
        "http_scheme": "http",
    }


# ---------------------------------------------------------------- life cycle


def up(progress=print) -> None:
    """Build and start the stack, wait until every service is healthy."""
    require_engine()
    progress("starting the Docker stack (first start builds the Spark image and pulls ~3 GB of images)")
    result = _compose("up", "--detach", "--build", "--wait", "--wait-timeout", "900", capture=False, timeout=None)
    if result.returncode != 0:
        raise DockerStackError(
            "the Docker stack did not become healthy: see `docker compose logs` (Compose's messages are above)"
        )


def down(volumes: bool = False) -> None:
    """Stop and remove the containers (`volumes`: and any volume Compose made for them)."""
    require_engine()
    args = ["down", "--remove-orphans"] + (["--volumes"] if volumes else [])
    result = _compose(*args, capture=False, timeout=300)
    if result.returncode != 0:
        raise DockerStackError("`docker compose down` failed: its messages are above")


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
        f"  Glue API     : {catalog_url()}",
        f"  Trino        : {trino_url()}",
    ]
    return lines
