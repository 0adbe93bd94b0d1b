"""The Docker Compose stack's files, read without running them (tests/integration/test_docker_stack.py
runs the stack itself).

docker-compose.yml is validated against the Compose Specification's JSON Schema, every image is
built here from one base, and every value the services share (bucket, warehouse, catalog name,
endpoints, credentials, region, versions) is read from each file that configures it and compared:
with catalog/tables.toml (the single source of truth for the lakehouse), with the project's own
constants and locks, and with each other. No expected value is written here except what the
platform target dictates (Iceberg 1.11 for AWS Glue 6.0).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from urllib.parse import urlparse

import jsonschema
import pytest
import yaml

from stedi.runtime.spark import LOCAL_CONF
from stedi.tables import lakehouse
from stedi.targets import aws, trino_server
from stedi.targets import compose as docker_stack
from stedi.targets import embedded_stack as stack
from stedi.targets.container import CatalogConf, spark_defaults

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
SCHEMA = ROOT.parent / "shared" / "schemas" / "compose-spec.json"
DOCKER = ROOT / "docker"
SPARK_DEFAULTS = DOCKER / "spark" / "spark-defaults.conf"
DOCKERFILE = DOCKER / "spark" / "Dockerfile"
DOCKERFILES = {"s3": DOCKER / "localstack" / "Dockerfile", "spark": DOCKERFILE, "trino": DOCKER / "trino" / "Dockerfile"}
JARS_LOCK = ROOT / "jvm" / "jars.lock"
TRINO_CATALOGS = ROOT / "catalog" / "trino"
HOOKS = DOCKER / "localstack" / "init" / "ready.d"
GLUE_6_ICEBERG = "1.11"  # AWS Glue 6.0 ships Iceberg 1.11 (PLATFORM-NOTES.md)

# "127.0.0.1:${STEDI_DOCKER_S3_PORT:-}:4566": loopback, a free port unless the variable fixes one
PORT = re.compile(r"^(?P<ip>[0-9.]+):\$\{(?P<env>\w+):-\}:(?P<container>\d+)(?:/tcp)?$")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


@pytest.fixture(scope="module")
def house():
    return lakehouse()


@pytest.fixture(scope="module")
def spark_conf() -> dict[str, str]:
    return spark_defaults(SPARK_DEFAULTS)


@pytest.fixture(scope="module")
def spark_catalog(spark_conf) -> CatalogConf:
    return CatalogConf.from_conf(spark_conf.get)


def _properties(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


@pytest.fixture(scope="module")
def trino(services) -> dict[str, dict[str, str]]:
    """The Docker stack's Trino catalogs as Trino reads them there: catalog/trino/*.properties,
    mounted as they are, with `${ENV:...}` filled in from the trino service's environment."""
    service = services["trino"]
    mounts = dict(volume.rsplit(":", 2)[:2] for volume in service["volumes"])
    assert mounts == {"./catalog/trino": "/etc/trino/catalog"}
    rendered = trino_server.render_catalogs(_env(service))
    return {Path(name).stem: _properties(text) for name, text in rendered.items()}


def _env(service: dict) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def _ports(service: dict) -> list[re.Match]:
    parsed = []
    for entry in service.get("ports", []):
        assert isinstance(entry, str), f"use the short port syntax: {entry!r}"
        match = PORT.match(entry)
        assert match, f"port {entry!r} does not name its host IP and ports"
        parsed.append(match)
    return parsed


# ---------------------------------------------------------------- the file itself


def test_compose_file_is_valid_against_the_compose_specification(compose):
    schema = json.loads(SCHEMA.read_text())
    assert "draft-07" in schema["$schema"]
    jsonschema.Draft7Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(compose), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors)


def test_the_stack_has_its_services_and_a_fixed_project_name(compose, services):
    assert compose["name"] == docker_stack.PROJECT
    assert set(services) == set(docker_stack.SERVICES)
    assert docker_stack.WORKER_SERVICE in services


