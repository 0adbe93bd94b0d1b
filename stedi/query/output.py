"""Query results as text (an aligned table), CSV, or JSON (an array of objects, one per row)."""

from __future__ import annotations

import base64
import csv
import io
import json
import math
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from uuid import UUID

from stedi.query.result import Result
from stedi.runtime.progress import table

FORMATS = ("text", "csv", "json")


def render(result: Result, fmt: str) -> str:
    if fmt == "text":
        return text(result)
    if fmt == "csv":
        return to_csv(result)
    if fmt == "json":
        return json.dumps([jsonable(r) for r in result.records()], indent=2, allow_nan=False)
    raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")


def render_many(results: list[Result], fmt: str) -> str:
    """Several statements' results (`--file`): text and CSV blocks separated by a blank line;
    JSON as one array of {"statement": ..., "rows": [...]}."""
    if fmt == "json":
        return json.dumps([{"statement": r.source, "rows": [jsonable(x) for x in r.records()]} for r in results],
                          indent=2, allow_nan=False)
    if fmt == "text":
        return "\n\n".join(f"-- {_one_line(r.source)}\n{text(r)}" for r in results)
    return "\n".join(to_csv(r) for r in results)


def text(result: Result) -> str:
    """An aligned table (numbers right-aligned) followed by the row count, as the Trino CLI."""
    count = len(result.rows)
    return f"{table(result.rows, result.columns, cell=_cell)}\n({count} row{'s' if count != 1 else ''})"


def to_csv(result: Result) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(result.columns)
    for row in result.rows:
        writer.writerow(["" if v is None else _csv_cell(v) for v in row])
    return out.getvalue().rstrip("\n")


def jsonable(value):
    """A value json.dumps accepts, keeping numbers numbers (NaN and infinities as strings)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and value.as_tuple().exponent >= 0 else float(value)
    if isinstance(value, datetime):
        return value.isoformat(timespec="milliseconds" if value.microsecond % 1000 == 0 else "microseconds")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return str(value)


def _cell(value) -> str:
    """As the Trino CLI prints values: NULL, true, {key=value}, [a, b]."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return _timestamp(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_cell(k)}={_cell(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_cell(v) for v in value) + "]"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex(" ")
    return str(value)


def _csv_cell(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return _timestamp(value)
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(jsonable(value), ensure_ascii=False)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    return value


def _timestamp(value: datetime) -> str:
    """As Athena prints timestamp(3) [with time zone]: 2022-06-18 14:59:36.361 UTC."""
    text = value.replace(tzinfo=None).isoformat(sep=" ", timespec="milliseconds")
    if value.tzinfo is not None:
        offset = value.utcoffset()
        text += " UTC" if not offset else f" {value.strftime('%z')}"
    return text


def _one_line(sql: str) -> str:
    return " ".join(sql.split())
