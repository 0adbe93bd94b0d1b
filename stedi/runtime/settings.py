"""Run-time settings that are not table declarations: where local state lives, the
policy, and the pseudonymization key.

Everything can be set from the environment so that the same job scripts run unchanged
under the CLI, under `spark-submit` and on Glue.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

POLICIES = ("strict", "rubric")
DEFAULT_POLICY = "strict"
KEY_ENV = "STEDI_PSEUDONYM_KEY"


def project_root() -> Path:
    return Path(__file__).resolve().parents[2]


def state_home() -> Path:
    """Local state of the embedded stack (catalog database, emulator pid and logs).

    Kept out of the repository's tracked files (.gitignore) and overridable so that tests
    run their own stack without touching the user's.
    """
    return Path(os.environ.get("STEDI_HOME") or project_root() / ".stedi")


def docs_dir() -> Path:
    """Where the Data Docs site is written (build/data-docs/ in the checkout by default)."""
    return Path(os.environ.get("STEDI_DOCS_DIR") or project_root() / "build" / "data-docs")


def report_dir() -> Path:
    """Where the run report is written (build/report/ in the checkout by default)."""
    return Path(os.environ.get("STEDI_REPORT_DIR") or project_root() / "build" / "report")


def private_dir(path: Path) -> Path:
    """A directory only its owner may enter, made so even when it exists already: the stack's
    state, the Data Docs and the run report hold personal data or the keys to it."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


@contextmanager
def environment(values: dict[str, str | None]) -> Iterator[None]:
    """The process environment with `values` set (None: unset) for a while, then as it was."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        _apply(values)
        yield
    finally:
        _apply(saved)


def _apply(values: dict[str, str | None]) -> None:
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def last_run_file(home: Path | None = None) -> Path:
    """The last pipeline run's summary, kept for `stedi report` and `stedi run`."""
    return (home or state_home()) / "last_run.json"


TABLE_IOS = ("auto", "spark", "pyiceberg")
TABLE_IO_ENV = "STEDI_TABLE_IO"


def table_io(requested: str | None = None) -> str:
    """How the embedded stack writes its tables: `spark` (Iceberg's Spark catalog on the Glue API,
    as on AWS Glue), `pyiceberg` (the bridge: pyiceberg writes, Spark computes), or `auto` (the
    default): Spark's catalog, else the bridge when the Iceberg jars cannot be had here."""
    value = requested or os.environ.get(TABLE_IO_ENV) or "auto"
    if value not in TABLE_IOS:
        raise ValueError(f"{TABLE_IO_ENV} must be one of {', '.join(TABLE_IOS)}, not {value!r}")
    return value


def check_policy(policy: str) -> str:
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}: use one of {', '.join(POLICIES)}")
    return policy


def key_file() -> Path:
    return Path(os.environ.get("STEDI_KEY_FILE") or Path.home() / ".config" / "stedi" / "pseudonym.key")


def pseudonym_key() -> bytes:
    """The secret behind the curated tables' pseudonyms.

    A keyed hash (not a plain hash) because serial numbers and emails are guessable: without
    the key nobody can rebuild the mapping by hashing candidates. When no key is configured,
    one is generated once and kept outside the repository, readable by its owner only, so
    pseudonyms stay stable from run to run.
    """
    from_env = os.environ.get(KEY_ENV)
    if from_env:
        return _decode(from_env, source=KEY_ENV)
    path = key_file()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32) + "\n")
    return _decode(path.read_text().strip(), source=str(path))


def _decode(hex_key: str, *, source: str) -> bytes:
    try:
        key = bytes.fromhex(hex_key)
    except ValueError:
        raise ValueError(f"the pseudonym key in {source} must be hexadecimal") from None
    if len(key) < 16:
        raise ValueError(f"the pseudonym key in {source} is too short: use at least 16 bytes (32 hex digits)")
    return key
