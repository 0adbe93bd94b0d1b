"""Glue's records: what a Filter function sees, and how Glue treats a function that raises.

A DynamicFrame's record holds only the keys its source record had: a JSON object without
`shareWithResearchAsOfDate` is a record without that key, not one with a null. The frame keeps
that apart from Spark's nulls in a hidden column (ABSENT) listing, per row, the fields its record
lacks. A Filter function gets a dict of the present keys (case-sensitive, as Glue's records are),
so `row["shareWithResearchAsOfDate"]` raises KeyError for a customer who never consented.

When the function raises KeyError, ValueError or TypeError, Glue drops the record; any other
exception makes it an error record (counted by errorsCount(), not in the output). The function
runs on Spark's Python workers, once per record, and the outcome of each is kept in a STATUS
column so the frame is computed once and its counts are exact.
"""

from __future__ import annotations

ABSENT = "__glue_absent"  # hidden column: the names of the fields a row's record does not have
STATUS = "__glue_status"  # a Filter's outcome per record: kept, false, dropped\t<why>, error\t<why>
DROPPING = (KeyError, ValueError, TypeError)  # raised by a Filter function: Glue drops the record
# An explicit JSON null is a present key whose value is None (a decision: Glue's own answer is not
# published). Set to True to make `{"k": null}` reach a Filter function without "k".
NULL_IS_ABSENT = False


class DynamicRecord(dict):
    """One record as a Glue function sees it: a case-sensitive dict of the keys it has."""


def record(row: dict) -> DynamicRecord:
    """A row of the frame (with its ABSENT list) as the record Glue would hand a function."""
    absent = set(row.pop(ABSENT, None) or ())
    return DynamicRecord({k: _value(v) for k, v in row.items() if k not in absent})


def _value(value):
    if isinstance(value, dict):
        return DynamicRecord({k: _value(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_value(v) for v in value]
    return value


def outcome(function, row: dict) -> str:
    """What Glue does with one record under a Filter function."""
    try:
        return "kept" if function(record(row)) else "false"
    except DROPPING as error:
        return f"dropped\t{_describe(error)}"
    except Exception as error:  # noqa: BLE001 - an error record, as in Glue
        return f"error\t{_describe(error)}"


def _describe(error: BaseException) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def evaluator(function, names: list[str]):
    """A mapInArrow function adding each record's outcome under `function` as STATUS. The batches'
    columns are positional (`_0`, `_1`...: Spark cannot pass a column named `.serialNumber` to a
    Python function); `names` are the fields' own names, in the same order."""

    def evaluate(batches):
        import pyarrow as pa

        for batch in batches:
            columns = [column.to_pylist() for column in batch.columns]
            rows = (dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True))
            statuses = [outcome(function, row) for row in rows]
            yield batch.append_column(STATUS, pa.array(statuses, pa.string()))

    return evaluate