def _base_arg(dockerfile: Path) -> tuple[str, list[str]]:
    lines = dockerfile.read_text().splitlines()
    arg = next(line for line in lines if line.startswith("ARG BASE_IMAGE="))
    return arg.split("=", 1)[1], [line for line in lines if line.startswith("FROM ")]


def test_every_image_is_built_here_from_the_one_base(services):
    """Nothing is pulled but the base: every service is built from a Dockerfile of docker/ that
    starts FROM ${BASE_IMAGE}, whose default is the official debian:trixie-slim, and compose passes
    STEDI_BASE_IMAGE (the locally built base where Docker Hub is out of reach) to every build."""
    built = {}
    for name, service in services.items():
        build = service.get("build")
        if build is None:
            continue
        assert build["context"] == "."
        assert build["args"] == {"BASE_IMAGE": f"${{{docker_stack.BASE_ENV}:-{docker_stack.OFFICIAL_BASE}}}"}, name
        assert service["image"].startswith(docker_stack.PROJECT + "/"), name
        built[build["dockerfile"]] = service["image"]
    assert sorted(built) == sorted(str(path.relative_to(ROOT)) for path in DOCKERFILES.values())
    for name, service in services.items():  # one build per image; the others run it and never pull
        if "build" not in service:
            assert service["image"] in built.values() and service["pull_policy"] == "never", name
    for dockerfile in DOCKERFILES.values():
        default, froms = _base_arg(dockerfile)
        assert default == docker_stack.OFFICIAL_BASE, dockerfile
        assert froms == ["FROM ${BASE_IMAGE}"], dockerfile  # one stage, on the one base
        assert "docker/dockerfile" not in dockerfile.read_text()  # no frontend image pulled either


def test_the_local_base_is_the_same_debian_suite():
    script = (DOCKER / "base" / "build.sh").read_text()
    suite = re.search(r'^SUITE="\$\{SUITE:-(\w+)\}"', script, re.M).group(1)
    assert docker_stack.OFFICIAL_BASE == f"debian:{suite}-slim"
    assert docker_stack.LOCAL_BASE == f"{docker_stack.PROJECT}/debian:{suite}"
    assert "--variant=minbase" in script and "docker import" in script


def test_images_are_tagged_with_the_versions_they_hold(services):
    lock = (ROOT / "requirements.lock").read_text()
    spark = re.search(r"^pyspark==(\S+)$", lock, re.M).group(1)
    iceberg = re.search(r"iceberg-spark-runtime-[\d.]+_[\d.]+-(\d+\.\d+\.\d+)\.jar", JARS_LOCK.read_text()).group(1)
    assert services["spark"]["image"] == f"{docker_stack.PROJECT}/spark:{spark}-iceberg-{iceberg}"
    assert services["trino"]["image"] == f"{docker_stack.PROJECT}/trino:{trino_server.version()}"
    localstack = re.search(r"^localstack-core==(\S+)$", (DOCKER / "localstack" / "requirements.lock").read_text(), re.M)
    assert services["s3"]["image"] == f"{docker_stack.PROJECT}/localstack:{localstack.group(1)}"


def test_every_published_port_binds_loopback_and_matches_the_port_table(services):
    published = {}
    for name, service in services.items():
        for match in _ports(service):
            assert match["ip"] == "127.0.0.1", f"{name} publishes {match.group(0)} beyond loopback"
            published[name] = match
    assert set(published) == set(docker_stack.PORTS)
    for name, match in published.items():
        port = docker_stack.PORTS[name]
        assert (match["env"], int(match["container"])) == (port.env, port.container)
        assert port.default is None  # Docker picks a free port
    assert docker_stack.HOST == "127.0.0.1"


def test_every_service_has_a_healthcheck(services):
    for name, service in services.items():
        check = service.get("healthcheck")
        assert check and not check.get("disable"), f"{name} has no health check"
        assert check["test"][0] in ("CMD", "CMD-SHELL") and len(check["test"]) > 1, name


