"""Quality gates: a staged table is validated by its Great Expectations suites before it is
published (stedi/gates/flow.py), and a failure stops the pipeline with the table, the
expectation and a few offending rows.

The suites live in `expectations/`; this module runs them. Where they run is chosen per
table size: pandas (via DuckDB for the cross-table views) is fastest when the rows are
already in the driver, as on the embedded stack, while a Spark stack hands tables over as
Spark DataFrames and keeps the big ones in Spark, where GX runs one Spark job per metric but
never collects the table.
"""

from __future__ import annotations

import functools
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stedi.gates.published import KEPT, Kept
from stedi.runtime.params import JobParams
from stedi.tables import Lakehouse, Table, lakehouse

# Above this many rows a table that is in Spark stays in Spark (see module docstring).
PANDAS_MAX_ROWS = int(os.environ.get("STEDI_GATE_PANDAS_MAX_ROWS", "1000000"))
ROWS_SHOWN = 3  # offending rows quoted per failed expectation
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 20}


class GateFailed(RuntimeError):
    """A staged table failed its suites; it was not published."""

    def __init__(self, table: str, failures: list[str], docs: str | None = None):
        self.table = table
        self.failures = failures
        self.docs = docs
        super().__init__(self._message())

    def _message(self) -> str:
        lines = [
            f"the quality gate stopped {lakehouse().namespace}.{self.table}: it was not published, "
            "and every table keeps its previously published version"
        ]
        lines += self.failures
        if self.docs:
            lines.append(f"Data Docs: {self.docs}")
        return "\n".join(lines)


@dataclass(frozen=True)
class Outcome:
    """What one table's gate did, for the run summary."""

    table: str
    engine: str
    validations: int
    expectations: int
    seconds: float


# ---------------------------------------------------------------------------------------------
# Engines: the same SQL views and suites over pandas or Spark


class PandasEngine:
    """Arrow tables in the driver: views in DuckDB, expectations on pandas."""

    name = "pandas"
    _TYPES = {"string": "str", "long": "int64", "int": "int32", "double": "float64"}

    def sql(self, query: str, tables: dict[str, Any]) -> Any:
        import duckdb

        with duckdb.connect() as con:
            for name, frame in tables.items():
                con.register(name, frame)
            return con.sql(query).to_arrow_table()

    def from_rows(self, columns: dict[str, list]) -> Any:
        import pyarrow as pa

        return pa.table({name: pa.array(values, pa.string()) for name, values in columns.items()})

    def distinct_values(self, frame: Any, column: str) -> list:
        import pyarrow.compute as pc

        return pc.unique(frame.column(column)).to_pylist()

    def columns(self, frame: Any) -> list[str]:
        return list(frame.column_names)

    def count(self, frame: Any) -> int:
        return frame.num_rows

    def type_name(self, declared: str) -> str:
        return self._TYPES[declared]

    def native(self, frame: Any) -> Any:
        """Arrow, whatever came in (a Spark DataFrame is collected as Arrow)."""
        return frame.toArrow() if hasattr(frame, "toArrow") else frame

    def batch(self, frame: Any) -> Any:
        import pandas as pd
        import pyarrow as pa

        # Nullable pandas types: a long column with a null stays int64, not float64.
        types = {
            pa.int64(): pd.Int64Dtype(),
            pa.int32(): pd.Int32Dtype(),
            pa.float64(): pd.Float64Dtype(),
            pa.string(): pd.StringDtype(),
            pa.bool_(): pd.BooleanDtype(),
        }
        return frame.to_pandas(types_mapper=types.get)

    def release(self, batch: Any) -> None:
        pass

    def rows(self, batch: Any, result: dict) -> list[dict]:
        indices = result.get("partial_unexpected_index_list") or []
        return [_plain(batch.iloc[i].to_dict()) for i in indices[:ROWS_SHOWN] if isinstance(i, int)]


