"""STEDI lakehouse: the five Glue jobs of the STEDI Human Balance Analytics pipeline, run locally
on an emulator of S3 and the Glue Data Catalog (or in Docker, or on AWS Glue) and promoted to AWS.

How a run flows (`stedi pipeline`): cli.py resolves the target (targets/rule.py: `--target`,
else STEDI_TARGET, else the stack that runs) and says which; on the embedded target it hands the
run to the warm engine (runtime/engine.py), a long-lived process that runs this same command
with Spark already up; pipeline.py asks the target to open the run (Spark, the table I/O, the
quality gate); every landing source is read through intake/ (each record accepted or
quarantined); then the landing tables and the five jobs, in the order their inputs allow, each
through the one gate flow (gates/flow.py: stage on an Iceberg branch, check with Great
Expectations, publish). A job script run alone (spark-submit, AWS Glue) takes
the same path through script.py. A learner's own Glue Studio script runs through studio/ instead:
its own process, with a clean-room `awsglue` on its path and the same stack under it.

The map, from the top down (each part imports only what is below it; tests/unit/test_layers.py):

    cli.py         the `stedi` command
    tools/         benchmarks (make bench) and the DuckDB baseline
    aws/           promotion to AWS: deploy, run, destroy (make deploy, make run-aws)
    privacy/       `stedi forget`: erasure from every copy, and its proof; lower down, what a
                   run does for privacy (runs.py, beside pipeline.py) and the erasure register and
                   suppression list the intake drops erased people with (below lakehouse/)
    report/        the run report: lineage, row funnel, quarantine, consent, sensor data, history
    query/         `stedi query`: Athena SQL on DuckDB, or as written on Trino (native or Docker)
    studio/        `stedi glue run`: AWS Glue (Studio) scripts unchanged, on a local awsglue layer
    pipeline.py    how a run flows: land, then the jobs in dependency order
    job.py         what a job is: extract, transform (the script's logic), load through the gate
    script.py      a job script's entry point (spark-submit, AWS Glue)
    targets/       where a run goes: embedded, docker, aws, and the rule that picks one
    gates/         the quality gates: the flow, the suites' runner, Data Docs, the green record
    lakehouse/     table I/O: Spark's Iceberg catalog, the pyiceberg bridge, landing upload; the
                   Glue definitions AWS and the embedded stack share: tables, deployment names, the jobs' IAM policy
    intake/        landing records: the record rules, the parser, the quarantine
    datasets/      the synthetic generator and the Udacity starter data
    runtime/       settings, run parameters, Spark session, JVM jars, progress, retries, lock,
                   the warm engine runs are handed to (engine.py)
    tables.py      the declarations of catalog/tables.toml
    pseudonym.py   the keyed pseudonyms the jobs write
"""
