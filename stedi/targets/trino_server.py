"""The embedded stack's Trino, standing in for Athena: a native single-node server on loopback.

The server is Trino from Maven Central (jvm/trino/pom.xml, checked against jvm/trino/server.lock),
unpacked once into the cache directory with only the Hive and Iceberg plugins kept. It runs on a
JDK 24 or newer (stedi/runtime/jdk.py), with a bounded heap, bound to 127.0.0.1 on a free port,
its server configuration, data and log under the stack's state directory. Its catalog
`awsdatacatalog` is Athena's: the Hive connector over the emulator's Glue API, reading the landing
JSON tables as Athena does and redirecting the Iceberg tables to the `iceberg` catalog over the
same metadata. Trino reads the catalog files in catalog/trino/ as they are; the endpoints, region
and keys reach them through its environment (Trino's `${ENV:...}`), never through a file.

It outlives the command that started it, like the emulator, until `stedi trino stop` or
`stedi down`; a stack restarted on another port gets a Trino restarted with it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from stedi.runtime import jdk, jvm, settings
from stedi.runtime.progress import bar as progress_bar
from stedi.tables import lakehouse
from stedi.targets.embedded_stack import _free_port, _pid_alive, _wait_for_exit
from stedi.targets.trino_config import PLUGINS, prune_plugins, write_etc

HOST = "127.0.0.1"
MIN_JAVA = 24  # Trino 476 refuses older ones
CATALOG = "awsdatacatalog"  # Athena's name for the Glue Data Catalog
USER = "stedi"
STATE_FILE = "trino.json"


class TrinoError(RuntimeError):
    """Trino cannot be installed or started; the message says why and where its log is."""


@dataclass(frozen=True)
class Trino:
    home: Path  # the stack's state directory
    port: int
    pid: int
    stack_port: int  # the emulator it was configured for
    java: str

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def connection(self) -> dict:
        """What `trino.dbapi.connect(**...)` takes: Athena's catalog and database as defaults."""
        return {"host": HOST, "port": self.port, "user": USER, "catalog": CATALOG,
                "schema": lakehouse().namespace, "http_scheme": "http"}

    def resident_mb(self) -> int | None:
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return None
        line = next((x for x in status.splitlines() if x.startswith("VmRSS:")), None)
        return int(line.split()[1]) // 1024 if line else None


def version() -> str:
    """The locked server's version ("476"), from its file name."""
    (entry,) = jvm.locked(jvm.TRINO.lock_path())
    return entry.file.removeprefix("trino-server-").removesuffix(".tar.gz")


def directory(home: Path) -> Path:
    return home / "trino"


def install(progress=print) -> Path:
    """The unpacked server (bin/launcher, lib/, plugin/{hive,iceberg}), unpacked on first use."""
    tarball = jvm.trino_server(progress)
    (entry,) = jvm.locked(jvm.TRINO.lock_path())
    name = tarball.name.removesuffix(".tar.gz")
    target = jvm.cache_dir() / name
    marker = target / ".stedi-unpacked"
    if marker.is_file() and marker.read_text().strip() == entry.sha256:
        return target
    started = time.perf_counter()
    progress(f"unpacking {tarball.name} into {target} (keeping the {' and '.join(PLUGINS)} plugins)")
    scratch = jvm.cache_dir() / f"{name}.partial"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    unpack(tarball, scratch, progress)
    prune_plugins(scratch / name / "plugin")
    shutil.rmtree(target, ignore_errors=True)
    (scratch / name).rename(target)
    shutil.rmtree(scratch)
    marker.write_text(entry.sha256 + "\n")
    progress(f"unpacked Trino in {time.perf_counter() - started:.1f}s")
    return target


def unpack(tarball: Path, into: Path, progress=print) -> None:
    """The whole archive into `into` (its plugins share jars as hard links, so a partial extraction
    fails). Decompressed here and extracted by `tar` at once, so a bar shows the bytes read, the
    rate and the time left; on two cores this also takes about 5 s where `tar -xzf` takes 9."""
    gunzip = zlib.decompressobj(wbits=31)  # a gzip stream
    with progress_bar(progress, f"unpacking {tarball.name}", tarball.stat().st_size, "bytes") as work, \
            tarball.open("rb") as source:
        tar = subprocess.Popen(["tar", "-xf", "-", "-C", str(into)], stdin=subprocess.PIPE)
        try:
            for chunk in iter(lambda: source.read(1 << 20), b""):
                tar.stdin.write(gunzip.decompress(chunk))
                work.advance(len(chunk))
            tar.stdin.write(gunzip.flush())
        except BrokenPipeError:  # tar stopped reading: its own message says why
            pass
        except zlib.error as error:
            tar.kill()
            raise ValueError(f"{tarball} is not a readable .tar.gz ({error})") from None
        finally:
            tar.stdin.close()
        if tar.wait():
            raise subprocess.CalledProcessError(tar.returncode, ["tar", "-xf", "-", "-C", str(into)])


def catalog_dir() -> Path:
    """catalog/trino/: one file per Trino catalog, with `${ENV:STEDI_...}` where a stack differs."""
    return settings.project_root() / "catalog" / "trino"


def catalog_environment(stack) -> dict[str, str]:
    """What the catalog files' `${ENV:...}` read, for the embedded stack."""
    return {"STEDI_GLUE_ENDPOINT": stack.endpoint, "STEDI_S3_ENDPOINT": stack.endpoint,
            "STEDI_REGION": lakehouse().region, "STEDI_ACCESS_KEY": stack.access_key,
            "STEDI_SECRET_KEY": stack.secret_key}


