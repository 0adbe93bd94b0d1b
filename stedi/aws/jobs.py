"""The five Glue jobs, then the quality gates, and the workflow that chains them in that order;
beside them the erasure job, which runs on request only and under a role of its own.

The order is the pipeline's own (`stedi.pipeline.jobs()`, derived from what each transform
reads), so AWS runs the jobs in the order the laptop does. The workflow starts the first
job on demand and each next one when its predecessor SUCCEEDED.

A job whose definition changed is updated in place with glue:UpdateJob where the endpoint
implements it; moto answers that call with HTTP 500, so there the job is deleted and
created again, and the plan says so. Job runs are kept by name, so nothing but the run
history of a replaced job is lost.
"""

from __future__ import annotations

from pathlib import Path

from botocore.exceptions import ClientError

from stedi.aws.clients import Aws
from stedi.aws.errors import is_not_found, not_managed, translated
from stedi.aws.plan import Change, call
from stedi.runtime import settings
from stedi.tables import Lakehouse

JOB = "glue job"
WORKFLOW = "glue workflow"
TRIGGER = "glue trigger"
ICEBERG_CATALOG = "glue_catalog"  # the catalog name stedi/runtime.py uses on Glue
REPLACED_JOB = "replaced (update_job not supported by this endpoint)"
REPLACED_TRIGGER = "replaced (update_trigger not supported by this endpoint)"


GATES_JOB = "quality_gates"  # spark_jobs/quality_gates.py: the whole lakehouse through its gates again, Data Docs
# What Glue lacks to run the quality gates, pinned as locally. Every job needs them: each one checks
# its output on an Iceberg branch before publishing it (stedi/gates/flow.py).
GATES_MODULES = ("great_expectations", "duckdb")
ERASURE_JOB = "forget"  # spark_jobs/forget.py: `stedi aws forget` starts it with a request of addresses


def job_order() -> list[str]:
    """The jobs in the order they must run, as the local pipeline runs them, then the gates."""
    from stedi.pipeline import jobs

    return [*(job.name for job in jobs()), GATES_JOB]


def deployed_jobs(order: list[str] | None = None) -> list[str]:
    """Every Glue job `make deploy` creates: the workflow's, then the erasure job."""
    return [*(order or job_order()), ERASURE_JOB]


def gates_modules(root: Path | None = None) -> str:
    """`--additional-python-modules` of every job: the versions requirements.lock pins here."""
    lock = (root or settings.project_root()) / "requirements.lock"
    pins = dict(
        line.split("==", 1) for line in lock.read_text().splitlines() if "==" in line and not line.startswith("#")
    )
    return ",".join(f"{name}=={pins[name]}" for name in GATES_MODULES)


def spark_conf(aws: Aws) -> str:
    """Glue takes extra Spark settings as one `--conf` value chaining `--conf key=value` pairs."""
    cfg = aws.config
    prefix = f"spark.sql.catalog.{ICEBERG_CATALOG}"
    pairs = [
        ("spark.sql.extensions", "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"),
        (prefix, "org.apache.iceberg.spark.SparkCatalog"),
        (f"{prefix}.catalog-impl", "org.apache.iceberg.aws.glue.GlueCatalog"),
        (f"{prefix}.io-impl", "org.apache.iceberg.aws.s3.S3FileIO"),
        (f"{prefix}.warehouse", cfg.warehouse_uri),
    ]
    return " --conf ".join(f"{key}={value}" for key, value in pairs)


def job_arguments(aws: Aws, policy: str) -> dict[str, str]:
    cfg = aws.config
    return {
        "--job-language": "python",
        "--datalake-formats": "iceberg",
        "--conf": spark_conf(aws),
        "--extra-py-files": f"s3://{cfg.bucket}/{cfg.package_key}",
        "--policy": policy,
        "--landing_root": f"s3://{cfg.bucket}",
        "--pseudonym_key_secret": cfg.secret_name,
        "--erasures_uri": cfg.erasures_uri,  # the intake keeps the erased out; the erasure job appends to it
        "--enable-continuous-cloudwatch-log": "true",
    }


