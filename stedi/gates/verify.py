"""The quality gates over a lakehouse that is already published: the last step on AWS Glue.

On the embedded stack every table passes its gate before it is published (write-audit-publish).
Glue writes through Spark's Iceberg catalog, where the jobs publish as they go, so there the
same suites run once the five jobs are done, as a sixth Glue job (spark_jobs/quality_gates.py):
it reads the landing files through the same intake (writing the quarantine tables), validates
every table, writes the Data Docs, and fails, naming every table and expectation that failed,
so `make run-aws` and the workflow end in error rather than in silence.
"""

from __future__ import annotations

import time
from pathlib import Path

from stedi.gates import flow
from stedi.gates.gate import Gate, GateFailed
from stedi.intake import quarantine
from stedi.runtime.params import JobParams
from stedi.tables import lakehouse


class LakehouseInvalid(RuntimeError):
    """Published tables failed their suites; the message lists every failure."""

    def __init__(self, failures: list[GateFailed], docs: str | None):
        self.failures = failures
        self.docs = docs
        names = ", ".join(f"{lakehouse().namespace}.{f.table}" for f in failures)
        lines = [f"the quality gates failed on {len(failures)} published table(s): {names}"]
        for failure in failures:
            lines += [f"{failure.table}:", *(f"  {line}" for line in failure.failures)]
        if docs:
            lines.append(f"Data Docs: {docs}")
        super().__init__("\n".join(lines))


def verify(
    io,
    params: JobParams,
    *,
    docs_dir: Path | None,
    expected_rows: dict[str, int] | None = None,
    max_quarantine: float | None = None,
    spark=None,
    offline_docs: bool = True,
    progress=print,
) -> dict:
    """Validate every published table; returns a summary, or raises LakehouseInvalid/QuarantineExceeded."""
    house = lakehouse()
    started = time.perf_counter()
    gate = Gate(
        params,
        docs_dir=docs_dir,
        expected_rows=expected_rows or {},
        read_published=io.read_published,
        spark=spark,
        offline_docs=offline_docs,
    )
    intakes = {table: io.intake(table.name) for table in house.zone("landing")}
    quarantine.check(intakes, quarantine.max_share(house, max_quarantine))
    for table, intake in intakes.items():
        flow.publish(io, house.quarantine_of(table), intake.quarantined, gate)
        progress(f"{table.source}/landing/: {intake.records:,} records, {intake.quarantined.num_rows:,} quarantined")
    failures = []
    published = list(house.tables.values())
    if house.erasures and io.exists(house.erasures.name):  # a pipeline run publishes it; a Glue deployment not yet
        published.append(house.erasures)
    for table in published:
        # a landing table is its files' accepted records, and its gate knows what the files held
        rows = io.read_published(table.name)
        facts = quarantine.gate_facts(intakes[table]) if table in intakes else {}
        try:
            outcome = gate.check(table, rows, **facts)
        except GateFailed as failure:
            failures.append(failure)
            progress(f"FAILED {house.namespace}.{table.name}: {len(failure.failures)} expectation(s)")
        else:
            progress(f"passed {house.namespace}.{table.name}: {outcome.expectations} expectations ({outcome.engine})")
    docs = gate.build_docs()
    if failures:
        raise LakehouseInvalid(failures, str(docs) if docs else None)
    return {
        "tables": {o.table: {"engine": o.engine, "expectations": o.expectations} for o in gate.outcomes},
        "quarantined": {house.quarantine_of(t).name: i.quarantined.num_rows for t, i in intakes.items()},
        "docs": str(docs) if docs else None,
        "seconds": round(time.perf_counter() - started, 2),
    }


def publish_docs(docs_dir: Path, uri: str, s3_client=None) -> int:
    """Copy the Data Docs site to `s3://bucket/prefix/` (where the deploy lets the gates write)."""
    import mimetypes

    if not docs_dir.is_dir():
        return 0
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    if s3_client is None:
        import boto3

        s3_client = boto3.client("s3")
    files = sorted(p for p in docs_dir.rglob("*") if p.is_file())
    for path in files:
        key = prefix.rstrip("/") + "/" + path.relative_to(docs_dir).as_posix()
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        s3_client.upload_file(str(path), bucket, key.lstrip("/"), ExtraArgs={"ContentType": content_type})
    return len(files)
