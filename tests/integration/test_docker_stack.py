"""The Docker Compose stack for real: `make up WORKERS=2` builds every image from the one base and
starts LocalStack S3, the Glue Data Catalog API, a Spark master with two workers and Trino; `make
pipeline` runs the starter data on it under both policies; `make query` asks its Trino over every
zone; the Athena corpus runs on that Trino; `make smoke` checks every path; `make down` leaves
nothing behind. The counts are the plain-Python oracle's and the embedded stack's.

The stack runs under the suite's own compose project (STEDI_DOCKER_PROJECT, set for the whole
session in tests/conftest.py), so a developer's own Docker stack is neither read nor stopped. Without a Docker engine the module is skipped, except
under CI=true, where it fails: CI installs the engine first (`make docker-engine` in .ci/run).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import pytest

from stedi import pipeline
from stedi.query.duckdb_engine import DuckDBEngine
from stedi.query.errors import QueryError
from stedi.query.translate import translate
from stedi.query.trino_engine import TrinoEngine
from stedi.runtime import settings
from stedi.targets import compose
from tests import oracle
from tests.conftest import DOCKER_PROJECT, PROJECT_ROOT
from tests.integration.test_trino import comparable, corpus, corpus_placeholders, is_ordered

pytestmark = pytest.mark.e2e

PROJECT = DOCKER_PROJECT
WORKERS = 2


def _make(*args: str, timeout: float = 1800, check: bool = True) -> subprocess.CompletedProcess:
    """`make ARGS` in the project, as a user types it, with the suite's private settings."""
    completed = subprocess.run(
        ["make", "--no-print-directory", *args, f"PYTHON={sys.executable}"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=timeout,
    )
    if check:
        assert completed.returncode == 0, f"make {' '.join(args)}:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
    return completed


def _containers(*filters: str) -> list[str]:
    listed = subprocess.run(["docker", "ps", "--all", "--quiet", "--filter",
                             f"label=com.docker.compose.project={PROJECT}", *filters],
                            capture_output=True, text=True, check=True)
    return listed.stdout.split()


@pytest.fixture(scope="module")
def engine():
    if not (compose.engine_available() and compose.compose_available()):
        message = f"no Docker engine with Compose here: `{compose.install_command()}` installs one"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def stack(engine):
    """The stack, up; `make down` afterwards whatever happened."""
    assert compose.project() == PROJECT
    started = time.monotonic()
    try:
        up = _make("up", f"WORKERS={WORKERS}")
        yield {"up": up, "seconds": time.monotonic() - started}
    finally:
        _make("docker-down", check=False, timeout=600)


@pytest.fixture(scope="module")
def runs(stack, starter_data, tmp_path_factory):
    """`make pipeline` on the docker target with the starter data, under each policy (rubric last,
    so the tables read afterwards are the rubric run's)."""
    summaries = {}
    for policy in ("strict", "rubric"):
        path = tmp_path_factory.mktemp("docker") / f"{policy}.json"
        completed = _make("pipeline", "TARGET=docker", f"LANDING={starter_data}", f"POLICY={policy}",
                          f"SUMMARY={path}")
        summaries[policy] = {**json.loads(path.read_text()), "stdout": completed.stdout,
                             "stderr": completed.stderr}
    return summaries


@pytest.fixture(scope="module")
def embedded_rubric(starter_data):
    """The same data on the embedded stack, for the counts the two stacks must share."""
    return pipeline.run_embedded(starter_data, "rubric")


def test_where_docker_hub_is_out_of_reach_the_base_is_built_from_debians_packages(engine):
    """The path `make up` takes on a machine that never had a base: try the official image, and
    where the pull fails, say so in one sentence and build the same suite with debootstrap."""
    local = "stedi-lakehouse-test/debian:trixie"
    subprocess.run(["docker", "rmi", "--force", local], capture_output=True)
    said = []
    try:
        chosen = compose.base_image(said.append, local=local)
        if chosen == compose.OFFICIAL_BASE:  # this machine reaches Docker Hub (or had the image)
            assert said == []
            return
        assert chosen == local
        assert len(said) == 1 and said[0].startswith("Docker Hub cannot be reached ("), said
        assert said[0].endswith(f"building the base image {local} from Debian's packages instead "
                                "(debootstrap, once; `make base-image`)")
        release = subprocess.run(["docker", "run", "--rm", local, "cat", "/etc/os-release"],
                                 capture_output=True, text=True, check=True).stdout
        assert "VERSION_CODENAME=trixie" in release
        assert compose.base_image(said.append, local=local) == local  # kept: built once
    finally:
        subprocess.run(["docker", "rmi", "--force", local], capture_output=True)


def test_make_up_builds_and_starts_every_service_healthy_on_loopback(stack):
    states = compose.service_states()
    assert compose.healthy(states), states
    assert states[compose.WORKER_SERVICE]["Replicas"] == WORKERS
    assert "The Docker stack is up" in stack["up"].stdout
    published = []
    for container in _containers():
        ports = json.loads(subprocess.run(["docker", "inspect", "--format", "{{json .NetworkSettings.Ports}}",
                                           container], capture_output=True, text=True, check=True).stdout)
        published += [binding for bindings in ports.values() if bindings for binding in bindings]
    assert len(published) == len(compose.PORTS)
    assert all(binding["HostIp"] == "127.0.0.1" for binding in published), published
    images = {compose._compose("images", "--format", "json").stdout.count(name) > 0
              for name in ("stedi-lakehouse/spark", "stedi-lakehouse/trino", "stedi-lakehouse/localstack")}
    assert images == {True}


def test_every_image_is_built_from_the_one_debian_base(stack):
    """Each image's oldest layer is the base's: nothing else was pulled."""
    base = compose.base_image(lambda message: None)
    base_layers = _layers(base)
    for image in ("stedi-lakehouse/localstack:4.14.0", "stedi-lakehouse/spark:4.1.1-iceberg-1.11.0",
                  "stedi-lakehouse/trino:476"):
        assert _layers(image)[: len(base_layers)] == base_layers, image
    release = subprocess.run(["docker", "run", "--rm", "--entrypoint", "cat", "stedi-lakehouse/trino:476",
                              "/etc/os-release"], capture_output=True, text=True, check=True).stdout
    assert 'VERSION_CODENAME=trixie' in release


def _layers(image: str) -> list[str]:
    return json.loads(subprocess.run(["docker", "image", "inspect", "--format", "{{json .RootFS.Layers}}", image],
                                     capture_output=True, text=True, check=True).stdout)


def test_the_pipeline_gives_the_oracles_counts_under_both_policies(runs, starter_data):
    for policy, summary in runs.items():
        expected, crossed = oracle.expected_counts(starter_data, policy)
        assert summary["tables"] == expected, policy
        assert summary["target"] == "docker"
        if policy == "rubric":
            assert summary["tables"] == oracle.PUBLISHED["rubric"]
            assert summary["cross_customer_pairs"] == crossed
        for name, landed in summary["landing"].items():
            assert landed["records"] == landed["accepted"] + landed["quarantined"], name


def test_the_docker_and_embedded_stacks_give_the_same_counts(runs, embedded_rubric):
    assert runs["rubric"]["tables"] == embedded_rubric["tables"]
    assert runs["rubric"]["quarantine"] == embedded_rubric["quarantine"]
    assert runs["rubric"]["cross_customer_pairs"] == embedded_rubric["cross_customer_pairs"]


def test_the_jobs_ran_on_executors_in_the_worker_containers(runs):
    line = re.search(r"master (spark://\S+), (\d+) executors", runs["rubric"]["stderr"] + runs["rubric"]["stdout"])
    assert line and line.group(1) == "spark://spark:7077" and int(line.group(2)) == WORKERS, line
    workers = _containers("--filter", f"label=com.docker.compose.service={compose.WORKER_SERVICE}")
    assert len(workers) == WORKERS
    for worker in workers:  # each worker ran an executor of every run (its work directory keeps them)
        listed = subprocess.run(["docker", "exec", worker, "ls", "/tmp/spark-work"], capture_output=True, text=True)
        assert listed.returncode == 0 and len(listed.stdout.split()) >= len(runs), listed


def test_every_table_passed_its_gate_before_publishing_and_the_docs_and_report_were_written(runs):
    summary = runs["rubric"]
    gated = set(summary["gates"]["tables"])
    assert set(summary["tables"]) | set(summary["quarantine"]) | {"erasures"} == gated
    assert all(table["expectations"] > 0 for table in summary["gates"]["tables"].values())
    docs = settings.docs_dir() / "index.html"
    assert docs.is_file() and "customer_trusted" in docs.read_text()
    report = settings.report_dir() / "index.html"
    assert report.is_file() and "machine_learning_curated" in report.read_text()
    assert f"Run report: {report}" in summary["stdout"]


def test_make_query_answers_on_the_stacks_trino_over_every_zone(runs):
    completed = _make("query", "TARGET=docker", "FORMAT=csv")  # without SQL=: the validation queries
    counts = {name: (zone, int(rows)) for name, zone, rows in re.findall(r"^(\w+),(\w+),(\d+)$", completed.stdout, re.M)}
    assert {name: rows for name, (_, rows) in counts.items()} == runs["rubric"]["tables"]
    assert {zone for zone, _ in counts.values()} == {"landing", "trusted", "curated"}
    assert "target: docker" in completed.stderr


@pytest.fixture(scope="module")
def docker_engines(runs):
    """The stack's Trino (Athena SQL as written) and DuckDB over the same stack's S3 and catalog."""
    with DuckDBEngine(compose.view()) as duck:
        yield TrinoEngine(compose.trino_connection()), duck


@pytest.fixture(scope="module")
def docker_placeholders(docker_engines):
    on_trino, _ = docker_engines
    return corpus_placeholders(on_trino)


def test_the_athena_corpus_runs_on_the_stacks_trino(docker_engines, docker_placeholders):
    """Every statement answers on the stack's Trino, and wherever the DuckDB translation takes it,
    DuckDB over the same stack gives the same rows (as tests/integration/test_trino.py asks of the
    embedded stack)."""
    on_trino, duck = docker_engines
    compared = 0
    for case, sql in corpus():
        sql = re.sub(r"\$\{(\w+)\}", lambda m: docker_placeholders[m.group(1)], sql)
        expected = on_trino.run(sql)
        try:
            translate(sql)
        except QueryError:
            continue
        got = duck.run(sql)
        ordered = is_ordered(sql)
        assert comparable(got.rows, ordered) == comparable(expected.rows, ordered), f"{case}: DuckDB ran {got.sql}"
        compared += 1
    assert compared >= len(corpus()) * 3 // 4


def test_a_job_script_runs_alone_under_spark_submit_in_the_container(runs, starter_data):
    """As the README says: the job file, unchanged, on the stack's cluster and catalog, gated."""
    completed = compose._compose("exec", "-T", "spark", "spark-submit", "spark_jobs/customer_landing_to_trusted.py",
                                 "--policy", "rubric", timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    (line,) = [line for line in completed.stdout.splitlines() if line.startswith('{"job"')]
    result = json.loads(line)
    expected, _ = oracle.expected_counts(starter_data, "rubric")
    assert (result["output"], result["rows"]) == ("customer_trusted", expected["customer_trusted"])
    assert "target: docker (chosen with STEDI_TARGET=docker)" in completed.stdout + completed.stderr


def test_a_glue_studio_script_runs_unchanged_on_the_stacks_spark(runs, starter_data, tmp_path):
    """`stedi glue run --target docker`: a learner's Studio job in the spark container, its tasks on
    the workers; the stack's Trino counts what it wrote; the pipeline's next run takes its name back."""
    from stedi.studio import runner, workspace

    workspace.land(compose.s3_client(), starter_data, "s3://stedi-studio-lake/", lambda line: None)
    job = PROJECT_ROOT / "tests" / "glue_studio" / "jobs" / "customer_landing_to_trusted.py"
    (record,) = runner.run([job], [], lambda line: None, target="docker", capture=True)
    assert not record.get("error") and [w["rows"] for w in record["writes"]] == [482], record.get("error")
    assert "Filter ShareWithResearch_node1764151264530: kept 482 of 956 records" in record["output"]
    on_trino = TrinoEngine(compose.trino_connection())
    assert on_trino.run("SELECT count(*) FROM stedi.customer_trusted").rows == [(482,)]
    table = compose.glue_client().get_table(DatabaseName="stedi", Name="customer_trusted")["Table"]
    assert table["Parameters"]["CreatedByJob"] == "customer_landing_to_trusted"
    summary = tmp_path / "summary.json"
    _make("pipeline", "TARGET=docker", f"LANDING={starter_data}", "POLICY=rubric", f"SUMMARY={summary}")
    assert json.loads(summary.read_text())["tables"]["customer_trusted"] == 482
    table = compose.glue_client().get_table(DatabaseName="stedi", Name="customer_trusted")["Table"]
    assert table["Parameters"]["table_type"].upper() == "ICEBERG"


def test_an_erasure_on_the_docker_stack_reaches_every_copy_and_the_next_run_keeps_them_out(runs, starter_data,
                                                                                         tmp_path):
    """`stedi forget --target docker`: the erasure runs in the Spark container, the proof reads the
    stack from the host, and the host's register (a private one here: the suite's other stacks keep
    every customer) keeps the person out of the next docker run."""
    env = {**os.environ, "STEDI_PRIVACY_DIR": str(tmp_path / "privacy")}
    customers = oracle.records(starter_data, "customer")
    person = sorted(c["email"] for c in customers if c.get("shareWithResearchAsOfDate"))[0]
    request = tmp_path / "emails.txt"
    request.write_text(person + "\n")

    def stedi(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "stedi.cli", *argv], env=env, cwd=PROJECT_ROOT,
                              capture_output=True, text=True, timeout=900)

    erased = stedi("forget", "--target", "docker", "--file", str(request))
    assert erased.returncode == 0, erased.stdout[-2000:] + erased.stderr[-4000:]
    assert "verified: no trace of the 1 person(s)" in erased.stdout
    assert "rewrote s3://stedi-lakehouse/customer/landing/" in erased.stderr
    assert person.lower() not in (erased.stdout + erased.stderr).lower()
    summary = tmp_path / "summary.json"
    again = stedi("pipeline", "--target", "docker", "--landing", str(starter_data), "--summary", str(summary))
    assert again.returncode == 0, again.stderr[-4000:]
    landing = json.loads(summary.read_text())["landing"]
    assert landing["customer_landing"]["suppressed"] == 1
    assert all(e["records"] == e["accepted"] + e["quarantined"] + e["suppressed"] for e in landing.values())
    proof = stedi("forget", "--target", "docker", "--verify", "--email", person)
    assert proof.returncode == 0 and "verified: no trace" in proof.stdout, proof.stdout + proof.stderr[-3000:]


def test_make_smoke_checks_every_path(runs):
    completed = _make("smoke")
    lines = [line for line in completed.stdout.splitlines() if line.startswith("ok  ")]
    assert lines[-1] == "ok  Trino dropped the smoke table: the Docker stack works end to end"
    assert len(lines) == 7


def test_make_down_leaves_nothing_running_and_no_volume(runs, stack):
    # Last in the module: the stack fixture's own `make down` then finds nothing to do.
    network = f"{PROJECT}_default"
    _make("down")
    assert _containers() == []
    volumes = subprocess.run(["docker", "volume", "ls", "--quiet", "--filter",
                              f"label=com.docker.compose.project={PROJECT}"], capture_output=True, text=True)
    assert volumes.stdout.split() == []
    networks = subprocess.run(["docker", "network", "ls", "--quiet", "--filter", f"name={network}"],
                              capture_output=True, text=True)
    assert networks.stdout.split() == []
    assert not compose.is_up()
    assert compose.status_lines() == ["Docker stack: not running"]