def job_definition(aws: Aws, job: str, house: Lakehouse) -> dict:
    """Everything create_job and update_job take for one job, but its name and tags."""
    cfg = aws.config
    arguments = {**job_arguments(aws, cfg.policy), "--additional-python-modules": gates_modules()}
    role = aws.role_arn
    if job == ERASURE_JOB:
        description = (
            f"Erases the people of a request from every {house.namespace} table, snapshot and landing object "
            "(`stedi aws forget` starts it); runs under its own least-privilege role"
        )
        role = aws.erasure_role_arn
    elif job == GATES_JOB:
        description = f"Validates every {house.namespace} table with the quality gates; Data Docs in {cfg.docs_uri}"
        arguments["--docs_uri"] = cfg.docs_uri
    else:
        output = next(t for t in house.tables.values() if t.job == job)
        description = f"Writes {house.namespace}.{output.name} (checked by its gate before it is published): "
        description += output.description
    return {
        "Description": description[:2048],
        "Role": role,
        "ExecutionProperty": {"MaxConcurrentRuns": 1},
        "Command": {
            "Name": "glueetl",
            "ScriptLocation": f"s3://{cfg.bucket}/{cfg.script_key(job)}",
            "PythonVersion": "3",
        },
        "DefaultArguments": arguments,
        "MaxRetries": 0,
        "Timeout": cfg.timeout_minutes,
        "GlueVersion": cfg.glue_version,
        "WorkerType": cfg.worker_type,
        "NumberOfWorkers": cfg.number_of_workers,
    }


def _job_differences(current: dict, wanted: dict) -> list[str]:
    differences = []
    for key, value in wanted.items():
        have = current.get(key)
        if isinstance(value, dict) and isinstance(have, dict) and key != "DefaultArguments":
            have = {k: have.get(k) for k in value}  # AWS adds fields (e.g. Command.Runtime) we do not set
        if have != value:
            if key == "DefaultArguments" and isinstance(have, dict):
                keys = sorted(k for k in set(have) | set(value) if have.get(k) != value.get(k))
                differences += [f"{k} {_short(have.get(k))} -> {_short(value.get(k))}" for k in keys]
            elif isinstance(value, dict):
                differences.append(key)
            else:
                differences.append(f"{key} {_short(have)} -> {_short(value)}")
    return differences


def _short(value) -> str:
    text = "(none)" if value is None else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def job_arn(aws: Aws, name: str) -> str:
    return aws.arn("glue", f"job/{name}")


def plan_jobs(aws: Aws, order: list[str], house: Lakehouse) -> list[Change]:
    cfg, glue = aws.config, aws.glue
    changes = []
    for job in order:
        name = cfg.job_name(job)
        wanted = job_definition(aws, job, house)
        create = call(glue.create_job, Name=name, Tags=cfg.tags, **wanted)
        with translated("glue", f"reading the Glue job {name}"):
            try:
                current = glue.get_job(JobName=name)["Job"]
            except ClientError as error:
                if not is_not_found(error):
                    raise
                changes.append(Change(JOB, name, "create", f"{cfg.worker_type} x {cfg.number_of_workers}", create))
                continue
            tags = glue.get_tags(ResourceArn=job_arn(aws, name)).get("Tags", {})
        if not cfg.is_ours(tags):
            raise not_managed(JOB, name, "deleting it on destroy")
        differences = _job_differences(current, wanted)
        if not differences:
            changes.append(Change(JOB, name, "unchanged"))
        elif aws.supports("glue", "update_job"):
            update = call(glue.update_job, JobName=name, JobUpdate=wanted)
            changes.append(Change(JOB, name, "update", "; ".join(differences), update))
        else:
            changes.append(
                Change(
                    JOB, name, "replace", f"{'; '.join(differences)}; {REPLACED_JOB}", _replace_job(aws, name, create)
                )
            )
    changes += _stale_jobs(aws, {cfg.job_name(j) for j in order})
    return changes


def _replace_job(aws: Aws, name: str, create):
    def apply():
        delete_job(aws, name)
        create()

    return apply


