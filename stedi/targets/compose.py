"""Docker Compose from the host: is an engine there, start and stop the stack, its services'
health, and the host ports they publish on 127.0.0.1.

Everything it needs is the `docker` CLI with the Compose v2 plugin; without an engine, or without
the plugin, every command says which is missing and the one command that installs it (`make
docker-engine`: docker/engine/install.sh). Every image is built here FROM one base: the official
debian:trixie-slim, or where Docker Hub cannot be reached the same suite built from Debian's
packages (docker/base/build.sh, `make base-image`). Standard library only at module level: `make
up` runs the engine check with the system Python before the project is installed.

The values shared by the services live in the files they configure (docker-compose.yml,
docker/spark/spark-defaults.conf, catalog/trino/*.properties) and in catalog/tables.toml;
tests/unit/test_compose.py holds them equal to each other and to the constants below.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

PROJECT = "stedi-lakehouse"  # the compose project (`name:` in docker-compose.yml)
PROJECT_ENV = "STEDI_DOCKER_PROJECT"  # another project name: a second stack beside the first (the tests')
HOST = "127.0.0.1"  # every published port is bound to loopback
CATALOG = "glue_catalog"  # Spark's Iceberg catalog: identifiers as on AWS Glue
TRINO_CATALOG = "awsdatacatalog"  # Trino's, as Athena names the Glue Data Catalog
ACCESS_KEY = "test"  # the emulators' dummy credentials; never real ones
SECRET_KEY = "test"
TRINO_USER = "stedi"
SERVICES = ("s3", "glue", "spark", "spark-worker", "trino")
WORKER_SERVICE = "spark-worker"
OFFICIAL_BASE = "debian:trixie-slim"  # every Dockerfile's default BASE_IMAGE
LOCAL_BASE = "stedi-lakehouse/debian:trixie"  # the same suite from Debian's packages (docker/base/build.sh)
BASE_ENV = "STEDI_BASE_IMAGE"  # docker-compose.yml passes it to every build as BASE_IMAGE
EXTRA_CA_ENV = "STEDI_EXTRA_CA_DIR"
EXTRA_CA_DIR = Path("/usr/local/share/ca-certificates")  # Debian's place for locally added CAs
NOT_UP = "the Docker stack is not running: start it with `make up`, or run `make pipeline` without it"


def install_command() -> str:
    """The one command that installs and starts what the Docker stack needs (docker/engine/install.sh)."""
    return "make docker-engine" if os.geteuid() == 0 else "sudo make docker-engine"


def _missing(what: str) -> str:
    return (f"{what}: `{install_command()}` installs Debian's docker.io, builds the Compose plugin and "
            "starts the daemon (elsewhere, install Docker Engine with its Compose plugin); "
            "`make pipeline` runs the same jobs on the embedded stack without Docker")


NO_DOCKER = _missing("Docker is not installed here (no `docker` command)")
NO_ENGINE = _missing("no Docker engine answers here (`docker info` fails)")
NO_COMPOSE = _missing("the Docker Compose v2 plugin is missing (`docker compose version` fails)")


class DockerStackError(RuntimeError):
    """The Docker stack cannot do what was asked; the message is one sentence saying what to do."""


@dataclass(frozen=True)
class Port:
    """A port published on 127.0.0.1: the service's own port and the host port (env overridable)."""

    service: str
    container: int
    default: int | None
    env: str

    @property
    def host(self) -> int | None:
        """The fixed host port, or None: Docker picks a free one (`docker compose port` tells)."""
        value = os.environ.get(self.env)
        return int(value) if value and value.isdigit() else self.default


