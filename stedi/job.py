"""What every STEDI job shares: extract its inputs, transform, load its output.

A job script declares only its transform, a pure function from DataFrames to a DataFrame.
The transform's parameter names are the tables it reads; `policy` and `pseudonym_key`,
when it asks for them, are passed as keywords. The table it writes is the one whose
declaration in catalog/tables.toml names the job. Reading and writing go through the
table I/O adapter, so the same script runs embedded, in Docker and on Glue, and the output is
published through the gate flow (stage, check, publish: stedi/gates/flow.py).
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from stedi.gates import flow
from stedi.runtime.access import named_denials
from stedi.runtime.params import JobParams
from stedi.tables import Table, lakehouse

PARAMETERS = ("policy", "pseudonym_key")


@dataclass(frozen=True)
class JobResult:
    job: str
    output: str
    rows: int
    seconds: float
    snapshot_id: int | None = None
    metrics: dict[str, Any] = field(default_factory=dict)


class SchemaMismatch(ValueError):
    """A transform returned columns that differ from the table's declaration."""


@dataclass(frozen=True)
class Job:
    name: str
    transform: Callable[..., Any]
    # Extra figures about the output worth reporting (same parameters as the transform).
    audit: Callable[..., dict[str, Any]] | None = None

    @property
    def inputs(self) -> tuple[str, ...]:
        return tuple(p for p in inspect.signature(self.transform).parameters if p not in PARAMETERS)

    @property
    def output(self) -> Table:
        writes = [t for t in lakehouse().tables.values() if t.job == self.name]
        if len(writes) != 1:
            raise LookupError(
                f"catalog/tables.toml must name job {self.name!r} on exactly one table, found {len(writes)}"
            )
        return writes[0]

    def run(self, io, params: JobParams, gate=None) -> JobResult:
        """Extract, transform, load: the output is published only if it passes its quality gate."""
        started = time.perf_counter()
        with named_denials(f"job {self.name}"):
            frames = {name: io.read(name) for name in self.inputs}
            result = conform(_call(self.transform, frames, params), self.output)
            written = flow.publish(io, self.output, result, gate)
            metrics = _call(self.audit, frames, params) if self.audit else {}
        return JobResult(
            job=self.name,
            output=self.output.name,
            rows=written.rows,
            seconds=time.perf_counter() - started,
            snapshot_id=written.snapshot_id,
            metrics=metrics,
        )

    def main(self, argv: list[str] | None = None) -> None:
        """Entry point of the job script under spark-submit or AWS Glue (stedi/script.py)."""
        from stedi.script import run_script

        run_script(self, argv)


def _call(fn: Callable[..., Any], frames: dict, params: JobParams) -> Any:
    wanted = inspect.signature(fn).parameters
    kwargs = {name: frames[name] for name in wanted if name in frames}
    kwargs.update({name: getattr(params, name) for name in PARAMETERS if name in wanted})
    return fn(**kwargs)


def conform(df, table: Table):
    """Hold the transform to the declaration: same columns, declared order and types."""
    from pyspark.sql import functions as F

    produced, declared = set(df.columns), set(table.column_names)
    if produced != declared:
        raise SchemaMismatch(
            f"{table.name}: the transform returned columns {sorted(produced)}, "
            f"but catalog/tables.toml declares {sorted(declared)} "
            f"(missing {sorted(declared - produced)}, unexpected {sorted(produced - declared)})"
        )
    schema = table.spark_schema()
    return df.select([F.col(f.name).cast(f.dataType).alias(f.name) for f in schema.fields])
