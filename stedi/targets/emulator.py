"""The embedded stack's emulator process: moto's server with IAM enforced from its first request.

`python -m stedi.targets.emulator --host 127.0.0.1 --port N --keys DIR` is what
stedi/targets/embedded_stack.py starts. Before it serves anything it:

- creates the stack's administrator (`stedi-admin`, allowed everything) in its own IAM backend
  and writes the fresh keys to DIR/admin.json, readable by the user only. No request is ever
  answered without a signature from a key the emulator issued: INITIAL_NO_AUTH_ACTION_COUNT is 0,
  so there is no unauthenticated window in which another process could bootstrap itself;
- closes moto's own control API (/moto-api/: reset, reset-auth, data.json), which answers anyone
  and could switch authentication off or dump every object;
- teaches moto 5.2.5 what AWS's authorization does and its own does not: Glue requests are
  checked against the database or table they name (moto checks them against `*`), the
  `s3:prefix` condition of a listing is evaluated, a multi-object delete is checked key by key,
  and a refusal names the action and the resource ("User: ... is not authorized to perform:
  s3:GetObject on resource: arn:aws:s3:::bucket/key"), as AWS's AccessDenied messages do;
- refuses unsigned and presigned requests itself (moto answers them with an empty 403 or a 500);
- loads the lakehouse from its store on disk (`--store`), and keeps every change there before it
  answers the request (stedi/targets/emulator_store.py), so it outlives the process.

The health check is /stedi-emulator/health, answered here without reaching moto.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path

ADMIN = "stedi-admin"
HEALTH_PATH = "/stedi-emulator/health"
ADMIN_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="stedi.targets.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--keys", type=Path, required=True, help="directory for the administrator's keys")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--store", type=Path, required=True,
                        help="directory of the lakehouse on disk (stedi/targets/emulator_store.py)")
    options = parser.parse_args(argv)

    os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "0"  # read by moto.settings on import
    os.environ["MOTO_PORT"] = str(options.port)
    from moto import settings

    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    _enforce_like_aws()
    _authorize_glue_by_resource()
    _authorize_secrets_by_resource()
    _honour_skip_archive()
    from stedi.targets import emulator_store, stack_keys

    store = emulator_store.open_store(options.store)
    restored = store.load()
    stack_keys.write(options.keys / stack_keys.ADMIN_FILE, _bootstrap_admin(options.region, restored))
    store.start()
    _serve(options.host, options.port, store)


def _bootstrap_admin(region: str, restored: bool):
    """The administrator with fresh keys. On a lakehouse loaded from disk it exists already: its
    old keys are deleted, so keys still die with the emulator that issued them."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.iam.models import iam_backends

    from stedi.targets.stack_keys import Keys

    iam = iam_backends[DEFAULT_ACCOUNT_ID]["aws"]
    if restored and ADMIN in iam.users:
        user = iam.get_user(ADMIN)
        for old in iam.list_access_keys(ADMIN):
            iam.delete_access_key(old.access_key_id, ADMIN)
    else:
        user = iam.create_user(region, ADMIN, path="/stedi/")
    iam.put_user_policy(ADMIN, "administrator", json.dumps(ADMIN_POLICY))
    key = iam.create_access_key(ADMIN)
    return Keys(ADMIN, user.arn, DEFAULT_ACCOUNT_ID, key.access_key_id, key.secret_access_key)


