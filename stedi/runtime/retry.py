"""Retrying calls to the embedded stack across short outages, then saying what to do.

The S3 emulator and the SQLite catalog are local, so a failure to reach them is either a blip
(the emulator busy or restarting, a reader holding the catalog for a moment) or the stack is
gone. A few retries ride out the first; for the second, one sentence beats a forty-line
botocore or pyarrow traceback. Only connection-level failures are retried: anything else (a
missing table, a failed quality gate) is a real answer and propagates at once.
"""

from __future__ import annotations

import errno
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")

DEFAULT_HINT = "is it running? `stedi status` shows the embedded stack; `stedi down` then `make pipeline` restarts it"
TRANSIENT_ERRNOS = {errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED, errno.ETIMEDOUT}
# How pyarrow's S3 filesystem (used by pyiceberg too) words a failed connection in a plain OSError.
TRANSIENT_PHRASES = ("Connection refused", "curlCode", "Couldn't connect", "Could not connect")
LOCKED_PHRASES = ("database is locked", "database table is locked")


class Unreachable(RuntimeError):
    """A service kept failing to answer; the message says which and what to do."""


def retry(
    call: Callable[[], T],
    *,
    what: str,
    attempts: int = 5,
    first_delay: float = 0.2,
    max_delay: float = 3.0,
    retry_on: Callable[[BaseException], bool] | None = None,
    hint: str = DEFAULT_HINT,
    progress: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """`call()`, retried with exponential backoff while it fails transiently.

    `what` names the service in messages ("S3 emulator", "Iceberg catalog"). `retry_on` decides
    what is transient (default: is_transient). After `attempts` failures raises Unreachable,
    chained to the last failure; any other error propagates unchanged on its first occurrence.
    """
    if attempts < 1:
        raise ValueError(f"attempts must be 1 or more, not {attempts}")
    transient = retry_on or is_transient
    spent = 0.0
    for attempt in range(1, attempts + 1):
        started = time.monotonic()
        try:
            return call()
        except Exception as exc:
            spent += time.monotonic() - started
            if not transient(exc):
                raise
            if attempt == attempts:
                cause = short_cause(exc)
                raise Unreachable(
                    f"the {what} did not answer after {attempts} attempts over {spent:.1f} s ({cause}): {hint}"
                ) from exc
            delay = backoff(attempt, first_delay, max_delay)
            if progress:
                progress(
                    f"the {what} did not answer ({short_cause(exc)}); "
                    f"retrying in {delay:.1f} s (attempt {attempt + 1} of {attempts})"
                )
            sleep(delay)
            spent += delay
    raise AssertionError("unreachable: the last attempt returns or raises")


def backoff(attempt: int, first_delay: float, max_delay: float) -> float:
    """The pause after failed attempt number `attempt` (1-based): doubling, capped, jittered.

    The jitter (a random half to all of the step) keeps two processes that lost the emulator
    at the same moment from retrying in lockstep; taking at least half keeps delays growing.
    """
    step = min(max_delay, first_delay * 2 ** (attempt - 1))
    return random.uniform(step / 2, step)


def is_transient(exc: BaseException) -> bool:
    """Whether `exc`, or an error it wraps, is a failure to connect that may pass by itself."""
    return any(_transient_here(e) for e in _chain(exc))


def short_cause(exc: BaseException) -> str:
    """The failure in a few words: its type and the first line of its message, shortened."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if len(text) > 120:
        text = text[:117] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _transient_here(exc: BaseException) -> bool:
    if isinstance(exc, BrokenPipeError):
        return False  # far more often our stdout closed by `head` than the emulator
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return True
    if isinstance(exc, sqlite3.OperationalError):
        return any(phrase in str(exc) for phrase in LOCKED_PHRASES)
    if _is_library_connection_error(exc):
        return True
    if isinstance(exc, OSError):
        return exc.errno in TRANSIENT_ERRNOS or any(phrase in str(exc) for phrase in TRANSIENT_PHRASES)
    return False


def _is_library_connection_error(exc: BaseException) -> bool:
    """botocore's and urllib3's connection errors, which are not all builtin ConnectionErrors.

    Imported lazily: neither library is needed to use this module, and importing botocore costs
    a noticeable fraction of a second at CLI start-up.
    """
    try:
        from botocore import exceptions as boto
    except ImportError:
        boto = None
    try:
        from urllib3 import exceptions as http
    except ImportError:
        http = None
    kinds: tuple[type, ...] = ()
    if boto:  # ConnectionError covers EndpointConnectionError, ConnectTimeoutError, ProxyConnectionError
        kinds += (boto.ConnectionError, boto.ConnectionClosedError)
    if http:
        kinds += (http.NewConnectionError, http.ConnectTimeoutError)
    return isinstance(exc, kinds)


def _chain(exc: BaseException, limit: int = 8) -> Iterator[BaseException]:
    """`exc` and the errors it explicitly wraps: `raise ... from`, SQLAlchemy's `orig`, and the
    `reason` of urllib's URLError and urllib3's MaxRetryError.

    Not `__context__`: an error raised while handling a connection failure (a deliberate
    translation into something else) is not itself a connection failure.
    """
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < limit:
        yield current
        seen += 1
        current = next(
            (
                inner
                for inner in (current.__cause__, getattr(current, "orig", None), getattr(current, "reason", None))
                if isinstance(inner, BaseException)
            ),
            None,
        )
