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


def run(scripts: list[Path], arguments: list[str], progress, *, keep_going: bool = False,
        target: str = "embedded", capture: bool = False) -> list[dict]:
    """Run the scripts in turn in one process (one JVM), each as its own Glue job run, stopping at
    the first that fails (or, `keep_going`, running every one), on the embedded stack or in the
    Docker stack's Spark; returns their records (what each read and wrote, its error if it failed).
    With `capture`, what the process printed is kept in each record ("output") instead of shown."""
    if not scripts:
        raise ValueError("name the Glue script to run: stedi glue run SCRIPT [--JOB_NAME NAME] [--KEY VALUE ...]")
    for script in scripts:
        if not script.is_file():
            raise FileNotFoundError(f"no Glue script at {script}")
    if len(scripts) > 1 and any(w == "--JOB_NAME" or w.startswith("--JOB_NAME=") for w in arguments):
        raise ValueError("--JOB_NAME names one job: with several scripts each job is named after its file")
    if target not in TARGETS:
        raise ValueError(f"stedi glue run runs scripts on a local stack (embedded or docker), not on {target}: "
                         "on AWS, make the script a Glue job")
    with runlock.hold(settings.state_home(), "stedi glue run", wait_seconds=runlock.default_wait(), progress=progress):
        run_on = _run_embedded if target == "embedded" else _run_docker
        records = [r for r in run_on(scripts, arguments, progress, keep_going, capture) if r is not None]
        for record in records:
            _remember({**record, "target": target})
    return records


TARGETS = ("embedded", "docker")


def _run_embedded(scripts: list[Path], arguments: list[str], progress, keep_going: bool,
                  capture: bool) -> list[dict | None]:
    """In a process of this machine, under the Glue jobs' identity and what the scripts name."""
    from stedi.lakehouse.job_policy import local_config
    from stedi.runtime.spark import submit_arguments
    from stedi.targets import embedded_stack, stack_keys

    admin = embedded_stack.up()
    names = [job_name(script, arguments) for script in scripts]
    progress(f"glue run {', '.join(names)} on the embedded stack ({admin.endpoint}), under the Glue jobs' identity")
    paths, databases = _named(scripts, arguments, admin.client("glue"))
    for bucket in sorted({p.split("/")[2] for p in paths}):
        workspace.ensure_bucket(admin.s3_client(), bucket, progress)
    user = local_config().role_name
    workspace.grant(admin, user, paths, databases)
    scratch = settings.private_dir(glue_home() / "runs" / _folder())
    where = {"home": str(admin.home), "s3_endpoint": admin.endpoint, "glue_endpoint": admin.endpoint,
             "keys_file": str(stack_keys.folder(admin.home) / stack_keys.JOB_FILE),
             "bookmarks": str(bookmark_dir(admin.home)), "target": "embedded"}
    sessions, plan = _plan(scripts, [str(s.resolve()) for s in scripts], names, arguments, scratch, where, keep_going)
    for session, _, _ in sessions:
        session.save()
    (scratch / "plan.json").write_text(json.dumps(plan))
    spark_settings = submit_arguments(names[0], progress=progress)  # sets the Python Spark's workers run
    environment = {
        **os.environ, **admin.as_glue_job().environment(),
        "PYTHONPATH": os.pathsep.join([str(LAYER), *filter(None, [os.environ.get("PYTHONPATH")])]),
        "PYSPARK_SUBMIT_ARGS": spark_settings,
    }
    environment.pop("AWS_SESSION_TOKEN", None)
    environment.pop("AWS_PROFILE", None)
    try:
        done = subprocess.run([sys.executable, "-m", "stedi.studio.bootstrap", str(scratch / "plan.json")],
                              env=environment, stdin=subprocess.DEVNULL, capture_output=capture, text=True)
    finally:
        workspace.revoke(admin, user)
    records = [_record(session, script, argv, done, _local_file) for session, script, argv in sessions]
    shutil.rmtree(scratch, ignore_errors=True)
    return records


# In the Docker stack's Spark containers: a tmpfs volume both the driver and the workers mount
# (docker-compose.yml), so the executors read the objects staged there and write a sink's parts there.
CONTAINER_SCRATCH = "/tmp/stedi-glue"
CONTAINER_LAYER = "/opt/stedi/stedi/studio/layer"


