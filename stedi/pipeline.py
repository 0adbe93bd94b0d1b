"""The whole pipeline: land the raw JSON, then the five jobs in dependency order.

The order is not written down anywhere: each job reads the tables named by its transform's
parameters, and a job runs once every table it reads has been written.
"""

from __future__ import annotations

import importlib
import json
import time
from datetime import UTC, datetime
from pathlib import Path

from stedi import preflight, quarantine, runlock, settings
from stedi.gate import Gate
from stedi.job import Job, JobParams
from stedi.progress import Progress
from stedi.retry import retry
from stedi.tables import lakehouse

DEFAULT_SEED = 42
DEFAULT_CUSTOMERS = 1000


def jobs() -> list[Job]:
    """Every job named in catalog/tables.toml, each after the jobs whose output it reads."""
    house = lakehouse()
    pending = [importlib.import_module(f"spark_jobs.{t.job}").JOB for t in house.tables.values() if t.job]
    written = {t.name for t in house.zone("landing")}
    ordered = []
    while pending:
        ready = [job for job in pending if set(job.inputs) <= written]
        if not ready:
            blocked = {job.name: sorted(set(job.inputs) - written) for job in pending}
            raise RuntimeError(f"these jobs read tables that no job writes: {blocked}")
        for job in ready:
            ordered.append(job)
            written.add(job.output.name)
            pending.remove(job)
    return ordered


def run(io, params: JobParams, progress=None, gate: Gate | None = None, max_quarantine: float | None = None) -> dict:
    """Land, then transform, each table through the quality gate when one is given; returns the
    run summary. A table that fails its gate raises GateFailed and nothing after it runs.

    Every source is read before anything is written, so a source with too many bad records
    (QuarantineExceeded) stops the run with nothing published.
    """
    progress = progress or Progress(quiet=True)
    house = lakehouse()
    started = time.perf_counter()
    summary: dict = {
        "policy": params.policy,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "tables": {},
        "snapshots": {},
        "landing": {},
        "quarantine": {},
        "jobs": {},
    }
    intakes = _intake(io, house, progress)
    quarantine.check(intakes, quarantine.max_share(house, max_quarantine))
    for table, intake in intakes.items():
        step = time.perf_counter()
        landed = io.land(table.name, intake, audit=gate.auditor(table) if gate else None)
        summary["landing"][table.name] = {**quarantine.summary(intake), "rows": landed.rows}
        summary["quarantine"][house.quarantine_of(table).name] = intake.quarantined.num_rows
        _record(summary, table.name, landed.rows, landed.snapshot_id)
        progress(
            f"land {table.name}: {landed.rows:,} rows from {intake.records:,} records in {intake.files} files, "
            f"{intake.quarantined.num_rows:,} quarantined ({time.perf_counter() - step:.1f}s)"
        )
        warning = quarantine.warning(table, house.quarantine_of(table), intake, house.namespace)
        if warning:
            progress(warning)
    for job in jobs():
        progress(f"job  {job.name} ...")
        result = job.run(io, params, gate)
        _record(summary, result.output, result.rows, result.snapshot_id)
        summary["jobs"][job.name] = {
            "output": result.output,
            "rows": result.rows,
            "seconds": round(result.seconds, 2),
            **result.metrics,
        }
        summary.update(result.metrics)
        progress(f"job  {job.name}: {result.rows:,} rows -> {house.namespace}.{result.output} ({result.seconds:.1f}s)")
    if gate:
        summary["gates"] = _gate_summary(gate, progress)
    summary["seconds"] = round(time.perf_counter() - started, 2)
    return summary


def _intake(io, house, progress) -> dict:
    intakes = {}
    for table in house.zone("landing"):
        step = time.perf_counter()
        intakes[table] = io.intake(table.name)
        seconds = time.perf_counter() - step
        progress(f"read {table.source}/landing/: {intakes[table].records:,} records ({seconds:.1f}s)")
    return intakes