def delete_job(aws: Aws, name: str) -> None:
    # Untagged first: an emulator may keep a deleted resource's tags, and nothing tagged may remain.
    aws.glue.untag_resource(ResourceArn=job_arn(aws, name), TagsToRemove=list(aws.config.tags))
    aws.glue.delete_job(JobName=name)


def _stale_jobs(aws: Aws, wanted: set[str]) -> list[Change]:
    """Jobs this deployer made that the pipeline no longer has (a job renamed or removed)."""
    with translated("glue", "listing the deployment's Glue jobs"):
        names = tagged_jobs(aws)
    return [
        Change(JOB, n, "delete", "no longer in the pipeline", lambda n=n: delete_job(aws, n))
        for n in sorted(set(names) - wanted)
    ]


def tagged_jobs(aws: Aws) -> list[str]:
    names = []
    kwargs = {"Tags": aws.config.tags}
    while True:
        page = aws.glue.list_jobs(**kwargs)
        names += page.get("JobNames", [])
        if not page.get("NextToken"):
            return names
        kwargs["NextToken"] = page["NextToken"]


# ---------------------------------------------------------------------------- workflow


def workflow_arn(aws: Aws, name: str | None = None) -> str:
    return aws.arn("glue", f"workflow/{name or aws.config.workflow}")


def plan_workflow(aws: Aws) -> Change:
    cfg, glue = aws.config, aws.glue
    wanted = {"Description": "The STEDI pipeline: the five jobs in dependency order", "MaxConcurrentRuns": 1}
    with translated("glue", f"reading the Glue workflow {cfg.workflow}"):
        try:
            current = glue.get_workflow(Name=cfg.workflow)["Workflow"]
        except ClientError as error:
            if not is_not_found(error):
                raise
            return Change(
                WORKFLOW,
                cfg.workflow,
                "create",
                "",
                call(glue.create_workflow, Name=cfg.workflow, Tags=cfg.tags, **wanted),
            )
        tags = glue.get_tags(ResourceArn=workflow_arn(aws)).get("Tags", {})
    if not cfg.is_ours(tags):
        raise not_managed(WORKFLOW, cfg.workflow, "deleting it on destroy")
    if all(current.get(k) == v for k, v in wanted.items()):
        return Change(WORKFLOW, cfg.workflow, "unchanged")
    return Change(
        WORKFLOW,
        cfg.workflow,
        "update",
        "description or concurrency differs",
        call(glue.update_workflow, Name=cfg.workflow, **wanted),
    )


def trigger_name(aws: Aws, job: str) -> str:
    return f"{aws.config.job_prefix}start-{job}"


def trigger_definitions(aws: Aws, order: list[str]) -> list[dict]:
    """First job on demand; every next one when the one before it SUCCEEDED."""
    cfg = aws.config
    triggers = []
    for i, job in enumerate(order):
        trigger = {
            "Name": trigger_name(aws, job),
            "WorkflowName": cfg.workflow,
            "Actions": [{"JobName": cfg.job_name(job)}],
        }
        if i == 0:
            trigger["Type"] = "ON_DEMAND"
        else:
            trigger["Type"] = "CONDITIONAL"
            trigger["Predicate"] = {
                "Logical": "AND",
                "Conditions": [
                    {"LogicalOperator": "EQUALS", "JobName": cfg.job_name(order[i - 1]), "State": "SUCCEEDED"}
                ],
            }
        triggers.append(trigger)
    return triggers


def _trigger_view(trigger: dict) -> dict:
    predicate = trigger.get("Predicate") or {}
    return {
        "Type": trigger.get("Type"),
        "WorkflowName": trigger.get("WorkflowName"),
        "Actions": [a.get("JobName") for a in trigger.get("Actions", [])],
        "Logical": predicate.get("Logical") if predicate else None,
        "Conditions": [
            (c.get("LogicalOperator"), c.get("JobName"), c.get("State")) for c in predicate.get("Conditions", [])
        ],
    }


