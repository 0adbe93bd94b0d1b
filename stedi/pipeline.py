"""How a run flows: land the raw JSON, then the five jobs in dependency order, every table
through the gate flow (stage, check, publish: stedi/gates/flow.py).

The order is not written down anywhere: each job reads the tables named by its transform's
parameters, and a job runs once every table it reads has been written. Where the run goes (the
Spark session, the table I/O, where landing bytes come from) is its target's business
(stedi/targets/); this module only needs a TableIO.
"""

from __future__ import annotations

import importlib
import json
import time
from datetime import UTC, datetime
from pathlib import Path

from stedi.gates import flow
from stedi.gates.gate import Gate
from stedi.intake import quarantine
from stedi.job import Job
from stedi.privacy import runs as privacy
from stedi.privacy import suppression
from stedi.runtime import settings
from stedi.runtime.access import named_denials
from stedi.runtime.params import JobParams, RunRequest
from stedi.runtime.progress import Progress
from stedi.runtime.progress import bar as progress_bar
from stedi.runtime.steps import LANDING, Steps
from stedi.tables import lakehouse


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


class UnknownJob(ValueError):
    """A job name catalog/tables.toml does not declare, or a job whose inputs were never published."""


def downstream(name: str) -> list[Job]:
    """The job `name` and every job that reads what it writes, directly or not, in run order:
    what `stedi run JOB` re-runs after that job's file was edited."""
    ordered = jobs()
    chosen = [job for job in ordered if job.name == name]
    if not chosen:
        raise UnknownJob(f"no job {name!r}; the jobs are: {', '.join(job.name for job in ordered)}")
    written = {chosen[0].output.name}
    for job in ordered[ordered.index(chosen[0]) + 1 :]:
        if written & set(job.inputs):
            chosen.append(job)
            written.add(job.output.name)
    return chosen


def execute(target, request: RunRequest, progress=None) -> dict:
    """`stedi pipeline` on a target (stedi/targets/): the target opens the run (Spark, table I/O,
    gate) and this module runs it; a target whose runs happen elsewhere (the Docker stack's Spark
    container) is handed the request instead. Returns the run summary.

    A request naming jobs (`stedi run JOB`) runs only those, on the tables already published:
    no landing step, and no green record (only a whole run qualifies code for `make deploy`)."""
    progress = progress or Progress(quiet=True)
    if target.delegates:
        return target.delegate(request, progress)
    with target.open_run(request, progress) as runtime, runtime.jobs_identity():
        if request.jobs:
            chosen = [job for job in jobs() if job.name in request.jobs]
            summary = run_jobs(runtime.io, runtime.params, chosen, progress, runtime.gate, runtime.steps)
        else:
            summary = run(runtime.io, runtime.params, progress, runtime.gate, request.max_quarantine, runtime.steps)
        summary.update(runtime.facts)
        if runtime.gate is not None and not request.jobs:
            summary.update(runtime.after_green())
        if runtime.steps is not None:
            runtime.steps.save()
    return summary


def run_embedded(landing: Path | None = None, policy: str = settings.DEFAULT_POLICY, progress=None, **options) -> dict:
    """The pipeline on the embedded target, from Python (tests, benchmarks): RunRequest's fields as keywords."""
    from stedi.targets.embedded import EmbeddedTarget

    return execute(EmbeddedTarget(), RunRequest(landing=landing, policy=policy, **options), progress)


