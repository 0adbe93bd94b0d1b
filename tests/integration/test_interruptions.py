"""Runs that die or collide, for real: a pipeline process SIGKILLed in the middle of a write, and
two pipelines started on the same lakehouse at once. Real S3 emulator, real Spark, real Iceberg.

The killed process is stopped at a precise moment by wrapping, inside that process only, the
function that is about to run (fault injection); everything it did until then is real.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stedi import pipeline
from stedi.datasets import synthetic
from stedi.lakehouse import STAGE_BRANCH
from stedi.lakehouse.pyiceberg_io import orphan_files
from stedi.runtime import runlock, settings
from stedi.tables import lakehouse
from stedi.targets import embedded_stack as stack
from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.e2e

# Runs the embedded pipeline and freezes (sleeps) at the chosen point for the chosen table,
# after touching a marker file, so the test can SIGKILL it exactly there.
FREEZE = r"""
import sys, time
from pathlib import Path

landing, marker, point, target, table_io = sys.argv[1:6]

def freeze():
    Path(marker).write_text("frozen")
    time.sleep(600)

if table_io == "pyiceberg" and point == "data files written, not committed":
    import pyiceberg.io.pyarrow as writer
    write_files = writer._dataframe_to_data_files

    def writing(**kwargs):
        yield from write_files(**kwargs)
        if kwargs["table_metadata"].location.endswith("/" + target):
            freeze()

    writer._dataframe_to_data_files = writing
elif table_io == "spark" and point == "data files written, not committed":
    # Two write tasks: the first writes its data file and ends, the second stalls before it can
    # finish, so the commit (made by the driver once every task is done) never comes.
    from stedi.lakehouse.spark_io import SparkCatalogIO
    frame_of = SparkCatalogIO._frame

    def stalled(self, table, rows):
        frame = frame_of(self, table, rows)
        if table.name != target:
            return frame

        def tasks(batches):
            from pyspark import TaskContext
            if TaskContext.get().partitionId() == 1:
                time.sleep(8)  # long enough for the other task's file to be written
                freeze()
            yield from batches

        return frame.repartition(2).mapInArrow(tasks, frame.schema)

    SparkCatalogIO._frame = stalled
else:
    import stedi.lakehouse.pyiceberg_io as pyiceberg_io
    import stedi.lakehouse.spark_io as spark_io
    publish = {io: io.publish for io in (pyiceberg_io.EmbeddedIO, spark_io.SparkCatalogIO)}

    def publishing(self, staged):
        if staged.table.name == target:
            freeze()
        return publish[type(self)](self, staged)

    for io in publish:
        io.publish = publishing

