"""An optional S3 gateway endpoint, for Glue jobs that run inside a VPC without a NAT.

A gateway endpoint adds a route to S3 to the given route tables; it costs nothing and
keeps the jobs' S3 traffic inside AWS. It is managed only when --vpc-id is given; destroy
removes it like every other tagged resource.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from stedi.aws.clients import Aws
from stedi.aws.errors import DeployError, translated
from stedi.aws.plan import Change, call

ENDPOINT = "vpc endpoint"
GONE = ("deleted", "deleting", "failed", "rejected", "expired")


def service_name(aws: Aws) -> str:
    return f"com.amazonaws.{aws.config.region}.s3"


def endpoints(aws: Aws, filters: list[dict]) -> list[dict]:
    pages = aws.ec2.get_paginator("describe_vpc_endpoints").paginate(Filters=filters)
    return [e for page in pages for e in page["VpcEndpoints"] if e.get("State", "").lower() not in GONE]


def tag_filters(aws: Aws) -> list[dict]:
    return [{"Name": f"tag:{k}", "Values": [v]} for k, v in aws.config.tags.items()]


def plan_endpoint(aws: Aws, vpc_id: str, route_table_ids: list[str]) -> Change:
    ec2, name = aws.ec2, f"s3 gateway in {vpc_id}"
    if not route_table_ids:
        raise DeployError("--vpc-id needs at least one --route-table-id: the gateway endpoint adds its route there")
    with translated("ec2", f"reading the VPC {vpc_id}"):
        try:
            ec2.describe_vpcs(VpcIds=[vpc_id])
            ec2.describe_route_tables(RouteTableIds=route_table_ids)
        except ClientError as error:
            if "NotFound" in error.response.get("Error", {}).get("Code", ""):
                raise DeployError(
                    f"{error.response['Error']['Message']} in {aws.config.region}: check --vpc-id and --route-table-id"
                ) from error
            raise
        in_vpc = [{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "service-name", "Values": [service_name(aws)]}]
        ours = endpoints(aws, in_vpc + tag_filters(aws))
        others = [e for e in endpoints(aws, in_vpc) if e["VpcEndpointId"] not in {o["VpcEndpointId"] for o in ours}]
    taken = [e["VpcEndpointId"] for e in others if set(e.get("RouteTableIds", [])) & set(route_table_ids)]
    if taken:
        raise DeployError(
            f"the route tables already route to S3 through {', '.join(taken)}, which this deployer did not create: "
            "Glue can use that endpoint as it is; deploy without --vpc-id"
        )
    if not ours:
        create = call(
            ec2.create_vpc_endpoint,
            VpcEndpointType="Gateway",
            VpcId=vpc_id,
            ServiceName=service_name(aws),
            RouteTableIds=sorted(route_table_ids),
            TagSpecifications=[{"ResourceType": "vpc-endpoint", "Tags": aws.config.tag_list()}],
        )
        return Change(ENDPOINT, name, "create", "routes " + ", ".join(sorted(route_table_ids)), create)
    endpoint = ours[0]
    have, want = set(endpoint.get("RouteTableIds", [])), set(route_table_ids)
    if have == want:
        return Change(ENDPOINT, name, "unchanged", endpoint["VpcEndpointId"])
    routes = {"AddRouteTableIds": sorted(want - have), "RemoveRouteTableIds": sorted(have - want)}
    routes = {k: v for k, v in routes.items() if v}
    modify = call(ec2.modify_vpc_endpoint, VpcEndpointId=endpoint["VpcEndpointId"], **routes)
    return Change(ENDPOINT, name, "update", f"route tables {sorted(have)} -> {sorted(want)}", modify)
