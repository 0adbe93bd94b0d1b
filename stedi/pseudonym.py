"""Keyed pseudonyms (HMAC-SHA256) computed inside Spark.

Spark has no HMAC function, and a Python UDF would ship every value to a Python worker.
HMAC is two nested SHA-256 over the key padded with constants (RFC 2104), and Spark's
`sha2` and `unhex` are enough to express it, so the pseudonyms run at native speed on every
engine (local, Docker, Glue) and match Python's `hmac` bit for bit.
"""

from __future__ import annotations

import hashlib
import hmac

from pyspark.sql import Column
from pyspark.sql import functions as F

_BLOCK = 64  # SHA-256 block size in bytes


def hmac_sha256(value: Column, key: bytes) -> Column:
    """Hex HMAC-SHA256 of a string column; NULL stays NULL."""
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    inner_pad = bytes(b ^ 0x36 for b in key)
    outer_pad = bytes(b ^ 0x5C for b in key)
    message = value.cast("string").cast("binary")
    inner = F.unhex(F.sha2(F.concat(F.lit(inner_pad), message), 256))
    return F.sha2(F.concat(F.lit(outer_pad), inner), 256)


def hmac_hex(value: str, key: bytes) -> str:
    """The same pseudonym in plain Python, for the few thousand values a quality gate maps back."""
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def normalized_email(column: str | Column) -> Column:
    """Emails are compared trimmed and lower-cased: the app and the website disagree on case."""
    col = F.col(column) if isinstance(column, str) else column
    return F.lower(F.trim(col))
