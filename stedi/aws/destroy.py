"""`destroy`: remove every resource the deploy created, found by its tags, and nothing else.

Resources are found by the stedi:project and stedi:managed-by tags, not by name, so a
resource someone else created under the same name survives, and one this deployer created
under a name since changed is still found. Dependents go first (triggers before the jobs
they start, the role's policies before the role, every object version before the bucket).
Running it again finds nothing and does nothing.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from stedi.aws import athena, catalog, jobs, network, storage
from stedi.aws.clients import Aws
from stedi.aws.deploy import apply_changes
from stedi.aws.errors import translated
from stedi.aws.plan import Change, Plan, call
from stedi.lakehouse.deployment import TAG_PROJECT, AwsConfig, load_config


def plan_destroy(aws: Aws) -> Plan:
    """A plan of deletions only: everything in this account and region tagged as this project's,
    in the order it will be deleted: dependents first (the reverse of the order deploy creates)."""
    plan = Plan()
    with translated("s3", "listing the deployment's buckets"):
        for name in _tagged_buckets(aws):
            plan.add(
                Change(
                    storage.BUCKET,
                    name,
                    "delete",
                    "every object version, then the bucket",
                    call(storage.empty_and_delete_bucket, aws=aws, bucket=name),
                )
            )
    with translated("iam", "listing the deployment's IAM roles"):
        for name in _tagged_roles(aws):
            plan.add(
                Change("iam role", name, "delete", "with its inline policies", call(_delete_role, aws=aws, name=name))
            )
    with translated("secretsmanager", "listing the deployment's secrets"):
        for name in _tagged_secrets(aws):
            plan.add(
                Change(
                    "secret",
                    name,
                    "delete",
                    "immediately, without a recovery window",
                    call(aws.secrets.delete_secret, SecretId=name, ForceDeleteWithoutRecovery=True),
                )
            )
    with translated("glue", "listing the deployment's Glue resources"):
        for name in _tagged_databases(aws):
            plan.add(
                Change(catalog.DATABASE, name, "delete", "with its tables", call(_delete_database, aws=aws, name=name))
            )
        for name in sorted(jobs.tagged_jobs(aws)):
            plan.add(Change(jobs.JOB, name, "delete", "", call(jobs.delete_job, aws=aws, name=name)))
        for name in sorted(jobs.tagged_workflows(aws)):
            plan.add(Change(jobs.WORKFLOW, name, "delete", "", call(jobs.delete_workflow, aws=aws, name=name)))
        for name in sorted(jobs.tagged_triggers(aws)):
            plan.add(Change(jobs.TRIGGER, name, "delete", "", call(jobs.delete_trigger, aws=aws, name=name)))
    with translated("athena", "listing the deployment's Athena workgroups"):
        for name in _tagged_workgroups(aws):
            plan.add(
                Change(
                    athena.WORKGROUP,
                    name,
                    "delete",
                    "with its named queries",
                    call(athena.delete_workgroup, aws=aws, name=name),
                )
            )
    with translated("ec2", "listing the deployment's VPC endpoints"):
        for endpoint in network.endpoints(aws, network.tag_filters(aws)):
            plan.add(
                Change(
                    network.ENDPOINT,
                    endpoint["VpcEndpointId"],
                    "delete",
                    endpoint.get("VpcId", ""),
                    call(aws.ec2.delete_vpc_endpoints, VpcEndpointIds=[endpoint["VpcEndpointId"]]),
                )
            )
    plan.changes.reverse()
    return plan


def destroy(config: AwsConfig | None = None, *, plan_only: bool = False, aws: Aws | None = None, progress=None) -> Plan:
    """Delete everything tagged as this deployment's; with `plan_only`, only list it."""
    config = config or (aws.config if aws else load_config())
    aws = aws.with_config(config) if aws else Aws(config)
    plan = plan_destroy(aws)
    if not plan_only:
        apply_changes(plan.changes, progress)
    return plan


def _tagged_databases(aws: Aws) -> list[str]:
    names = []
    for page in aws.glue.get_paginator("get_databases").paginate():
        for database in page["DatabaseList"]:
            tags = aws.glue.get_tags(ResourceArn=catalog.database_arn(aws, database["Name"])).get("Tags", {})
            if aws.config.is_ours(tags):
                names.append(database["Name"])
    return sorted(names)


def _delete_database(aws: Aws, name: str) -> None:
    aws.glue.untag_resource(ResourceArn=catalog.database_arn(aws, name), TagsToRemove=list(aws.config.tags))
    aws.glue.delete_database(Name=name)


def _tagged_workgroups(aws: Aws) -> list[str]:
    names, kwargs = [], {}
    while True:
        page = aws.athena.list_work_groups(**kwargs)
        for group in page.get("WorkGroups", []):
            tags = aws.athena.list_tags_for_resource(ResourceARN=athena.workgroup_arn(aws, group["Name"]))
            if aws.config.is_ours(tags.get("Tags", [])):
                names.append(group["Name"])
        if not page.get("NextToken"):
            return sorted(names)
        kwargs["NextToken"] = page["NextToken"]


def _tagged_secrets(aws: Aws) -> list[str]:
    filters = [{"Key": "tag-key", "Values": [TAG_PROJECT]}, {"Key": "tag-value", "Values": [aws.config.project]}]
    pages = aws.secrets.get_paginator("list_secrets").paginate(Filters=filters)
    return sorted(s["Name"] for page in pages for s in page["SecretList"] if aws.config.is_ours(s.get("Tags", [])))


def _tagged_roles(aws: Aws) -> list[str]:
    pages = aws.iam.get_paginator("list_roles").paginate(PathPrefix=aws.config.role_path)
    names = [r["RoleName"] for page in pages for r in page["Roles"]]
    return sorted(n for n in names if aws.config.is_ours(aws.iam.list_role_tags(RoleName=n)["Tags"]))


def _delete_role(aws: Aws, name: str) -> None:
    iam = aws.iam
    for page in iam.get_paginator("list_role_policies").paginate(RoleName=name):
        for policy in page["PolicyNames"]:
            iam.delete_role_policy(RoleName=name, PolicyName=policy)
    for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name):
        for policy in page["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=name, PolicyArn=policy["PolicyArn"])
    for page in iam.get_paginator("list_instance_profiles_for_role").paginate(RoleName=name):
        for profile in page["InstanceProfiles"]:
            iam.remove_role_from_instance_profile(RoleName=name, InstanceProfileName=profile["InstanceProfileName"])
    iam.delete_role(RoleName=name)


def _tagged_buckets(aws: Aws) -> list[str]:
    names = []
    for page in aws.s3.get_paginator("list_buckets").paginate():
        for bucket in page["Buckets"]:
            region = bucket.get("BucketRegion")
            if region and region != aws.config.region:
                continue
            try:
                tags = aws.s3.get_bucket_tagging(Bucket=bucket["Name"])["TagSet"]
            except ClientError:
                continue  # untagged, or in another region: not ours to delete from here
            if aws.config.is_ours(tags):
                names.append(bucket["Name"])
    return sorted(names)
