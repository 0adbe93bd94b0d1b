"""Faults a user meets on a laptop, produced for real: the wrong Java, a taken port, a full disk,
a second pipeline on the same lakehouse, a service that does not answer. Each must end in one
sentence that says what to do."""

from __future__ import annotations

import errno
import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from stedi.runtime import runlock
from stedi.runtime.preflight import (
    HEADROOM_BYTES,
    PreflightError,
    check_disk,
    check_java,
    estimate_warehouse_bytes,
    no_space_message,
)
from stedi.runtime.retry import Unreachable, is_transient, retry
from stedi.targets import embedded_stack as stack

PROJECT_ROOT = Path(__file__).resolve().parents[2]


# --- Java -------------------------------------------------------------------------------------


def test_old_java_is_refused_naming_both_versions(tmp_path, monkeypatch):
    java = tmp_path / "jdk" / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text("#!/bin/sh\necho 'openjdk version \"11.0.2\" 2019-01-15' >&2\n")
    java.chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "jdk"))
    with pytest.raises(PreflightError) as raised:
        check_java()
    assert "17" in str(raised.value) and "Java 11" in str(raised.value)


def test_java_home_without_java_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PreflightError, match="Java was not found") as raised:
        check_java()
    assert str(tmp_path) in str(raised.value)


def test_no_java_anywhere(tmp_path, monkeypatch):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PreflightError, match="Java was not found"):
        check_java()


# --- port -------------------------------------------------------------------------------------


