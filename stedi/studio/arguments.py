"""`getResolvedOptions(sys.argv, [...])`: a Glue job's arguments, resolved as Glue 6.0 does.

Each name asked for is a required `--NAME value` option (`--NAME=value` too); anything else on the
command line is ignored; names are never abbreviated (Glue 6.0 refuses `--JOB_NA` for `--JOB_NAME`).
The options Glue always defines are always in the answer: `job_bookmark_option` (by default
`job-bookmark-disable`), `JOB_ID`, `JOB_RUN_ID`, `TempDir` and the others below, None when not given.
"""

from __future__ import annotations

import argparse

ALWAYS = ("job_bookmark_from", "job_bookmark_to", "JOB_ID", "JOB_RUN_ID", "SECURITY_CONFIGURATION",
          "encryption_type", "enable_data_lineage", "RedshiftTempDir", "TempDir")
BOOKMARK_OPTIONS = ("job-bookmark-enable", "job-bookmark-pause", "job-bookmark-disable")
RESERVED = ("job-bookmark-option", "continuation-option", "job-bookmark-from", "job-bookmark-to")


class GlueArgumentError(Exception):
    """A required argument is missing, or one has no value (argparse's message)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise GlueArgumentError(message)


def resolve(args: list[str], options: list[str], allow_abbrev: bool = False) -> dict:
    for name in options:
        if name.strip("-") in RESERVED or name in ("job_bookmark_option",):
            raise RuntimeError(f"Using reserved arguments {name}")
    parser = _Parser(allow_abbrev=allow_abbrev, add_help=False)
    parser.add_argument("--job-bookmark-option", choices=BOOKMARK_OPTIONS, required=False)
    parser.add_argument("--continuation-option", choices=("continuation-enabled", "continuation-readonly",
                                                          "continuation-ignore"), required=False)
    for name in ALWAYS:
        flag = name.replace("_", "-") if name.islower() else name
        parser.add_argument(f"--{flag}", dest=name, required=False)
    wanted = [o for o in options if o not in ("TempDir", "RedshiftTempDir")]
    for name in wanted:
        if name not in ALWAYS:
            parser.add_argument(f"--{name}", dest=name, required=True)
    parsed, _ = parser.parse_known_args(args[1:])
    resolved = vars(parsed)
    legacy = resolved.pop("continuation_option", None)
    if resolved.get("job_bookmark_option") is None:
        resolved["job_bookmark_option"] = {
            "continuation-enabled": "job-bookmark-enable", "continuation-readonly": "job-bookmark-pause",
        }.get(legacy, "job-bookmark-disable")
    if resolved.get("TempDir") and not resolved.get("RedshiftTempDir"):
        resolved["RedshiftTempDir"] = resolved["TempDir"]
    elif resolved.get("RedshiftTempDir") and not resolved.get("TempDir"):
        resolved["TempDir"] = resolved["RedshiftTempDir"]
    return resolved
