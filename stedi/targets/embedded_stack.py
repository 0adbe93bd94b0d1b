"""The embedded stack: one emulator process on loopback serving S3 and the Glue Data Catalog API.

The emulator (moto server) answers S3 and Glue on one port, so the catalog is the same kind as on
AWS Glue 6.0: Iceberg's GlueCatalog (Spark) and pyiceberg's GlueCatalog write Iceberg tables
registered as Glue tables, and the landing tables are Glue JSON tables over the landing prefixes,
registered as `make deploy` registers them on AWS. The state file records the process and its port.

The lakehouse (objects, catalog, identities) lives on disk in <state>/lakehouse
(stedi/targets/emulator_store.py): it outlives `stedi down` and a killed emulator, and the next `up`
loads it. `discard` is the one way to delete it.

The emulator enforces IAM from its first request (stedi/targets/emulator.py). A Stack carries the
keys of one of its two identities (stedi/targets/stack_keys.py): `require()` and `up()` give the
administrator's, `as_glue_job()` the Glue jobs', and every client below is built from `keys`,
the one place the stack's clients (boto3, pyarrow, pyiceberg, Spark, DuckDB, Trino) get them.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, replace
from pathlib import Path

from stedi.runtime import settings
from stedi.tables import lakehouse
from stedi.targets import stack_keys
from stedi.targets.emulator import HEALTH_PATH
from stedi.targets.stack_keys import Keys

HOST = "127.0.0.1"
EMULATOR = "stedi.targets.emulator"  # the module the emulator process runs
UNKEYED_EMULATOR = "moto.server"  # what stacks ran before they had keys: it answers anyone
STATE_FILE = "stack.json"
STALE_FILES = (STATE_FILE, "catalog.db")  # catalog.db: the SQLite catalog of earlier versions
STORE_DIR = "lakehouse"  # the emulator's store: every object, the catalog and the identities
OLD_SPOOL_DIR = "s3-spool"  # where earlier versions spooled objects to unlinked files
CATALOG_NAME = "glue_catalog"  # the Iceberg catalog's name, as on AWS Glue (Spark and pyiceberg)


class StackError(RuntimeError):
    """The embedded stack cannot start or is not running; the message says what to do."""


@dataclass(frozen=True)
class Stack:
    home: Path
    port: int
    pid: int
    keys: Keys

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def catalog_uri(self) -> str:
        return f"Glue Data Catalog API {self.endpoint}"

    @property
    def bucket(self) -> str:
        return lakehouse().bucket

    @property
    def access_key(self) -> str:
        return self.keys.access_key_id

    @property
    def secret_key(self) -> str:
        return self.keys.secret_access_key

    def as_glue_job(self) -> Stack:
        """The same stack under the Glue jobs' identity and its least-privilege policy."""
        return replace(self, keys=stack_keys.read(stack_keys.folder(self.home) / stack_keys.JOB_FILE))

    def as_erasure_job(self) -> Stack:
        """The same stack under the erasure job's identity and its least-privilege policy (made now
        on a stack started before it existed)."""
        path = stack_keys.folder(self.home) / stack_keys.ERASURE_FILE
        if not path.exists():
            stack_keys.create_erasure_identity(self.client("iam"), self.keys.account, self.home)
        return replace(self, keys=stack_keys.read(path))

    def environment(self) -> dict[str, str]:
        """The AWS SDKs' variables for these keys: what code using the default credential chain
        (boto3 in a job script, the AWS CLI) reads, as a Glue job's code reads its role's."""
        region = lakehouse().region
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
        }

    def client(self, service: str):
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=lakehouse().region,
        )

    def s3_client(self):
        return self.client("s3")

    def arrow_fs(self):
        from pyarrow import fs

        return fs.S3FileSystem(
            access_key=self.access_key,
            secret_key=self.secret_key,
            region=lakehouse().region,
            scheme="http",
            endpoint_override=f"{HOST}:{self.port}",
            force_virtual_addressing=False,
        )

    def iceberg_properties(self) -> dict[str, str]:
        """pyiceberg's GlueCatalog on the emulator."""
        house = lakehouse()
        return {
            "glue.endpoint": self.endpoint,
            "glue.region": house.region,
            "glue.access-key-id": self.access_key,
            "glue.secret-access-key": self.secret_key,
            "warehouse": f"s3://{self.bucket}/{house.warehouse_prefix}",
            "s3.endpoint": self.endpoint,
            "s3.access-key-id": self.access_key,
            "s3.secret-access-key": self.secret_key,
            "s3.region": house.region,
            "s3.force-virtual-addressing": "false",
        }

    def spark_catalog_properties(self) -> dict[str, str]:
        """Spark's `glue_catalog` as on AWS Glue 6.0 (GlueCatalog, S3FileIO), pointed at the emulator."""
        house = lakehouse()
        return {
            "catalog-impl": "org.apache.iceberg.aws.glue.GlueCatalog",
            "glue.endpoint": self.endpoint,
            "io-impl": "org.apache.iceberg.aws.s3.S3FileIO",
            "s3.endpoint": self.endpoint,
            "s3.path-style-access": "true",
            "s3.access-key-id": self.access_key,
            "s3.secret-access-key": self.secret_key,
            "client.region": house.region,
            "warehouse": f"s3://{self.bucket}/{house.warehouse_prefix}",
            # Other processes write this lakehouse too (a job under spark-submit, the next pipeline):
            # read each table's current metadata rather than a copy cached for 30 s.
            "cache-enabled": "false",
        }

    def spark_system_properties(self) -> dict[str, str]:
        """Iceberg's Glue client takes its credentials from the AWS SDK's chain: here, JVM properties."""
        return {"aws.accessKeyId": self.access_key, "aws.secretAccessKey": self.secret_key}

    def catalog(self):
        from pyiceberg.catalog.glue import GlueCatalog

        return GlueCatalog(CATALOG_NAME, **self.iceberg_properties())

    def metadata_locations(self) -> dict[str, str]:
        """Table name -> the metadata file the catalog points at, for every Iceberg table written so far."""
        from stedi.lakehouse.glue_tables import metadata_locations

        return metadata_locations(self.client("glue"), lakehouse().namespace)