def run(io, params: JobParams, progress=None, gate: Gate | None = None, max_quarantine: float | None = None,
        steps: Steps | None = None) -> dict:
    """Land, then transform, each table through the quality gate when one is given; returns the
    run summary. A table that fails its gate raises GateFailed and nothing after it runs.

    Every source is read before anything is written, so a source with too many bad records
    (QuarantineExceeded) stops the run with nothing published. With `steps` (stedi/runtime/steps.py), a
    step whose inputs are those of the last run that did it is skipped, and its figures are that run's.
    """
    progress = progress or Progress(quiet=True)
    house = lakehouse()
    started = time.perf_counter()
    summary = _new_summary(params, "landing", "quarantine")
    # on a terminal, a bar over the steps (each landing table, each job): time so far and left
    with progress_bar(progress, "pipeline", len(house.zone("landing")) + len(jobs()), "steps", report=False) as bar:
        kept = steps.unchanged(LANDING, steps.landing) if steps else None
        if kept:
            _restore_landing(summary, kept, house, progress, bar.advance)
        else:
            with named_denials("the landing step"):
                clocked = _land(io, house, summary, progress, gate, max_quarantine, bar.advance)
                privacy.after_intake(io, house, summary, gate, progress)
            if steps:  # a verdict the clock may change is never reused
                steps.did(LANDING, None if clocked else steps.landing, _landing_tables(house),
                          _landing_record(summary, house))
        consents = privacy.consents(io, house, params.pseudonym_key)
        ran = _transform(io, house, params, jobs(), gate, summary, progress, bar.advance, steps)
    if privacy.holds_consents(house, ran):  # a revocation is seen where the customers' table was written
        privacy.after_jobs(io, house, consents, params.pseudonym_key, summary, progress)
    if gate:
        # Data Docs drawn now would show only the tables checked now: the last whole run's stay.
        summary["gates"] = _gate_summary(gate, progress, docs=not (steps and steps.skipped))
    if steps and steps.skipped:
        summary["skipped"] = list(steps.skipped)
    summary["seconds"] = round(time.perf_counter() - started, 2)
    return summary


def run_jobs(io, params: JobParams, chosen: list[Job], progress=None, gate: Gate | None = None,
             steps: Steps | None = None) -> dict:
    """Only the `chosen` jobs, in order, on the tables already published (each still through its
    gate, and a revoked consent still expires the history); returns their summary."""
    progress = progress or Progress(quiet=True)
    house = lakehouse()
    started = time.perf_counter()
    summary = _new_summary(params)
    written = {job.output.name for job in chosen}
    needed = {t for job in chosen for t in job.inputs} - written
    missing = sorted(t for t in needed if not io.exists(t))
    if missing:
        raise UnknownJob(f"{', '.join(missing)}: not published on this stack yet; run the whole pipeline first")
    consents = privacy.consents(io, house, params.pseudonym_key) if privacy.holds_consents(house, written) else {}
    with progress_bar(progress, "jobs", len(chosen), "steps", report=False) as bar:
        _transform(io, house, params, chosen, gate, summary, progress, bar.advance, steps)
    privacy.after_jobs(io, house, consents, params.pseudonym_key, summary, progress)
    if gate:
        summary["gates"] = _gate_summary(gate, progress, docs=False)
    summary["seconds"] = round(time.perf_counter() - started, 2)
    return summary


def _new_summary(params: JobParams, *sections: str) -> dict:
    """A run summary before anything ran: the policy, when, and empty tables, snapshots, the
    given `sections` and jobs (in that order, as the summary file shows them)."""
    return {
        "policy": params.policy,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "tables": {},
        "snapshots": {},
        **{section: {} for section in sections},
        "jobs": {},
    }


def _transform(io, house, params: JobParams, chosen, gate: Gate | None, summary: dict, progress, advance,
               steps: Steps | None = None) -> set[str]:
    """The jobs in order, each one's figures recorded in the summary; returns the tables written
    (a job skipped by `steps` writes none)."""
    written = set()
    for job in chosen:
        fingerprint = steps.job_fingerprint(job) if steps else None
        kept = steps.unchanged(job.name, fingerprint) if steps else None
        if kept:
            _restore(summary, kept)
            progress(f"job  {job.name}: its file and its inputs are as the last run found them, skipped "
                     f"({kept['tables'][job.output.name]:,} rows in {house.namespace}.{job.output.name})")
            advance()
            continue
        progress(f"job  {job.name} ...")
        result = job.run(io, params, gate)
        _record(summary, result.output, result.rows, result.snapshot_id)
        summary["jobs"][job.name] = {
            "output": result.output,
            "rows": result.rows,
            "seconds": round(result.seconds, 2),
            **result.metrics,
        }
        # A job's other figures are the run's too (cross_customer_pairs); why it dropped rows is its own.
        figures = {k: v for k, v in result.metrics.items() if k != "dropped"}
        summary.update(figures)
        written.add(result.output)
        if steps:
            steps.did(job.name, fingerprint, [result.output], {
                "tables": {result.output: result.rows}, "snapshots": {result.output: result.snapshot_id},
                "jobs": {job.name: summary["jobs"][job.name]}, "figures": figures,
            })
        progress(f"job  {job.name}: {result.rows:,} rows -> {house.namespace}.{result.output} ({result.seconds:.1f}s)")
        advance()
    return written