def _enforce_like_aws() -> None:
    """Five things AWS's authorization does that moto 5.2.5's does not, so a policy that passes
    here is one that passes there:

    - a refusal names the action and the resource, as AWS's AccessDenied messages do;
    - `s3:ListBucket` (and `s3:ListBucketVersions`) is checked against the listed prefix (the
      policy's `s3:prefix` condition, StringLike), where moto ignores StringLike conditions;
    - `?` in an Action or Resource matches one character (the pseudonym key's secret ARN ends in
      `-??????`), where moto compiles the element as a regular expression and fails with a 500;
    - a multi-object delete (Iceberg's S3FileIO deletes in batches) is checked key by key, as
      `s3:DeleteObject` on each object, where moto checks it against the bucket;
    - a statement whose condition is not met does not apply, where moto makes it an explicit deny:
      with two policies, an Allow of ListBucket on some prefixes in one no longer vetoes an Allow on
      other prefixes in the other (the Glue scripts' grant, stedi/studio/workspace.py).
    """
    from moto.core.exceptions import JsonRESTError, _RESTError
    from moto.iam import access_control, policy_conditions
    from moto.s3.exceptions import S3ClientError

    policy_conditions.CONDITION_OPERATIONS["StringLike"] = _string_like
    access_control.IAMPolicyStatement._match = staticmethod(_wildcard_match)
    access_control.IAMPolicyStatement.is_action_permitted = _statement_permits

    def sentence(request) -> str:
        resource = request._denied_resource
        if request._action == "s3:ListBucket":  # which listing: the s3:prefix the policy checks
            resource += f" with s3:prefix {_query(request._path).get('prefix', '')!r}"
        return (
            f"User: {request._access_key.arn} is not authorized to perform: {request._action} "
            f"on resource: {resource} because no identity-based policy allows the {request._action} action"
        )

    class S3Denied(S3ClientError):
        def __init__(self, message: str):
            super().__init__("AccessDenied", message)

    def refusal(request, json_code: str, xml_code: str, message: str):
        """The error in the protocol the service speaks: JSON (Glue, Secrets Manager) or XML (IAM, STS)."""
        if "json" in request._headers.get("Content-Type", ""):
            error = JsonRESTError(json_code, message)
        else:
            error = _RESTError(xml_code, message)
        error.code = 403
        return error

    class IAMRequest(access_control.IAMRequest):
        def check_action_permitted(self, resource: str) -> None:
            self._denied_resource = resource
            super().check_action_permitted(resource)

        def _raise_access_denied(self) -> None:
            raise refusal(self, "AccessDeniedException", "AccessDenied", sentence(self))

        def _raise_invalid_access_key(self, _: str) -> None:
            message = "The security token included in the request is invalid."
            raise refusal(self, "UnrecognizedClientException", "InvalidClientTokenId", message)

        def _raise_signature_does_not_match(self) -> None:
            message = "The request signature we calculated does not match the signature you provided."
            raise refusal(self, "InvalidSignatureException", "SignatureDoesNotMatch", message)

    class S3IAMRequest(access_control.S3IAMRequest):
        def check_action_permitted(self, resource: str) -> None:
            for each in self._resources(resource):
                self._denied_resource = each
                self._check(each)

        def _resources(self, resource: str) -> list[str]:
            is_bucket = "/" not in resource.split(":::", 1)[-1]
            keys = _deleted_keys(self._body) if self._action == "s3:DeleteObject" and is_bucket else []
            return [f"{resource}/{key}" for key in keys] or [resource]

        def _check(self, resource: str) -> None:
            """moto's evaluation of the caller's policies, given the request's condition keys."""
            listing = self._action in ("s3:ListBucket", "s3:ListBucketVersions")
            conditions = {"s3:prefix": _query(self._path).get("prefix", "")} if listing else None
            permitted = False
            for policy in self._access_key.collect_policies():
                result = access_control.IAMPolicy(policy).is_action_permitted(self._action, resource, None, conditions)
                if result == access_control.PermissionResult.DENIED:
                    self._raise_access_denied()
                permitted = permitted or result == access_control.PermissionResult.PERMITTED
            if not permitted:
                self._raise_access_denied()

        def _raise_access_denied(self) -> None:
            raise S3Denied(sentence(self))

    access_control.IAMRequest = IAMRequest
    access_control.S3IAMRequest = S3IAMRequest


def _statement_permits(self, action: str, resource: str = "*", principal: str | None = None,
                       incoming_condition_values: dict | None = None):
    """One statement's verdict as AWS gives it: a statement that does not concern the action, the
    resource, or whose condition is not met does not apply (NEUTRAL); only a Deny that applies denies."""
    from moto.iam.access_control import PermissionResult

    element = "NotAction" if "NotAction" in self._statement else "Action"
    concerned = self._check_element_matches(element, action) != (element == "NotAction")
    if not concerned or self.is_unknown_principal(self._statement.get("Principal")):
        return PermissionResult.NEUTRAL
    if principal and not self._check_principal(principal):
        return PermissionResult.NEUTRAL
    if not self._check_conditions(incoming_condition_values):
        return PermissionResult.NEUTRAL
    if self._statement.get("Resource") and not self._check_element_matches("Resource", resource):
        return PermissionResult.NEUTRAL
    return PermissionResult.PERMITTED if self._statement["Effect"] == "Allow" else PermissionResult.DENIED


def _string_like(expected: list[str] | str, actual: str) -> bool:
    """IAM's StringLike: `*` any run of characters, `?` exactly one."""
    patterns = [expected] if isinstance(expected, str) else expected
    return any(re.fullmatch(re.escape(p).replace(r"\*", ".*").replace(r"\?", "."), actual) for p in patterns)


def _wildcard_match(pattern: str, string: str):
    """An Action or Resource element against the request's: IAM's wildcards, where moto makes the
    element a regular expression (a secret's ARN ending `-??????` then fails to compile)."""
    return re.fullmatch(re.escape(pattern).replace(r"\*", ".*").replace(r"\?", "."), string)