def test_every_dependency_waits_for_health(services):
    for name, service in services.items():
        depends = service.get("depends_on", {})
        assert isinstance(depends, dict), f"{name}: depends_on must name a condition"
        for dependency, spec in depends.items():
            assert spec == {"condition": "service_healthy"}, f"{name} -> {dependency}: {spec}"
    for engine in ("spark", "trino"):
        assert set(services[engine]["depends_on"]) == {"s3", "glue"}
    assert set(services[docker_stack.WORKER_SERVICE]["depends_on"]) == {"spark"}


def test_localstack_is_the_last_free_release_from_pypi_and_runs_s3_only(services):
    lock = (DOCKER / "localstack" / "requirements.lock").read_text()
    pins = [line for line in lock.splitlines() if line and not line.startswith("#")]
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+==[\w.]+", pin) for pin in pins), "every package pinned"
    assert "localstack-core==4.14.0" in pins
    for pin in ("cbor2==5.8.0", "pyOpenSSL==25.3.0", "localstack-twisted==25.5.0"):  # what unpinned gets wrong
        assert pin in pins
    dockerfile = DOCKERFILES["s3"].read_text()
    assert "pip install --no-deps -r /opt/localstack/requirements.lock" in dockerfile and "pip check" in dockerfile
    assert "SERVICES=s3" in dockerfile and "DNS_ADDRESS=0" in dockerfile
    assert "LOCALSTACK_AUTH_TOKEN" not in dockerfile + json.dumps(services["s3"])


def test_the_glue_api_is_the_pinned_moto_server_from_the_spark_image(services):
    glue, spark = services["glue"], services["spark"]
    assert glue["image"] == spark["image"] and "build" in spark  # one image, built here
    port = docker_stack.PORTS["glue"]
    assert glue["command"] == ["python", "-m", "moto.server", "-H", "0.0.0.0", "-p", str(port.container)]
    assert f"localhost:{port.container}/moto-api/" in " ".join(glue["healthcheck"]["test"])
    lock = (ROOT / "requirements.lock").read_text()
    assert re.search(r"^moto==5\.2\.5$", lock, re.M)  # the embedded stack's emulator, same version


def test_trino_is_the_locked_tarball_of_the_embedded_stack(services):
    dockerfile = DOCKERFILES["trino"].read_text()
    assert "COPY jvm/trino/server.lock /tmp/server.lock" in dockerfile
    assert 'sha256sum -c -' in dockerfile and "set -eu" in dockerfile
    assert "openjdk-25-jre-headless" in dockerfile  # Trino 476 needs Java 24+
    # Its server configuration is written by the module that writes the native Trino's.
    assert "COPY stedi/targets/trino_config.py" in dockerfile
    port = docker_stack.PORTS["trino"].container
    assert f"--port {port}" in dockerfile and "--address trino" in dockerfile
    assert "--catalog-dir /etc/trino/catalog" in dockerfile


def test_the_spark_cluster_has_one_master_url_everywhere(services, spark_conf):
    master = services["spark"]
    assert master["hostname"] == "spark"
    command = master["command"]
    assert command[:2] == ["spark-class", "org.apache.spark.deploy.master.Master"]
    host, port = command[command.index("--host") + 1], command[command.index("--port") + 1]
    url = f"spark://{host}:{port}"
    assert spark_conf["spark.master"] == url
    worker = services[docker_stack.WORKER_SERVICE]
    assert worker["command"][:2] == ["spark-class", "org.apache.spark.deploy.worker.Worker"]
    assert worker["command"][-1] == url
    # The executors in the workers' containers reach the driver, which runs beside the master.
    assert spark_conf["spark.driver.host"] == master["hostname"]
    assert spark_conf["spark.driver.bindAddress"] == "0.0.0.0"
    assert spark_conf["spark.submit.deployMode"] == "client"


# ---------------------------------------------------------------- one source of truth