def _gate_summary(gate: Gate, progress) -> dict:
    step = time.perf_counter()
    docs = gate.build_docs()
    docs_seconds = time.perf_counter() - step
    checked = sum(o.expectations for o in gate.outcomes)
    seconds = sum(o.seconds for o in gate.outcomes)
    progress(
        f"quality gates: {len(gate.outcomes)} tables, {checked} expectations passed ({seconds:.1f}s)"
        + (f"; Data Docs {docs} ({docs_seconds:.1f}s)" if docs else "")
    )
    return {
        "tables": {
            o.table: {"engine": o.engine, "expectations": o.expectations, "seconds": round(o.seconds, 2)}
            for o in gate.outcomes
        },
        "seconds": round(seconds, 2),
        "docs": str(docs) if docs else None,
        "docs_seconds": round(docs_seconds, 2),
    }


def _record(summary: dict, table: str, rows: int, snapshot_id: int | None) -> None:
    summary["tables"][table] = rows
    summary["snapshots"][table] = snapshot_id


def run_embedded(
    landing: Path | None = None,
    policy: str = settings.DEFAULT_POLICY,
    progress=None,
    seed: int = DEFAULT_SEED,
    customers: int = DEFAULT_CUSTOMERS,
    gates: bool = True,
    max_quarantine: float | None = None,
) -> dict:
    """The embedded pipeline from nothing: stack, landing upload, Spark, jobs.

    `gates=False` publishes without validating: only the benchmark uses it, to price the gates.
    One pipeline at a time writes a lakehouse (stedi.runlock); a second one waits or refuses.
    """
    progress = progress or Progress(quiet=True)
    settings.check_policy(policy)
    with runlock.hold(settings.state_home(), "stedi pipeline", wait_seconds=runlock.default_wait(), progress=progress):
        return _run_embedded(landing, policy, progress, seed, customers, gates, max_quarantine)


def _run_embedded(landing, policy, progress, seed, customers, gates, max_quarantine) -> dict:
    from stedi import landing as landing_zone
    from stedi import stack as embedded
    from stedi.spark import local_session
    from stedi.tableio import EmbeddedIO

    params = JobParams(policy=policy, pseudonym_key=settings.pseudonym_key())
    source = landing or synthetic_landing(seed, customers, progress)
    preflight.check_warehouse_space(source, settings.state_home())
    lake = embedded.up()
    progress(f"embedded stack up: S3 emulator {lake.endpoint}, catalog {lake.catalog_uri}")
    copies = retry(
        lambda: landing_zone.upload(
            source, lake.s3_client(), progress, digests=settings.state_home() / "landing-md5.json"
        ),
        what="S3 emulator",
        progress=progress,
    )
    progress("starting Spark (local[2])")
    io = EmbeddedIO(local_session("stedi-pipeline"), lake, local_copies=copies)
    orphans = io.remove_orphan_files()  # left by a run that was killed between writing and committing
    if orphans:
        progress(f"removed {orphans} files an interrupted run wrote but never committed")
    expired = io.expire_snapshots()
    if expired:
        progress(f"expired snapshots beyond the newest {lakehouse().keep_snapshots} per table ({expired} files)")
    gate = None
    if gates:
        from stedi.aws.gate import code_digest, record_green

        digest = code_digest()  # of the code as it starts, in case it is edited during the run
        gate = Gate(
            params,
            docs_dir=settings.docs_dir(),
            expected_rows=expected_rows(source, policy),
            read_published=io.read_published,
        )
    summary = run(io, params, progress, gate, max_quarantine)
    if gate:  # every gate passed: this code may be promoted to AWS (`make deploy`)
        summary["green_record"] = str(record_green(policy, digest=digest))
    summary.update(
        stack="embedded",
        landing_dir=str(source),
        s3_endpoint=lake.endpoint,
        orphan_files_removed=orphans,
        expired_files_removed=expired,
    )
    return summary


def expected_rows(landing: Path, policy: str) -> dict[str, int]:
    from expectations.reconciliation import known_counts

    return known_counts(landing, policy)


def synthetic_landing(seed: int, customers: int, progress) -> Path:
    """The generator's data set for this seed and size, made once and reused."""
    from stedi import synthetic

    directory = settings.state_home() / "synthetic" / f"seed-{seed}-customers-{customers}"
    if not (directory / "expected_counts.json").exists():
        progress(f"generating synthetic landing data: {customers:,} customers, seed {seed}")
        synthetic.generate(directory, customers=customers, seed=seed)
    return directory


def write_summary(summary: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2) + "\n")