def plan_triggers(aws: Aws, order: list[str]) -> list[Change]:
    cfg, glue = aws.config, aws.glue
    changes = []
    wanted_names = set()
    for wanted in trigger_definitions(aws, order):
        name = wanted["Name"]
        wanted_names.add(name)
        conditional = wanted["Type"] == "CONDITIONAL"
        create = call(
            glue.create_trigger, Tags=cfg.tags, **({"StartOnCreation": True} if conditional else {}), **wanted
        )
        with translated("glue", f"reading the Glue trigger {name}"):
            try:
                current = glue.get_trigger(Name=name)["Trigger"]
            except ClientError as error:
                if not is_not_found(error):
                    raise
                detail = (
                    f"after {wanted['Predicate']['Conditions'][0]['JobName']} SUCCEEDED" if conditional else "on demand"
                )
                changes.append(Change(TRIGGER, name, "create", f"{detail}: {wanted['Actions'][0]['JobName']}", create))
                continue
            tags = glue.get_tags(ResourceArn=trigger_arn(aws, name)).get("Tags", {})
        if not cfg.is_ours(tags):
            raise not_managed(TRIGGER, name, "deleting it on destroy")
        have, want = _trigger_view(current), _trigger_view(wanted)
        if have == want:
            if conditional and current.get("State") not in ("ACTIVATED", "ACTIVATING"):
                changes.append(
                    Change(
                        TRIGGER,
                        name,
                        "update",
                        f"activate (it is {current.get('State')})",
                        call(glue.start_trigger, Name=name),
                    )
                )
            else:
                changes.append(Change(TRIGGER, name, "unchanged"))
            continue
        in_place = have["Type"] == want["Type"] and have["WorkflowName"] == want["WorkflowName"]
        if in_place and aws.supports("glue", "update_trigger"):
            update = {"Actions": wanted["Actions"], **({"Predicate": wanted["Predicate"]} if conditional else {})}
            changes.append(
                Change(
                    TRIGGER,
                    name,
                    "update",
                    "actions or predicate differ",
                    call(glue.update_trigger, Name=name, TriggerUpdate=update),
                )
            )
        else:
            why = REPLACED_TRIGGER if in_place else "replaced (its type or workflow changed)"
            changes.append(Change(TRIGGER, name, "replace", why, _replace_trigger(aws, name, create)))
    with translated("glue", "listing the deployment's Glue triggers"):
        stale = sorted(set(tagged_triggers(aws)) - wanted_names)
    changes += [
        Change(TRIGGER, n, "delete", "no longer in the chain", lambda n=n: delete_trigger(aws, n)) for n in stale
    ]
    return changes


def trigger_arn(aws: Aws, name: str) -> str:
    return aws.arn("glue", f"trigger/{name}")


def _replace_trigger(aws: Aws, name: str, create):
    def apply():
        delete_trigger(aws, name)
        create()

    return apply


def delete_trigger(aws: Aws, name: str) -> None:
    aws.glue.untag_resource(ResourceArn=trigger_arn(aws, name), TagsToRemove=list(aws.config.tags))
    aws.glue.delete_trigger(Name=name)


def delete_workflow(aws: Aws, name: str) -> None:
    aws.glue.untag_resource(ResourceArn=workflow_arn(aws, name), TagsToRemove=list(aws.config.tags))
    aws.glue.delete_workflow(Name=name)


def tagged_triggers(aws: Aws) -> list[str]:
    names = []
    kwargs = {"Tags": aws.config.tags}
    while True:
        page = aws.glue.list_triggers(**kwargs)
        names += page.get("TriggerNames", [])
        if not page.get("NextToken"):
            return names
        kwargs["NextToken"] = page["NextToken"]


def tagged_workflows(aws: Aws) -> list[str]:
    names = []
    kwargs: dict = {}
    while True:
        page = aws.glue.list_workflows(**kwargs)
        for name in page.get("Workflows", []):
            if aws.config.is_ours(aws.glue.get_tags(ResourceArn=workflow_arn(aws, name)).get("Tags", {})):
                names.append(name)
        if not page.get("NextToken"):
            return names
        kwargs["NextToken"] = page["NextToken"]