def up(home: Path | None = None, *, port: int | None = None) -> Stack:
    """The running stack, started if needed. Idempotent: a healthy stack is reused."""
    home = home or settings.state_home()
    running = current(home)
    if running:
        return running
    _stop_unusable(home)
    settings.private_dir(home)  # the keys, the logs and the state of a stack of personal data
    _discard_stale_state(home)
    stack = _start_emulator(home, port or _requested_port())
    s3 = stack.s3_client()
    if not any(bucket["Name"] == stack.bucket for bucket in s3.list_buckets()["Buckets"]):
        s3.create_bucket(Bucket=stack.bucket)
    _register_catalog(stack)
    stack_keys.create_job_identity(stack.client("iam"), stack.keys.account, home)
    stack_keys.create_erasure_identity(stack.client("iam"), stack.keys.account, home)
    (home / STATE_FILE).write_text(json.dumps({"port": stack.port, "pid": stack.pid}))
    return stack


def current(home: Path | None = None) -> Stack | None:
    """The stack recorded in `home` if its emulator still answers, else None."""
    home = home or settings.state_home()
    recorded = _recorded(home)
    if recorded is None:
        return None
    try:
        keys = stack_keys.read(stack_keys.folder(home) / stack_keys.ADMIN_FILE)
    except (FileNotFoundError, json.JSONDecodeError, TypeError):
        return None
    pid, port = recorded
    stack = Stack(home=home, port=port, pid=pid, keys=keys)
    if _is_our_emulator(stack.pid, stack.port) and _healthy(stack.endpoint):
        return stack
    return None


def require(home: Path | None = None) -> Stack:
    stack = current(home)
    if stack is None:
        kept = store_summary(home)
        where = f" on the lakehouse kept in {kept}" if kept else ""
        raise StackError(f"the embedded stack is not running: start it with `stedi up`{where}, or run `make pipeline`")
    return stack


def down(home: Path | None = None) -> bool:
    """Stop the emulator; the lakehouse stays on disk for the next `up`. Returns whether anything
    was running."""
    home = home or settings.state_home()
    stack = current(home)
    if stack:
        os.kill(stack.pid, signal.SIGTERM)
        _wait_for_exit(stack.pid)
    stopped = _stop_unusable(home)
    _discard_stale_state(home)
    return stack is not None or stopped


def discard(home: Path | None = None) -> tuple[bool, int]:
    """Stop the emulator and delete the lakehouse on disk: every table, snapshot, landing object,
    catalog entry and identity, with the records kept beside it of what happened in it (the last
    run's summary, which `stedi run` starts from, what each step of the last runs did, which the
    next run may skip, and the tables a Glue script moved aside).
    Returns whether anything was running and the bytes deleted."""
    from stedi.lakehouse.glue_tables import DISPLACED
    from stedi.runtime import steps

    home = home or settings.state_home()
    stopped = down(home)
    for record in (settings.last_run_file(home), home / DISPLACED, steps.path(home)):
        record.unlink(missing_ok=True)
    store = store_path(home)
    size = sum(path.stat().st_size for path in _files(store.rglob("*")))
    shutil.rmtree(store, ignore_errors=True)
    return stopped, size


def store_path(home: Path | None = None) -> Path:
    """Where the lakehouse lives on disk; it exists once a stack has started there."""
    return (home or settings.state_home()) / STORE_DIR


def store_summary(home: Path | None = None) -> str | None:
    """`<path>: N objects, X MB`, or None when there is no lakehouse on disk."""
    store = store_path(home)
    if not store.exists():
        return None
    objects = _files((store / "objects").glob("*/*"))
    return f"{store}: {len(objects)} objects, {sum(path.stat().st_size for path in objects) / 1e6:,.1f} MB"


