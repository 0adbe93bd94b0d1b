"""Fetching the starter data, against a real loopback HTTP server mirroring the upstream layout.

The server serves the shared reference copy in place (the licensed files never enter the
repository); tests that need a modified copy make it under tmp_path.
"""

from __future__ import annotations

import hashlib
import shutil
import socket
import threading
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from stedi.datasets import udacity

PROJECT_ROOT = Path(__file__).resolve().parents[2]
STARTER_DATA = PROJECT_ROOT.parent / "shared" / "data" / "udacity-starter"


@pytest.fixture
def starter() -> Path:
    if not STARTER_DATA.is_dir():
        pytest.skip(f"the shared reference data is absent (expected at {STARTER_DATA}); nothing to serve")
    return STARTER_DATA


@pytest.fixture(autouse=True)
def loopback_without_proxy(monkeypatch):
    # A developer's proxy settings must not send loopback requests elsewhere.
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch) -> list[float]:
    waits: list[float] = []
    monkeypatch.setattr(udacity, "_sleep", waits.append)
    return waits


@contextmanager
def serve(directory: Path, fail_once: frozenset[str] = frozenset()):
    """Serve `directory` on 127.0.0.1; yields the base URL and the list of requested paths.

    Paths in `fail_once` answer 503 to their first request, as a flaky upstream would.
    """
    requested: list[str] = []

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(directory), **kwargs)

        def do_GET(self):
            requested.append(self.path)
            if self.path in fail_once and requested.count(self.path) == 1:
                self.send_error(503, "try again")
                return
            super().do_GET()

        def log_message(self, format, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", requested
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(dest: Path) -> list[Path]:
    return [p for p in dest.rglob("*") if p.name.endswith(".part")]


def test_pinned_checksums_are_the_reference_copys(starter):
    listed = {}
    for line in (starter / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        listed[name.removeprefix("./")] = digest
    assert udacity.FILES == listed
    assert len(udacity.FILES) == 13


def test_downloads_and_verifies_every_file_then_skips_them(starter, tmp_path):
    dest = tmp_path / "starter"
    messages = []
    with serve(starter) as (base_url, requested):
        paths = udacity.fetch_udacity(dest, base_url=base_url, progress=messages.append)
        assert len(requested) == 13
        assert paths == [dest / relative for relative in udacity.FILES]
        for relative, path in zip(udacity.FILES, paths, strict=True):
            assert sha256(path) == udacity.FILES[relative]
            assert path.read_bytes() == (starter / relative).read_bytes()
        assert not leftovers(dest)
        assert len(messages) == 13

        again = udacity.fetch_udacity(dest, base_url=base_url.rstrip("/"))
        assert again == paths
        assert len(requested) == 13  # the re-run downloaded nothing


def test_a_damaged_local_file_is_downloaded_again(starter, tmp_path):
    dest = tmp_path / "starter"
    with serve(starter) as (base_url, requested):
        udacity.fetch_udacity(dest, base_url=base_url)
        damaged = dest / "customer" / "landing" / "customer-1691348231425.json"
        damaged.write_bytes(damaged.read_bytes()[:100])
        udacity.fetch_udacity(dest, base_url=base_url)
        assert requested[13:] == ["/customer/landing/customer-1691348231425.json"]
        assert sha256(damaged) == udacity.FILES["customer/landing/customer-1691348231425.json"]


def test_a_corrupted_upstream_file_fails_and_leaves_nothing_behind(starter, tmp_path):
    mirror = tmp_path / "mirror"
    shutil.copytree(starter, mirror)
    relative = "step_trainer/landing/step_trainer-1691348232085.json"
    data = bytearray((mirror / relative).read_bytes())
    data[1000] ^= 0x01
    (mirror / relative).write_bytes(bytes(data))
    dest = tmp_path / "starter"
    with serve(mirror) as (base_url, _):
        with pytest.raises(udacity.ChecksumError) as caught:
            udacity.fetch_udacity(dest, base_url=base_url)
    message = str(caught.value)
    assert relative in message
    assert udacity.FILES[relative] in message
    assert hashlib.sha256(bytes(data)).hexdigest() in message
    assert not (dest / relative).exists()
    assert not leftovers(dest)


def test_a_missing_upstream_file_names_the_url(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with serve(empty) as (base_url, requested):
        with pytest.raises(udacity.FetchError) as caught:
            udacity.fetch_udacity(tmp_path / "starter", base_url=base_url)
    first = next(iter(udacity.FILES))
    assert f"{base_url}{first}" in str(caught.value)
    assert "404" in str(caught.value)
    assert requested == [f"/{first}"]  # a 404 is not retried
    assert not leftovers(tmp_path / "starter")


def test_a_transient_failure_is_retried_with_backoff(starter, tmp_path, no_backoff):
    flaky = "/accelerometer/landing/accelerometer-1691348231495.json"
    with serve(starter, fail_once=frozenset({flaky})) as (base_url, requested):
        paths = udacity.fetch_udacity(tmp_path / "starter", base_url=base_url)
    assert len(paths) == 13
    assert requested.count(flaky) == 2
    assert no_backoff == [udacity.BACKOFF_S]


def test_an_unreachable_server_fails_after_the_retries(tmp_path, no_backoff):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens once the socket closes
    base_url = f"http://127.0.0.1:{port}/"
    with pytest.raises(udacity.FetchError) as caught:
        udacity.fetch_udacity(tmp_path / "starter", base_url=base_url, timeout=5)
    assert f"{base_url}{next(iter(udacity.FILES))}" in str(caught.value)
    assert f"after {udacity.RETRIES + 1} attempts" in str(caught.value)
    assert no_backoff == [udacity.BACKOFF_S * 2**i for i in range(udacity.RETRIES)]


def test_the_starter_data_is_recognized_by_its_pinned_checksums(starter_data, tmp_path):
    assert udacity.is_starter_data(starter_data)
    copy = tmp_path / "landing"
    shutil.copytree(starter_data, copy, ignore=shutil.ignore_patterns("SHA256SUMS", "*.md"))
    assert udacity.is_starter_data(copy)
    changed = copy / "customer" / "landing" / "customer-1691348231425.json"
    changed.chmod(0o644)
    changed.write_bytes(changed.read_bytes() + b"\n")
    assert not udacity.is_starter_data(copy)
