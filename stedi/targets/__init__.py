"""Targets: where a run goes, and the one rule that decides which one a command acts on.

A target says how to start a Spark session, which table I/O and catalog it uses and where the
landing bytes come from:

- `embedded`: one emulator on 127.0.0.1 serving S3 and the Glue Data Catalog API, Spark in this
  process writing through Iceberg's catalog `glue_catalog`, as on AWS Glue;
- `docker`: the Docker Compose stack (LocalStack S3, a Glue Data Catalog API, a Spark cluster, Trino);
- `aws`: AWS Glue 6.0 with the Glue Data Catalog (`make deploy`, `make run-aws`).

rule.py holds the rule, the same for `stedi pipeline`, `query`, `status`, `docs` and `down`: an
explicit choice (`--target`, else STEDI_TARGET) wins; otherwise the stack that is running; when
both local stacks run, the embedded one, and the sentence says how to pick the other; when none
runs, the embedded one. Every command prints that sentence, so nobody reads one stack while
writing the other.

base.py says what every target provides; embedded.py, docker.py and aws.py are the three, with
the stacks they drive (embedded_stack.py with its emulator process emulator.py and its keys
stack_keys.py, trino_server.py; compose.py, container.py).
"""
