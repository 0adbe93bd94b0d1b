"""The Athena workgroup, with its results in the lakehouse bucket, and the validation queries.

The workgroup enforces its result location, so every query's output lands, encrypted, under
s3://BUCKET/athena-results/ whatever a client asks for. The validation queries of
catalog/athena/validation_queries.sql are saved in it as named queries, one per statement,
so a row count per table is one click away in the console.
"""

from __future__ import annotations

import re

from botocore.exceptions import ClientError

from stedi.aws.clients import Aws
from stedi.aws.errors import error_code, not_managed, translated
from stedi.aws.plan import Change, call
from stedi.query.athena_ddl import VALIDATION_FILE, athena_directory

WORKGROUP = "athena workgroup"
NAMED_QUERY = "athena named query"
QUERY_PREFIX = "stedi validation "  # every named query this deployer owns starts with it
QUERY_DESCRIPTION = "Row count of one table, from catalog/athena/validation_queries.sql"
REPLACED_WORKGROUP = "replaced (update_work_group not supported by this endpoint)"


def workgroup_arn(aws: Aws, name: str | None = None) -> str:
    return aws.arn("athena", f"workgroup/{name or aws.config.workgroup}")


def workgroup_configuration(aws: Aws) -> dict:
    return {
        "ResultConfiguration": {
            "OutputLocation": aws.config.athena_results_uri,
            "EncryptionConfiguration": {"EncryptionOption": "SSE_S3"},
        },
        "EnforceWorkGroupConfiguration": True,
        "PublishCloudWatchMetricsEnabled": True,
    }


def get_workgroup(aws: Aws, name: str) -> dict | None:
    """The workgroup, or None; AWS answers InvalidRequestException for a missing one, moto an empty body."""
    try:
        return aws.athena.get_work_group(WorkGroup=name).get("WorkGroup")
    except ClientError as error:
        if error_code(error) in ("InvalidRequestException", "ResourceNotFoundException"):
            return None
        raise


def _configuration_view(configuration: dict) -> dict:
    result = configuration.get("ResultConfiguration", {})
    return {
        "OutputLocation": result.get("OutputLocation"),
        "EncryptionOption": result.get("EncryptionConfiguration", {}).get("EncryptionOption"),
        "EnforceWorkGroupConfiguration": configuration.get("EnforceWorkGroupConfiguration"),
        "PublishCloudWatchMetricsEnabled": configuration.get("PublishCloudWatchMetricsEnabled"),
    }


def plan_workgroup(aws: Aws) -> tuple[Change, bool]:
    cfg, athena = aws.config, aws.athena
    wanted = workgroup_configuration(aws)
    description = "STEDI lakehouse queries; results in the lakehouse bucket"
    create = call(
        athena.create_work_group, Name=cfg.workgroup, Configuration=wanted, Description=description, Tags=cfg.tag_list()
    )
    with translated("athena", f"reading the Athena workgroup {cfg.workgroup}"):
        current = get_workgroup(aws, cfg.workgroup)
        if current is None:
            return Change(WORKGROUP, cfg.workgroup, "create", f"results in {cfg.athena_results_uri}", create), False
        tags = athena.list_tags_for_resource(ResourceARN=workgroup_arn(aws)).get("Tags", [])
    if not cfg.is_ours(tags):
        raise not_managed(WORKGROUP, cfg.workgroup, "deleting it and its saved queries on destroy")
    have, want = _configuration_view(current.get("Configuration", {})), _configuration_view(wanted)
    if have == want and current.get("Description", "") == description:
        return Change(WORKGROUP, cfg.workgroup, "unchanged"), True
    differing = ", ".join(k for k in want if have[k] != want[k]) or "Description"
    if aws.supports("athena", "update_work_group"):
        updates = {
            "ResultConfigurationUpdates": wanted["ResultConfiguration"],
            "EnforceWorkGroupConfiguration": wanted["EnforceWorkGroupConfiguration"],
            "PublishCloudWatchMetricsEnabled": wanted["PublishCloudWatchMetricsEnabled"],
        }
        update = call(
            athena.update_work_group, WorkGroup=cfg.workgroup, Description=description, ConfigurationUpdates=updates
        )
        return Change(WORKGROUP, cfg.workgroup, "update", f"differs in {differing}", update), True

    def replace():
        delete_workgroup(aws, cfg.workgroup)
        create()

    return Change(WORKGROUP, cfg.workgroup, "replace", f"differs in {differing}; {REPLACED_WORKGROUP}", replace), True