from stedi import pipeline
pipeline.run_embedded(Path(landing), "strict", table_io=table_io)
"""

POINTS = {
    "data files written, not committed": "machine_learning_curated",
    "staged on the audit branch, not published": "customers_curated",
}
# The Spark path (the default) at both points; the pyiceberg bridge where its own writer is involved.
KILLS = [
    ("spark", "data files written, not committed"),
    ("spark", "staged on the audit branch, not published"),
    ("pyiceberg", "data files written, not committed"),
]


def every_table() -> list[str]:
    house = lakehouse()
    return list(house.iceberg_tables)


def contents() -> dict[str, tuple]:
    catalog = stack.require().catalog()
    result = {}
    for name in every_table():
        table = catalog.load_table((lakehouse().namespace, name))
        rows = sorted(tuple(r.values()) for r in table.scan().to_arrow().to_pylist())
        result[name] = (table.current_snapshot().snapshot_id, rows)
    return result


def orphans() -> dict[str, list[str]]:
    lake = stack.require()
    catalog, fs = lake.catalog(), lake.arrow_fs()
    found = {n: orphan_files(catalog.load_table((lakehouse().namespace, n)), fs) for n in every_table()}
    return {n: files for n, files in found.items() if files}


@pytest.fixture(scope="module")
def data_sets(tmp_path_factory):
    root = tmp_path_factory.mktemp("interruptions")
    made = {}
    for label, seed in (("a", 21), ("b", 22)):
        made[label] = root / label
        synthetic.generate(made[label], customers=60, seed=seed)
    return made


@pytest.fixture(scope="module")
def uninterrupted_b(data_sets, spark):
    """The tables an uninterrupted run on data set B produces (rows only: snapshots differ)."""
    pipeline.run_embedded(data_sets["b"], "strict")
    return {name: rows for name, (_, rows) in contents().items()}


def start_frozen_run(landing: Path, marker: Path, point: str, table_io: str) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", FREEZE, str(landing), str(marker), point, POINTS[point], table_io],
        cwd=PROJECT_ROOT,
        env=os.environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: the kill takes its JVM too
    )
    deadline = time.monotonic() + 300
    while not marker.exists():
        if process.poll() is not None:
            pytest.fail(f"the run ended before reaching the point: {process.stderr.read()[-3000:]}")
        if time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            pytest.fail("the run did not reach the point within 300 s")
        time.sleep(0.2)
    return process


@pytest.mark.parametrize(("table_io", "point"), KILLS)
def test_a_run_killed_mid_write_leaves_the_previous_tables_and_the_next_run_repairs(
    table_io, point, data_sets, uninterrupted_b, tmp_path
):
    target = POINTS[point]
    pipeline.run_embedded(data_sets["a"], "strict", table_io=table_io)
    before = contents()  # data set A, published

    process = start_frozen_run(data_sets["b"], tmp_path / "frozen", point, table_io)
    # while it is frozen it holds the lakehouse: a second pipeline is refused in one sentence
    refused = subprocess.run(
        [sys.executable, "-m", "stedi.cli", "pipeline", "--landing", str(data_sets["b"])],
        cwd=PROJECT_ROOT,
        env={**os.environ, runlock.WAIT_ENV: "0"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 2, refused.stderr[-2000:]
    assert f"another pipeline (pid {process.pid}" in refused.stderr and runlock.WAIT_ENV in refused.stderr
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)

    after_kill = contents()
    assert after_kill[target] == before[target]  # same snapshot, same rows: nothing partial is visible
    for name, (_, rows) in after_kill.items():  # every table readable, each wholly A or wholly B
        assert rows in (before[name][1], uninterrupted_b[name]), name
    left = orphans()
    if point.startswith("data files"):
        assert list(left) == [target]  # the uncommitted parquet files
    else:
        catalog = stack.require().catalog()
        assert STAGE_BRANCH in catalog.load_table((lakehouse().namespace, target)).refs()

    summary = pipeline.run_embedded(data_sets["b"], "strict", table_io=table_io)
    assert {name: rows for name, (_, rows) in contents().items()} == uninterrupted_b
    assert summary["orphan_files_removed"] == sum(len(files) for files in left.values())
    assert orphans() == {}
    assert STAGE_BRANCH not in stack.require().catalog().load_table((lakehouse().namespace, target)).refs()


def test_two_pipelines_started_at_once_run_one_after_the_other(data_sets, uninterrupted_b, monkeypatch):
    first = subprocess.Popen(
        [sys.executable, "-m", "stedi.cli", "pipeline", "--landing", str(data_sets["a"])],
        cwd=PROJECT_ROOT,
        env=os.environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while (runlock.holder(settings.state_home()) or {}).get("pid") != first.pid:
        assert time.monotonic() < deadline and first.poll() is None, "the first pipeline never took the lakehouse"
        time.sleep(0.05)

    messages: list[str] = []
    monkeypatch.setenv(runlock.WAIT_ENV, "600")
    second = pipeline.run_embedded(data_sets["b"], "strict", progress=messages.append)

    output, _ = first.communicate(timeout=600)
    assert first.returncode == 0, output[-3000:]
    assert any(m.startswith("waiting for the pipeline started at ") and f"pid {first.pid}" in m for m in messages)
    assert second["tables"]["customer_landing"] == 60
    assert {name: rows for name, (_, rows) in contents().items()} == uninterrupted_b  # B whole, nothing of A


def test_an_emulator_that_does_not_answer_is_retried_then_named_in_one_sentence(tmp_path):
    import socket

    from stedi.lakehouse.pyiceberg_io import EmbeddedIO
    from stedi.runtime.retry import Unreachable
    from stedi.targets.embedded_stack import Stack
    from stedi.targets.stack_keys import Keys

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    keys = Keys("nobody", "arn:aws:iam::123456789012:user/nobody", "123456789012", "AKIANOBODY", "unused")
    io = EmbeddedIO(None, Stack(home=tmp_path, port=port, pid=0, keys=keys))
    started = time.monotonic()
    with pytest.raises(Unreachable) as raised:
        io.intake("customer_landing")
    message = str(raised.value)
    assert message.startswith("the S3 emulator did not answer after 5 attempts")
    assert "`stedi down` then `make pipeline` restarts it" in message and "\n" not in message
    assert time.monotonic() - started > 1  # it did wait between attempts


def test_old_snapshots_are_expired_and_their_files_deleted(data_sets, uninterrupted_b, spark):
    from stedi.lakehouse.pyiceberg_io import EmbeddedIO

    pipeline.run_embedded(data_sets["a"], "strict")
    pipeline.run_embedded(data_sets["b"], "strict")  # every table now has several snapshots
    io = EmbeddedIO(spark, stack.require())
    removed = io.expire_snapshots(keep=1)
    catalog = stack.require().catalog()
    for name in every_table():
        table = catalog.load_table((lakehouse().namespace, name))
        assert [s.snapshot_id for s in table.snapshots()] == [table.current_snapshot().snapshot_id], name
    assert removed > 0 and orphans() == {}
    assert {name: rows for name, (_, rows) in contents().items()} == uninterrupted_b  # current rows intact