class SparkEngine:
    """Spark DataFrames: views in Spark SQL, expectations on GX's Spark execution engine."""

    name = "spark"
    _TYPES = {"string": "StringType", "long": "LongType", "int": "IntegerType", "double": "DoubleType"}

    def __init__(self, spark):
        self.spark = spark

    def sql(self, query: str, tables: dict[str, Any]) -> Any:
        for name, frame in tables.items():
            frame.createOrReplaceTempView(name)
        return self.spark.sql(query)

    def from_rows(self, columns: dict[str, list]) -> Any:
        schema = ", ".join(f"`{name}` string" for name in columns)
        return self.spark.createDataFrame(list(zip(*columns.values(), strict=True)), schema)

    def distinct_values(self, frame: Any, column: str) -> list:
        return [row[0] for row in frame.select(column).distinct().collect()]

    def columns(self, frame: Any) -> list[str]:
        return list(frame.columns)

    def count(self, frame: Any) -> int:
        return frame.count()

    def type_name(self, declared: str) -> str:
        return self._TYPES[declared]

    def native(self, frame: Any) -> Any:
        # from Arrow itself: through pandas, a long column holding a null would become a double
        return frame if hasattr(frame, "toArrow") else self.spark.createDataFrame(frame)

    def batch(self, frame: Any) -> Any:
        return frame

    def release(self, batch: Any) -> None:
        """GX persists every Spark batch it validates and never lets go: cached, a run's checked
        tables would hold the memory later joins need (at 1000x a sort then failed for want of it)."""
        batch.unpersist()

    def rows(self, batch: Any, result: dict) -> list[dict]:
        return []  # GX on Spark reports unexpected values, not row positions


def _plain(row: dict) -> dict:
    """A pandas row as printable Python values (NA as None)."""
    import pandas as pd

    return {k: (None if v is pd.NA or (isinstance(v, float) and v != v) else v) for k, v in row.items()}


# ---------------------------------------------------------------------------------------------
# The gate


class _SparkOnly(Exception):
    """A check in memory needs a table Spark holds that is too big for the driver: a landing table
    past the intake's memory budget, whose records are Parquet files only Spark reads."""