def _files(paths) -> list[Path]:
    return [path for path in paths if path.is_file()]


def _stop_unusable(home: Path) -> bool:
    """Stops the emulator recorded in `home` that `current` cannot use: one started before stacks
    had keys (it answers anyone, landing files and all), or one whose keys are gone."""
    recorded = _recorded(home)
    if recorded is None:
        return False
    pid, port = recorded
    if not Path("/proc").is_dir():  # no way to be sure the pid is still an emulator: never kill a stranger
        return False
    if not _is_our_emulator(pid, port, names=(EMULATOR, UNKEYED_EMULATOR)):
        return False
    os.kill(pid, signal.SIGTERM)
    _wait_for_exit(pid)
    return True


def _recorded(home: Path) -> tuple[int, int] | None:
    """(pid, port) of the emulator the state file records, if it records one."""
    try:
        state = json.loads((home / STATE_FILE).read_text())
        return int(state["pid"]), int(state["port"])
    except (FileNotFoundError, json.JSONDecodeError, KeyError, TypeError, ValueError):
        return None


def _register_catalog(stack: Stack) -> None:
    """The Glue database and the landing tables (JSON over the landing prefixes), as on AWS."""
    from stedi.lakehouse.glue_tables import register

    register(stack.client("glue"), lakehouse(), stack.bucket)


def _requested_port() -> int:
    """A fixed port if the user asked for one, else 0 (any free port)."""
    value = os.environ.get("STEDI_S3_PORT", "0")
    try:
        return int(value)
    except ValueError:
        raise StackError(f"STEDI_S3_PORT must be a port number, not {value!r}") from None


def _start_emulator(home: Path, port: int) -> Stack:
    fixed = port != 0
    attempts = 1 if fixed else 3
    for _ in range(attempts):
        chosen = port if fixed else _free_port()
        if fixed and not _port_is_free(chosen):
            raise StackError(
                f"port {chosen} on {HOST} is already in use by another process: "
                "unset STEDI_S3_PORT to let the stack pick a free port, or choose another"
            )
        log = open(home / "s3-emulator.log", "ab")
        keys = stack_keys.folder(home)
        process = subprocess.Popen(
            [sys.executable, "-m", EMULATOR, "--host", HOST, "--port", str(chosen), "--keys", str(keys),
             "--region", lakehouse().region, "--store", str(home / STORE_DIR)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "0"},  # IAM enforced from the first request
            start_new_session=True,  # outlives the CLI: tables stay queryable until `down`
        )
        endpoint = f"http://{HOST}:{chosen}"
        if _wait_healthy(endpoint, process):
            return Stack(home=home, port=chosen, pid=process.pid,
                         keys=stack_keys.read(keys / stack_keys.ADMIN_FILE))
        process.kill()
    raise StackError(f"the S3 emulator did not start; its log is {home / 's3-emulator.log'}")


def _wait_healthy(endpoint: str, process: subprocess.Popen, timeout: float = 30.0) -> bool:
    """The emulator answers its health check once its administrator's keys are written."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False  # lost a race for the port, or failed to import
        if _healthy(endpoint):
            return True
        time.sleep(0.1)
    return False


def _healthy(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}{HEALTH_PATH}", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _is_our_emulator(pid: int, port: int, names: tuple[str, ...] = (EMULATOR,)) -> bool:
    """After a reboot the recorded pid may belong to an unrelated process."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except FileNotFoundError:
        if sys.platform.startswith("linux"):
            return False
        return _pid_alive(pid)  # no /proc (macOS): the health check decides
    return any(name.encode() in cmdline for name in names) and str(port).encode() in cmdline


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _wait_for_exit(pid: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _pid_alive(pid):
        _reap(pid)
        time.sleep(0.05)
    if _pid_alive(pid):
        os.kill(pid, signal.SIGKILL)


def _reap(pid: int) -> None:
    """When this process started the emulator, collect its exit so it is not a zombie."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def _discard_stale_state(home: Path) -> None:
    for name in STALE_FILES:
        (home / name).unlink(missing_ok=True)
    shutil.rmtree(home / OLD_SPOOL_DIR, ignore_errors=True)
    for keys in stack_keys.folder(home).glob("*.json"):  # the keys die with the emulator that issued them
        keys.unlink()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((HOST, port))
        except OSError:
            return False
        return True


def status_lines(home: Path | None = None) -> list[str]:
    stack = current(home)
    if stack is None:
        kept = store_summary(home)
        return ["embedded stack: not running"] + ([f"  on disk     : {kept} (the next run loads it)"] if kept else [])
    return [
        f"embedded stack: running (pid {stack.pid})",
        f"  S3 emulator : {stack.endpoint}  bucket s3://{stack.bucket}",
        f"  catalog     : {stack.catalog_uri}",
        f"  keys        : {stack_keys.folder(stack.home)} (IAM enforced; `stedi keys` prints them as shell variables)",
        f"  on disk     : {store_summary(stack.home)} (kept by `stedi down`; `stedi discard` deletes it)",
    ]
