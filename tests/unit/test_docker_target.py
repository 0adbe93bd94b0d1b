"""The docker target from the host, as far as it runs without a Docker engine: the Compose
helpers, the REST catalog's reconciliation and the Trino client against local HTTP servers, the
configuration the Spark container reads, and one clear sentence where an engine is needed.

The code the Spark container runs is tested for real elsewhere: tests/integration/
test_spark_catalog.py runs it (container.run) with real Spark and Iceberg on the embedded
stack's catalog; only the REST catalog service itself needs Docker.
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

from stedi.runtime.params import RunRequest
from stedi.runtime.progress import SUMMARY_MARK
from stedi.tables import lakehouse
from stedi.targets import compose, docker, rest_catalog
from stedi.targets.container import CatalogConf, spark_defaults

ROOT = Path(__file__).resolve().parents[2]
SPARK_DEFAULTS = ROOT / "docker" / "spark" / "spark-defaults.conf"

no_engine = pytest.mark.skipif(compose.engine_available(), reason="a Docker engine runs here")


# ---------------------------------------------------------------- identifiers and configuration


def test_catalog_configuration_from_spark_defaults():
    conf = CatalogConf.from_conf(spark_defaults(SPARK_DEFAULTS).get)
    assert conf.name == compose.CATALOG
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
    assert compose.unhealthy(states) == ["iceberg-rest", "spark", "trino"]
    all_up = {name: {"State": "running", "Health": "healthy"} for name in compose.SERVICES}
    assert compose.healthy(all_up)


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
    assert rest_catalog.drop_dangling_tables(url, "stedi") == ["lost"]
    assert [entry for entry in handler.log if entry[0] == "DELETE"] == [("DELETE", f"{tables}/lost")]
    assert rest_catalog.drop_dangling_tables(url, "no_such_namespace") == []


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
    with pytest.raises(compose.DockerStackError, match="cannot load stedi.t"):
        rest_catalog.drop_dangling_tables(url, "stedi")
    assert not [entry for entry in handler.log if entry[0] == "DELETE"]


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


