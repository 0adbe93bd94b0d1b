"""`stedi glue run SCRIPT [--JOB_NAME N] [--KEY VALUE ...]`: a Glue Studio script, unchanged, on the
embedded stack.

The command takes the lakehouse's run lock, starts the stack if it is down, creates the buckets
the script names, grants the Glue jobs' identity the paths and databases the script names
(stedi/studio/workspace.py), and starts the script's own process (stedi/studio/bootstrap.py) with
the local `awsglue` layer on its path, the jobs' keys in its AWS variables and Spark's settings
in PYSPARK_SUBMIT_ARGS, so `SparkContext()` makes the session AWS Glue 6.0 would. The arguments
are Glue's: `--JOB_NAME` (the script's name without `.py` when not given), `--JOB_RUN_ID`,
`--job-bookmark-option`, and the script's own. Progress goes to stderr while it runs; then a
summary of what it read and wrote, which `stedi status` and the run report list too.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

from stedi.runtime import runlock, settings
from stedi.studio import bookmarks, workspace
from stedi.studio.session import Session
from stedi.tables import lakehouse

LAYER = Path(__file__).with_name("layer")
RUNS_FILE = "glue-runs.json"
KEEP_RUNS = 50


def glue_home(home: Path | None = None) -> Path:
    return (home or settings.state_home()) / "glue"


def bookmark_dir(home: Path | None = None) -> Path:
    return glue_home(home) / "bookmarks"


def job_name(script: Path, arguments: list[str]) -> str:
    for i, word in enumerate(arguments):
        if word == "--JOB_NAME" and i + 1 < len(arguments):
            return arguments[i + 1]
        if word.startswith("--JOB_NAME="):
            return word.split("=", 1)[1]
    return script.stem


def split_command_line(words: list[str]) -> tuple[list[Path], list[str]]:
    """`a.py b.py --KEY VALUE`: the scripts (every word before the first option) and the arguments."""
    scripts = []
    for index, word in enumerate(words):
        if word.startswith("-"):
            return scripts, words[index:]
        scripts.append(Path(word))
    return scripts, []


def run(scripts: list[Path], arguments: list[str], progress, *, keep_going: bool = False) -> list[dict]:
    """Run the scripts in turn in one process (one JVM), each as its own Glue job run, stopping at
    the first that fails (or, `keep_going`, running every one); returns their records (what each
    read and wrote, its error if it failed)."""
    from stedi.lakehouse.job_policy import local_config
    from stedi.runtime.spark import submit_arguments
    from stedi.targets import embedded_stack, stack_keys

    if not scripts:
        raise ValueError("name the Glue script to run: stedi glue run SCRIPT [--JOB_NAME NAME] [--KEY VALUE ...]")
    for script in scripts:
        if not script.is_file():
            raise FileNotFoundError(f"no Glue script at {script}")
    if len(scripts) > 1 and any(w == "--JOB_NAME" or w.startswith("--JOB_NAME=") for w in arguments):
        raise ValueError("--JOB_NAME names one job: with several scripts each job is named after its file")
    with runlock.hold(settings.state_home(), "stedi glue run", wait_seconds=runlock.default_wait(), progress=progress):
        admin = embedded_stack.up()
        names = [job_name(script, arguments) for script in scripts]
        progress(f"glue run {', '.join(names)} on the embedded stack ({admin.endpoint}), under the Glue jobs' identity")
        text = "\n".join([*(s.read_text() for s in scripts), *arguments])
        databases = workspace.named_databases(text)
        paths = workspace.named_paths(text) + workspace.table_locations(admin.client("glue"), databases)
        for bucket in sorted({p.split("/")[2] for p in paths}):
            workspace.ensure_bucket(admin.s3_client(), bucket, progress)
        user = local_config().role_name
        workspace.grant(admin, user, paths, databases)
        folder = f"{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(4)}"
        scratch = settings.private_dir(glue_home() / "runs" / folder)
        sessions = []
        for index, (script, name) in enumerate(zip(scripts, names, strict=True)):
            run_id = "jr_" + secrets.token_hex(32)
            session = Session(job_name=name, run_id=run_id, script=str(script.resolve()), home=str(admin.home),
                              endpoint=admin.endpoint, region=lakehouse().region,
                              keys_file=str(stack_keys.folder(admin.home) / stack_keys.JOB_FILE),
                              scratch=str(scratch / f"{index}-{name}"), bookmarks=str(bookmark_dir(admin.home)))
            session.save()
            sessions.append((session, script, _glue_arguments(arguments, name, run_id)))
        plan = scratch / "plan.json"
        runs = [{"session": str(s.path), "script": str(script), "arguments": argv} for s, script, argv in sessions]
        plan.write_text(json.dumps({"keep_going": keep_going, "runs": runs}))
        spark_settings = submit_arguments(names[0], progress=progress)  # sets the Python Spark's workers run
        environment = {
            **os.environ, **admin.as_glue_job().environment(),
            "PYTHONPATH": os.pathsep.join([str(LAYER), *filter(None, [os.environ.get("PYTHONPATH")])]),
            "PYSPARK_SUBMIT_ARGS": spark_settings,
        }
        environment.pop("AWS_SESSION_TOKEN", None)
        environment.pop("AWS_PROFILE", None)
        try:
            code = subprocess.run([sys.executable, "-m", "stedi.studio.bootstrap", str(plan)],
                                  env=environment, stdin=subprocess.DEVNULL).returncode
        finally:
            workspace.revoke(admin, user)
        records = [_record(session, script, argv, code) for session, script, argv in sessions]
        records = [r for r in records if r is not None]
        for record in records:
            _remember(record)
        shutil.rmtree(scratch, ignore_errors=True)
    return records


def _glue_arguments(arguments: list[str], name: str, run_id: str) -> list[str]:
    """The script's arguments with what Glue always passes (its name, job and run ids)."""
    given = {w.split("=", 1)[0] for w in arguments if w.startswith("--")}
    extra = []
    if "--JOB_NAME" not in given:
        extra += ["--JOB_NAME", name]
    if "--JOB_ID" not in given:
        extra += ["--JOB_ID", "j_" + secrets.token_hex(32)]
    if "--JOB_RUN_ID" not in given:
        extra += ["--JOB_RUN_ID", run_id]
    return [*arguments, *extra]