def test_bucket_agrees_everywhere(services, house, spark_catalog):
    s3 = services["s3"]
    assert _env(s3)["STEDI_BUCKET"] == house.bucket  # the init hook creates it, the health check heads it
    assert 'os.environ["STEDI_BUCKET"]' in (DOCKER / "localstack" / "healthcheck.py").read_text()
    assert urlparse(spark_catalog.warehouse).netloc == house.bucket


def test_warehouse_agrees_with_tables_toml(house, spark_catalog):
    expected = f"s3://{house.bucket}/{house.warehouse_prefix}"
    assert spark_catalog.warehouse == expected
    # The embedded stack writes the same warehouse.
    assert all(house.table_location(t).startswith(expected + "/") for t in house.tables.values())


def test_the_localstack_init_hook_creates_the_configured_bucket():
    dockerfile = DOCKERFILES["s3"].read_text()
    assert "COPY docker/localstack/init/ready.d/ /etc/localstack/init/ready.d/" in dockerfile
    hooks = sorted(HOOKS.iterdir())
    assert [hook.suffix for hook in hooks] == [".py"]  # run inside LocalStack's process, with its boto3
    hook = hooks[0].read_text()
    assert 'os.environ["STEDI_BUCKET"]' in hook and "create_bucket(Bucket=bucket)" in hook


def test_catalog_names_are_glues_in_spark_and_athenas_in_trino(spark_conf, trino, fixed_ports):
    assert spark_conf["spark.sql.defaultCatalog"] == docker_stack.CATALOG
    assert spark_conf[f"spark.sql.catalog.{docker_stack.CATALOG}"] == "org.apache.iceberg.spark.SparkCatalog"
    assert spark_conf[f"spark.sql.catalog.{docker_stack.CATALOG}.catalog-impl"] == (
        "org.apache.iceberg.aws.glue.GlueCatalog")
    assert set(trino) == {docker_stack.TRINO_CATALOG, "iceberg"}
    assert trino[docker_stack.TRINO_CATALOG]["hive.iceberg-catalog-name"] == "iceberg"
    # On AWS Glue and on the embedded stack the jobs use the same catalog name; Trino Athena's.
    assert aws.CATALOG == stack.CATALOG_NAME == docker_stack.CATALOG
    assert docker_stack.trino_connection()["catalog"] == docker_stack.TRINO_CATALOG == trino_server.CATALOG


@pytest.fixture
def fixed_ports(monkeypatch):
    """Host ports fixed by their variables, so endpoints are known without a running stack."""
    for number, port in enumerate(docker_stack.PORTS.values()):
        monkeypatch.setenv(port.env, str(41000 + number))


def test_trino_defaults_to_the_lakehouse_namespace(house, fixed_ports):
    connection = docker_stack.trino_connection()
    assert connection["schema"] == house.namespace
    assert connection["host"] == docker_stack.HOST


def test_s3_endpoint_agrees_everywhere(services, spark_catalog, trino):
    container_port = int(_ports(services["s3"])[0]["container"])
    expected = f"http://s3:{container_port}"
    assert spark_catalog.s3_endpoint == expected
    for catalog in trino.values():
        assert catalog["s3.endpoint"] == expected
        # Path-style everywhere: the bucket is not a host name on the compose network.
        assert catalog["s3.path-style-access"] == "true"
        assert catalog["fs.native-s3.enabled"] == "true"  # Trino 476's name (481 renamed it fs.s3.enabled)
    assert spark_catalog.path_style


def test_catalog_endpoint_agrees_everywhere(services, spark_catalog, trino):
    port = _ports(services["glue"])[0]
    expected = f"http://glue:{port['container']}"
    assert spark_catalog.uri == expected
    for catalog in trino.values():
        assert catalog["hive.metastore.glue.endpoint-url"] == expected
    assert trino["iceberg"]["iceberg.catalog.type"] == "glue" and trino["awsdatacatalog"]["hive.metastore"] == "glue"
    assert docker_stack.PORTS["glue"].container == int(port["container"])


