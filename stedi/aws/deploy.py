"""`deploy`: bring the lakehouse on AWS to what this checkout declares, idempotently.

The whole plan is computed first, by reading only; `--plan` stops there, so it is safe to
run against production. Applying walks the plan in order (bucket before its objects, role
before the jobs that name it, jobs before the triggers that start them) and deletes last,
dependents first. Before anything is read from AWS, a deploy that is to apply checks the
promotion gate: this exact code must have passed the local quality gates.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from stedi.aws import athena, catalog, identity, jobs, network, package, storage
from stedi.aws.clients import Aws
from stedi.aws.errors import DeployError, translated
from stedi.aws.plan import Change, Plan
from stedi.gates.green import code_digest, default_record_path, gate_record_problem
from stedi.lakehouse.deployment import AwsConfig, load_config
from stedi.runtime import settings
from stedi.tables import Lakehouse, lakehouse

SERVICES = {"s3": "s3", "iam": "iam", "secret": "secretsmanager", "glue": "glue", "athena": "athena", "vpc": "ec2"}


@dataclass
class DeployResult:
    plan: Plan
    applied: bool
    gate_problem: str | None


def build_plan(
    aws: Aws,
    *,
    landing: Path | None = None,
    vpc_id: str | None = None,
    route_table_ids: tuple[str, ...] | list[str] = (),
    order: list[str] | None = None,
    house: Lakehouse | None = None,
    root: Path | None = None,
) -> Plan:
    """Every resource of the deployment and what applying would do to it. Reads only."""
    if route_table_ids and not vpc_id:
        raise DeployError("--route-table-id needs --vpc-id: the gateway endpoint belongs to a VPC")
    house = house or lakehouse()
    order = order or jobs.job_order()
    plan = Plan()
    exists = storage.bucket_exists(aws)
    plan.add(storage.plan_bucket(aws, exists))
    plan.extend(storage.plan_markers(aws, storage.zone_markers(aws, house), exists))
    plan.add(storage.plan_register(aws, exists))
    plan.extend(storage.plan_artifacts(aws, package.artifacts(aws.config, jobs.deployed_jobs(order), root), exists))
    if landing is not None:
        plan.extend(storage.plan_landing(aws, Path(landing), house, exists))
    for role_of in (identity.JOBS, identity.ERASURE):
        role, role_exists = identity.plan_role(aws, role_of)
        plan.add(role)
        plan.add(identity.plan_role_policy(aws, house, role_exists, role_of))
    plan.add(identity.plan_secret(aws))
    database, database_exists = catalog.plan_database(aws)
    plan.add(database)
    plan.extend(catalog.plan_tables(aws, house, database_exists))
    plan.extend(jobs.plan_jobs(aws, jobs.deployed_jobs(order), house))
    plan.add(jobs.plan_workflow(aws))
    plan.extend(jobs.plan_triggers(aws, order))
    workgroup, workgroup_exists = athena.plan_workgroup(aws)
    plan.add(workgroup)
    queries, notes = athena.plan_named_queries(aws, workgroup_exists)
    plan.extend(queries)
    plan.notes += notes
    if vpc_id:
        plan.add(network.plan_endpoint(aws, vpc_id, list(route_table_ids)))
    return plan


def apply(plan: Plan, progress=None) -> None:
    """Apply every pending change: creates and updates in plan order, then deletes in reverse."""
    pending = [c for c in plan.pending if c.action != "delete"]
    pending += [c for c in reversed(plan.pending) if c.action == "delete"]
    apply_changes(pending, progress)


def apply_changes(changes: list[Change], progress=None) -> None:
    """Apply changes in exactly the given order, each failure translated with what was being done."""
    for change in changes:
        if progress:
            progress(f"{change.action} {change.kind} {change.name}" + (f" ({change.detail})" if change.detail else ""))
        _apply_one(change)


def _apply_one(change: Change) -> None:
    service = SERVICES.get(change.kind.split()[0])
    with translated(service, f"{_verb(change.action)} the {change.kind} {change.name}"):
        change.apply()


def _verb(action: str) -> str:
    return {"create": "creating", "update": "updating", "replace": "replacing", "delete": "deleting"}[action]


def deploy(
    config: AwsConfig | None = None,
    *,
    plan_only: bool = False,
    force: bool = False,
    landing: Path | None = None,
    policy: str | None = None,
    vpc_id: str | None = None,
    route_table_ids: tuple[str, ...] | list[str] = (),
    gate_record: Path | None = None,
    aws: Aws | None = None,
    progress=None,
    on_plan=None,
    root: Path | None = None,
) -> DeployResult:
    """Plan, and unless `plan_only`, apply. Refuses code without a green local run unless `force`.

    `on_plan` sees the plan before anything is applied (the CLI prints it there); `root` is the
    checkout whose code is packaged and gated (default: this one).
    """
    config = config or (aws.config if aws else load_config())
    if policy:
        config = replace(config, policy=settings.check_policy(policy))
    problem = gate_record_problem(Path(gate_record or default_record_path()), code_digest(root))
    if problem and not plan_only and not force:
        raise DeployError(f"deploy refused: {problem}; or pass --force to deploy this code anyway")
    aws = aws.with_config(config) if aws else Aws(config)
    plan = build_plan(aws, landing=landing, vpc_id=vpc_id, route_table_ids=route_table_ids, root=root)
    if problem:
        plan.notes.append(("gate overridden with --force: " if force else "deploy would refuse: ") + problem)
    if on_plan:
        on_plan(plan)
    if plan_only or not plan.has_changes:
        return DeployResult(plan, applied=False, gate_problem=problem)
    apply(plan, progress)
    return DeployResult(plan, applied=True, gate_problem=problem)