def test_fixed_port_in_use_is_named(tmp_path):
    home = tmp_path / "state"
    with socket.socket() as taken:
        taken.bind((stack.HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        try:
            with pytest.raises(stack.StackError, match=f"port {port} .*already in use"):
                stack.up(home, port=port)
        finally:
            stack.down(home)  # in case an emulator was started after all


# --- disk -------------------------------------------------------------------------------------


def test_check_disk_refuses_an_impossible_need(tmp_path):
    with pytest.raises(PreflightError, match="MB free on the disk holding") as raised:
        check_disk(tmp_path / "not" / "yet", need_bytes=10**18)
    assert "STEDI_HOME" in str(raised.value)


def test_check_disk_accepts_a_small_need(tmp_path):
    check_disk(tmp_path, need_bytes=1)


def test_estimate_grows_with_the_landing_files(tmp_path):
    (tmp_path / "customer" / "landing").mkdir(parents=True)
    (tmp_path / "customer" / "landing" / "a.json").write_bytes(b"x" * 1000)
    assert estimate_warehouse_bytes(tmp_path) == 1500 + HEADROOM_BYTES
    assert estimate_warehouse_bytes(tmp_path / "missing") == HEADROOM_BYTES


def test_no_space_is_recognized(tmp_path):
    message = no_space_message(OSError(errno.ENOSPC, "No space left on device"), tmp_path)
    assert message.startswith(f"the disk holding {tmp_path} is full") and "STEDI_HOME" in message
    assert no_space_message(OSError(errno.EIO, "I/O error"), tmp_path) is None
    assert no_space_message(RuntimeError("commit failed"), tmp_path) is None
    # pyarrow's wording (what pyiceberg raises), here wrapped the way a caller might wrap it
    wrapper = RuntimeError("could not write the table")
    wrapper.__cause__ = OSError("Error writing bytes to file. Detail: [errno 28] No space left on device")
    assert no_space_message(wrapper, tmp_path) is not None


def test_a_real_full_device(tmp_path):
    full = Path("/dev/full")
    # Only the character device: a regular file named /dev/full would simply be overwritten.
    if not full.exists() or not stat.S_ISCHR(full.stat().st_mode):
        pytest.skip("no /dev/full device here")
    fd = os.open(full, os.O_WRONLY)
    try:
        with pytest.raises(OSError) as raised:
            os.write(fd, b"x" * 4096)
    finally:
        os.close(fd)
    assert raised.value.errno == errno.ENOSPC
    assert "is full" in no_space_message(raised.value, tmp_path)


# --- one pipeline per lakehouse -----------------------------------------------------------------


def _holder(home: Path, seconds: float) -> subprocess.Popen:
    """Another process holding the lakehouse for `seconds`, once it has printed "held"."""
    code = textwrap.dedent(
        f"""
        import time
        from pathlib import Path
        from stedi.runtime.runlock import hold
        with hold(Path({str(home)!r}), "stedi pipeline"):
            print("held", flush=True)
            time.sleep({seconds})
        """
    )
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout.readline().strip() == "held"
    return process


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(timeout=10)


def test_second_pipeline_is_refused_naming_the_first(tmp_path):
    home = tmp_path / "state"
    first = _holder(home, 60)
    try:
        with pytest.raises(runlock.LakehouseBusy) as raised:
            with runlock.hold(home, "stedi pipeline"):
                pytest.fail("entered a lakehouse another process holds")
        message = str(raised.value)
        assert f"pid {first.pid}" in message and "`stedi pipeline`" in message and str(home) in message
        assert "STEDI_LOCK_WAIT" in message
    finally:
        _stop(first)


def test_second_pipeline_waits_for_the_first(tmp_path):
    home = tmp_path / "state"
    first = _holder(home, 1)
    told = []
    try:
        started = time.monotonic()
        with runlock.hold(home, "stedi pipeline", wait_seconds=5, progress=told.append):
            assert runlock.holder(home)["pid"] == os.getpid()
        assert time.monotonic() - started < 5
        assert len(told) == 1 and told[0].startswith("waiting for the pipeline started at")
        assert f"by pid {first.pid} (stedi pipeline)" in told[0]
    finally:
        _stop(first)


def test_a_killed_holder_never_blocks(tmp_path):
    home = tmp_path / "state"
    first = _holder(home, 60)
    first.send_signal(signal.SIGKILL)
    _stop(first)
    assert runlock.holder(home)["pid"] == first.pid  # the file outlived its holder...
    started = time.monotonic()
    with runlock.hold(home, "stedi pipeline"):  # ...but not the lock
        assert runlock.holder(home)["pid"] == os.getpid()
    assert time.monotonic() - started < 1


def test_nested_hold_in_one_process(tmp_path):
    with runlock.hold(tmp_path, "stedi pipeline"):
        with runlock.hold(tmp_path, "stedi pipeline"):
            pass
        assert runlock.holder(tmp_path)["pid"] == os.getpid()
    assert runlock.holder(tmp_path) is None  # released and emptied


def test_lock_wait_from_the_environment(monkeypatch):
    monkeypatch.delenv("STEDI_LOCK_WAIT", raising=False)
    assert runlock.default_wait() == 0
    monkeypatch.setenv("STEDI_LOCK_WAIT", "2.5")
    assert runlock.default_wait() == 2.5
    monkeypatch.setenv("STEDI_LOCK_WAIT", "soon")
    with pytest.raises(ValueError, match="STEDI_LOCK_WAIT must be a number of seconds"):
        runlock.default_wait()


# --- retry ------------------------------------------------------------------------------------
# Sleeping is replaced by a recorder to keep these tests fast; the connections are real.


def test_a_closed_port_ends_in_one_sentence():
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound but not listening: connections are refused
        port = closed.getsockname()[1]
        slept = []
        with pytest.raises(Unreachable) as raised:
            retry(
                lambda: socket.create_connection(("127.0.0.1", port), timeout=0.5),
                what="S3 emulator",
                attempts=3,
                sleep=slept.append,
            )
    message = str(raised.value)
    assert message.startswith("the S3 emulator did not answer after 3 attempts over ")
    assert "ConnectionRefusedError" in message and "`stedi status`" in message
    assert isinstance(raised.value.__cause__, ConnectionRefusedError)
    assert len(slept) == 2 and slept[0] < slept[1]


def test_a_blip_is_ridden_out():
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")
        return "answer"

    told = []
    assert retry(flaky, what="S3 emulator", sleep=lambda s: None, progress=told.append) == "answer"
    assert len(calls) == 3 and len(told) == 2 and "attempt 2 of 5" in told[0]


def test_a_real_error_is_not_retried():
    calls = []

    def wrong():
        calls.append(1)
        raise ValueError("no such table")

    with pytest.raises(ValueError, match="no such table"):
        retry(wrong, what="S3 emulator", sleep=lambda s: pytest.fail("slept"))
    assert len(calls) == 1


def test_what_counts_as_transient(tmp_path):
    import sqlite3

    from botocore.exceptions import EndpointConnectionError
    from pyarrow import fs

    assert is_transient(EndpointConnectionError(endpoint_url="http://127.0.0.1:1"))
    assert is_transient(OSError("AWS Error NETWORK_CONNECTION during HeadObject operation: curlCode: 7"))
    assert is_transient(sqlite3.OperationalError("database is locked"))
    assert not is_transient(sqlite3.OperationalError("no such table: iceberg_tables"))
    assert not is_transient(OSError(errno.ENOSPC, "No space left on device"))
    assert not is_transient(BrokenPipeError(errno.EPIPE, "Broken pipe"))
    wrapper = RuntimeError("commit failed")
    wrapper.__cause__ = ConnectionResetError(errno.ECONNRESET, "Connection reset by peer")
    assert is_transient(wrapper)

    with socket.socket() as closed:  # pyarrow's own wording for a refused connection, for real
        closed.bind(("127.0.0.1", 0))
        s3 = fs.S3FileSystem(
            access_key="test",
            secret_key="test",
            region="us-east-1",
            scheme="http",
            endpoint_override=f"127.0.0.1:{closed.getsockname()[1]}",
            retry_strategy=fs.AwsStandardS3RetryStrategy(max_attempts=1),
        )
        with pytest.raises(OSError) as raised:
            s3.get_file_info("bucket/key")
    assert is_transient(raised.value)