def _landing_tables(house) -> list[str]:
    """What the landing step publishes: each source, its quarantine, and the erasures table."""
    names = [t.name for t in house.zone("landing")] + [house.quarantine_of(t).name for t in house.zone("landing")]
    return names + ([house.erasures.name] if house.erasures is not None else [])


def _landing_record(summary: dict, house) -> dict:
    names = [n for n in _landing_tables(house) if n in summary["tables"]]
    return {
        "tables": {n: summary["tables"][n] for n in names},
        "snapshots": {n: summary["snapshots"][n] for n in names},
        **{section: summary[section] for section in ("landing", "quarantine", "erasures") if section in summary},
    }


def _restore_landing(summary: dict, kept: dict, house, progress, advance) -> None:
    """The landing step's figures as the last run that did it left them."""
    _restore(summary, kept)
    progress("land: the landing objects, the erasure register, the policy and the code are as the last run "
             f"found them, skipped ({sum(e['records'] for e in kept['landing'].values()):,} records)")
    for _ in house.zone("landing"):
        advance()


def _restore(summary: dict, kept: dict) -> None:
    """A skipped step's figures, from the record of the run that did it (stedi/runtime/steps.py)."""
    for section in ("tables", "snapshots", "landing", "quarantine", "jobs"):
        summary.setdefault(section, {}).update(kept.get(section, {}))
    if "erasures" in kept:
        summary["erasures"] = kept["erasures"]
    summary.update(kept.get("figures", {}))


def _land(io, house, summary: dict, progress, gate: Gate | None, max_quarantine: float | None, advance) -> bool:
    """Every source read through the intake, then its accepted records and its quarantine published;
    returns whether a record was set aside by a rule the clock moves (quarantine.judged_by_the_clock)."""
    intakes = _intake(io, house, progress)
    quarantine.check(intakes, quarantine.max_share(house, max_quarantine))
    privacy.before_publishing(io, intakes, gate, progress)
    for table, intake in intakes.items():
        step = time.perf_counter()
        landed = flow.publish(io, table, intake.accepted, gate, **quarantine.gate_facts(intake))
        flow.publish(io, house.quarantine_of(table), intake.quarantined, gate)
        summary["landing"][table.name] = {
            **suppression.account(quarantine.summary(intake), io.suppression.withheld.get(table.name, 0)),
            "rows": landed.rows,
        }
        summary["quarantine"][house.quarantine_of(table).name] = intake.quarantined.num_rows
        _record(summary, table.name, landed.rows, landed.snapshot_id)
        progress(
            f"land {table.name}: {landed.rows:,} rows from {intake.records:,} records in {intake.files} files, "
            f"{intake.quarantined.num_rows:,} quarantined ({time.perf_counter() - step:.1f}s)"
        )
        warning = quarantine.warning(table, house.quarantine_of(table), intake, house.namespace)
        if warning:
            progress(warning)
        advance()
    return any(quarantine.judged_by_the_clock(intake) for intake in intakes.values())


def _intake(io, house, progress) -> dict:
    intakes = {}
    for table in house.zone("landing"):
        step = time.perf_counter()
        intakes[table] = io.intake(table.name)
        seconds = time.perf_counter() - step
        spooled = ", spooled to local disk past the intake's memory budget" if intakes[table].spooled else ""
        progress(f"read {table.source}/landing/: {intakes[table].records:,} records{spooled} ({seconds:.1f}s)")
    return intakes


def _gate_summary(gate: Gate, progress, docs: bool = True) -> dict:
    """The gates' figures; `docs=False` keeps the Data Docs of the last whole run (a site drawn
    now would hold only this run's tables)."""
    step = time.perf_counter()
    docs = gate.build_docs() if docs else None
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


def write_summary(summary: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2) + "\n")