def test_credentials_are_the_emulators_dummy_ones_everywhere(spark_conf, spark_catalog, trino):
    options = spark_conf["spark.driver.extraJavaOptions"]
    jvm = dict(re.findall(r"-Daws\.(accessKeyId|secretAccessKey)=(\S+)", options))
    access_keys = {spark_catalog.access_key, jvm["accessKeyId"]}
    secret_keys = {spark_catalog.secret_key, jvm["secretAccessKey"]}
    for catalog in trino.values():
        access_keys |= {catalog["s3.aws-access-key"], catalog["hive.metastore.glue.aws-access-key"]}
        secret_keys |= {catalog["s3.aws-secret-key"], catalog["hive.metastore.glue.aws-secret-key"]}
    # The Docker stack's emulators take dummy keys (the embedded stack issues its own: test_security)
    assert access_keys == {docker_stack.ACCESS_KEY}
    assert secret_keys == {docker_stack.SECRET_KEY}
    assert "-Daws.disableEc2Metadata=true" in options


def test_region_agrees_with_tables_toml(services, house, spark_conf, spark_catalog, trino):
    s3 = services["s3"]
    assert spark_catalog.region == house.region
    assert f"-Daws.region={house.region}" in spark_conf["spark.driver.extraJavaOptions"]
    for catalog in trino.values():
        assert catalog["s3.region"] == catalog["hive.metastore.glue.region"] == house.region
    assert _env(s3)["AWS_DEFAULT_REGION"] == house.region


def test_the_docker_stacks_trino_catalogs_are_the_native_ones_but_for_host_names(services, tmp_path):
    """What `make up` runs is what CI's native Trino runs (tests/integration/test_trino.py): the
    same files, and once rendered they differ only where a host name is."""

    class EmbeddedLike:  # with the Docker stack's dummy keys: the embedded stack's own differ by design
        endpoint, access_key, secret_key = "http://127.0.0.1:45678", docker_stack.ACCESS_KEY, docker_stack.SECRET_KEY

    native = trino_server.render_catalogs(trino_server.catalog_environment(EmbeddedLike()))
    service = services["trino"]
    docker = trino_server.render_catalogs(_env(service))
    assert sorted(native) == sorted(docker)
    for name in native:
        differing = [(a, b) for a, b in zip(native[name].splitlines(), docker[name].splitlines(), strict=True)
                     if a != b]
        assert differing, name
        for native_line, docker_line in differing:
            key, native_value = native_line.split("=", 1)
            docker_key, docker_value = docker_line.split("=", 1)
            assert key == docker_key and key.endswith(("endpoint", "endpoint-url")), (native_line, docker_line)
            assert urlparse(native_value).hostname == "127.0.0.1"
            assert urlparse(docker_value).hostname in services, docker_value  # a service of the stack
    assert set(_env(service)) == set(trino_server.catalog_environment(EmbeddedLike()))


def test_no_real_looking_credentials_anywhere():
    files = [COMPOSE, *TRINO_CATALOGS.glob("*.properties")]
    files += [p for p in DOCKER.rglob("*") if p.is_file() and p.suffix != ".md"]
    aws_key_id = re.compile(r"\b(AKIA|ASIA|AIDA|AROA)[0-9A-Z]{16}\b")
    assignment = re.compile(
        r"(?i)(secret|password|passwd|token|access[-_.]?key(?:[-_.]?id)?)[\w.-]*\s*[:=]\s*['\"]?([^\s'\"#]+)"
    )
    for path in files:
        text = path.read_text()
        assert not aws_key_id.search(text), f"{path} holds something like an AWS access key id"
        for line in text.splitlines():
            if line.lstrip().startswith("#"):
                continue
            for match in assignment.finditer(line):
                value = match.group(2)
                from_environment = value.startswith("${ENV:STEDI_")
                assert from_environment or value in (docker_stack.ACCESS_KEY, docker_stack.SECRET_KEY), (
                    f"{path}: {line.strip()}")


# ---------------------------------------------------------------- the Spark image


