"""Promote the lakehouse to AWS: `deploy` (with `--plan`), `run` and `destroy`.

Modules, in the order a deploy touches them:
- config: names and sizes, from catalog/tables.toml ([lakehouse], optional [aws]);
- gate: the promotion gate (code_digest, gate_record_problem);
- clients: boto3 clients for the region, and probes of what the endpoint supports;
- package: the job scripts and the reproducible zip of the code they import;
- storage, identity, policy, catalog, jobs, athena, network: one module per kind of resource,
  each planning its changes by reading only;
- plan: the plan (create / update / replace / delete / unchanged) and its table;
- deploy, run, destroy: the three commands; cli: their argument parsing;
- errors: DeployError and the translation of AWS failures into plain sentences.
"""

from stedi.aws.errors import DeployError

__all__ = ["DeployError"]
