"""The `docker` target: the Docker Compose stack (LocalStack S3, a Glue Data Catalog API, a Spark
container, Trino standing in for Athena), driven from the host.

A run uploads the landing files to the stack's bucket, then runs the same landing step and five
jobs, through the same gate flow, inside the Spark container (stedi/targets/container.py), where
this target's runtime is Spark's Iceberg catalog `glue_catalog` as spark-defaults.conf names it.
Also the command line docker/compose.mk calls (`python -m stedi.targets.docker ...`): standard
library only at module level, so `make up` can check for an engine before anything is installed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from stedi.targets.base import Runtime, TargetError
from stedi.targets.compose import (
    CATALOG,
    NOT_UP,
    SERVICES,
    TRINO_CATALOG,
    DockerStackError,
    build_base_image,
    catalog_url,
    compose_available,
    compose_command,
    down,
    engine_available,
    glue_client,
    install_command,
    is_up,
    register_landing_tables,
    require_engine,
    s3_client,
    s3_endpoint,
    service_states,
    status_lines,
    trino_connection,
    trino_url,
    unhealthy,
    up,
    view,
)
from stedi.targets.container import CONTAINER_DOCS

IN_CONTAINER_ENV = "STEDI_CONTAINER"  # set to "spark" in the Spark image (docker/spark/Dockerfile)


class DockerTarget:
    name = "docker"

    def running(self) -> bool:
        return is_up()

    def status_lines(self) -> list[str]:
        return status_lines()

    def stop(self) -> bool:
        if not (engine_available() and compose_available() and service_states()):
            return False
        down()
        return True

    def docs_dir(self) -> Path:
        from stedi.runtime import settings

        return settings.docs_dir()

    def stack(self):
        """The running stack as the DuckDB engine and the run report read one (compose.StackView)."""
        if not is_up():
            raise DockerStackError(NOT_UP)
        return view()

    @property
    def delegates(self) -> bool:
        """From the host, runs happen in the Spark container; inside it, here."""
        return os.environ.get(IN_CONTAINER_ENV) != "spark"

    def delegate(self, request, progress) -> dict:
        """Upload the landing files to the stack's bucket and run `stedi pipeline` in the Spark
        container; returns the run summary (the embedded pipeline's shape)."""
        from stedi.datasets import synthetic
        from stedi.intake import quarantine
        from stedi.lakehouse import landing
        from stedi.privacy import register
        from stedi.privacy.suppression import Suppression, handed_back
        from stedi.runtime import settings
        from stedi.tables import lakehouse

        if not is_up():
            raise DockerStackError(NOT_UP)
        house = lakehouse()
        key = settings.pseudonym_key()
        endpoint = s3_endpoint()
        progress(f"Docker stack up: LocalStack S3 {endpoint}, Glue API {catalog_url()}, Trino {trino_url()}")
        source = synthetic.landing_of(request, progress)
        suppression = Suppression.current()  # refuses to run when the erasure register cannot be read
        landing.upload(Path(source), s3_client(endpoint), progress, suppression=suppression)
        register_landing_tables()
        progress(f"running the landing step and the five jobs in the Spark container (catalog {CATALOG})")
        ceiling = quarantine.max_share(house, request.max_quarantine)  # the host's setting, environment included
        command = ["stedi", "pipeline", "--target", "docker", "--policy", request.policy]
        command += ["--max-quarantine", str(ceiling), "--summary", "-", "--key-stdin"]
        command += [] if request.gates else ["--no-gates"]
        # The key goes through stdin: neither the host's process list nor the container's env shows it.
        # So does the erasure register, which lives on the host: the container's run suppresses the same people.
        result = subprocess.run(
            compose_command("exec", "-T", "spark", *command),
            input=key.hex() + "\n" + register.handed_over(),
            stdout=subprocess.PIPE,
            text=True,
        )
        self._copy_docs(progress)
        if result.returncode != 0:
            raise DockerStackError(
                f"the pipeline failed in the Spark container (exit {result.returncode}): its log is above"
            )
        summary = handed_back(summary_from(result.stdout), suppression.withheld)
        summary.update(target="docker", landing_dir=str(source), s3_endpoint=endpoint)
        return summary

    def forget(self, emails: list[str], policy: str, progress) -> dict:
        """`stedi forget` in the Spark container: the key, the host's erasure register and the
        addresses go through stdin (never a process list); the erasure's outcome comes back on
        stdout with the register as the container left it, which the host's register absorbs."""
        from stedi.privacy import register
        from stedi.runtime import settings

        if not is_up():
            raise DockerStackError(NOT_UP)
        payload = json.dumps({"emails": emails, "policy": policy, "register": register.handed_over()})
        result = subprocess.run(
            compose_command("exec", "-T", "spark", "stedi", "forget", "--target", "docker", "--key-stdin"),
            input=settings.pseudonym_key().hex() + "\n" + payload + "\n",
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            answer = summary_from(result.stdout)
        except DockerStackError:
            raise DockerStackError(
                f"the erasure failed in the Spark container (exit {result.returncode}): its log is above"
            ) from None
        register.absorb(answer.pop("register"))
        return answer

    def _copy_docs(self, progress) -> None:
        """The container's Data Docs to the host's docs directory (`stedi docs --target docker`)."""
        dest = self.docs_dir()
        dest.mkdir(parents=True, exist_ok=True)
        copied = subprocess.run(
            compose_command("cp", f"spark:{CONTAINER_DOCS}/.", str(dest)), capture_output=True, text=True
        )
        if copied.returncode == 0:
            progress(f"Data Docs copied from the Spark container to {dest}")

    def open_run(self, request, progress):
        """Inside the Spark container (where `delegate` sends the run)."""
        self._require_container()
        from stedi.targets.container import open_run

        return open_run(request, progress)

    def runtime(self, app: str, params, **options) -> Runtime:
        """Inside the Spark container: Spark's Iceberg catalog as spark-defaults.conf configures it."""
        self._require_container()
        from stedi.targets.container import container_runtime

        return container_runtime(app, params, **options)

    def _require_container(self) -> None:
        if os.environ.get(IN_CONTAINER_ENV) != "spark":
            raise TargetError(
                "the docker target's jobs run inside its Spark container: `stedi pipeline --target docker`, "
                "or `docker compose exec spark spark-submit spark_jobs/<job>.py`"
            )

    def trino_query(self, sql: str) -> tuple[list[str], list[list]]:
        return trino_query(sql)


def summary_from(stdout: str) -> dict:
    from stedi.runtime.progress import SUMMARY_MARK

    lines = [line for line in stdout.splitlines() if line.startswith(SUMMARY_MARK)]
    if not lines:
        raise DockerStackError("the Spark container printed no run summary: its log is above")
    return json.loads(lines[-1][len(SUMMARY_MARK) :])


def trino_query(sql: str) -> tuple[list[str], list[tuple]]:
    """Run one statement on the stack's Trino (the `trino` client); returns (columns, rows)."""
    from stedi.targets.trino_client import TrinoFailed, execute

    try:
        columns, _, rows = execute(trino_connection(), sql)
    except TrinoFailed as error:
        raise DockerStackError(str(error)) from None
    return columns, rows


def smoke(progress=print) -> None:
    """Check every path of the running stack: S3 from the host, the catalog, Spark writing an
    Iceberg table through the catalog to S3, and Trino reading and dropping it."""
    from stedi.tables import lakehouse
    from stedi.targets.container import SMOKE_NAMESPACE, SMOKE_TABLE

    house = lakehouse()
    require_engine()
    failing = unhealthy(service_states())
    if failing:
        raise DockerStackError(f"not healthy: {', '.join(failing)}; start the stack with `make up`")
    progress(f"ok  services healthy: {', '.join(SERVICES)}")
    client = s3_client()
    client.head_bucket(Bucket=house.bucket)
    progress(f"ok  S3 bucket s3://{house.bucket} at {s3_endpoint()}")
    register_landing_tables()
    databases = [d["Name"] for d in glue_client().get_databases()["DatabaseList"]]
    progress(f"ok  Glue Data Catalog API at {catalog_url()} (databases: {', '.join(databases)})")
    result = subprocess.run(
        compose_command("exec", "-T", "spark", "python", "-m", "stedi.targets.container", "--smoke"),
        stdout=subprocess.PIPE,
        text=True,
    )
    if result.returncode != 0:
        raise DockerStackError(f"Spark could not write an Iceberg table (exit {result.returncode}): its log is above")
    spark_side = summary_from(result.stdout)
    progress(f"ok  Spark wrote {spark_side['table']} ({spark_side['rows']} rows, files in {spark_side['data_file']})")
    as_athena = f"{TRINO_CATALOG}.{SMOKE_NAMESPACE}.{SMOKE_TABLE}"  # Spark's glue_catalog.<schema>.<table>
    _, rows = trino_query(f"SELECT count(*) FROM {as_athena}")
    if rows != [(spark_side["rows"],)]:
        raise DockerStackError(f"Trino counted {rows} rows in {as_athena}, Spark wrote {spark_side['rows']}")
    progress(f"ok  Trino reads {as_athena} (Spark's {spark_side['table']}): {rows[0][0]} rows")
    first_landing = next(iter(house.zone("landing"))).name
    _, rows = trino_query(f"SELECT count(*) FROM {TRINO_CATALOG}.{house.namespace}.{first_landing}")
    progress(f"ok  Trino reads the landing JSON tables through the Glue API ({rows[0][0]} rows in the first)")
    trino_query(f"DROP TABLE iceberg.{SMOKE_NAMESPACE}.{SMOKE_TABLE}")
    trino_query(f"DROP SCHEMA iceberg.{SMOKE_NAMESPACE}")
    progress("ok  Trino dropped the smoke table: the Docker stack works end to end")


# ---------------------------------------------------------------- command line (docker/compose.mk)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stedi.targets.docker", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check-engine", help="fail with one sentence unless a Docker engine and Compose v2 answer")
    up_cmd = commands.add_parser("up", help="build and start the stack, wait until healthy")
    up_cmd.add_argument("--workers", type=int, default=1, help="Spark workers (containers running executors)")
    commands.add_parser("base-image", help="build the base image from Debian's packages (debootstrap)")
    down_cmd = commands.add_parser("down", help="stop the stack and remove its containers, network and volumes")
    down_cmd.add_argument("--if-up", action="store_true", help="do nothing (and succeed) when no stack runs")
    commands.add_parser("status", help="show the services and their health")
    commands.add_parser("smoke", help="check every path of the running stack")
    args = parser.parse_args(argv)
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (DockerStackError, ValueError) as error:
        print(f"stedi: error: {error}", file=sys.stderr)
        return 2


def require_docker_for_base() -> None:
    if not engine_available():
        raise DockerStackError(f"building the base image needs a Docker engine: `{install_command()}` installs one")


def _dispatch(args) -> int:
    if args.command == "check-engine":
        require_engine()
    elif args.command == "up":
        seconds = up(workers=args.workers)
        print("\n".join(status_lines()))
        print(
            f"The Docker stack is up ({seconds:.0f}s to ready): `make pipeline` runs the jobs on its Spark "
            "cluster (while the embedded stack is down; else TARGET=docker), `make query` asks its Trino, "
            "`make smoke` checks it, `make down` removes it."
        )
    elif args.command == "base-image":
        require_docker_for_base()
        build_base_image()
    elif args.command == "down":
        if args.if_up and not (engine_available() and compose_available() and service_states()):
            return 0
        down()
        print("Docker stack stopped: its containers, network and volumes are removed")
    elif args.command == "status":
        print("\n".join(status_lines()))
    elif args.command == "smoke":
        smoke()
    return 0


if __name__ == "__main__":
    sys.exit(main())
