"""A plain moto server (no IAM) on a free loopback port, for tests that need AWS as moto
emulates it: the deploy tests' stand-in for AWS, and an emulator as earlier versions of the
embedded stack ran it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/moto-api/", timeout=1) as answer:
            return answer.status == 200
    except OSError:
        return False


def start(log) -> tuple[subprocess.Popen, str]:
    """The running server and its URL; raises RuntimeError when it does not come up."""
    for _ in range(3):  # another process may take the free port between the check and the bind
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "MOTO_EC2_LOAD_DEFAULT_AMIS": "false"},
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None and not healthy(url):
            time.sleep(0.1)
        if healthy(url):
            return process, url
        process.kill()
        process.wait()
    raise RuntimeError("the moto server did not start")