@dataclass
class Gate:
    """Runs the suites of each table handed to it, in one GX context per pipeline run.

    Tables that pass in memory are remembered (as the frames that were validated), so later
    suites join against exactly what was published without reading it back; a table validated in
    Spark is read back from its published snapshot, which is the staged one fast-forwarded. With
    `kept` (stedi/gates/published.py), what was published or read stays for later runs in the
    process, by snapshot: `published_snapshot` says which snapshot is current.
    """

    params: JobParams
    docs_dir: Path | None = None
    expected_rows: dict[str, int] = field(default_factory=dict)
    read_published: Callable[..., Any] | None = None  # (name[, snapshot_id]) -> the table's rows
    published_snapshot: Callable[[str], int | None] | None = None
    kept: Kept | None = None
    spark: Any = None
    pandas_max_rows: int = PANDAS_MAX_ROWS
    # False where the vendored assets are not on disk (Glue imports the code from a zip): the
    # report then links its scripts and styles from their CDNs, as Great Expectations does.
    offline_docs: bool = True
    house: Lakehouse = field(default_factory=lakehouse)
    outcomes: list[Outcome] = field(default_factory=list)

    def __post_init__(self):
        self._accepted: dict[str, Any] = {}
        self._context = None
        self._sources: dict[str, Any] = {}
        self._created: dict[str, tuple[Any, Any]] = {}

    # -- what the gate flow (stedi/gates/flow.py) calls between staging and publishing

    def check(
        self,
        table: Table,
        staged: Any,
        *,
        landing_records: int | None = None,
        quarantined: int = 0,
        suppressed: int = 0,
        rows: int | None = None,
    ) -> Outcome:
        started = time.perf_counter()
        facts = {"landing_records": landing_records, "quarantined": quarantined, "suppressed": suppressed}
        engine = self._engine_for(staged, rows)
        try:
            return self._check(engine, table, staged, facts, started)
        except _SparkOnly:  # a table it joins against is too big to collect: the whole check runs on Spark
            return self._check(SparkEngine(self.spark), table, staged, facts, started)

    def _check(self, engine, table: Table, staged: Any, facts: dict, started: float) -> Outcome:
        import expectations
        from expectations.context import Audit

        staged = engine.native(staged)
        audit = Audit(
            table=table,
            house=self.house,
            staged=staged,
            engine=engine,
            policy=self.params.policy,
            pseudonym_key=self.params.pseudonym_key,
            published=functools.cache(lambda name: self._published_as(engine, name)),
            now_ms=int(time.time() * 1000),
            expected_rows=self.expected_rows.get(table.name),
            **facts,
        )
        suites = expectations.suites(audit)
        failures: list[str] = []
        for suite in suites:
            tables = {"t": staged, **{u: audit.published(u) for u in suite.uses}, **suite.extra}
            frame = engine.sql(suite.view, tables) if suite.view else staged
            failures += self._validate(engine, suite, frame)
        if failures:
            docs = self.build_docs()
            raise GateFailed(table.name, failures, docs=str(docs) if docs else None)
        if engine.name == "pandas":  # rows in memory; a Spark frame reads a stage branch that publishing drops
            self._accepted[table.name] = staged
        outcome = Outcome(
            table=table.name,
            engine=engine.name,
            validations=len(suites),
            expectations=sum(len(s.expectations) for s in suites),
            seconds=time.perf_counter() - started,
        )
        self.outcomes.append(outcome)
        return outcome

    def _engine_for(self, staged: Any, rows: int | None):
        """`rows`: the staged row count where known (a snapshot's summary holds it), or counted here."""
        if not hasattr(staged, "toArrow"):  # already Arrow in the driver
            return PandasEngine()
        if self.spark is None or (staged.count() if rows is None else rows) <= self.pandas_max_rows:
            return PandasEngine()
        return SparkEngine(self.spark)

    def published(self, table: Table, snapshot_id: int | None) -> None:
        """The rows just checked are now the table's snapshot `snapshot_id` (the gate flow says so once
        it published them): later runs in this process may join against them without reading them."""
        if self.kept is not None:
            self.kept.put(self.house.table_location(table), snapshot_id, self._accepted.get(table.name))

    def _published_as(self, engine, name: str) -> Any:
        """A published table in `engine`'s frames: as this run accepted it, else as the process kept it at
        its current snapshot, else read (and kept, when the engine holds Arrow)."""
        if name in self._accepted:
            return engine.native(self._accepted[name])
        if self.read_published is None:
            raise LookupError(f"the gate needs the published table {name} and has no way to read it")
        snapshot = self.published_snapshot(name) if self.kept is not None and engine.name == "pandas" else None
        if snapshot is None:
            rows = self.read_published(name)
            if engine.name == "pandas" and hasattr(rows, "toArrow") and self.house.table(name).is_landing_files:
                raise _SparkOnly(name)  # landing records the intake spooled (stedi/intake/spool.py): too many
            return engine.native(rows)
        location = self.house.table_location(self.house.table(name))
        rows = self.kept.get(location, snapshot)
        if rows is None:
            rows = engine.native(self.read_published(name, snapshot))
            self.kept.put(location, snapshot, rows)
        return rows

    # -- Great Expectations

    def context(self):
        if self._context is None:
            import great_expectations as gx
            from great_expectations.data_context.types.base import (
                DataContextConfig,
                InMemoryStoreBackendDefaults,
                ProgressBarsConfig,
            )

            from stedi.gates import datadocs

            # In memory, no usage analytics, no progress bars, no throwaway docs site in /tmp.
            config = DataContextConfig(
                store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
                analytics_enabled=False,
                progress_bars=ProgressBarsConfig(globally=False),
            )
            self._context = gx.get_context(mode="ephemeral", project_config=config)
            if self.docs_dir is not None:
                datadocs.use_data_docs_site(self._context, self.docs_dir)
        return self._context

    def _validate(self, engine, suite, frame) -> list[str]:
        """Run one suite; returns a readable line (or a few) per failed expectation."""
        import great_expectations as gx

        context = self.context()
        self._forget(suite.name)
        source = self._sources.get(engine.name)
        if source is None:
            add = context.data_sources.add_pandas if engine.name == "pandas" else context.data_sources.add_spark
            source = self._sources[engine.name] = add(f"stedi_{engine.name}")
        batch_definition = source.add_dataframe_asset(suite.name).add_batch_definition_whole_dataframe("staged")
        gx_suite = context.suites.add(gx.ExpectationSuite(name=suite.name, expectations=list(suite.expectations)))
        validation = context.validation_definitions.add(
            gx.ValidationDefinition(name=suite.name, data=batch_definition, suite=gx_suite)
        )
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(name=suite.name, validation_definitions=[validation], result_format=RESULT_FORMAT)
        )
        self._created[suite.name] = (source, engine.name)
        batch = engine.batch(frame)
        try:
            result = checkpoint.run(batch_parameters={"dataframe": batch})
        finally:
            engine.release(batch)
        failures = []
        for run in result.run_results.values():
            for outcome in run.results:
                if not outcome.success:
                    failures += _describe(suite.name, outcome, engine.rows(batch, outcome.result or {}))
        return failures

    def _forget(self, name: str) -> None:
        """A table audited twice in one run (a retry) replaces its earlier validation objects."""
        if name not in self._created:
            return
        context = self.context()
        source, _ = self._created.pop(name)
        context.checkpoints.delete(name)
        context.validation_definitions.delete(name)
        context.suites.delete(name)
        source.delete_asset(name)

    def build_docs(self) -> Path | None:
        """Write the offline Data Docs site for every validation so far; its index.html."""
        if self.docs_dir is None or self._context is None:
            return None
        from stedi.gates import datadocs

        if self.offline_docs:
            datadocs.build_offline_data_docs(self._context)
        else:
            self._context.build_data_docs(site_names=[datadocs.DEFAULT_SITE_NAME])
        return self.docs_dir / "index.html"