def _record(session: Session, script: Path, arguments: list[str], code: int) -> dict | None:
    """What a script's run left in its result file; None for a script that never started (one
    before it failed), and an error for one whose process ended before it could report."""
    try:
        result = json.loads(session.result_path().read_text())
    except (FileNotFoundError, ValueError):
        if not session.started_marker().exists():
            return None
        result = {"reads": [], "writes": [], "notes": [], "exit_code": code or 1,
                  "error": f"the scripts' process ended with status {code} before this one reported"}
    return {
        "job": session.job_name, "run_id": session.run_id, "script": str(script), "arguments": arguments,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(result.get("started", session.started))),
        "seconds": result.get("seconds"), **result,
    }


def runs(home: Path | None = None) -> list[dict]:
    """The scripts run on this stack, newest last."""
    try:
        return json.loads((glue_home(home) / RUNS_FILE).read_text())
    except (FileNotFoundError, ValueError):
        return []


def _remember(record: dict) -> None:
    kept = [*runs(), record][-KEEP_RUNS:]
    target = glue_home() / RUNS_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(kept, indent=1))


def summary(record: dict) -> str:
    """What a run read and wrote, as the command prints it."""
    from stedi.runtime.progress import table

    state = "failed" if record.get("error") or record.get("exit_code") else "done"
    lines = [f"glue job {record['job']} ({record['run_id'][:11]}…): {state} in {record['seconds'] or 0:.1f}s"]
    if record.get("reads"):
        rows = [(r.get("context") or "", r["source"], r["format"], r.get("files"), r.get("records"),
                 r.get("skipped_by_bookmark") or None) for r in record["reads"]]
        lines += ["", table(rows, ("source node", "read", "format", "files", "records", "skipped (bookmark)"))]
    if record.get("writes"):
        rows = [(w.get("context") or "", w.get("path") or "", w.get("table") or "", w["format"], w["rows"])
                for w in record["writes"]]
        lines += ["", table(rows, ("sink node", "wrote to", "table", "format", "rows"))]
    if record.get("notes"):
        lines += ["", "warnings:", *[f"  {n}" for n in record["notes"]]]
    if record.get("error"):
        lines += ["", f"error: {record['error']}"]
    return "\n".join(lines)


def status_lines(home: Path | None = None) -> list[str]:
    """The Glue scripts run on the stack, for `stedi status`."""
    done = runs(home)
    if not done:
        return []
    lines = [f"  Glue scripts: {len(done)} runs recorded (`stedi glue run`); the last ones:"]
    for record in done[-5:]:
        wrote = ", ".join(f"{w['rows']:,} rows to {w.get('table') or w.get('path')}" for w in record.get("writes", []))
        state = "failed" if record.get("error") or record.get("exit_code") else "done"
        lines.append(f"    {record['started_at']} {record['job']}: {state}" + (f", wrote {wrote}" if wrote else ""))
    return lines


def reset_bookmark(job: str) -> bool:
    return bookmarks.reset(bookmark_dir(), job)
