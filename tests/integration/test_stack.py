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


def test_objects_over_64_kb_live_in_unlinked_files_on_disk_not_in_the_emulators_memory(home):
    import resource

    from stedi.targets.emulator import SPOOL_MIN_OPEN_FILES

    lake = stack.up(home)
    s3, bucket, big = lake.s3_client(), lakehouse().bucket, os.urandom(200_000)
    s3.put_object(Bucket=bucket, Key="spool/big.bin", Body=big)
    s3.put_object(Bucket=bucket, Key="spool/small.bin", Body=b"small")
    descriptors = f"/proc/{lake.pid}/fd"
    links = [os.readlink(f"{descriptors}/{fd}") for fd in os.listdir(descriptors)]
    spooled = [link for link in links if link.startswith(str(home / "s3-spool")) and link.endswith("(deleted)")]
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard == resource.RLIM_INFINITY or hard >= SPOOL_MIN_OPEN_FILES:
        assert len(spooled) == 1  # the big object only: unlinked, so nothing is left when the emulator stops
    else:  # too few open files allowed for a descriptor per object: everything stays in memory
        assert spooled == []
    assert s3.get_object(Bucket=bucket, Key="spool/big.bin")["Body"].read() == big
    limits = open(f"/proc/{lake.pid}/limits").read()
    assert any(line.startswith("Max open files") and line.split()[3] == line.split()[4] for line in limits.splitlines())


def test_a_dead_emulator_leaves_no_stale_catalog_entries(home):
    lake = stack.up(home)
    lake.catalog().create_table(
        (lakehouse().namespace, "leftover"), schema=lakehouse().table("customer_landing").iceberg_schema()
    )
    os.kill(lake.pid, signal.SIGKILL)  # as after a reboot: the objects are gone
    os.waitpid(lake.pid, 0)
    assert stack.current(home) is None
    fresh = stack.up(home)
    assert fresh.port != 0
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
