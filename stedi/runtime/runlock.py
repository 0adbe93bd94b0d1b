"""One writer per lakehouse: a second pipeline on the same state home waits or refuses.

Two pipelines interleaving on one embedded stack would replace each other's tables midway
and leave the catalog pointing at a mix of two runs. The lock is an flock(2) on a file in the
state home: the kernel releases it when the holding process ends, however it ends (even
SIGKILL or a power cut), so a lock file left behind never blocks anyone. The file's content
(who holds it, since when) is only there to write a useful message.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

LOCK_FILE = "pipeline.lock"
WAIT_ENV = "STEDI_LOCK_WAIT"
POLL_SECONDS = 0.2

# Locks this process holds, by lock file, with their nesting depth: flock conflicts between two
# open files even in one process, so a nested hold() (the CLI around run_embedded, say) must not
# open the file again.
_held: dict[Path, int] = {}


class LakehouseBusy(RuntimeError):
    """Another process is writing this lakehouse; the message names it and says what to do."""


def default_wait() -> float:
    """Seconds to wait for a busy lakehouse, from STEDI_LOCK_WAIT (unset or 0: refuse at once).

    Refusing is the default because a pipeline that silently waits looks hung; a user who
    starts pipelines from a script can opt in to waiting.
    """
    value = os.environ.get(WAIT_ENV, "").strip() or "0"
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"{WAIT_ENV} must be a number of seconds, not {value!r}") from None
    if seconds < 0:
        raise ValueError(f"{WAIT_ENV} must be 0 or more seconds, not {value!r}")
    return seconds


@contextmanager
def hold(
    home: Path, what: str, wait_seconds: float = 0, progress: Callable[[str], None] | None = None
) -> Iterator[Path]:
    """Hold the lakehouse in `home` for the duration of the block; yields the lock file.

    `what` is the command recorded for others to see (for example "stedi pipeline"). When the
    lock is busy, waits up to `wait_seconds` (telling `progress` once), then raises LakehouseBusy.
    """
    path = (Path(home) / LOCK_FILE).resolve()
    if path in _held:
        _held[path] += 1
        try:
            yield path
        finally:
            _held[path] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    # os.open makes the descriptor non-inheritable: the emulator and the JVM, which outlive or
    # run beside this process, must not keep the lock alive.
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(fd, path, home, wait_seconds, progress)
        _record_holder(fd, what)
        _held[path] = 1
        try:
            yield path
        finally:
            del _held[path]
            os.ftruncate(fd, 0)  # idle: nobody to name
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def holder(home: Path) -> dict | None:
    """Who holds (or last held, if it died) the lock in `home`: pid, command, started; None if unknown."""
    try:
        record = json.loads((Path(home) / LOCK_FILE).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return record if isinstance(record, dict) else None


def _acquire(fd: int, path: Path, home: Path, wait_seconds: float, progress) -> None:
    deadline = time.monotonic() + wait_seconds
    told = False
    while not _try_lock(fd):
        if time.monotonic() >= deadline:
            raise LakehouseBusy(_busy_message(home, wait_seconds))
        if progress and not told:
            progress(f"waiting for the pipeline {_describe_waiting(holder(home))} to finish")
            told = True
        time.sleep(min(POLL_SECONDS, max(deadline - time.monotonic(), 0.0)))


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _record_holder(fd: int, what: str) -> None:
    """Written after acquiring, so the content always describes the live holder (or a dead one)."""
    record = {"pid": os.getpid(), "command": what, "started": datetime.now().astimezone().isoformat()}
    os.ftruncate(fd, 0)
    os.pwrite(fd, (json.dumps(record) + "\n").encode(), 0)


def _busy_message(home: Path, waited: float) -> str:
    record = holder(home)
    who = f"another pipeline ({_describe_holder(record)})" if record else "another pipeline"
    if waited > 0:
        return (
            f"{who} is still writing this lakehouse ({home}) after {waited:g} s of waiting: "
            f"wait for it to finish, or set {WAIT_ENV} to a longer wait in seconds"
        )
    return f"{who} is writing this lakehouse ({home}): wait for it to finish, or set {WAIT_ENV}=seconds to wait for it"


def _describe_holder(record: dict) -> str:
    return f"pid {record.get('pid', '?')}, started {_clock(record.get('started'))}, `{record.get('command', '?')}`"


def _describe_waiting(record: dict | None) -> str:
    if not record:
        return "already running"
    return f"started at {_clock(record.get('started'))} by pid {record.get('pid', '?')} ({record.get('command', '?')})"


def _clock(started: str | None) -> str:
    """HH:MM:SS in local time; with the date too when the holder started on another day."""
    try:
        moment = datetime.fromisoformat(started).astimezone()
    except (TypeError, ValueError):
        return "?"
    if moment.date() == datetime.now().astimezone().date():
        return moment.strftime("%H:%M:%S")
    return moment.strftime("%Y-%m-%d %H:%M:%S")