def _run_docker(scripts: list[Path], arguments: list[str], progress, keep_going: bool,
                capture: bool) -> list[dict | None]:
    """In the Docker stack's `spark` container, its tasks on the workers: the scripts, their
    sessions and plan are sent in, the results read back. LocalStack checks no key: no grant."""
    import io
    import tarfile

    from stedi.targets import compose

    if not compose.is_up():
        raise compose.DockerStackError(compose.NOT_UP)
    names = [job_name(script, arguments) for script in scripts]
    progress(f"glue run {', '.join(names)} in the Docker stack's Spark (driver in `spark`, executors on the workers)")
    paths, _ = _named(scripts, arguments, compose.glue_client())
    for bucket in sorted({p.split("/")[2] for p in paths}):
        workspace.ensure_bucket(compose.s3_client(), bucket, progress)
    folder = _folder()
    scratch = Path(CONTAINER_SCRATCH) / "runs" / folder
    where = {"home": "/tmp/stedi", "s3_endpoint": "http://s3:4566", "glue_endpoint": "http://glue:5000",
             "keys_file": None, "bookmarks": f"{CONTAINER_SCRATCH}/bookmarks", "target": "docker"}
    inside = [str(scratch / "scripts" / f"{i}-{s.name}") for i, s in enumerate(scripts)]
    sessions, plan = _plan(scripts, inside, names, arguments, scratch, where, keep_going)
    bundle = io.BytesIO()
    with tarfile.open(fileobj=bundle, mode="w") as tar:
        files = {f"scripts/{i}-{s.name}": s.read_bytes() for i, s in enumerate(scripts)}
        files["plan.json"] = json.dumps(plan).encode()
        for session, _, _ in sessions:
            files[f"{Path(session.scratch).name}/session.json"] = json.dumps(session.as_dict()).encode()
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    _exec(compose, ["sh", "-c", f"mkdir -p {scratch} && tar -x -C {scratch}"], stdin=bundle.getvalue())
    environment = {"PYTHONPATH": CONTAINER_LAYER, "PYSPARK_SUBMIT_ARGS": f"--name {names[0]} pyspark-shell",
                   "AWS_ACCESS_KEY_ID": compose.ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": compose.SECRET_KEY,
                   "AWS_REGION": lakehouse().region, "AWS_DEFAULT_REGION": lakehouse().region,
                   "AWS_ENDPOINT_URL_S3": where["s3_endpoint"], "AWS_ENDPOINT_URL_GLUE": where["glue_endpoint"]}
    options = [x for name, value in environment.items() for x in ("-e", f"{name}={value}")]
    done = subprocess.run(compose.compose_command("exec", "-T", *options, "spark", "python", "-m",
                                                  "stedi.studio.bootstrap", str(scratch / "plan.json")),
                          stdin=subprocess.DEVNULL, capture_output=capture, text=True)

    def container_file(path: Path) -> str | None:
        found = _exec(compose, ["sh", "-c", f"cat {path} 2>/dev/null || true"])
        return found or None

    records = [_record(session, script, argv, done, container_file) for session, script, argv in sessions]
    _exec(compose, ["rm", "-rf", str(scratch)])
    return records


def _exec(compose, command: list[str], stdin: bytes | None = None) -> str:
    result = subprocess.run(compose.compose_command("exec", "-T", "spark", *command), input=stdin,
                            capture_output=True)
    if result.returncode != 0:
        raise compose.DockerStackError(f"`{' '.join(command[:3])}` in the Spark container failed: "
                                       f"{result.stderr.decode(errors='replace').strip()[-400:]}")
    return result.stdout.decode()


def _named(scripts: list[Path], arguments: list[str], glue) -> tuple[list[str], list[str]]:
    """The S3 paths and databases the scripts name, with the locations of those databases' tables."""
    text = "\n".join([*(s.read_text() for s in scripts), *arguments])
    databases = workspace.named_databases(text)
    return workspace.named_paths(text) + workspace.table_locations(glue, databases), databases


def _folder() -> str:
    return f"{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(4)}"


def _plan(scripts: list[Path], where_scripts: list[str], names: list[str], arguments: list[str], scratch: Path,
          where: dict, keep_going: bool) -> tuple[list, dict]:
    """One session per script (its own run id and scratch folder), and the plan the process follows."""
    sessions = []
    for index, (script, name) in enumerate(zip(scripts, names, strict=True)):
        run_id = "jr_" + secrets.token_hex(32)
        session = Session(job_name=name, run_id=run_id, script=where_scripts[index], region=lakehouse().region,
                          scratch=str(scratch / f"{index}-{name}"), **where)
        sessions.append((session, script, _glue_arguments(arguments, name, run_id)))
    runs = [{"session": str(s.path), "script": s.script, "arguments": argv} for s, _, argv in sessions]
    return sessions, {"keep_going": keep_going, "runs": runs}


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


def _local_file(path: Path) -> str | None:
    try:
        return path.read_text()
    except FileNotFoundError:
        return None


def _record(session: Session, script: Path, arguments: list[str], done, read) -> dict | None:
    """What a script's run left in its result file (`read` gives a file's text, or None); None for a
    script that never started (one before it failed), an error for one that ended before it reported."""
    code = done.returncode
    try:
        result = json.loads(read(session.result_path()) or "")
    except ValueError:
        if read(session.started_marker()) is None:
            return None
        result = {"reads": [], "writes": [], "notes": [], "exit_code": code or 1,
                  "error": f"the scripts' process ended with status {code} before this one reported"}
    captured = {"output": (done.stdout or "") + (done.stderr or "")} if done.stdout is not None else {}
    return {
        "job": session.job_name, "run_id": session.run_id, "script": str(script), "arguments": arguments,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(result.get("started", session.started))),
        "seconds": result.get("seconds"), **result, **captured,
    }


def runs(home: Path | None = None) -> list[dict]:
    """The scripts run on this stack, newest last."""
    try:
        return json.loads((glue_home(home) / RUNS_FILE).read_text())
    except (FileNotFoundError, ValueError):
        return []


def _remember(record: dict) -> None:
    record = {k: v for k, v in record.items() if k != "output"}  # the record of a run, not its transcript
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


def reset_bookmark(job: str, target: str = "embedded") -> bool:
    if target == "docker":
        from stedi.targets import compose

        path = bookmarks.path(Path(CONTAINER_SCRATCH) / "bookmarks", job)
        return _exec(compose, ["sh", "-c", f"test -e {path} && rm -f {path} && echo reset || true"]).strip() == "reset"
    return bookmarks.reset(bookmark_dir(), job)