def test_spark_session_semantics_match_the_embedded_stack(spark_conf):
    for key in ("spark.sql.session.timeZone", "spark.sql.ansi.enabled", "spark.sql.shuffle.partitions"):
        assert spark_conf[key] == LOCAL_CONF[key], key
    assert spark_conf["spark.sql.extensions"] == "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"
    # The executors carry the same JVM options as the driver (log configuration, the SDK's keys).
    assert spark_conf["spark.executor.extraJavaOptions"] == spark_conf["spark.driver.extraJavaOptions"]


def test_the_log_configuration_the_defaults_name_is_in_the_image(spark_conf):
    options = spark_conf["spark.driver.extraJavaOptions"]
    path = Path(re.search(r"-Dlog4j2\.configurationFile=file:(\S+)", options).group(1))
    dockerfile = DOCKERFILE.read_text()
    assert "WORKDIR /opt/stedi" in dockerfile and "COPY stedi/ stedi/" in dockerfile
    assert (ROOT / path.relative_to("/opt/stedi")).is_file()


def _jars() -> list[tuple[str, str, str]]:
    rows = [line.split() for line in JARS_LOCK.read_text().splitlines() if line.strip() and not line.startswith("#")]
    assert all(len(row) == 3 for row in rows)
    return [tuple(row) for row in rows]


def test_iceberg_jars_match_glue_6_and_the_pinned_spark():
    lock = (ROOT / "requirements.lock").read_text()
    spark_version = re.search(r"^pyspark==(\S+)$", lock, re.M).group(1)
    spark_minor = ".".join(spark_version.split(".")[:2])
    import pyspark

    spark_jars = " ".join(os.listdir(Path(pyspark.__file__).parent / "jars"))
    scala = re.search(r"scala-library-(\d+\.\d+)\.", spark_jars).group(1)
    files = {name for _, name, _ in _jars()}
    runtime_jar = next(n for n in files if n.startswith("iceberg-spark-runtime-"))
    match = re.fullmatch(r"iceberg-spark-runtime-(\d+\.\d+)_(\d+\.\d+)-(\d+\.\d+\.\d+)\.jar", runtime_jar)
    assert match and (match[1], match[2]) == (spark_minor, scala), runtime_jar
    iceberg = match[3]
    assert iceberg.startswith(GLUE_6_ICEBERG + ".")
    assert files == {runtime_jar, f"iceberg-aws-bundle-{iceberg}.jar"}


def test_every_jar_has_a_checksum_and_a_maven_central_url():
    for sha, name, url in _jars():
        assert re.fullmatch(r"[0-9a-f]{64}", sha), name
        artifact, version = re.fullmatch(r"(.+)-(\d+\.\d+\.\d+)\.jar", name).groups()
        assert url == f"https://repo1.maven.org/maven2/org/apache/iceberg/{artifact}/{version}/{name}"


def test_the_dockerfile_verifies_every_jar_before_use():
    dockerfile = DOCKERFILE.read_text()
    assert "jvm/jars.lock" in dockerfile
    assert "sha256sum -c -" in dockerfile and "set -eu" in dockerfile
    assert "openjdk-21-jre-headless" in dockerfile  # Spark 4.1 runs on 17 or 21; trixie has 21
    assert "pip install --no-deps -e ." in dockerfile  # the project, without a second Spark
    assert "COPY docker/spark/spark-defaults.conf /opt/stedi-conf/spark-defaults.conf" in dockerfile
    assert "SPARK_CONF_DIR=/opt/stedi-conf" in dockerfile


