"""A job script's entry point: `spark-submit spark_jobs/<job>.py` or an AWS Glue job.

The same file runs under any target, and only the target tells them apart (stedi/targets/):
inside AWS Glue (`awsglue` imports) it is the aws target; elsewhere the target is resolved by
the rule every command follows (`--target`, STEDI_TARGET, else the stack that runs). The job's
output goes through the gate flow there as everywhere: staged, checked, then published.
Progress goes to stderr; stdout carries one JSON line, the job's result, for whoever runs it.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from stedi.runtime.access import PolicyDenied
from stedi.runtime.params import JobParams, add_policy_option


def run_script(job, argv: list[str] | None = None) -> None:
    argv = sys.argv if argv is None else argv
    runtime = _runtime(job.name, argv, description=job.transform.__module__)
    with runtime.jobs_identity():
        _check_quarantine(job, runtime.io)
        try:
            result = job.run(runtime.io, runtime.params, runtime.gate)
        except PolicyDenied as denied:  # one sentence, not a Java stack trace
            raise SystemExit(f"error: {denied}") from denied
    _finish(runtime)
    print(json.dumps(asdict(result)))


def run_gates_script(argv: list[str] | None = None) -> None:
    """spark_jobs/quality_gates.py: every published table through its suites again, and the Data Docs."""
    from stedi.gates.verify import publish_docs, verify

    argv = sys.argv if argv is None else argv
    runtime = _runtime("quality_gates", argv, description=run_gates_script.__doc__, extra=("docs_uri",))
    docs_uri = runtime.arguments.get("docs_uri")
    gate = runtime.gate
    try:
        summary = verify(
            runtime.io,
            runtime.params,
            docs_dir=gate.docs_dir,
            expected_rows=gate.expected_rows,
            spark=runtime.spark,
            offline_docs=gate.offline_docs,
            progress=_to_stderr,
        )
    finally:  # the report matters most when a gate failed
        if docs_uri and gate.docs_dir is not None:
            publish_docs(gate.docs_dir, docs_uri)
    _finish(runtime)
    print(json.dumps({**summary, **({"docs": docs_uri} if docs_uri else {})}))


def _runtime(app: str, argv: list[str], *, description: str, extra: tuple[str, ...] = ()):
    if _in_glue():
        from stedi.targets.aws import AwsTarget

        return AwsTarget().runtime(app, argv=argv, extra=extra)
    from stedi.targets import rule

    parser = argparse.ArgumentParser(prog=app, description=description)
    add_policy_option(parser)
    parser.add_argument("--target", choices=rule.NAMES, help="where to run (default: the stack that runs)")
    options = parser.parse_args(argv[1:])
    choice = rule.resolve(options.target)
    _to_stderr(choice.sentence)
    return choice.target().runtime(app, JobParams.from_settings(options.policy))


def _check_quarantine(job, io) -> None:
    """A job that reads landing files stops, publishing nothing, when too many of their records
    were set aside, as a whole pipeline run does (stedi/intake/quarantine.py)."""
    from stedi.intake import quarantine
    from stedi.tables import lakehouse

    house = lakehouse()
    landing = [house.table(name) for name in job.inputs if house.table(name).is_landing_files]
    quarantine.check({table: io.intake(table.name) for table in landing}, quarantine.max_share(house))


def _in_glue() -> bool:
    """Inside AWS Glue, whose `awsglue` is AWS's (the local layer of `stedi glue run` says it is not)."""
    try:
        import awsglue  # present only inside AWS Glue, or under `stedi glue run`
    except ImportError:
        return False
    return not getattr(awsglue, "STEDI_LAYER", False)


def _finish(runtime) -> None:
    if runtime.gate is not None and runtime.gate.outcomes:
        runtime.gate.build_docs()
    runtime.finish()


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr)
