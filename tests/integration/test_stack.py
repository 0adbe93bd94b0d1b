"""The embedded stack's life cycle, on a real emulator process in a private home."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess

import pytest

from stedi.tables import lakehouse
from stedi.targets import embedded_stack as stack
from tests import moto_server


@pytest.fixture
def home(tmp_path):
    yield tmp_path
    stack.down(tmp_path)


def test_up_binds_loopback_on_a_free_port_and_is_reused(home):
    first = stack.up(home)
    assert first.endpoint.startswith("http://127.0.0.1:")
    assert stack.up(home) == first
    assert first.s3_client().head_bucket(Bucket=lakehouse().bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200


def _appended_table(lake, name: str, appends: int):
    """An Iceberg table of one e-mail column, appended to `appends` times through pyiceberg."""
    import pyarrow as pa
    from pyiceberg.schema import Schema
    from pyiceberg.types import NestedField, StringType

    schema = Schema(NestedField(1, "email", StringType(), required=False))
    table = lake.catalog().create_table((lakehouse().namespace, name), schema=schema)
    for _ in range(appends):
        table.append(pa.Table.from_pylist([{"email": "a@example.com"}], schema=schema.as_arrow()))
    return table


def _object_files(home) -> dict:
    return {path: path.read_bytes() for path in (home / stack.STORE_DIR / "objects").glob("*/*")}


def test_objects_live_in_files_of_the_store_not_in_the_emulators_memory(home):
    lake = stack.up(home)
    s3, bucket, big = lake.s3_client(), lakehouse().bucket, os.urandom(200_000)
    s3.put_object(Bucket=bucket, Key="store/big.bin", Body=big)
    s3.put_object(Bucket=bucket, Key="store/small.bin", Body=b"small")
    assert sorted(_object_files(home).values(), key=len) == [b"small", big]
    assert s3.get_object(Bucket=bucket, Key="store/big.bin")["Body"].read() == big
    descriptors = f"/proc/{lake.pid}/fd"
    links = [os.readlink(f"{descriptors}/{fd}") for fd in os.listdir(descriptors)]
    assert not [link for link in links if "/objects/" in link]  # opened per request: no descriptor per object

    s3.put_object(Bucket=bucket, Key="store/small.bin", Body=b"replaced")
    s3.delete_object(Bucket=bucket, Key="store/big.bin")
    s3.put_object(Bucket=bucket, Key="store/later.bin", Body=b"later")  # answered after a save without the old two
    assert sorted(_object_files(home).values()) == [b"later", b"replaced"]


def test_a_killed_emulator_keeps_its_tables_snapshots_and_objects(home):
    """kill -9 at any moment leaves the last change it answered on disk; the next `up` loads it."""
    lake = stack.up(home)
    table = _appended_table(lake, "kept", 2)
    snapshots = [s.snapshot_id for s in table.snapshots()]
    old_keys = lake.keys
    os.kill(lake.pid, signal.SIGKILL)
    os.waitpid(lake.pid, 0)
    assert stack.current(home) is None

    again = stack.up(home)
    assert again.pid != lake.pid
    kept = again.catalog().load_table((lakehouse().namespace, "kept"))
    assert [s.snapshot_id for s in kept.snapshots()] == snapshots and len(snapshots) == 2
    assert kept.scan().to_arrow().column("email").to_pylist() == ["a@example.com", "a@example.com"]
    assert again.keys.access_key_id != old_keys.access_key_id  # keys die with the emulator that issued them
    with pytest.raises(Exception, match="InvalidAccessKeyId"):
        stack.Stack(home=home, port=again.port, pid=again.pid, keys=old_keys).s3_client().list_buckets()
    job = again.as_glue_job()  # the jobs' identity, made again with a fresh key on the loaded lakehouse
    assert job.client("glue").get_table(DatabaseName=lakehouse().namespace, Name="kept")["Table"]["Name"] == "kept"


def test_a_commit_that_skips_the_archive_keeps_no_old_table_version(home):
    """As AWS Glue does with SkipArchive (Iceberg's catalogs send it): the saved catalog does not
    grow with every commit."""
    lake = stack.up(home)
    table = _appended_table(lake, "versions", 3)
    glue = lake.client("glue")
    versions = glue.get_table_versions(DatabaseName=lakehouse().namespace, TableName="versions")["TableVersions"]
    assert len(versions) == 1
    assert versions[0]["Table"]["Parameters"]["metadata_location"] == table.metadata_location


def test_down_keeps_the_lakehouse_and_discard_deletes_it(home):
    lake = stack.up(home)
    bucket = lakehouse().bucket
    lake.s3_client().put_object(Bucket=bucket, Key="kept.txt", Body=b"kept")
    assert stack.down(home) is True
    assert "1 objects" in "\n".join(stack.status_lines(home))  # not running, and what is on disk

    again = stack.up(home)
    assert again.s3_client().get_object(Bucket=bucket, Key="kept.txt")["Body"].read() == b"kept"
    stopped, size = stack.discard(home)
    assert stopped and size > 0
    assert not (home / stack.STORE_DIR).exists() and stack.current(home) is None

    fresh = stack.up(home)
    assert fresh.s3_client().list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    assert fresh.catalog().list_tables(lakehouse().namespace) == []


def test_down_stops_the_emulator(home):
    lake = stack.up(home)
    assert stack.down(home) is True
    assert stack.current(home) is None
    assert stack.down(home) is False
    with pytest.raises(stack.StackError, match="not running"):
        stack.require(home)
    with pytest.raises(ConnectionError):
        socket.create_connection(("127.0.0.1", lake.port), timeout=1)


def test_a_requested_port_in_use_is_a_clear_error(home, monkeypatch):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        monkeypatch.setenv("STEDI_S3_PORT", str(taken.getsockname()[1]))
        with pytest.raises(stack.StackError, match="already in use by another process"):
            stack.up(home)


def test_an_emulator_from_before_stacks_had_keys_is_stopped_not_left_answering_anyone(home):
    """A stack started by an earlier version (plain moto, dummy keys) must not outlive the upgrade."""
    old, url = moto_server.start(subprocess.DEVNULL)
    port = int(url.rsplit(":", 1)[1])
    (home / "stack.json").write_text(json.dumps({"port": port, "pid": old.pid}))

    lake = stack.up(home)
    assert old.wait(timeout=15) is not None  # stopped
    assert lake.s3_client().head_bucket(Bucket=lakehouse().bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_stedi_discard_asks_for_yes_then_deletes_the_lakehouse(home):
    import sys

    from tests.conftest import PROJECT_ROOT

    env = {**os.environ, "STEDI_HOME": str(home), "STEDI_TARGET": "embedded"}

    def stedi(*argv):
        return subprocess.run([sys.executable, "-m", "stedi.cli", *argv], env=env, cwd=PROJECT_ROOT,
                              capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)

    stack.up(home).s3_client().put_object(Bucket=lakehouse().bucket, Key="kept.txt", Body=b"kept")
    refused = stedi("discard")
    assert refused.returncode == 2 and "pass --yes to confirm" in refused.stderr
    assert stack.current(home) is not None and (home / stack.STORE_DIR).exists()  # nothing touched

    done = stedi("discard", "--yes")
    assert done.returncode == 0, done.stderr
    assert "stopped, and deleted the lakehouse on disk" in done.stdout
    assert not (home / stack.STORE_DIR).exists() and stack.current(home) is None
    assert stedi("discard", "--yes").stdout.strip() == "embedded: no lakehouse on disk"