def delete_workgroup(aws: Aws, name: str) -> None:
    """Deletes the workgroup with its named queries (RecursiveDeleteOption)."""
    aws.athena.untag_resource(ResourceARN=workgroup_arn(aws, name), TagKeys=list(aws.config.tags))
    aws.athena.delete_work_group(WorkGroup=name, RecursiveDeleteOption=True)


# ---------------------------------------------------------------------------- named queries


def validation_statements(text: str | None = None) -> list[str]:
    """The statements of validation_queries.sql, comments dropped, without the closing `;`."""
    text = text if text is not None else (athena_directory() / VALIDATION_FILE).read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def named_queries(statements: list[str] | None = None) -> dict[str, str]:
    """Name -> SQL; the name says which table a statement counts."""
    statements = validation_statements() if statements is None else statements
    found = {}
    for i, sql in enumerate(statements, start=1):
        target = re.search(r"\bFROM\s+([\w.\"]+)", sql, re.IGNORECASE)
        found[f"{QUERY_PREFIX}{i:02d}" + (f": {target.group(1)}" if target else "")] = sql
    return found


def existing_queries(aws: Aws, workgroup: str) -> list[dict]:
    """This deployer's named queries in the workgroup (get_named_query one by one: moto has no batch get)."""
    athena = aws.athena
    ids, kwargs = [], {"WorkGroup": workgroup}
    while True:
        page = athena.list_named_queries(**kwargs)
        ids += page.get("NamedQueryIds", [])
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    queries = [athena.get_named_query(NamedQueryId=i)["NamedQuery"] for i in ids]
    return [q for q in queries if q.get("Name", "").startswith(QUERY_PREFIX)]


def plan_named_queries(aws: Aws, workgroup_exists: bool) -> tuple[list[Change], list[str]]:
    """The named queries' changes, and notes about what the endpoint cannot do."""
    cfg, athena = aws.config, aws.athena
    wanted = named_queries()
    with translated("athena", f"reading the named queries of {cfg.workgroup}"):
        current = existing_queries(aws, cfg.workgroup) if workgroup_exists else []
    changes, notes, matched = [], [], set()

    def create(name, sql):
        return call(
            athena.create_named_query,
            Name=name,
            Description=QUERY_DESCRIPTION,
            Database=cfg.namespace,
            QueryString=sql,
            WorkGroup=cfg.workgroup,
        )

    for name, sql in wanted.items():
        same_name = [q for q in current if q["Name"] == name]
        exact = [q for q in same_name if _query_is(q, sql, cfg.namespace)]
        if exact:
            matched.add(exact[0]["NamedQueryId"])
            changes.append(Change(NAMED_QUERY, name, "unchanged"))
        elif not same_name:
            changes.append(Change(NAMED_QUERY, name, "create", "", create(name, sql)))
        elif aws.supports("athena", "update_named_query"):
            query_id = same_name[0]["NamedQueryId"]
            matched.add(query_id)
            update = call(
                athena.update_named_query,
                NamedQueryId=query_id,
                Name=name,
                Description=QUERY_DESCRIPTION,
                QueryString=sql,
            )
            changes.append(Change(NAMED_QUERY, name, "update", "query text differs", update))
        else:
            changes.append(
                Change(NAMED_QUERY, name, "create", "query text differs; saved as a new query", create(name, sql))
            )
    stale = [q for q in current if q["NamedQueryId"] not in matched and not _wanted_exactly(q, wanted, cfg.namespace)]
    if stale and not aws.supports("athena", "delete_named_query"):
        notes.append(
            f"{len(stale)} outdated named queries stay in {cfg.workgroup}: this endpoint cannot delete "
            "named queries (delete_named_query not supported)"
        )
    elif stale:
        changes += [
            Change(
                NAMED_QUERY,
                q["Name"],
                "delete",
                "no longer a validation query",
                call(athena.delete_named_query, NamedQueryId=q["NamedQueryId"]),
            )
            for q in stale
        ]
    return changes, notes


def _query_is(query: dict, sql: str, database: str) -> bool:
    return (
        query.get("QueryString", "").strip() == sql
        and query.get("Database") == database
        and query.get("Description", "") == QUERY_DESCRIPTION
    )


def _wanted_exactly(query: dict, wanted: dict[str, str], database: str) -> bool:
    return query["Name"] in wanted and _query_is(query, wanted[query["Name"]], database)