def _describe(suite: str, outcome: Any, rows: list[dict]) -> list[str]:
    config = outcome.expectation_config
    arguments = ", ".join(f"{k}={_short(v)}" for k, v in config.kwargs.items() if k not in ("batch_id",))
    result = outcome.result or {}
    if outcome.exception_info and outcome.exception_info.get("raised_exception"):
        found = f"raised {outcome.exception_info.get('exception_message')}"
    elif "unexpected_count" in result:
        found = f"{result['unexpected_count']:,} of {result.get('element_count', 0):,} rows"
        if not rows and result.get("partial_unexpected_list"):
            found += f", e.g. {_short(result['partial_unexpected_list'][:ROWS_SHOWN])}"
    else:
        found = f"observed {_short(result.get('observed_value'))}"
    lines = [f"  {suite}: {config.type}({arguments}): {found}"]
    lines += [f"    {json.dumps(row, default=str)}" for row in rows]
    return lines


def _short(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 3] + "..."


def new_gate(params: JobParams, io, landing: Path | None, *, docs_dir: Path | None, **options) -> Gate:
    """The quality gate of one run: its suites, its Data Docs, and the counts expected of a
    recognized data set (the starter data, the generator's)."""
    return Gate(
        params,
        docs_dir=docs_dir,
        expected_rows=expected_rows(landing, params.policy) if landing else {},
        read_published=io.read_published,
        published_snapshot=io.published_snapshot,
        kept=KEPT,
        **options,
    )


def expected_rows(landing: Path, policy: str) -> dict[str, int]:
    from expectations.reconciliation import known_counts

    return known_counts(landing, policy)
