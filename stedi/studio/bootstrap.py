"""`python -m stedi.studio.bootstrap PLAN`: the process `stedi glue run` runs its scripts in.

The plan (a JSON file) lists the runs, each a script, its arguments and its session file; they
run one after the other in this process, so the JVM starts once: after each, its SparkContext is
stopped and the next script's `SparkContext()` makes a fresh one on the same JVM. Each script runs
as `__main__`, with `sys.argv` as Glue gives it and `awsglue` importable from the local layer
(PYTHONPATH). A script that fails is reported in one sentence with the line where it failed, not
a Spark stack trace, and the scripts after it do not run (they read what it should have written),
unless the plan says to keep going;
what each read and wrote goes to its session's result file either way.
"""

from __future__ import annotations

import json
import linecache
import runpy
import sys
import time
import traceback
from pathlib import Path

from stedi.runtime.access import find_denial
from stedi.studio import job, session


def main() -> int:
    plan = json.loads(Path(sys.argv[1]).read_text())
    worst = 0
    for run in plan["runs"]:
        code = run_one(session.load(Path(run["session"])), run["script"], run["arguments"])
        worst = worst or code
        if code != 0 and not plan.get("keep_going"):
            break
    return worst


def run_one(this: session.Session, script: str, arguments: list[str]) -> int:
    """One script as Glue runs it; returns its exit code."""
    this.started = time.time()
    this.started_marker().touch()
    session.activate(this)
    job.reset()
    sys.argv = [script, *arguments]
    this.say(f"glue job {this.job_name}: {Path(script).name}")
    try:
        runpy.run_path(script, run_name="__main__")
        code, message = 0, None
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        message = None if code == 0 else f"the script exited with {stop.code!r}"
    except BaseException as error:  # noqa: BLE001 - every failure is the script's, said in one sentence
        code, message = 1, describe(error, script)
        print(f"error: {message}", file=sys.stderr, flush=True)
    finally:
        _stop_spark()
    this.write_result(error=message, exit_code=code, committed=job.committed())
    return code


def _stop_spark() -> None:
    """The script's SparkContext stopped, its JVM kept for the next script."""
    from pyspark import SparkContext

    if SparkContext._active_spark_context is not None:
        SparkContext._active_spark_context.stop()


def describe(error: BaseException, script: str) -> str:
    """Where in the script it failed and why, in one sentence (and the line of code under it)."""
    denial = find_denial(error)
    if denial is not None:
        why = (f"refused {denial.action} on {denial.resource} by IAM: the Glue jobs' policy (stedi/lakehouse/"
               "job_policy.py) plus the S3 paths and databases the script names allow it no more")
    else:
        why = _reason(error)
    place = _script_line(error, script)
    if place is None:
        return why
    line, code = place
    return f"{Path(script).name}, line {line}: {why}\n    {code}"


def _reason(error: BaseException) -> str:
    """The error's own sentence: for an exception raised in Spark's Python workers, the Python error
    at the end of their traceback rather than the first line of Spark's wrapper."""
    text = str(error).strip()
    if "Traceback (most recent call last)" in text:
        python_part = text.split("Traceback (most recent call last)", 1)[1].split("\n\tat ", 1)[0]
        lines = [line.strip() for line in python_part.splitlines() if line.strip()]
        if lines:
            return f"{lines[-1]} (raised in Spark's Python workers)"
    first = text.splitlines()[0] if text else ""
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


def _script_line(error: BaseException, script: str) -> tuple[int, str] | None:
    target = str(Path(script).resolve())
    frames = [f for f in traceback.extract_tb(error.__traceback__) if str(Path(f.filename).resolve()) == target]
    if not frames:
        return None
    frame = frames[-1]
    return frame.lineno, (frame.line or linecache.getline(frame.filename, frame.lineno)).strip()


if __name__ == "__main__":
    sys.exit(main())