def test_the_image_installs_requirements_lock_and_everything_the_gates_need():
    """The container runs the whole pipeline with its gates: the same pins as the embedded stack."""
    dockerfile = DOCKERFILE.read_text()
    assert "COPY requirements.lock /opt/stedi-conf/requirements.lock" in dockerfile
    assert "pip install -r /opt/stedi-conf/requirements.lock" in dockerfile and "pip check" in dockerfile
    assert "COPY expectations/ expectations/" in dockerfile  # the suites the gates run
    locked = (ROOT / "requirements.lock").read_text()
    for package in ("pyspark==4.1.1", "pyarrow==", "great_expectations==1.24.1", "duckdb==1.5.5", "boto3=="):
        assert package in locked, package
    assert "STEDI_TARGET=docker" in dockerfile and "STEDI_CONTAINER=spark" in dockerfile
    assert "PYSPARK_PYTHON=/opt/venv/bin/python" in dockerfile  # the executors' Python is the driver's


def test_the_build_context_holds_what_every_dockerfile_copies():
    """The classic builder (Compose without buildx) reads only the context's own .dockerignore."""
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert ignore[[line.strip() for line in ignore].index("*")] == "*"  # everything else is left out
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    for dockerfile in DOCKERFILES.values():
        for line in dockerfile.read_text().splitlines():
            if line.startswith("COPY ") and "--from" not in line:
                for source in line.split()[1:-1]:
                    top = source.rstrip("/").split("/")[0]
                    assert (source.rstrip("/") in allowed or top in allowed
                            or any(source.startswith(a + "/") for a in allowed)), (dockerfile, source)
                    assert (ROOT / source).exists(), source
            assert not line.startswith(("RUN --mount", "COPY --chmod", "COPY --link")), "BuildKit only"


def test_every_image_trusts_the_machines_extra_cas():
    for dockerfile in DOCKERFILES.values():
        text = dockerfile.read_text()
        assert "COPY docker/ca-certificates/ /usr/local/share/ca-certificates/" in text, dockerfile
        assert "update-ca-certificates" in text, dockerfile
    assert "docker/ca-certificates/*.crt" in (ROOT / ".gitignore").read_text()  # never committed


# ---------------------------------------------------------------- make targets and README


def _recipes(text: str) -> dict[str, list[str]]:
    recipes, current = {}, None
    for line in text.splitlines():
        target = re.match(r"^([a-z-]+):", line)
        if target:
            current = target.group(1)
            recipes[current] = []
        elif line.startswith("\t") and current:
            recipes[current].append(line.strip())
    return recipes


def test_compose_mk_has_the_targets_and_checks_the_engine_first():
    text = (DOCKER / "compose.mk").read_text()
    recipes = _recipes(text)
    assert {"up", "smoke", "docker-engine", "base-image", "docker-down"} <= set(recipes)
    for target in ("up", "smoke"):
        assert recipes[target][0] == "@$(DOCKER_STACK_CHECK) check-engine", target
    assert "--workers $(WORKERS)" in recipes["up"][-1]
    assert recipes["docker-engine"] == ["@bash docker/engine/install.sh"]
    assert "down --if-up" in recipes["docker-down"][0]
    assert "DOCKER_STACK_CHECK := $(PYTHON) -m stedi.targets.docker" in text


def test_the_engine_installer_pins_the_compose_plugin():
    script = (DOCKER / "engine" / "install.sh").read_text()
    version = re.search(r'^COMPOSE_VERSION="\$\{COMPOSE_VERSION:-(v[\d.]+)\}"', script, re.M).group(1)
    assert version == "v5.6.0"
    assert 'go get "github.com/docker/compose/v5/cmd@$COMPOSE_VERSION"' in script
    assert "apt-get install -y -qq docker.io" in script
    assert docker_stack.install_command().endswith("make docker-engine")


def test_ci_installs_the_engine_before_the_tests():
    ci = (ROOT / ".ci" / "run").read_text()
    assert ci.index("make docker-engine") < ci.index("make test")


def test_readme_section_tells_a_docker_user_what_they_need():
    text = (DOCKER.parent / "README.md").read_text()
    assert "make up && make pipeline && make query && make down" in text
    for target in ("make docker-engine", "make base-image", "make up WORKERS=2", "make smoke"):
        assert target in text, target
    for service in docker_stack.SERVICES:
        assert f"`{service}`" in text
    for port in docker_stack.PORTS.values():
        assert port.env in text
