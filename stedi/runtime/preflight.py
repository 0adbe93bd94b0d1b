"""Checks that turn a missing prerequisite into one sentence instead of a JVM stack trace."""

from __future__ import annotations

import errno
import functools
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

MIN_JAVA = 17


class PreflightError(RuntimeError):
    pass


def java_version() -> int:
    """Major version of the Java that Spark will start (JAVA_HOME first, as Spark does)."""
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if java_home and not Path(java).exists():
        raise PreflightError(
            f"Java was not found at {java} (JAVA_HOME is {java_home}): point JAVA_HOME at a Java {MIN_JAVA} "
            "installation, or unset it to use the `java` on PATH"
        )
    if not java:
        raise PreflightError(
            f"Java was not found: Spark needs Java {MIN_JAVA} or newer; install it (for example "
            "`apt-get install openjdk-17-jre-headless` or `brew install openjdk@17`) or set JAVA_HOME"
        )
    stat = Path(java).stat()
    output = _version_output(java, stat.st_mtime_ns, stat.st_size)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', output)
    if not match:
        raise PreflightError(f"could not read the version of {java}: {output.strip()[:200]}")
    major = int(match.group(1))
    return int(match.group(2)) if major == 1 else major


@functools.lru_cache(maxsize=8)
def _version_output(java: str, mtime_ns: int, size: int) -> str:
    """What `java -version` says, asked once per executable as it is on disk (the warm engine checks
    before every run: 40 ms a time)."""
    try:
        return subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60).stderr
    except (OSError, subprocess.TimeoutExpired) as error:
        raise PreflightError(f"could not run {java} ({error}): point JAVA_HOME at a working Java {MIN_JAVA}") from None


def check_java() -> None:
    major = java_version()
    if major < MIN_JAVA:
        raise PreflightError(
            f"Spark 4 needs Java {MIN_JAVA} or newer, but this machine runs Java {major}: "
            f"install Java {MIN_JAVA} and point JAVA_HOME at it"
        )


MB = 1024 * 1024
HEADROOM_BYTES = 50 * MB
NO_SPACE_PHRASES = ("No space left on device", "database or disk is full")


def estimate_warehouse_bytes(landing_dir: Path) -> int:
    """Disk a pipeline run over `landing_dir` needs: about 1.5 times the landing files, plus 50 MB.

    The landing JSON is copied once into the bucket (1x); the landing, trusted and curated
    tables are Parquet, several times smaller than the JSON but written once per table and kept
    per run for time travel (about 0.5x together). The 50 MB cover what does not grow with the
    data: the catalog database, the emulator's log, Spark's scratch files. The emulator keeps
    small objects in memory and spills objects above about 5 MB to temporary files, so for large
    data sets most of this lands in the temporary directory (see check_warehouse_space).
    """
    landing = Path(landing_dir)
    total = sum(p.stat().st_size for p in landing.rglob("*") if p.is_file()) if landing.is_dir() else 0
    return int(total * 1.5) + HEADROOM_BYTES


def check_disk(path: Path, need_bytes: int, setting: str = "STEDI_HOME") -> None:
    """Refuse to start a run that would fill the disk halfway through.

    A full disk mid-run fails deep inside pyarrow or the emulator with an error that does not say
    "disk"; checking first costs a statfs. `path` need not exist yet: its nearest existing parent
    is measured. `setting` names what the user can change to move the data elsewhere.
    """
    free = shutil.disk_usage(_existing_parent(Path(path))).free
    if free < need_bytes:
        raise PreflightError(
            f"only {free // MB:,} MB free on the disk holding {path}; the warehouse needs about "
            f"{_ceil_mb(need_bytes):,} MB: free some space or set {setting} to a directory on a larger disk"
        )


def check_warehouse_space(landing_dir: Path, home: Path) -> None:
    """check_disk for both places a run writes: the state home and the temporary directory.

    When both are on one disk it is checked once, for the whole need.
    """
    need = estimate_warehouse_bytes(landing_dir)
    places = {_device(home): (home, "STEDI_HOME")}
    scratch = Path(tempfile.gettempdir())
    places.setdefault(_device(scratch), (scratch, "TMPDIR"))
    for place, setting in places.values():
        check_disk(place, need, setting)


def no_space_message(exc: BaseException, path: Path, setting: str = "STEDI_HOME") -> str | None:
    """The sentence to show when `exc` means the disk holding `path` is full, else None.

    Recognizes ENOSPC from Python and pyarrow (which pyiceberg uses for its files), SQLite's
    "database or disk is full", and the same words in errors that wrap them.
    """
    if not _is_no_space(exc):
        return None
    try:
        free = f"{shutil.disk_usage(_existing_parent(Path(path))).free // MB:,} MB free"
    except OSError:
        free = "no space left"
    return (
        f"the disk holding {path} is full ({free}): free some space or set {setting} to a directory "
        "on a larger disk, then run the pipeline again"
    )


def _is_no_space(exc: BaseException | None, depth: int = 0) -> bool:
    if exc is None or depth > 8:
        return False
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return True
    if any(phrase in str(exc) for phrase in NO_SPACE_PHRASES):
        return True
    return _is_no_space(exc.__cause__ or exc.__context__, depth + 1)


def _existing_parent(path: Path) -> Path:
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _device(path: Path) -> int:
    return os.stat(_existing_parent(Path(path))).st_dev


def _ceil_mb(size: int) -> int:
    return -(-size // MB)
