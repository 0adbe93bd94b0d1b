"""Benchmarks, run by `make bench`; figures are medians of runs made side by side.

`scale` (what `make bench` runs): the embedded pipeline and the same five transformations as
plain SQL in DuckDB (stedi/baseline.py), over the same synthetic landing data at 1x, 10x and
100x the starter data's size (1k, 10k and 100k customers). The pipeline runs in one warm
process (Spark started once, as `make pipeline` does; the cold start is measured apart on the
starter data), without its quality gates, which `gates` prices; DuckDB runs in a process of
its own so its peak memory is its own. Each run's table counts are checked against the
generator's expected counts, so a fast wrong answer cannot pass. Writes build/bench/
results.json, results.md and scale.svg.

`queries`: `stedi query` on DuckDB and on the native Trino, whole commands as a user runs them,
alternated query by query over one rubric run on the starter data, with Trino's start time and
resident memory. Writes build/bench/queries.json.

`auth`: what IAM enforcement costs a request. The embedded stack's emulator (IAM enforced,
the Glue jobs' keys and policy) and moto's plain server (no IAM, dummy keys), each on its own
loopback port, answer the same S3 PutObject, S3 GetObject and Glue GetTable calls in
alternating rounds; the medians per call are compared. Writes build/bench/auth.json.

`gates`: what the quality gates cost. The embedded pipeline runs alternately with and
without its gates on the same landing data and the same warm Spark session (the first,
cold run of each kind is discarded), and the medians are compared.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from contextlib import contextmanager
from pathlib import Path

from stedi import pipeline
from stedi.datasets import synthetic
from stedi.runtime import settings
from stedi.runtime.progress import Progress, table
from stedi.tools.bench_report import FLOOR

DEFAULT_OUT = settings.project_root() / "build" / "bench"
STARTER = settings.project_root().parent / "shared" / "data" / "udacity-starter"


def gates(landing: Path | None, policy: str, runs: int, progress) -> dict:

    samples: dict[str, list[dict]] = {"with gates": [], "without gates": []}
    for i in range(runs + 1):
        for label, enabled in (("with gates", True), ("without gates", False)):
            started = time.perf_counter()
            summary = pipeline.run_embedded(landing, policy, gates=enabled)
            wall = time.perf_counter() - started
            gate = summary.get("gates", {})
            if i:  # the first round warms Spark, the JVM and the emulator up
                samples[label].append(
                    {"wall": wall, "gates": gate.get("seconds", 0.0), "docs": gate.get("docs_seconds", 0.0)}
                )
            progress(f"{'warm-up' if i == 0 else f'run {i}'} {label}: {wall:.1f}s")
    median = {
        label: {k: statistics.median(s[k] for s in runs_) for k in ("wall", "gates", "docs")}
        for label, runs_ in samples.items()
    }
    with_, without = median["with gates"]["wall"], median["without gates"]["wall"]
    return {
        "benchmark": "gates",
        "landing": str(landing or "synthetic (1,000 customers)"),
        "policy": policy,
        "runs": runs,
        "median_seconds": median,
        "overhead_seconds": round(with_ - without, 2),
        "overhead_ratio": round(with_ / without, 3),
        "samples": samples,
    }


SCALES = {"1x": 1_000, "10x": 10_000, "100x": 100_000}
POLICY = "strict"
# The embedded pipeline's two table I/Os (stedi.runtime.settings.table_io), by engine name.
TABLE_IOS = {"stedi spark": "spark", "stedi pyiceberg": "pyiceberg"}
DUCKDB = "duckdb"


def scale(scales: dict[str, int], runs: int, progress) -> dict:
    """Both engines at each scale, side by side; medians where runs are short (under a minute)."""
    from stedi import pipeline
    from stedi.targets import embedded_stack as stack

    measured = []
    first = synthetic.landing_for(42, next(iter(scales.values())), progress)
    progress("warm-up runs (Spark, the Iceberg jars and the emulator start; not measured)")
    for table_io in TABLE_IOS.values():
        pipeline.run_embedded(first, POLICY, gates=False, table_io=table_io)
    for label, customers in scales.items():
        landing = synthetic.landing_for(42, customers, progress)
        stack.discard()  # each scale starts on an empty lakehouse, not on the last scale's tables
        expected = json.loads((landing / "expected_counts.json").read_text())["expected"][POLICY]
        rows = sum(expected[t] for t in ("customer_landing", "accelerometer_landing", "step_trainer_landing"))
        progress(f"{label}: {customers:,} customers, {rows:,} landing rows")
        # The first run on the new emulator uploads the landing files (1.1 GB at 100x); measured,
        # it would count the upload against whichever engine runs first.
        progress(f"{label}: uploading the landing files with an unmeasured run")
        pipeline.run_embedded(landing, POLICY, gates=False)
        samples: dict[str, list[dict]] = {engine: [] for engine in (*TABLE_IOS, DUCKDB, FLOOR)}
        for i in range(runs):  # the engines alternate, so a noisy minute hits all of them
            for engine, table_io in TABLE_IOS.items():
                samples[engine].append(_stedi_run(landing, expected, table_io))
            samples[DUCKDB].append(_duckdb_run(landing, expected))
            samples[FLOOR].append(_floor_run(landing, rows))
            progress(
                f"{label} run {i + 1}: " + ", ".join(f"{e} {s[-1]['wall_seconds']:.2f}s" for e, s in samples.items())
            )
            if max(s[-1]["wall_seconds"] for s in samples.values()) > 60:  # long runs are steady enough alone
                break
        for engine, engine_samples in samples.items():
            measured.append(
                {"engine": engine, "scale": label, "customers": customers, "rows": rows, **_median(engine_samples)}
            )
    return {"benchmark": "scale", "policy": POLICY, "machine": machine(), "measurements": measured}


def _stedi_run(landing: Path, expected: dict, table_io: str) -> dict:
    from stedi import pipeline

    with PeakMemory() as memory:
        started = time.perf_counter()
        summary = pipeline.run_embedded(landing, POLICY, gates=False, table_io=table_io)
        wall = time.perf_counter() - started
    _check_counts(f"stedi {table_io}", summary["tables"], expected)
    inputs = {job.name: job.inputs for job in pipeline.jobs()}
    jobs = {
        name: {
            "seconds": job["seconds"],
            "rows_in": sum(summary["tables"][t] for t in inputs[name]),
            "rows_out": job["rows"],
        }
        for name, job in summary["jobs"].items()
    }
    landing_seconds = wall - sum(job["seconds"] for job in summary["jobs"].values())
    return {
        "wall_seconds": wall,
        "landing_seconds": landing_seconds,
        "jobs": jobs,
        "peak_memory_bytes": memory.peak,
        "peak_memory_by_process": memory.by_kind,
    }


def _duckdb_run(landing: Path, expected: dict) -> dict:
    """stedi.baseline in a child process: its peak RSS is the child's own (wait4's rusage)."""
    code = (
        "import json, sys; from pathlib import Path; from stedi.tools import baseline; "
        f"r = baseline.run(Path(sys.argv[1]), {POLICY!r}); "
        "print(json.dumps({'result': r, 'tables': baseline.table_rows(r)}, default=float))"
    )
    answer, peak = _in_child(code, landing, "the DuckDB baseline")
    _check_counts("duckdb", answer["tables"], expected)
    result = answer["result"]
    jobs = {
        name: {"seconds": step["seconds"], "rows_in": step["rows_in"], "rows_out": step["rows_out"]}
        for name, step in result.items()
        if isinstance(step, dict) and name != "landing"
    }
    return {
        "wall_seconds": result["seconds"],
        "landing_seconds": result["landing"]["seconds"],
        "jobs": jobs,
        "peak_memory_bytes": peak,
    }


def _in_child(code: str, landing: Path, what: str) -> tuple[dict, int]:
    """Run `code` in a Python child process on `landing`; the JSON of its last line of output,
    and its peak resident bytes (wait4's rusage: the child's own, not this process's)."""
    import os
    import subprocess
    import sys

    process = subprocess.Popen([sys.executable, "-c", code, str(landing)], stdout=subprocess.PIPE, text=True)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise RuntimeError(f"{what} failed on {landing} (status {status})")
    return json.loads(output.strip().splitlines()[-1]), usage.ru_maxrss * 1024


def _floor_run(landing: Path, rows: int) -> dict:
    """This machine's limit for the job: every landing file read once and each record parsed
    (orjson, one process per core), nothing else. In a child process, like DuckDB."""
    code = (
        "import json, sys; from pathlib import Path; from stedi.tools import bench; "
        "print(json.dumps(bench.floor(Path(sys.argv[1]))))"
    )
    result, peak = _in_child(code, landing, "the floor measurement")
    if result["records"] != rows:
        raise AssertionError(f"the floor parsed {result['records']:,} records, the landing holds {rows:,}")
    return {
        "wall_seconds": result["seconds"],
        "landing_seconds": result["seconds"],
        "jobs": {},
        "bytes": result["bytes"],
        "peak_memory_bytes": peak,
    }


def floor(landing: Path) -> dict:
    """Read and parse every landing file, the files shared out over the cores; seconds, records, bytes."""
    import os
    from concurrent.futures import ProcessPoolExecutor

    files = sorted(str(p) for p in landing.rglob("*.json") if p.parent.name == "landing")
    started = time.perf_counter()
    with ProcessPoolExecutor(os.cpu_count() or 1) as pool:
        counted = list(pool.map(_read_and_parse, files, chunksize=max(1, len(files) // (8 * (os.cpu_count() or 1)))))
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "records": sum(r for r, _ in counted), "bytes": sum(b for _, b in counted)}


def _read_and_parse(path: str) -> tuple[int, int]:
    import orjson

    data = Path(path).read_bytes()
    return sum(1 for line in data.splitlines() if line.strip() and orjson.loads(line) is not None), len(data)


def _check_counts(engine: str, tables: dict, expected: dict) -> None:
    wrong = {t: (tables.get(t), n) for t, n in expected.items() if t in tables and tables[t] != n}
    if wrong:
        raise AssertionError(f"{engine} produced wrong row counts (got, expected): {wrong}")


def _median(samples: list[dict]) -> dict:
    """The sample with the median wall time (whole, so its jobs add up), and every wall time."""
    ordered = sorted(samples, key=lambda s: s["wall_seconds"])
    middle = ordered[(len(ordered) - 1) // 2]
    return {**middle, "runs": len(samples), "wall_samples": [round(s["wall_seconds"], 3) for s in samples]}


class PeakMemory:
    """The peak resident memory of this process and all its descendants (the JVM, the S3
    emulator), sampled from /proc every 0.1 s on a background thread; and each kind of process's
    own peak (`by_kind`: python, jvm, emulator, trino), which need not fall at the same moment."""

    def __init__(self, interval: float = 0.1):
        self.interval = interval
        self.peak = 0
        self.by_kind: dict[str, int] = {}

    def __enter__(self):
        import threading

        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        import os

        while True:
            kinds = tree_rss_by_kind(os.getpid())
            self.peak = max(self.peak, sum(kinds.values()))
            for kind, used in kinds.items():
                self.by_kind[kind] = max(self.by_kind.get(kind, 0), used)
            if self._stop.wait(self.interval):
                return


def tree_rss(root: int) -> int:
    """Resident bytes of a process and its descendants, from /proc (0 where /proc is absent)."""
    return sum(tree_rss_by_kind(root).values())


def tree_rss_by_kind(root: int) -> dict[str, int]:
    """Resident bytes of a process and its descendants per kind of process (`process_kind`)."""
    import os

    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21]) * page
    kinds: dict[str, int] = {}
    stack = [root]
    while stack:
        pid = stack.pop()
        if pid in rss:
            kind = process_kind(pid)
            kinds[kind] = kinds.get(kind, 0) + rss[pid]
        stack.extend(children.get(pid, []))
    return kinds


def process_kind(pid: int) -> str:
    """What a process is, from its command line: the S3 emulator, Trino, another JVM (Spark's
    driver), or Python (the pipeline itself, DuckDB's child, the floor's workers)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            command = f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "other"
    if "stedi.targets.emulator" in command:
        return "emulator"
    if "io.trino" in command or "trino-server" in command:
        return "trino"
    if command.split(" ", 1)[0].endswith("java"):
        return "jvm"
    return "python" if "python" in command.split(" ", 1)[0] else "other"


def machine() -> dict:
    """What the figures were measured on."""
    import os
    import platform
    import subprocess

    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(memory / 1e9, 1),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "java": java[0] if java else None,
        "os": platform.platform(),
    }


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


EDITED_JOB = "machine_learning_curated"  # the last job: `stedi run` re-runs it alone


def edit_run(landing: Path, runs: int, progress) -> dict:
    """The edit-run loop as a user lives it, each step the `stedi` command in a new process
    handing its run to the warm engine (stedi/runtime/engine.py): the first `stedi pipeline`
    (the engine and Spark start); then `runs` times, a line added to a job file and `stedi
    pipeline` again, beside `stedi pipeline --full` after the same kind of edit (every step, as
    before steps could be skipped: stedi/runtime/steps.py); then `runs` times `stedi run` of that job.
    The job file is put back as it was. Wall times, gates included; medians."""
    from stedi.runtime import engine

    engine.stop()
    job_file = settings.project_root() / "spark_jobs" / f"{EDITED_JOB}.py"
    original = job_file.read_bytes()
    pipeline = ("pipeline", "--landing", str(landing), "--policy", POLICY)
    try:
        first = _stedi_wall(*pipeline)
        progress(f"first `stedi pipeline` on {landing.name} (the warm engine and Spark start): {first:.1f}s")
        again, full, rerun = [], [], []
        for i in range(runs):
            for samples, extra in ((again, ()), (full, ("--full",))):
                job_file.write_bytes(original + f"# edited for the benchmark ({len(again) + len(full)})\n".encode())
                samples.append(_stedi_wall(*pipeline, *extra))
                progress(f"`stedi pipeline{' --full' if extra else ''}` after editing {job_file.name}, "
                         f"run {i + 1}: {samples[-1]:.1f}s")
        for i in range(runs):
            rerun.append(_stedi_wall("run", EDITED_JOB))
            progress(f"`stedi run {EDITED_JOB}`, run {i + 1}: {rerun[-1]:.1f}s")
    finally:
        job_file.write_bytes(original)
        engine.stop()
    return {
        "landing": str(landing),
        "policy": POLICY,
        "first_pipeline_seconds": round(first, 2),
        "pipeline_again_seconds": round(statistics.median(again), 2),
        "pipeline_again_samples": [round(s, 2) for s in again],
        "pipeline_full_seconds": round(statistics.median(full), 2),
        "pipeline_full_samples": [round(s, 2) for s in full],
        "run_job": EDITED_JOB,
        "run_job_seconds": round(statistics.median(rerun), 2),
        "run_job_samples": [round(s, 2) for s in rerun],
    }


def _stedi_wall(*argv: str) -> float:
    """Seconds one `stedi` command takes, as a user runs it (a new process, the engine on)."""
    import os
    import subprocess
    import sys

    from stedi.runtime import engine

    started = time.perf_counter()
    completed = subprocess.run([sys.executable, "-m", "stedi.cli", *argv], capture_output=True, text=True,
                               env={**os.environ, engine.ENV: "on"})
    wall = time.perf_counter() - started
    if completed.returncode:
        raise RuntimeError(f"stedi {argv[0]} failed: {completed.stderr[-2000:]}")
    return wall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="stedi-bench", description=__doc__.splitlines()[0])
    parser.add_argument("benchmark", choices=["scale", "gates", "queries", "auth"], nargs="?", default="scale")
    parser.add_argument("--landing", type=Path, default=STARTER if STARTER.is_dir() else None)
    parser.add_argument("--policy", default="rubric", choices=settings.POLICIES, help="gates benchmark only")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scales", default=",".join(SCALES), help="scale benchmark: which of " + ", ".join(SCALES))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--no-edit-run", action="store_true",
                        help="scale benchmark: skip the edit-run loop on --landing (stedi pipeline, stedi run)")
    args = parser.parse_args(argv)
    progress = Progress()
    args.out.mkdir(parents=True, exist_ok=True)
    with private_lakehouse(args.out):
        if args.benchmark == "gates":
            return _gates_main(args, progress)
        if args.benchmark == "queries":
            return _queries_main(args, progress)
        if args.benchmark == "auth":
            return _auth_main(args, progress)
        return _scale_main(args, progress)


@contextmanager
def private_lakehouse(out: Path):
    """The benchmarks run on a stack of their own under `out/state`, started empty and stopped
    at the end: they never replace the user's tables, and an emulator swollen by earlier runs
    does not slow them down. The generated data sets stay there for the next benchmark."""
    from stedi.runtime import engine
    from stedi.targets import embedded_stack as stack
    from stedi.targets import trino_server

    home = out / "state"
    with settings.environment({"STEDI_HOME": str(home), "STEDI_DOCS_DIR": str(out / "data-docs"),
                               "STEDI_REPORT_DIR": str(out / "report")}):
        engine.stop(home)
        trino_server.stop(home)
        stack.discard(home)
        try:
            yield home
        finally:
            engine.stop(home)
            trino_server.stop(home)
            stack.discard(home)


def _scale_main(args, progress) -> int:
    from stedi.tools import bench_report

    chosen = {label: SCALES[label] for label in args.scales.split(",")}
    result = scale(chosen, args.runs, progress)
    if args.landing and not args.no_edit_run:
        result["edit_run"] = edit_run(args.landing, args.runs, progress)
    (args.out / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    report = bench_report.markdown(result)
    (args.out / "results.md").write_text(report + "\n")
    bench_report.plot_svg(result, args.out / "scale.svg")
    print(report)
    print(f"\n{args.out / 'results.json'}, {args.out / 'results.md'}, {args.out / 'scale.svg'}")
    return 0


def _gates_main(args, progress) -> int:
    result = gates(args.landing, args.policy, args.runs, progress)
    (args.out / "gates.json").write_text(json.dumps(result, indent=2) + "\n")
    m = result["median_seconds"]
    rows = [(label, f"{v['wall']:.1f}", f"{v['gates']:.1f}", f"{v['docs']:.1f}") for label, v in m.items()]
    print(table(rows, ("pipeline", "wall s (median)", "gates s", "data docs s")))
    print(
        f"\nquality gates add {result['overhead_seconds']:.1f}s "
        f"({(result['overhead_ratio'] - 1) * 100:.0f}%) to the pipeline; {args.out / 'gates.json'}"
    )
    return 0


QUERIES = {
    "count of a landing table (9 JSON files, 81,273 rows)": "SELECT count(*) FROM accelerometer_landing",
    "join of two Iceberg tables": "SELECT count(*) FROM step_trainer_trusted s "
                                  "JOIN accelerometer_trusted a ON s.sensorreadingtime = a.timestamp",
    "landing JSON joined with JSON, grouped, top 5": "SELECT c.email, count(*) AS n FROM customer_landing c "
        "JOIN accelerometer_landing a ON a.user = c.email GROUP BY c.email ORDER BY n DESC, c.email LIMIT 5",
    "readings per hour (from_unixtime, date_trunc)": "SELECT date_trunc('hour', from_unixtime(timestamp / 1000)) "
        "AS h, count(*) FROM accelerometer_trusted GROUP BY 1 ORDER BY 1",
}


def queries(landing: Path, runs: int, progress) -> dict:
    """Each query as `stedi query --engine E` in a new process, the engines alternated run by run."""
    import subprocess
    import sys

    from stedi.targets.embedded import EmbeddedTarget

    pipeline.run_embedded(landing, "rubric", progress=lambda m: None)
    started = time.perf_counter()
    trino = EmbeddedTarget().trino(progress)
    start_seconds = time.perf_counter() - started
    rss_mb = trino.resident_mb()
    samples: dict[str, dict[str, list[float]]] = {name: {"duckdb": [], "trino": []} for name in QUERIES}
    answers: dict[str, dict[str, str]] = {name: {} for name in QUERIES}
    for run in range(runs + 1):  # the first round warms both engines (and the page cache) and is discarded
        for name, sql in QUERIES.items():
            for engine in ("duckdb", "trino"):
                began = time.perf_counter()
                completed = subprocess.run([sys.executable, "-m", "stedi.cli", "query", "--engine", engine,
                                            "--format", "csv", sql], capture_output=True, text=True)
                wall = time.perf_counter() - began
                if completed.returncode:
                    raise RuntimeError(f"{engine}: {completed.stderr.strip()[-500:]}")
                answers[name][engine] = completed.stdout
                if run:
                    samples[name][engine].append(wall)
        progress(f"query round {run + 1} of {runs + 1}" + (" (warm-up, discarded)" if not run else ""))
    for name, both in answers.items():
        if both["duckdb"] != both["trino"]:
            raise RuntimeError(f"the engines disagree on {name!r}: {both}")
    return {
        "landing": str(landing), "runs": runs,
        "trino": {"start_seconds": round(start_seconds, 1), "resident_mb_after_start": rss_mb,
                  "resident_mb_after_queries": trino.resident_mb(), "java": trino.java},
        "queries": {name: {"sql": QUERIES[name], **{
            engine: {"median": round(statistics.median(times), 2), "fastest": round(min(times), 2)}
            for engine, times in samples[name].items()}} for name in QUERIES},
    }


def _queries_main(args, progress) -> int:
    result = queries(args.landing, max(args.runs, 1), progress)
    (args.out / "queries.json").write_text(json.dumps(result, indent=2) + "\n")
    rows = [(name, f"{q['duckdb']['median']:.2f}", f"{q['trino']['median']:.2f}",
             f"{q['trino']['median'] / q['duckdb']['median']:.1f}x") for name, q in result["queries"].items()]
    print(table(rows, ("query (stedi query, whole command)", "DuckDB s", "Trino s", "Trino/DuckDB")))
    t = result["trino"]
    print(f"\nTrino started in {t['start_seconds']}s on {t['java']}; resident {t['resident_mb_after_start']} MB "
          f"after start, {t['resident_mb_after_queries']} MB after the queries; {args.out / 'queries.json'}")
    return 0


AUTH_CALLS = ("s3 PutObject", "s3 GetObject", "glue GetTable")


def auth(runs: int, calls: int, progress) -> dict:
    """Median milliseconds per call on both emulators, rounds alternated (see the module's docstring)."""
    import subprocess
    import sys

    import boto3

    from stedi.tables import lakehouse
    from stedi.targets import embedded_stack
    from stedi.targets.embedded_stack import _free_port, _wait_for_exit

    house = lakehouse()
    key, table_name = f"{house.warehouse_prefix}/bench/object.json", house.zone("landing")[0].name
    enforced = embedded_stack.up().as_glue_job()
    port = _free_port()
    plain = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def clients(endpoint: str, access: str, secret: str):
            return [boto3.client(service, endpoint_url=endpoint, aws_access_key_id=access, aws_secret_access_key=secret,
                                 region_name=house.region) for service in ("s3", "glue")]

        emulators = {
            "IAM enforced (the jobs' keys)": clients(enforced.endpoint, enforced.access_key, enforced.secret_key),
            "moto, no IAM (dummy keys)": clients(f"http://127.0.0.1:{port}", "test", "test"),
        }
        plain_s3, plain_glue = emulators["moto, no IAM (dummy keys)"]
        from stedi.runtime.retry import retry

        retry(lambda: plain_s3.create_bucket(Bucket=house.bucket), what="moto server")
        from stedi.lakehouse.glue_tables import register

        register(plain_glue, house, house.bucket)
        body = json.dumps({"bench": "x" * 1000}).encode()
        samples: dict[str, dict[str, list[float]]] = {name: {c: [] for c in AUTH_CALLS} for name in emulators}
        for run in range(runs + 1):  # the first round warms both up and is discarded
            for name, (s3, glue) in (emulators.items() if run % 2 else reversed(emulators.items())):
                for call, operation in _auth_operations(s3, glue, house, key, body, table_name).items():
                    started = time.perf_counter()
                    for _ in range(calls):
                        operation()
                    if run:
                        samples[name][call].append((time.perf_counter() - started) * 1000 / calls)
            progress(f"auth round {run}/{runs}" + (" (warm-up, discarded)" if not run else ""))
    finally:
        plain.terminate()
        _wait_for_exit(plain.pid)
    medians = {name: {c: round(statistics.median(v), 3) for c, v in per.items()} for name, per in samples.items()}
    enforced_name, plain_name = list(emulators)
    ratios = {c: round(medians[enforced_name][c] / medians[plain_name][c], 2) for c in AUTH_CALLS}
    return {"machine": machine(), "runs": runs, "calls_per_run": calls, "median_ms": medians, "ratio": ratios}


def _auth_operations(s3, glue, house, key: str, body: bytes, table_name: str) -> dict:
    return {
        "s3 PutObject": lambda: s3.put_object(Bucket=house.bucket, Key=key, Body=body),
        "s3 GetObject": lambda: s3.get_object(Bucket=house.bucket, Key=key)["Body"].read(),
        "glue GetTable": lambda: glue.get_table(DatabaseName=house.namespace, Name=table_name),
    }


def _auth_main(args, progress) -> int:
    result = auth(max(args.runs, 1), 50, progress)
    (args.out / "auth.json").write_text(json.dumps(result, indent=2) + "\n")
    names = list(result["median_ms"])
    rows = [(call, *(f"{result['median_ms'][n][call]:.2f}" for n in names), f"{result['ratio'][call]:.2f}x")
            for call in AUTH_CALLS]
    print(table(rows, ("call", *(f"{n} ms" for n in names), "ratio")))
    print(f"\nmedians of {result['runs']} rounds of {result['calls_per_run']} calls each; {args.out / 'auth.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
