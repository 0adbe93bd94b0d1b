"""AWS failures as one plain sentence that says what to do.

A deploy touches seven services; a botocore traceback names an operation, not the cause.
`translated` turns the failures a person can fix (no credentials, an unknown region, a
bucket name taken by another account, a missing permission, an unreachable endpoint) into
a `DeployError`; anything else is left alone, because hiding a bug is worse than a trace.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

import botocore.exceptions as bx

ACCESS_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthorizationError",
    "UnauthorizedAccess",
    "403",
}
BAD_CREDENTIALS = {
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId",
    "AuthFailure",
}
EXPIRED = {"ExpiredToken", "ExpiredTokenException", "RequestExpired"}
# "User: arn:... is not authorized to perform: glue:CreateDatabase on resource: ..."
_ACTION = re.compile(r"perform:?\s+([a-z0-9-]+:[A-Za-z0-9*]+)")


class DeployError(RuntimeError):
    """Something a person can fix stopped the deploy, run or destroy; the message says what."""


def endpoint_description() -> str:
    url = os.environ.get("AWS_ENDPOINT_URL")
    return f"the endpoint {url} (AWS_ENDPOINT_URL)" if url else "AWS"


def check_region(region: str) -> None:
    """Refuse a region no AWS partition knows, before a request goes to a made-up host name."""
    import boto3

    session = boto3.session.Session()
    known = {r for p in session.get_available_partitions() for r in session.get_available_regions("glue", p)}
    if region not in known:
        close = sorted(r for r in known if r.split("-")[0] == region.split("-")[0])[:4]
        hint = f" (for example {', '.join(close)})" if close else " such as us-east-1"
        raise DeployError(
            f"the region {region!r} is not an AWS region with Glue: set region in catalog/tables.toml "
            f"([lakehouse] or [aws]) to a real one{hint}"
        )


def translate(error: Exception, service: str | None = None, doing: str | None = None) -> DeployError | None:
    """The DeployError for a failure a person can fix, or None for anything else."""
    where = f" while {doing}" if doing else ""
    if isinstance(error, bx.NoCredentialsError | bx.PartialCredentialsError):
        return DeployError(
            "no AWS credentials were found: configure them the usual way (aws configure, AWS_PROFILE, "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or an instance role) and try again"
        )
    if isinstance(error, bx.NoRegionError):
        return DeployError("no AWS region is set: set region in catalog/tables.toml")
    if isinstance(error, bx.EndpointConnectionError | bx.ConnectTimeoutError | bx.ConnectionClosedError):
        return DeployError(
            f"cannot reach {endpoint_description()}{where}: check the network, or that the emulator behind "
            "AWS_ENDPOINT_URL is running"
        )
    if isinstance(error, bx.ProfileNotFound):
        return DeployError(f"{error}: check AWS_PROFILE")
    if isinstance(error, bx.SSOTokenLoadError | bx.TokenRetrievalError):
        return DeployError("the AWS SSO session has expired: run `aws sso login` and try again")
    if not isinstance(error, bx.ClientError):
        return None
    code = error.response.get("Error", {}).get("Code", "")
    message = error.response.get("Error", {}).get("Message", "") or str(error)
    if code == "BucketAlreadyExists":
        bucket = error.response.get("Error", {}).get("BucketName", "")
        return bucket_taken(bucket)
    if code in BAD_CREDENTIALS:
        return DeployError(
            f"the AWS credentials were rejected ({code}){where}: check the access key and secret, and that "
            "the configured region is enabled for your account"
        )
    if code in EXPIRED:
        return DeployError(f"the AWS credentials have expired{where}: refresh them (for example `aws sso login`)")
    if code in ("AuthorizationHeaderMalformed", "PermanentRedirect", "IllegalLocationConstraintException"):
        return DeployError(f"the bucket is in another region than the one configured{where}: {message}")
    if code in ACCESS_DENIED or error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 403:
        match = _ACTION.search(message)
        action = match.group(1) if match else f"{service or 'the service'}:{error.operation_name}"
        return DeployError(
            f"permission denied: your AWS identity may not {action}{where}; grant it that action "
            "(or deploy with an identity that has it)"
        )
    return None


def bucket_taken(bucket: str) -> DeployError:
    return DeployError(
        f"the bucket name {bucket!r} is taken by another AWS account (bucket names are global): "
        "set bucket in the [aws] table of catalog/tables.toml to a name of your own"
    )


def not_managed(kind: str, name: str, risk: str) -> DeployError:
    """A resource with our name that the deployer did not create: never adopted, so destroy never touches it."""
    return DeployError(
        f"the {kind} {name!r} already exists but was not created by this deployer (it lacks the "
        f"stedi:project and stedi:managed-by tags): it is left alone rather than adopted, which would mean "
        f"{risk}; remove it, tag it, or choose another name in the [aws] table of catalog/tables.toml"
    )


@contextmanager
def translated(service: str | None = None, doing: str | None = None) -> Iterator[None]:
    """Run a block of AWS calls; a fixable failure comes out as a DeployError."""
    try:
        yield
    except DeployError:
        raise
    except Exception as error:
        friendly = translate(error, service, doing)
        if friendly is None:
            raise
        raise friendly from error


def error_code(error: bx.ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def is_not_found(error: Exception) -> bool:
    if not isinstance(error, bx.ClientError):
        return False
    return error_code(error) in {
        "404",
        "NoSuchKey",
        "NoSuchBucket",
        "NoSuchEntity",
        "EntityNotFoundException",
        "ResourceNotFoundException",
        "NoSuchTagSet",
        "NoSuchTagSetError",
        "InvalidVpcEndpointId.NotFound",
    }


def is_unsupported(error: Exception) -> bool:
    """The endpoint does not implement the operation (an emulator answering 500 or 501)."""
    if not isinstance(error, bx.ClientError):
        return False
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return status in (500, 501) or error_code(error) in {"NotImplemented", "InternalFailure", "500", "501"}
