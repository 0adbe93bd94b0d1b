"""The docker target from the host without a stack: the Compose helpers, the configuration the
Spark container reads, and one sentence naming what is missing (and the command that installs it)
where no Docker, no engine or no Compose plugin is found.

Those three machines are made here whatever this one has: a PATH without `docker`; DOCKER_HOST
naming a socket nobody listens on (the real CLI, no engine); and, for a missing plugin, a `docker`
on PATH that passes every command to the real one but answers `compose` as a CLI without the
plugin does (the one stand-in: a plugin cannot be hidden from Docker's system plugin folders).
The stack itself runs in tests/integration/test_docker_stack.py.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from stedi.runtime.params import RunRequest
from stedi.runtime.progress import SUMMARY_MARK
from stedi.tables import lakehouse
from stedi.targets import compose, docker
from stedi.targets.container import CatalogConf, spark_defaults

ROOT = Path(__file__).resolve().parents[2]
SPARK_DEFAULTS = ROOT / "docker" / "spark" / "spark-defaults.conf"

NO_ENGINE_HOST = "unix:///nonexistent/docker.sock"


@pytest.fixture
def no_engine(monkeypatch):
    """The docker CLI as it is, but no engine at the other end."""
    monkeypatch.setenv("DOCKER_HOST", NO_ENGINE_HOST)


@pytest.fixture
def no_docker(monkeypatch, tmp_path):
    """No `docker` command on PATH (only the Python running the tests)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(sys.executable)
    monkeypatch.setenv("PATH", str(bin_dir))
    return bin_dir


@pytest.fixture
def no_compose(monkeypatch, tmp_path):
    """`docker` answers everything but `compose`, which it does not know."""
    real = shutil.which("docker")
    if real is None:
        pytest.skip("no docker CLI here to wrap")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "docker"
    shim.write_text(f'#!/bin/sh\n[ "$1" = compose ] && {{ echo "docker: \'compose\' is not a docker command." >&2; '
                    f'exit 1; }}\nexec {real} "$@"\n')
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{Path(sys.executable).parent}:/usr/bin:/bin")


# ---------------------------------------------------------------- identifiers and configuration


def test_catalog_configuration_from_spark_defaults():
    conf = CatalogConf.from_conf(spark_defaults(SPARK_DEFAULTS).get)
    assert conf.name == compose.CATALOG
    assert conf.uri == "http://glue:5000"  # Iceberg's GlueCatalog on the stack's Glue API
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


def test_the_summary_line_is_found_among_other_output():
    stdout = "noise\n" + SUMMARY_MARK + json.dumps({"tables": {"a": 1}}) + "\nmore noise\n"
    assert docker.summary_from(stdout) == {"tables": {"a": 1}}
    with pytest.raises(compose.DockerStackError, match="no run summary"):
        docker.summary_from("nothing\n")


# ---------------------------------------------------------------- the host side


def test_compose_ps_output_of_old_and_new_compose_versions():
    new = (
        '{"Service":"s3","State":"running","Health":"healthy"}\n'
        '{"Service":"trino","State":"running","Health":"starting"}\n'
    )
    old = json.dumps([{"Service": "s3", "State": "running", "Health": "healthy"}])
    assert [e["Service"] for e in compose.parse_ps(new)] == ["s3", "trino"]
    assert compose.parse_ps(old) == [{"Service": "s3", "State": "running", "Health": "healthy"}]
    assert compose.parse_ps("") == []
    states = {e["Service"]: e for e in compose.parse_ps(new)}
    assert compose.unhealthy(states) == ["glue", "spark", "spark-worker", "trino"]
    all_up = {name: {"State": "running", "Health": "healthy"} for name in compose.SERVICES}
    assert compose.healthy(all_up)


def test_compose_ps_of_a_scaled_service_counts_replicas_and_keeps_the_least_healthy(monkeypatch):
    listed = "\n".join(json.dumps(entry) for entry in [
        {"Service": "spark-worker", "State": "running", "Health": "healthy"},
        {"Service": "spark-worker", "State": "running", "Health": "starting"},
        {"Service": "s3", "State": "running", "Health": "healthy"},
    ])
    monkeypatch.setattr(compose, "_compose", lambda *args, **kw: subprocess.CompletedProcess(args, 0, listed, ""))
    states = compose.service_states()
    assert states["spark-worker"]["Replicas"] == 2 and states["spark-worker"]["Health"] == "starting"
    assert states["s3"]["Replicas"] == 1


