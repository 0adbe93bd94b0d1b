"""The docker target from the host, as far as it runs without a Docker engine: the Compose
helpers, the configuration the Spark container reads, and one clear sentence where an engine is
needed.

The code the Spark container runs is tested for real elsewhere: tests/integration/
test_spark_catalog.py runs it (container.open_run) with real Spark and Iceberg on the embedded
stack's Glue API, the same moto server the Docker stack runs in a container; the Trino client
runs against the embedded stack's real Trino (tests/integration/test_trino.py).
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

no_engine = pytest.mark.skipif(compose.engine_available(), reason="a Docker engine runs here")


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
    assert compose.unhealthy(states) == ["glue", "spark", "trino"]
    all_up = {name: {"State": "running", "Health": "healthy"} for name in compose.SERVICES}
    assert compose.healthy(all_up)


@no_engine
def test_without_an_engine_the_stack_is_not_up_and_the_pipeline_says_so():
    assert not compose.engine_available()
    assert not compose.is_up()
    with pytest.raises(compose.DockerStackError) as raised:
        docker.DockerTarget().delegate(RunRequest(), progress=lambda message: None)
    assert str(raised.value) == compose.NOT_UP
    with pytest.raises(compose.DockerStackError) as raised:
        compose.up(progress=lambda message: None)
    assert str(raised.value) == compose.NO_ENGINE


@no_engine
def test_docker_stack_up_without_an_engine_fails_with_one_sentence():
    result = subprocess.run(
        [sys.executable, "-m", "stedi.targets.docker", "up"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [f"stedi: error: {compose.NO_ENGINE}"]
    assert "`make pipeline`" in compose.NO_ENGINE and compose.NO_ENGINE.count(". ") == 0


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
    assert lines[0] == f"stedi: error: {compose.NO_ENGINE}"
    # make's own "Error 2" line ("make[1]: ***" when the suite itself runs under `make test`)
    assert all(re.match(r"make(\[\d+\])?: \*\*\*", line) for line in lines[1:]), lines
    assert not (ROOT / "build" / "no-such-venv").exists()


@no_engine
def test_docker_down_without_an_engine_is_a_quiet_no_op():
    result = subprocess.run(
        [sys.executable, "-m", "stedi.targets.docker", "down", "--if-up"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


