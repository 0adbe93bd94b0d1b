"""The warm engine: one long-lived process that keeps Spark's JVM and the imported libraries
up between runs, so that `stedi pipeline` and `stedi run JOB` on the embedded target pay Spark's
start-up (about 15 s) and the imports once, not on every run of an edit-run loop.

The client (the `stedi` command) hands its run to the engine over a Unix socket in the state
home, readable by its owner only (no TCP port), and prints what comes back; the engine runs the
very same command-line code with the client's arguments, working directory and environment.
It is started by the first run that wants it, like the emulator, and stopped by `stedi down`,
or after an hour without a run (STEDI_ENGINE_IDLE seconds).

What runs is always what is on disk: the job scripts (spark_jobs/) are imported afresh for every
run, so an edited job file is what runs; an edit anywhere else the engine has read (the stedi
package, catalog/, expectations/, the lock) retires it, and a new one starts for the run.

One run at a time: while the engine runs one, another `stedi pipeline` runs in its own process
as before, where the run lock (stedi/runtime/runlock.py) makes it wait or refuse. Ctrl-C in the
client interrupts the run in the engine. STEDI_ENGINE=off runs every command in its own process.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from contextlib import contextmanager
from pathlib import Path

from stedi.runtime import settings

ENV = "STEDI_ENGINE"
IDLE_ENV = "STEDI_ENGINE_IDLE"
SOCKET_FILE = "engine.sock"
LOG_FILE = "engine.log"
START_LOCK = "engine.start.lock"
COMMANDS = ("pipeline", "run")  # what the engine runs; everything else is quick in its own process
# What shapes the engine's JVM or where it looks: a run whose environment differs here gets a new engine.
JVM_ENVIRONMENT = ("STEDI_HOME", settings.TABLE_IO_ENV, "STEDI_SPARK_MASTER", "JAVA_HOME", "SPARK_HOME",
                   "PYSPARK_SUBMIT_ARGS", "PYSPARK_PYTHON")
JOB_PACKAGE = "spark_jobs"
START_SECONDS = 30.0


def enabled() -> bool:
    """Whether runs go to the warm engine (the default), or each runs in its own process."""
    value = os.environ.get(ENV, "on").strip().lower()
    if value not in ("on", "off"):
        raise ValueError(f"{ENV} must be on or off, not {value!r}")
    return value == "on"


def socket_path(home: Path | None = None) -> Path:
    return (home or settings.state_home()) / SOCKET_FILE


# --- the client: the `stedi` command --------------------------------------------------------------


def submit(argv: list[str], progress) -> int | None:
    """Run `stedi ARGV` in the warm engine, started if none answers; its exit status, or None when
    the engine cannot take the run (busy with another, or it could not start: said in one line),
    and the caller runs it in this process instead."""
    home = settings.state_home()
    request = {"argv": argv, "cwd": os.getcwd(), "env": _client_environment(), "tty": _isatty(sys.stdout)}
    for _ in range(2):  # a stale engine is replaced once
        connection = _connect(home)
        if connection is None:
            connection = _start(home, progress)
            if connection is None:
                return None
        with connection:
            answer = _exchange(connection, request, progress)
        if answer != "stale":
            return answer
        _wait_gone(home)  # it is leaving (code changed since it started, or idle): start a new one
        progress("warm engine: the code changed since it started, or it was leaving; starting a new one")
    return None


def _exchange(connection: socket.socket, request: dict, progress) -> int | str | None:
    """Send the run, then copy what the engine writes to this process's stdout and stderr until it
    says how the run ended. Ctrl-C here interrupts the run there (a second one leaves it)."""
    try:
        _send(connection, request)
    except (BrokenPipeError, ConnectionResetError):  # it was leaving as we came: a new one
        return "stale"
    frames = connection.makefile("r", encoding="utf-8")
    engine = {"pid": None, "interrupted": False}

    def forward(signum, frame) -> None:
        if engine["interrupted"]:
            raise KeyboardInterrupt
        engine["interrupted"] = True
        if engine["pid"] is not None:  # else as soon as the engine says it took the run
            os.kill(engine["pid"], signal.SIGINT)

    with _sigint(forward):
        while True:
            try:
                line = frames.readline()
            except ConnectionResetError:
                line = ""
            if not line and engine["pid"] is None:  # it was leaving (idle, stopped) as we came: a new one
                return "stale"
            if not line:
                raise EngineError("the warm engine ended before the run did; its log is "
                                  f"{settings.state_home() / LOG_FILE}")
            frame = json.loads(line)
            if "out" in frame or "err" in frame:
                stream = sys.stdout if "out" in frame else sys.stderr
                stream.write(frame.get("out", frame.get("err")))
                stream.flush()
            elif "accepted" in frame:
                engine["pid"] = frame["accepted"]
                if engine["interrupted"]:
                    os.kill(engine["pid"], signal.SIGINT)
                progress(f"warm engine (pid {engine['pid']}, run {frame['runs']}"
                         f"{', Spark starts in it' if frame['runs'] == 1 else ', Spark already up'})")
            elif "exit" in frame:
                return frame["exit"]
            elif engine["interrupted"]:  # busy or stale: nothing began, and nothing is to begin
                raise KeyboardInterrupt
            elif "busy" in frame:
                progress("warm engine: busy with another run; this one runs in its own process")
                return None
            elif "stale" in frame:
                return "stale"


@contextmanager
def _sigint(handler):
    """`handler` takes Ctrl-C for the block (in the main thread: only there can signals be set)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class EngineError(RuntimeError):
    """The engine went away in the middle of a run."""