def test_without_an_engine_the_stack_is_not_up_and_the_pipeline_says_so(no_engine):
    assert not compose.engine_available()
    assert not compose.is_up()
    with pytest.raises(compose.DockerStackError) as raised:
        docker.DockerTarget().delegate(RunRequest(), progress=lambda message: None)
    assert str(raised.value) == compose.NOT_UP
    with pytest.raises(compose.DockerStackError) as raised:
        compose.up(progress=lambda message: None)
    assert str(raised.value) == compose.NO_ENGINE


@pytest.mark.parametrize("machine", ["no_docker", "no_engine", "no_compose"])
def test_docker_stack_up_says_what_is_missing_and_how_to_install_it(machine, request):
    request.getfixturevalue(machine)
    expected = {"no_docker": compose.NO_DOCKER, "no_engine": compose.NO_ENGINE, "no_compose": compose.NO_COMPOSE}
    result = subprocess.run(
        [sys.executable, "-m", "stedi.targets.docker", "up"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [f"stedi: error: {expected[machine]}"]
    sentence = expected[machine]
    assert f"`{compose.install_command()}`" in sentence and "`make pipeline`" in sentence
    assert sentence.count(". ") == 0


def test_the_three_sentences_name_three_different_things():
    assert len({compose.NO_DOCKER, compose.NO_ENGINE, compose.NO_COMPOSE}) == 3
    assert "no `docker` command" in compose.NO_DOCKER
    assert "`docker info` fails" in compose.NO_ENGINE
    assert "`docker compose version` fails" in compose.NO_COMPOSE


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_up_without_an_engine_fails_at_once_with_one_sentence(no_engine):
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
    assert lines[0] == f"stedi: error: {compose.NO_ENGINE}"
    # make's own "Error 2" line ("make[1]: ***" when the suite itself runs under `make test`)
    assert all(re.match(r"make(\[\d+\])?: \*\*\*", line) for line in lines[1:]), lines
    assert not (ROOT / "build" / "no-such-venv").exists()


def test_docker_down_without_an_engine_is_a_quiet_no_op(no_engine):
    result = subprocess.run(
        [sys.executable, "-m", "stedi.targets.docker", "down", "--if-up"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_the_machines_extra_cas_are_copied_for_the_builds_and_stale_ones_removed(tmp_path):
    source, dest = tmp_path / "local-cas", tmp_path / "ca-certificates"
    source.mkdir()
    dest.mkdir()
    (source / "proxy.crt").write_text("-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n")
    (source / "notes.txt").write_text("not a certificate")
    (dest / "README.md").write_text("kept")
    (dest / "old.crt").write_text("gone from the machine")
    assert compose.sync_ca_certificates(source, dest) == ["proxy.crt"]
    assert sorted(p.name for p in dest.iterdir()) == ["README.md", "proxy.crt"]
    assert (dest / "proxy.crt").read_text() == (source / "proxy.crt").read_text()
    assert compose.sync_ca_certificates(tmp_path / "none", dest) == []  # a machine without any
    assert sorted(p.name for p in dest.iterdir()) == ["README.md"]


def test_a_chosen_base_image_wins_without_asking_docker(monkeypatch):
    monkeypatch.setenv(compose.BASE_ENV, "registry.example/debian:trixie-slim")
    monkeypatch.setattr(compose, "_image_exists", lambda name: pytest.fail("Docker was asked"))
    assert compose.base_image(lambda message: pytest.fail(message)) == "registry.example/debian:trixie-slim"


def test_status_of_a_stack_whose_containers_stopped_says_so_without_failing(monkeypatch):
    exited = "\n".join(json.dumps({"Service": name, "State": "exited", "Health": ""}) for name in compose.SERVICES)

    def fake_compose(*args, **kw):  # `ps` lists stopped containers; `port` has nothing to say
        listed = exited if args[0] == "ps" else ""
        return subprocess.CompletedProcess(args, 0 if args[0] == "ps" else 1, listed, "")

    monkeypatch.setattr(compose, "engine_available", lambda: True)
    monkeypatch.setattr(compose, "compose_available", lambda: True)
    monkeypatch.setattr(compose, "_compose", fake_compose)
    for port in compose.PORTS.values():
        monkeypatch.delenv(port.env, raising=False)
    lines = compose.status_lines()
    assert lines[0] == "Docker stack: not healthy"
    assert "  s3           : exited (-)" in lines
    assert lines[-3:] == ["  S3 endpoint  : no port published", "  Glue API     : no port published",
                          "  Trino        : no port published"]
