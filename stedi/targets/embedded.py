"""The `embedded` target: one emulator on 127.0.0.1 serving S3 and the Glue Data Catalog API
(stedi/targets/embedded_stack.py), with Spark in this process. Nothing else to install.

Opening a run takes the run lock, checks Java and the disk, starts the stack if needed, uploads
the landing files, starts Spark once (with Iceberg's Spark runtime) and tidies what an interrupted
run left; stedi/pipeline.py then runs every table through its quality gate, and a green run is
recorded, so `make deploy` may promote exactly that code.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from stedi.datasets import synthetic
from stedi.gates.gate import new_gate
from stedi.intake.spool import SpoolRoot
from stedi.lakehouse import glue_tables
from stedi.lakehouse import landing as landing_zone
from stedi.lakehouse.glue_tables import CurrentSnapshots
from stedi.lakehouse.landing import LandingReader
from stedi.lakehouse.landing import objects as landing_objects
from stedi.lakehouse.pyiceberg_io import EmbeddedIO
from stedi.lakehouse.spark_io import SparkCatalogIO
from stedi.privacy import register
from stedi.privacy.suppression import Suppression
from stedi.runtime import engine, preflight, runlock, settings, steps
from stedi.runtime.jvm import JarsUnavailable
from stedi.runtime.params import JobParams, RunRequest
from stedi.runtime.retry import retry
from stedi.runtime.spark import has_iceberg, iceberg_session, local_session
from stedi.runtime.spark import master as spark_master
from stedi.runtime.steps import Steps
from stedi.tables import lakehouse
from stedi.targets import embedded_stack, trino_server
from stedi.targets.base import Runtime, TargetError
from stedi.targets.embedded_stack import CATALOG_NAME

UNFINISHED = "run-unfinished"  # in the state home while a run is under way; left behind by a killed one
# A table is expired back to `keep_snapshots` once it holds this many more: an expiry costs about the
# same for one snapshot as for five (a commit), so in batches it costs a fifth as much per run.
EXPIRY_BATCH = 5


class EmbeddedTarget:
    name = "embedded"

    def running(self) -> bool:
        return embedded_stack.current() is not None

    def status_lines(self) -> list[str]:
        lines = embedded_stack.status_lines()
        return lines + trino_server.status_lines() + engine.status_lines() if self.running() else lines

    def stop(self) -> bool:
        """Stop the warm engine, Trino and the emulator, waiting for a running pipeline first. The
        lakehouse stays on disk."""
        return self._stopping("stedi down", embedded_stack.down)

    def discard(self) -> tuple[bool, int]:
        """Stop everything as `stop` does, then delete the lakehouse on disk (`stedi discard`)."""
        return self._stopping("stedi discard", embedded_stack.discard)

    @staticmethod
    def _stopping(command: str, then):
        """The warm engine and Trino stopped under the run lock (a running pipeline finishes first),
        then `then`, the emulator's end."""
        with runlock.hold(settings.state_home(), command, wait_seconds=runlock.default_wait()):
            engine.stop()
            trino_server.stop()
            return then()

    def trino(self, progress=print) -> trino_server.Trino:
        """The stack's Trino, started on demand (the stack must run: Trino reads its catalog)."""
        return trino_server.start(embedded_stack.require(), progress)

    def docs_dir(self) -> Path:
        return settings.docs_dir()

    def stack(self) -> embedded_stack.Stack:
        """The running stack (its endpoint, keys and catalog), for the query engine."""
        return embedded_stack.require()

    delegates = False

    @contextmanager
    def open_run(self, request: RunRequest, progress):
        """Everything a pipeline run needs, held for the run: the run lock, a checked machine, the
        stack, the landing files in the bucket, Spark, the table I/O and the gate.

        One pipeline at a time writes a lakehouse (stedi.runtime.runlock); a second one waits or refuses.
        """
        with runlock.hold(
            settings.state_home(), "stedi pipeline", wait_seconds=runlock.default_wait(), progress=progress
        ):
            unfinished = settings.state_home() / UNFINISHED
            interrupted = unfinished.exists()  # the last run never got to its end: it may have left files
            unfinished.parent.mkdir(parents=True, exist_ok=True)
            unfinished.write_text("a pipeline run is under way, or was killed\n")
            try:
                yield self._prepare(request, progress, interrupted)
            finally:
                intake_spool().clear()  # landing records spooled for this run only (stedi/intake/spool.py)
            unfinished.unlink(missing_ok=True)  # reached only when the run ended without an error

    def delegate(self, request: RunRequest, progress) -> dict:
        raise TargetError("the embedded target runs here: `stedi.pipeline.execute` opens the run")

    def _prepare(self, request: RunRequest, progress, interrupted: bool) -> Runtime:
        from stedi.gates.green import code_digest, record_green

        preflight.check_java()
        params = JobParams.from_settings(request.policy)
        suppression = Suppression.current()  # refuses to run when the erasure register cannot be read
        source = synthetic.landing_of(request, progress)
        preflight.check_warehouse_space(source, settings.state_home())
        lake = embedded_stack.up()
        progress(f"embedded stack up: S3 and the Glue Data Catalog API at {lake.endpoint}")
        # Tables of Glue Studio scripts or Athena DDL may have taken the pipeline's names: it takes them back.
        glue_tables.reclaim(lake.client("glue"), lake.home, progress)
        glue_tables.register(lake.client("glue"), lakehouse(), lake.bucket)
        copies = retry(
            lambda: landing_zone.upload(
                source,
                lake.s3_client(),
                progress,
                digests=settings.state_home() / "landing-md5.json",
                suppression=suppression,
            ),
            what="S3 emulator",
            progress=progress,
        )
        digest = code_digest()  # of the code as it starts, in case it is edited during the run
        progress("starting Spark (local[2])")
        runtime = self.runtime(
            "stedi-pipeline",
            params,
            gates=request.gates,
            landing=source,
            local_copies=copies,
            table_io=request.table_io,
            progress=progress,
            suppression=suppression,
        )
        progress(f"table I/O: {describe(runtime.io)}")
        keep = lakehouse().keep_snapshots
        # `stedi run JOB` adds snapshots to its jobs' tables only: the others wait for the next whole run.
        written = {t.name for t in lakehouse().tables.values() if t.job in request.jobs} if request.jobs else None
        expired = runtime.io.expire_snapshots(keep, names=written, slack=EXPIRY_BATCH)
        if expired:
            progress(f"expired snapshots beyond the newest {keep} per table ({expired} files)")
        # Files no snapshot refers to come from a run that did not finish (killed before a commit, or
        # stopped by a gate with its stage dropped). Listing every table's files costs seconds, so
        # only then: the expiry itself leaves none (spark_io.expire_snapshots).
        orphans = runtime.io.remove_orphan_files() if interrupted else 0
        if orphans:
            progress(f"removed {orphans} files the last run, which did not finish, left unreferenced")
        runtime.facts = {
            "target": self.name,
            "table_io": "spark" if isinstance(runtime.io, SparkCatalogIO) else "pyiceberg",
            "landing_dir": str(source),
            "s3_endpoint": lake.endpoint,
            "jobs_identity": lake.as_glue_job().keys.arn,  # the deployed policy's stand-in (stack_keys.py)
            "orphan_files_removed": orphans,
            "expired_files_removed": expired,
        }
        # every gate passed: this code may be promoted to AWS (`make deploy`)
        runtime.after_green = lambda: {"green_record": str(record_green(request.policy, digest=digest))}
        runtime.steps = self._steps(lake, request, params, runtime, skipping=not interrupted)
        return runtime

    @staticmethod
    def _steps(lake, request: RunRequest, params: JobParams, runtime: Runtime, skipping: bool) -> Steps:
        """What this run may skip (stedi/runtime/steps.py): asked for (`stedi pipeline`, not `--full`), and
        never after a run that did not finish."""
        house = lakehouse()
        shared = steps.shared_inputs(params.policy, params.pseudonym_key, request.gates, runtime.facts["table_io"])
        s3 = lake.s3_client()
        record = Steps(steps.path(), CurrentSnapshots(lake.client("glue"), s3, house.namespace),
                       shared=shared, skipping=request.incremental and skipping)
        landed = {key: etag for table in house.zone("landing")
                  for key, etag in landing_objects(s3, lake.bucket, house.landing_prefix(table)).items()}
        erasures = register.path()
        record.landing = record.landing_fingerprint(
            landed, erasures.read_text() if erasures.exists() else "", request.max_quarantine)
        return record

    def runtime(
        self,
        app: str,
        params: JobParams,
        *,
        gates: bool = True,
        landing: Path | None = None,
        local_copies=None,
        table_io: str | None = None,
        progress=None,
        suppression=None,
        erasure: bool = False,
    ) -> Runtime:
        """A local[2] Spark session, the table I/O on the running stack, and the quality gate, all
        under the Glue jobs' identity and its least-privilege policy (stedi/targets/stack_keys.py),
        or, for `stedi forget`, the erasure job's.

        The table I/O is Iceberg's Spark catalog `glue_catalog` on the emulator's Glue API, the
        code path of AWS Glue; where its jars cannot be had (offline, nothing cached) the pyiceberg
        bridge takes over, saying why (settings.table_io).
        """
        progress = progress or (lambda line: None)
        stack = embedded_stack.require()
        stack = stack.as_erasure_job() if erasure else stack.as_glue_job()
        landing_files = LandingReader(stack, local_copies=local_copies)
        kind = settings.table_io(table_io)
        spark = self._session(app, kind, progress)
        if kind != "pyiceberg" and has_iceberg(spark):
            spark = iceberg_session(
                spark, CATALOG_NAME, stack.spark_catalog_properties(), stack.spark_system_properties()
            )
            io = SparkCatalogIO(
                spark,
                CATALOG_NAME,
                f"s3://{stack.bucket}",
                landing_files=landing_files,
                suppression=suppression,
                spool=intake_spool() if spark_master().startswith("local") else None,
            )
            io.prepare()
        else:
            io = EmbeddedIO(spark, stack, landing_files=landing_files, suppression=suppression)
        gate = new_gate(params, io, landing, docs_dir=settings.docs_dir(), spark=spark) if gates else None
        return Runtime(self.name, spark, io, params, gate, environment=stack.environment())

    def _session(self, app: str, kind: str, progress):
        if kind == "pyiceberg":
            return local_session(app, iceberg=False)
        try:
            return local_session(app, iceberg=True, progress=progress)
        except JarsUnavailable as missing:
            if kind == "spark":
                raise
            progress(
                f"warning: {missing}. The embedded stack runs on the pyiceberg bridge instead "
                f"({settings.TABLE_IO_ENV}=pyiceberg chooses it without trying)"
            )
            return local_session(app, iceberg=False)


def intake_spool() -> SpoolRoot:
    """Where a run on this stack spools landing records too many for memory (stedi/intake/spool.py)."""
    return SpoolRoot(settings.state_home() / "intake-spool")


def describe(io) -> str:
    if isinstance(io, SparkCatalogIO):
        return f"Spark's Iceberg catalog {io.catalog_name} (GlueCatalog on the emulator's Glue API, S3FileIO)"
    return "the pyiceberg bridge (pyiceberg's GlueCatalog on the emulator; Spark computes)"