def render_catalogs(environment: dict[str, str]) -> dict[str, str]:
    """The catalog files as Trino reads them under `environment`: file name -> text (for the
    tests, which compare the embedded stack's catalogs with the Docker stack's)."""
    def resolve(match):
        return environment[match.group(1)]

    return {path.name: re.sub(r"\$\{ENV:(\w+)\}", resolve, path.read_text())
            for path in sorted(catalog_dir().glob("*.properties"))}


def write_configuration(stack, port: int) -> Path:
    """etc/ under the stack's state directory (stedi/targets/trino_config.py; the catalogs are
    read from catalog/trino/)."""
    root = directory(stack.home)
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    return write_etc(root / "etc", port=port, bind_ip=HOST, address=HOST, node_id="stedi-embedded",
                     data_dir=data, catalog_dir=catalog_dir())


def start(stack, progress=print, *, timeout: float = 300.0) -> Trino:
    """The stack's Trino, started (and installed on first use) if it does not run; waits until it
    answers queries on the catalog; a bar shows the time so far on a terminal."""
    running = current(stack.home)
    if running and running.stack_port == stack.port:
        return running
    if running:
        stop(stack.home)
    server = install(progress)
    java = jdk.find(MIN_JAVA)
    port = _free_port()
    etc = write_configuration(stack, port)
    log_path = directory(stack.home) / "server.log"
    progress(f"starting Trino {version()} on {java.describe()} at http://{HOST}:{port} (log: {log_path})")
    started = time.monotonic()
    env = {**os.environ, **catalog_environment(stack), "JAVA_HOME": str(java.home),
           "PATH": f"{java.home / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    command = [str(server / "bin" / "launcher"), "run", f"--etc-dir={etc}", f"--data-dir={etc.parent / 'data'}"]
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            command,
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            start_new_session=True,  # outlives the command, like the emulator
        )
    trino = Trino(stack.home, port, process.pid, stack.port, java.describe())
    (stack.home / STATE_FILE).write_text(json.dumps(
        {"port": port, "pid": process.pid, "stack_port": stack.port, "java": trino.java}))
    with progress_bar(progress, f"starting Trino {version()}", report=False):
        _wait_ready(trino, process, started, timeout, log_path)
    rss = trino.resident_mb()
    progress(f"Trino ready in {time.monotonic() - started:.1f}s" + (f" ({rss} MB resident)" if rss else ""))
    return trino


def current(home: Path | None = None) -> Trino | None:
    """The Trino recorded in the state directory if its process still runs, else None."""
    home = home or settings.state_home()
    try:
        state = json.loads((home / STATE_FILE).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    trino = Trino(home, state["port"], state["pid"], state["stack_port"], state.get("java", ""))
    return trino if _is_trino(trino.pid) else None


def stop(home: Path | None = None) -> bool:
    """Stop the stack's Trino (SIGTERM: it shuts down in about a second). Whether one ran."""
    home = home or settings.state_home()
    trino = current(home)
    if trino:
        os.kill(trino.pid, signal.SIGTERM)
        _wait_for_exit(trino.pid, timeout=30.0)
    (home / STATE_FILE).unlink(missing_ok=True)
    return trino is not None


def status_lines(home: Path | None = None) -> list[str]:
    trino = current(home)
    if trino is None:
        return ["  Trino       : not running (`stedi trino start`, or `stedi query --engine trino` starts it)"]
    rss = trino.resident_mb()
    return [f"  Trino       : {trino.url} (pid {trino.pid}, {trino.java}"
            + (f", {rss} MB resident)" if rss else ")") + f", catalog {CATALOG}"]


def _wait_ready(trino: Trino, process, started: float, timeout: float, log_path: Path) -> None:
    """Until a query that scans a table runs: "starting": false, and even answers on the catalog's
    metadata, come earlier (a scan then still fails with NO_NODES_AVAILABLE)."""
    import trino as client

    while True:
        if process.poll() is not None:
            raise TrinoError(f"Trino exited with code {process.returncode} while starting: {_tail(log_path)} "
                             f"(whole log: {log_path})")
        try:
            with client.dbapi.connect(**trino.connection(), request_timeout=10, max_attempts=1) as connection:
                cursor = connection.cursor()
                cursor.execute(f"SELECT count(*) FROM {CATALOG}.{lakehouse().namespace}.{_landing_table()}")
                cursor.fetchall()
            return
        except Exception as error:  # not listening yet, starting up, or no node yet
            if not _still_starting(error):
                raise TrinoError(f"Trino started but a first query failed: {error} (log: {log_path})") from None
        now = time.monotonic()
        if now - started > timeout:
            stop(trino.home)
            raise TrinoError(f"Trino did not answer within {timeout:.0f}s: {_tail(log_path)} (log: {log_path})")
        time.sleep(0.5)


def _landing_table() -> str:
    """A table the stack registers when it starts (a landing JSON table): always there to scan."""
    return next(iter(lakehouse().zone("landing"))).name


def _still_starting(error: Exception) -> bool:
    import requests
    import trino as client

    if isinstance(error, (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                          client.exceptions.TrinoConnectionError, client.exceptions.Http503Error)):
        return True
    if isinstance(error, client.exceptions.TrinoQueryError):
        return error.error_name in ("NO_NODES_AVAILABLE", "SERVER_STARTING_UP")
    return False


def _tail(path: Path, lines: int = 3) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    interesting = [x for x in text if "ERROR" in x or "Exception" in x] or text
    return " | ".join(x.strip() for x in interesting[-lines:])


def _is_trino(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return _pid_alive(pid)
    return b"io.trino.server" in cmdline or b"launcher" in cmdline
