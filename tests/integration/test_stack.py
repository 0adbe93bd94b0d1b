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