def _connect(home: Path) -> socket.socket | None:
    path = socket_path(home)
    if not path.exists():
        return None
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.connect(str(path))
    except OSError:  # a socket file left by an engine that was killed
        connection.close()
        return None
    return connection


def _start(home: Path, progress) -> socket.socket | None:
    """A new engine in the background (it outlives this command, as the emulator does); a
    connection to it once it listens, or None when it did not start (its log says why)."""
    if len(str(socket_path(home))) > 100:  # AF_UNIX paths are at most 107 bytes
        progress(f"warm engine: not used (the state home {home} is too long a path for its socket)")
        return None
    settings.private_dir(home)
    with open(home / START_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two commands at once start one engine, not two on one socket
        connection = _connect(home)
        if connection is not None:  # the other command started it meanwhile
            return connection
        socket_path(home).unlink(missing_ok=True)  # left by an engine that was killed
        with open(home / LOG_FILE, "ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "stedi.cli", "engine", "serve"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=settings.project_root(), start_new_session=True,
            )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline and process.poll() is None:
            connection = _connect(home)
            if connection is not None:
                return connection
            time.sleep(0.05)
    process.kill()
    progress(f"warm engine: did not start (its log: {home / LOG_FILE}); this run runs in its own process")
    return None


def stop(home: Path | None = None) -> bool:
    """Stop the engine of this state home, if one runs; whether one did."""
    home = home or settings.state_home()
    deadline = time.monotonic() + 30
    while (answer := _ask(home, {"stop": True})) is not None and answer.get("busy"):
        if time.monotonic() > deadline:  # a run that will not end: the engine goes, and the run with it
            pid = (_ask(home, {"status": True}) or {}).get("pid")
            if pid:
                os.kill(pid, signal.SIGTERM)
            break
        time.sleep(0.2)
    if answer is None:
        return False
    _wait_gone(home)
    return True


def status_lines(home: Path | None = None) -> list[str]:
    """What `stedi status` says of the engine."""
    home = home or settings.state_home()
    answer = _ask(home, {"status": True})
    if answer is None:
        return ["warm engine: not running (the next `stedi pipeline` or `stedi run` starts it)"]
    if not answer:  # its socket took the question but no answer came back
        return [f"warm engine: its socket answers, its state did not come back (its log: {home / LOG_FILE})"]
    doing = "running a run" if answer["busy"] else f"idle for {time.time() - answer['last']:.0f}s"
    return [f"warm engine: pid {answer['pid']}, {answer['runs']} runs since it started "
            f"{time.time() - answer['started']:.0f}s ago, {doing}"]


def _ask(home: Path, question: dict) -> dict | None:
    """One question to the engine and its one-line answer, or None when no engine answers."""
    connection = _connect(home)
    if connection is None:
        return None
    with connection:
        try:
            connection.settimeout(10)
            _send(connection, question)
            return json.loads(connection.makefile("r").readline() or "null") or {}
        except (OSError, ValueError):
            return {}


def _wait_gone(home: Path, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and socket_path(home).exists():
        time.sleep(0.05)


def _client_environment() -> dict:
    """This process's environment, with the terminal's size when there is one (a bar drawn in the
    engine is as wide as the client's terminal)."""
    environment = dict(os.environ)
    try:
        size = os.get_terminal_size(sys.stdout.fileno())
    except (OSError, ValueError):
        return environment
    if size.columns > 0 and size.lines > 0:  # a terminal that does not know its size says 0 x 0
        environment.setdefault("COLUMNS", str(size.columns))
        environment.setdefault("LINES", str(size.lines))
    return environment


def _isatty(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


# --- the engine ------------------------------------------------------------------------------------


def serve(home: Path, command) -> None:
    """Take runs until stopped, idle too long, or retired by an edit (module docstring); each run
    is `command(argv)` (the `stedi` command's own entry point), its exit status sent back."""
    os.environ[ENV] = "off"  # a run in the engine never hands itself to another engine
    started_with = stamp(os.environ)
    idle_seconds = float(os.environ.get(IDLE_ENV) or 3600)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_mask = os.umask(0o077)  # the socket file: its owner only
    try:
        listener.bind(str(socket_path(home)))
    finally:
        os.umask(old_mask)
    listener.listen(8)
    signal.signal(signal.SIGINT, _take_interrupt)  # only a command is interrupted (_run), never the engine
    print(f"warm engine: pid {os.getpid()} listening on {socket_path(home)}", flush=True)
    arrivals: queue.Queue = queue.Queue()
    state = {"busy": False, "runs": 0, "started": time.time(), "last": time.time()}
    guard = threading.Lock()
    threading.Thread(target=_accept, args=(listener, arrivals, state, guard), daemon=True).start()
    try:
        while True:
            try:
                connection, request = arrivals.get(timeout=5)
            except queue.Empty:
                if time.time() - state["last"] > idle_seconds or not home.is_dir():
                    return
                continue
            try:
                with connection:
                    if request.get("stop"):
                        _send(connection, {"stopped": True})
                        return
                    if stamp(request["env"]) != started_with:
                        _send(connection, {"stale": True})
                        return
                    state["runs"] += 1
                    _on_interrupt["seen"] = False  # from here on a forwarded Ctrl-C counts for this run
                    _send(connection, {"accepted": os.getpid(), "runs": state["runs"]})
                    code = _run(request, connection, command)
                    _end_stray_jvms()
                    with guard:  # before the client hears the end, so its next command finds the engine free
                        state["busy"], state["last"] = False, time.time()
                    _send(connection, {"exit": code})
            except OSError:
                pass  # the client went away; the run, if any, ran to its end
            finally:
                with guard:
                    state["busy"], state["last"] = False, time.time()
    finally:
        socket_path(home).unlink(missing_ok=True)
        listener.close()


def _accept(listener: socket.socket, arrivals: queue.Queue, state: dict, guard: threading.Lock) -> None:
    """Read each connection's request: a run (or a stop) goes to the main thread, unless a run is
    under way, which is said at once; a status question is answered here."""
    while True:
        try:
            connection, _ = listener.accept()
        except OSError:
            return
        try:
            connection.settimeout(10)
            request = json.loads(connection.makefile("r", encoding="utf-8").readline() or "{}")
            connection.settimeout(None)
            with guard:
                busy = state["busy"]
                answer = {k: state[k] for k in ("busy", "runs", "started", "last")}
                if not busy and ("argv" in request or request.get("stop")):
                    state["busy"] = True
            if request.get("status"):
                _send(connection, {"pid": os.getpid(), **answer})
            elif busy:
                _send(connection, {"busy": True})
            elif "argv" in request or request.get("stop"):
                arrivals.put((connection, request))
                continue
        except (OSError, ValueError):
            pass
        connection.close()


def _run(request: dict, connection: socket.socket, command) -> int:
    """The command, as the client would have run it: its arguments, directory and environment,
    its output sent back, and the job scripts imported afresh."""
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    saved_streams = sys.stdout, sys.stderr
    tty, lock = bool(request.get("tty")), threading.Lock()  # rich draws from a thread of its own
    sys.stdout, sys.stderr = _Wire(connection, "out", tty, lock), _Wire(connection, "err", tty, lock)
    os.environ.clear()
    os.environ.update(request["env"])
    try:
        os.chdir(request["cwd"])
        forget_modules(JOB_PACKAGE)
        _on_interrupt["armed"] = True
        try:
            if _on_interrupt["seen"]:  # forwarded before the command began: it does not begin
                raise KeyboardInterrupt
            code = command(request["argv"])
        finally:
            _on_interrupt["armed"] = False
        return 130 if _on_interrupt["seen"] and code else code
    except SystemExit as leaving:  # argparse and the like
        return leaving.code if isinstance(leaving.code, int) else (0 if leaving.code is None else 2)
    except BaseException:  # noqa: BLE001 - what the client's own process would have printed
        if _on_interrupt["seen"]:  # a Spark call cut short by Ctrl-C fails in its own words
            print("interrupted", file=sys.stderr)
            return 130
        traceback.print_exc()
        return 1
    finally:
        installed = signal.signal(signal.SIGINT, _take_interrupt)
        if callable(installed) and installed is not _take_interrupt:  # Spark's, once its context is up
            _on_interrupt["handler"] = installed
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout, sys.stderr = saved_streams
        os.environ.clear()
        os.environ.update(saved_env)
        os.chdir(saved_cwd)


# What Ctrl-C forwarded by a client does while a command runs ("armed"): a KeyboardInterrupt, and
# once Spark's context is up, Spark's own handler (which also cancels the running Spark jobs).
# Outside a command it is only noted: the engine itself is never interrupted.
_on_interrupt = {"handler": signal.default_int_handler, "seen": False, "armed": False}


def _take_interrupt(signum, frame) -> None:
    _on_interrupt["seen"] = True
    if _on_interrupt["armed"]:
        _on_interrupt["handler"](signum, frame)


def _end_stray_jvms() -> None:
    """End the Spark JVMs this engine started that no Spark context uses. A Ctrl-C while Spark
    starts (pyspark's launch_gateway waiting for the JVM) loses pyspark's handle on the JVM, which
    then outlives its failed start; here, never the JVM of the running context."""
    children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children")  # the main thread starts Spark
    if not children.is_file():
        return
    from pyspark import SparkContext

    live = getattr(getattr(SparkContext._gateway, "proc", None), "pid", None)
    for pid in (int(p) for p in children.read_text().split()):
        try:
            spark = b"org.apache.spark.deploy.SparkSubmit" in Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if spark and pid != live:
            print(f"warm engine: ending Spark's JVM (pid {pid}) left by a start that was interrupted", flush=True)
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def forget_modules(package: str) -> None:
    """Drop `package` and its modules from this process's imports: the next import reads the files."""
    import importlib

    for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
        del sys.modules[name]
    importlib.invalidate_caches()


def stamp(environment: dict) -> str:
    """What the engine has read and may not re-read: every file of the stedi package, catalog/,
    expectations/ and the project's pyproject and lock (sizes and times), and the environment that
    shaped its JVM. Two runs with the same stamp may share an engine."""
    root = settings.project_root()
    digest = hashlib.sha256()
    files = [root / "pyproject.toml", root / "requirements.lock"]
    for folder, pattern in (("stedi", "*.py"), ("catalog", "*"), ("expectations", "*")):
        # not the byte code the engine's own imports write (expectations/__pycache__/): that is no edit
        files += sorted(p for p in (root / folder).rglob(pattern) if "__pycache__" not in p.parts)
    for path in files:
        try:
            info = path.stat()
        except FileNotFoundError:
            continue
        digest.update(f"{path}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    for name in JVM_ENVIRONMENT:
        digest.update(f"{name}={environment.get(name)}\n".encode())
    digest.update(sys.executable.encode())
    return digest.hexdigest()


class _Wire(io.TextIOBase):
    """stdout or stderr of a run in the engine: each write goes to the client as it happens. A
    client that went away stops nothing: the run goes on to its end, unheard."""

    def __init__(self, connection: socket.socket, name: str, tty: bool, lock: threading.Lock):
        self._connection, self._name, self._tty, self._lock = connection, name, tty, lock
        self._gone = False

    def write(self, text: str) -> int:
        if text and not self._gone:
            try:
                with self._lock:
                    _send(self._connection, {self._name: text})
            except OSError:
                self._gone = True
        return len(text)

    def isatty(self) -> bool:
        return self._tty

    def writable(self) -> bool:
        return True


def _send(connection: socket.socket, frame: dict) -> None:
    connection.sendall(json.dumps(frame).encode() + b"\n")
