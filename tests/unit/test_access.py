"""A refusal of the jobs' policy is found however it comes back: from boto3, or from Iceberg's
Java clients through Py4J, and said in one sentence naming the step, the action and the resource."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from stedi.runtime.access import PolicyDenied, find_denial, named_denials

PRINCIPAL = "arn:aws:iam::123456789012:user/stedi/stedi-glue-jobs"


def test_a_boto3_refusal_names_the_action_and_resource():
    error = ClientError(
        {"Error": {"Code": "AccessDenied", "Message": (
            f"User: {PRINCIPAL} is not authorized to perform: s3:GetObject on resource: "
            "arn:aws:s3:::stedi-lakehouse/exports/a.json because no identity-based policy allows the "
            "s3:GetObject action")}},
        "GetObject",
    )
    with pytest.raises(PolicyDenied) as raised, named_denials("job customer_trusted_to_curated"):
        raise error
    assert raised.value.denial.action == "s3:GetObject"
    assert raised.value.denial.resource == "arn:aws:s3:::stedi-lakehouse/exports/a.json"
    assert str(raised.value).startswith(
        "job customer_trusted_to_curated was refused s3:GetObject on arn:aws:s3:::stedi-lakehouse/exports/a.json "
    )


def test_a_refusal_inside_a_java_stack_trace_is_found_through_the_cause_chain():
    java = (
        "An error occurred while calling o123.commit.\n"
        ": software.amazon.awssdk.services.glue.model.AccessDeniedException: User: "
        f"{PRINCIPAL} is not authorized to perform: glue:CreateTable on resource: "
        "arn:aws:glue:us-east-1:123456789012:table/scratch/t (Service: Glue, Status Code: 403, Request ID: x)\n"
        "\tat software.amazon.awssdk.core.internal.http.CombinedResponseHandler.handleErrorResponse(...)"
    )
    try:
        try:
            raise RuntimeError(java)
        except RuntimeError as inner:
            raise ValueError("the stage could not be written") from inner
    except ValueError as outer:
        denial = find_denial(outer)
    assert denial is not None
    assert (denial.principal, denial.action, denial.resource) == (
        PRINCIPAL, "glue:CreateTable", "arn:aws:glue:us-east-1:123456789012:table/scratch/t")


def test_a_listing_refusal_keeps_the_prefix_and_other_errors_pass_unchanged():
    message = (f"User: {PRINCIPAL} is not authorized to perform: s3:ListBucket on resource: "
               "arn:aws:s3:::stedi-lakehouse with s3:prefix 'exports/' because no identity-based policy allows it")
    assert find_denial(RuntimeError(message)).resource == "arn:aws:s3:::stedi-lakehouse with s3:prefix 'exports/'"
    with pytest.raises(KeyError), named_denials("the landing step"):
        raise KeyError("not a refusal")