# The published ports, in one place. docker-compose.yml maps "127.0.0.1:${env:-}:container": a
# free port on loopback unless the variable fixes one.
PORTS = {
    "s3": Port("s3", 4566, None, "STEDI_DOCKER_S3_PORT"),
    "glue": Port("glue", 5000, None, "STEDI_DOCKER_GLUE_PORT"),
    "trino": Port("trino", 8080, None, "STEDI_DOCKER_TRINO_PORT"),
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
    if not shutil.which("docker"):
        raise DockerStackError(NO_DOCKER)
    if not engine_available():
        raise DockerStackError(NO_ENGINE)
    if not compose_available():
        raise DockerStackError(NO_COMPOSE)


def project() -> str:
    return os.environ.get(PROJECT_ENV) or PROJECT


def compose_command(*args: str) -> list[str]:
    root = compose_file().parent
    return ["docker", "compose", "--project-name", project(), "--project-directory", str(root),
            "--file", str(compose_file()), *args]


def _compose(*args: str, capture: bool = True, timeout: float | None = 120, env: dict | None = None
             ) -> subprocess.CompletedProcess:
    return subprocess.run(compose_command(*args), capture_output=capture, text=True, timeout=timeout,
                          env={**os.environ, **env} if env else None)


def parse_ps(output: str) -> list[dict]:
    """`docker compose ps --format json`: a JSON array (Compose < 2.21) or one object per line."""
    text = output.strip()
    if not text:
        return []
    if text.startswith("["):
        return json.loads(text)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def unhealthy(states: dict[str, dict]) -> list[str]:
    """The services that are not running with a healthy health check."""
    return [
        name
        for name in SERVICES
        if not (states.get(name, {}).get("State") == "running" and states.get(name, {}).get("Health") == "healthy")
    ]


def service_states() -> dict[str, dict]:
    """Each service's container state, by service name (empty when nothing was started). Of a
    scaled service (the workers), the least healthy container stands for it."""
    result = _compose("ps", "--all", "--format", "json")
    if result.returncode != 0:
        raise DockerStackError(f"`docker compose ps` failed: {result.stderr.strip().splitlines()[-1:]}")
    states: dict[str, dict] = {}
    for entry in parse_ps(result.stdout):
        name = entry.get("Service", "")
        fine = entry.get("State") == "running" and entry.get("Health") == "healthy"
        if name not in states or not fine:
            states[name] = {**entry, "Replicas": states.get(name, {}).get("Replicas", 0) + 1}
        else:
            states[name]["Replicas"] += 1
    return states


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
    """The host port of a service, as Compose published it on 127.0.0.1."""
    port = PORTS[service]
    try:
        result = _compose("port", service, str(port.container), timeout=30)
        if result.returncode == 0 and result.stdout.strip():
            return int(result.stdout.strip().splitlines()[0].rsplit(":", 1)[1])
    except (OSError, ValueError, IndexError, subprocess.TimeoutExpired):
        pass
    if port.host is None:
        raise DockerStackError(f"the Docker stack publishes no port for {service}: {NOT_UP}")
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


# ---------------------------------------------------------------- the base image


def _image_exists(name: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", name], capture_output=True).returncode == 0


def base_image(progress=print, *, official: str = OFFICIAL_BASE, local: str = LOCAL_BASE) -> str:
    """The image every Dockerfile builds FROM: STEDI_BASE_IMAGE if set, else the official
    debian:trixie-slim (present, or pulled), else the same suite built here from Debian's packages
    (once, kept as LOCAL_BASE) when Docker Hub cannot be reached."""
    chosen = os.environ.get(BASE_ENV)
    if chosen:
        return chosen
    if _image_exists(official):
        return official
    if _image_exists(local):
        progress(f"base image {local} (Debian trixie built here from Debian's packages; "
                 f"`docker pull {official}` makes the official one the base)")
        return local
    try:
        pulled = subprocess.run(["docker", "pull", official], capture_output=True, text=True, timeout=300)
        reason = (pulled.stderr.strip().splitlines() or ["no answer"])[-1]
    except subprocess.TimeoutExpired:
        pulled, reason = None, "no answer in 300 s"
    if pulled is not None and pulled.returncode == 0:
        return official
    progress(f"Docker Hub cannot be reached ({reason.removeprefix('Error response from daemon: ')}): building "
             f"the base image {local} from Debian's packages instead (debootstrap, once; `make base-image`)")
    build_base_image(local)
    return local


def build_base_image(tag: str = LOCAL_BASE) -> None:
    """docker/base/build.sh: debootstrap's minbase of trixie, imported as `tag` (kept if present)."""
    script = compose_file().parent / "docker" / "base" / "build.sh"
    if subprocess.run(["bash", str(script)], env={**os.environ, "BASE_TAG": tag}).returncode != 0:
        raise DockerStackError(f"the base image could not be built: {script}'s messages are above")


def sync_ca_certificates(source: Path | None = None, dest: Path | None = None) -> list[str]:
    """Copy the machine's locally added CA certificates into docker/ca-certificates/, which every
    image trusts (its README says why); stale copies are removed. Returns the names copied."""
    source = source or Path(os.environ.get(EXTRA_CA_ENV) or EXTRA_CA_DIR)
    dest = dest or compose_file().parent / "docker" / "ca-certificates"
    wanted = {p.name: p for p in sorted(source.glob("*.crt"))} if source.is_dir() else {}
    for old in dest.glob("*.crt"):
        if old.name not in wanted:
            old.unlink()
    for name, path in wanted.items():
        target = dest / name
        data = path.read_bytes()
        if not target.exists() or target.read_bytes() != data:
            target.write_bytes(data)
    return sorted(wanted)


# ---------------------------------------------------------------- life cycle


def up(progress=print, workers: int = 1, timeout: float = 900) -> float:
    """Build the images (first time), start the stack with `workers` Spark workers and wait until
    every service is healthy, every worker is registered and Trino scans a table; returns the
    seconds from `docker compose up` to ready."""
    require_engine()
    if workers < 1:
        raise DockerStackError(f"the Spark cluster needs at least one worker, not {workers}")
    base = base_image(progress)
    certificates = sync_ca_certificates()
    if certificates:
        progress(f"the image builds trust this machine's extra CAs: {', '.join(certificates)}")
    progress(f"starting the Docker stack from {base}, {workers} Spark worker(s) "
             "(the first start builds three images from packages: about 5 minutes)")
    started = time.monotonic()
    result = _compose("up", "--detach", "--build", "--wait", "--wait-timeout", str(int(timeout)),
                      "--scale", f"{WORKER_SERVICE}={workers}", "--remove-orphans",
                      capture=False, timeout=None, env={BASE_ENV: base})
    if result.returncode != 0:
        raise DockerStackError(
            "the Docker stack did not become healthy: see `docker compose logs` (Compose's messages are above)"
        )
    _wait_for_workers(workers, started + timeout)
    register_landing_tables()
    _wait_for_trino_scan(started + timeout)
    return time.monotonic() - started


def _wait_for_workers(workers: int, deadline: float) -> None:
    while True:
        found = _compose("exec", "-T", "spark", "python", "-m", "stedi.targets.container", "--workers", timeout=60)
        alive = int(found.stdout.strip()) if found.returncode == 0 and found.stdout.strip().isdigit() else 0
        if alive == workers:
            return
        if time.monotonic() > deadline:
            raise DockerStackError(f"the Spark master has {alive} live workers, not {workers}: "
                                   "see `docker compose logs spark spark-worker`")
        time.sleep(1)


def _wait_for_trino_scan(deadline: float) -> None:
    """Trino's health check says it started; a table scan can still fail with NO_NODES_AVAILABLE
    for a few seconds after. Asked with the trino client, over a landing table."""
    from stedi.tables import lakehouse
    from stedi.targets.trino_client import TrinoFailed, execute

    table = next(iter(lakehouse().zone("landing"))).name
    while True:
        try:
            execute(trino_connection(), f"SELECT count(*) FROM {table}")
            return
        except TrinoFailed as error:
            if time.monotonic() > deadline:
                raise DockerStackError(f"Trino does not scan tables yet: {error}") from None
        time.sleep(1)


def register_landing_tables() -> None:
    """The Glue database and the landing JSON tables in the stack's Glue API, as on AWS and on the
    embedded stack (its Glue API keeps them in memory: registered after every start)."""
    from stedi.lakehouse.glue_tables import register
    from stedi.tables import lakehouse

    house = lakehouse()
    register(glue_client(), house, house.bucket)


@dataclass(frozen=True)
class StackView:
    """The Docker stack as the DuckDB engine and the run report read a stack (the embedded Stack's
    `endpoint`, keys and `metadata_locations()`): S3 on its published port, the catalog on the
    Glue API's."""

    endpoint: str
    glue_endpoint: str
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY

    def metadata_locations(self) -> dict[str, str]:
        from stedi.lakehouse.glue_tables import metadata_locations
        from stedi.tables import lakehouse

        return metadata_locations(glue_client(self.glue_endpoint), lakehouse().namespace)

    def client(self, service: str):
        """A client of the stack's S3 (LocalStack) or of its Glue Data Catalog API."""
        return glue_client(self.glue_endpoint) if service == "glue" else s3_client(self.endpoint)

    def s3_client(self):
        return s3_client(self.endpoint)

    def catalog(self):
        """pyiceberg's GlueCatalog on the stack's Glue API and LocalStack (the erasure proof reads it)."""
        from pyiceberg.catalog.glue import GlueCatalog

        from stedi.tables import lakehouse

        house = lakehouse()
        return GlueCatalog("stedi_docker", **{
            "glue.endpoint": self.glue_endpoint, "glue.region": house.region,
            "glue.access-key-id": self.access_key, "glue.secret-access-key": self.secret_key,
            "s3.endpoint": self.endpoint, "s3.access-key-id": self.access_key,
            "s3.secret-access-key": self.secret_key, "s3.region": house.region,
            "s3.force-virtual-addressing": "false",
        })


def view() -> StackView:
    return StackView(s3_endpoint(), catalog_url())


def down() -> None:
    """Stop and remove the containers, their network and any volume: the stack keeps nothing."""
    require_engine()
    result = _compose("down", "--remove-orphans", "--volumes", capture=False, timeout=300)
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
        replicas = f" x{state['Replicas']}" if state.get("Replicas", 1) > 1 else ""
        lines.append(f"  {name:<13}: {state.get('State', 'absent')} ({health}){replicas}")
    for label, url in (("S3 endpoint", s3_endpoint), ("Glue API", catalog_url), ("Trino", trino_url)):
        try:
            lines.append(f"  {label:<13}: {url()}")
        except DockerStackError:  # a stopped container publishes no port
            lines.append(f"  {label:<13}: no port published")
    return lines