def _query(path: str) -> dict[str, str]:
    from urllib.parse import parse_qs, urlsplit

    return {name: values[0] for name, values in parse_qs(urlsplit(path).query, keep_blank_values=True).items()}


def _deleted_keys(body: bytes | str | None) -> list[str]:
    """The keys of a DeleteObjects request's XML body."""
    from xml.etree import ElementTree

    if not body:
        return []
    root = ElementTree.fromstring(body)
    return [element.text or "" for element in root.iter() if element.tag.rsplit("}", 1)[-1] == "Key"]


def _authorize_glue_by_resource() -> None:
    """The ARN of the database or table a Glue request names, the most specific one it names."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.glue.responses import GlueResponse

    def determine_resource(self) -> str:
        try:
            body = json.loads(self.body or "{}")
        except ValueError:
            body = {}
        base = f"arn:aws:glue:{self.region}:{body.get('CatalogId') or DEFAULT_ACCOUNT_ID}"
        if "DatabaseName" in body:  # a table's operation: GetTable, GetTables, CreateTable, ...
            database = body["DatabaseName"]
            table = body.get("TableName") or body.get("Name") or (body.get("TableInput") or {}).get("Name")
        else:  # a database's operation: GetDatabase, CreateDatabase, ... (GetDatabases: the catalog)
            database = body.get("Name") or (body.get("DatabaseInput") or {}).get("Name")
            table = None
        if database and table:
            return f"{base}:table/{database}/{table}"
        if database:
            return f"{base}:database/{database}"
        return f"{base}:catalog"

    GlueResponse._determine_resource = determine_resource


def _honour_skip_archive() -> None:
    """AWS Glue's UpdateTable archives the table's previous version unless SkipArchive is true, and
    Iceberg's GlueCatalog and pyiceberg send true (`glue.skip-archive`). moto 5.2.5 archives every
    version: with a lakehouse that outlives the emulator, the catalog would grow by one version per
    commit for good, and so would every save of it."""
    from moto.glue.responses import GlueResponse

    archive = GlueResponse.update_table

    def update_table(self):
        result = archive(self)
        if self.parameters.get("SkipArchive"):
            name = self.parameters["TableInput"]["Name"]
            table = self.glue_backend.get_table(self.parameters["DatabaseName"], name)
            table.versions.pop(str(table._current_version - 1), None)
        return result

    GlueResponse.update_table = update_table


def _authorize_secrets_by_resource() -> None:
    """The ARN of the secret a Secrets Manager request names (moto checks every one against `*`, so
    a policy granting one secret's ARN, as the jobs' does, granted nothing)."""
    from moto.secretsmanager.responses import SecretsManagerResponse

    def determine_resource(self) -> str:
        try:
            secret_id = json.loads(self.body or "{}").get("SecretId")
        except ValueError:
            secret_id = None
        secret = self.backend.secrets.get(secret_id) if secret_id else None
        return secret.arn if secret is not None else "*"

    SecretsManagerResponse._determine_resource = determine_resource


def _serve(host: str, port: int, store) -> None:
    import signal
    import sys

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import run_simple

    def stop(*_):
        store.flush()  # `stedi down`: the changes under way are saved first
        print(store.summary(), file=sys.stderr, flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, _guarded(store.durable(app)), threaded=True, request_handler=MotoRequestHandler)


def _guarded(app):
    """The health check; moto's control API closed; unsigned and presigned requests refused
    (moto would answer them with an empty 403 or a 500)."""

    def guarded(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == HEALTH_PATH:
            return _answer(start_response, "200 OK", "text/plain", b"ok\n")
        if path.startswith("/moto-api"):
            return _refuse(environ, start_response, "AccessDenied", "the emulator's control API is closed")
        if "X-Amz-Signature=" in environ.get("QUERY_STRING", ""):
            message = "presigned URLs are not served by the embedded stack: sign each request"
            return _refuse(environ, start_response, "AccessDenied", message)
        if not environ.get("HTTP_AUTHORIZATION"):
            return _refuse(
                environ, start_response, "MissingAuthenticationToken",
                "anonymous requests are refused: sign them with the stack's keys (`stedi keys`)",
            )
        return app(environ, start_response)

    return guarded


def _refuse(environ, start_response, code: str, message: str):
    if "json" in environ.get("CONTENT_TYPE", ""):
        body = json.dumps({"__type": code, "message": message}).encode()
        return _answer(start_response, "403 Forbidden", "application/x-amz-json-1.1", body, code)
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>\n'
    return _answer(start_response, "403 Forbidden", "application/xml", body.encode(), code)


def _answer(start_response, status: str, content_type: str, body: bytes, error: str | None = None):
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
    start_response(status, headers + ([("X-Amzn-ErrorType", error)] if error else []))
    return [body]


if __name__ == "__main__":
    main()
