"""`make bench-docker`: the Docker stack against the embedded one, side by side in one run.

On a compose project of its own (the user's Docker stack is not touched) and a private embedded
lakehouse (bench.private_lakehouse): `make up`'s time to ready with the images already built, then
`stedi pipeline` on the starter data alternately on the docker and on the embedded target, as
whole commands the way a user runs them (each starts its own Spark driver), with the medians and
their ratio; the peak memory of every container during the docker runs (`docker stats`, sampled
about once a second) and of the embedded run's process tree; the images' sizes. Both targets'
table counts must agree, run after run. Writes build/bench/docker.json and docker.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from stedi.runtime import settings
from stedi.runtime.progress import Progress
from stedi.targets import compose
from stedi.tools.bench import DEFAULT_OUT, STARTER, private_lakehouse, tree_rss

PROJECT = "stedi-lakehouse-bench"
UNITS = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "kB": 1e3, "MB": 1e6, "GB": 1e9}


def parse_size(text: str) -> int:
    """`docker stats`' sizes ("211.6MiB", "1.2GiB", "0B") in bytes."""
    text = text.strip()
    for unit in sorted(UNITS, key=len, reverse=True):
        if text.endswith(unit):
            return int(float(text[: -len(unit)]) * UNITS[unit])
    return int(float(text))


class ContainerMemory(threading.Thread):
    """The peak `docker stats` memory of every container of the compose project, while it runs."""

    def __init__(self, project: str):
        super().__init__(daemon=True)
        self.project = project
        self.peak: dict[str, int] = {}
        self._done = threading.Event()

    def sample(self) -> dict[str, int]:
        ids = subprocess.run(["docker", "ps", "--quiet", "--filter", f"label=com.docker.compose.project={self.project}"],
                             capture_output=True, text=True).stdout.split()
        if not ids:
            return {}
        listed = subprocess.run(["docker", "stats", "--no-stream", "--format", "{{json .}}", *ids],
                                capture_output=True, text=True).stdout
        usage = {}
        for line in listed.splitlines():
            entry = json.loads(line)
            name = entry["Name"].removeprefix(self.project + "-")
            usage[name] = parse_size(entry["MemUsage"].split("/")[0])
        return usage

    def run(self) -> None:
        while not self._done.is_set():
            for name, used in self.sample().items():
                self.peak[name] = max(self.peak.get(name, 0), used)
            self._done.wait(0.5)

    def stop(self) -> dict[str, int]:
        self._done.set()
        self.join()
        return self.peak


def _pipeline(target: str, landing: Path, policy: str) -> dict:
    """One `stedi pipeline` on the target as its own process: wall seconds, counts, peak tree RSS."""
    with tempfile.NamedTemporaryFile(suffix=".json") as summary:
        command = [sys.executable, "-m", "stedi.cli", "pipeline", "--target", target, "--landing", str(landing),
                   "--policy", policy, "--summary", summary.name]
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        peak = 0
        while process.poll() is None:
            peak = max(peak, tree_rss(process.pid))
            time.sleep(0.25)
        seconds = time.perf_counter() - started
        stderr = process.stderr.read()
        if process.returncode != 0:
            raise RuntimeError(f"stedi pipeline --target {target} failed: {stderr[-2000:]}")
        result = json.loads(Path(summary.name).read_text())
    return {"seconds": round(seconds, 2), "tables": result["tables"], "host_peak_rss": peak}


def image_sizes() -> dict[str, int]:
    names = ["stedi-lakehouse/spark:4.1.1-iceberg-1.11.0", "stedi-lakehouse/trino:476",
             "stedi-lakehouse/localstack:4.14.0", compose.base_image(lambda message: None)]
    sizes = {}
    for name in names:
        inspected = subprocess.run(["docker", "image", "inspect", "--format", "{{.Size}}", name],
                                   capture_output=True, text=True)
        if inspected.returncode == 0:
            sizes[name] = int(inspected.stdout.strip())
    return sizes


def run(landing: Path, policy: str, runs: int, workers: int, progress) -> dict:
    with settings.environment({compose.PROJECT_ENV: PROJECT}):
        compose.down()
        progress(f"make up with {workers} workers (images built already)")
        ready = compose.up(progress=progress, workers=workers)
        idle = ContainerMemory(PROJECT).sample()
        samples: dict[str, list[dict]] = {"docker": [], "embedded": []}
        peaks: dict[str, int] = {}
        try:
            for number in range(1, runs + 1):
                for target in ("docker", "embedded"):
                    memory = ContainerMemory(PROJECT) if target == "docker" else None
                    if memory:
                        memory.start()
                    sample = _pipeline(target, landing, policy)
                    if memory:
                        for name, used in memory.stop().items():
                            peaks[name] = max(peaks.get(name, 0), used)
                    samples[target].append(sample)
                    progress(f"run {number}/{runs} {target}: {sample['seconds']:.1f}s")
                if samples["docker"][-1]["tables"] != samples["embedded"][-1]["tables"]:
                    raise RuntimeError(f"the two targets disagree: {samples['docker'][-1]['tables']} "
                                       f"against {samples['embedded'][-1]['tables']}")
        finally:
            compose.down()
    medians = {target: statistics.median(s["seconds"] for s in runs_) for target, runs_ in samples.items()}
    return {
        "policy": policy, "landing": str(landing), "runs": runs, "workers": workers,
        "up_seconds": round(ready, 1),
        "pipeline_seconds": {target: [s["seconds"] for s in runs_] for target, runs_ in samples.items()},
        "median_seconds": medians,
        "ratio_docker_to_embedded": round(medians["docker"] / medians["embedded"], 2),
        "embedded_peak_rss": max(s["host_peak_rss"] for s in samples["embedded"]),
        "container_idle_memory": idle,
        "container_peak_memory": peaks,
        "tables": samples["docker"][-1]["tables"],
        "image_sizes": image_sizes(),
    }


def _table(headers: list[str], rows: list[list[str]]) -> str:
    """A Markdown table; every column but the first right-aligned (numbers)."""
    lines = ["| " + " | ".join(headers) + " |", "|---" + "|---:" * (len(headers) - 1) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def markdown(result: dict) -> str:
    mib = 2**20
    medians = result["median_seconds"]
    lines = [
        f"`make up` to ready (images built, {result['workers']} workers): {result['up_seconds']} s",
        "",
        _table(["target", "runs (s)", "median (s)"], [
            [target, ", ".join(f"{s:.1f}" for s in result["pipeline_seconds"][target]), f"{medians[target]:.1f}"]
            for target in ("docker", "embedded")]),
        "",
        f"docker / embedded: {result['ratio_docker_to_embedded']}x; "
        f"embedded process tree peak: {result['embedded_peak_rss'] / mib:.0f} MiB",
        "",
        _table(["container", "idle (MiB)", "peak during the runs (MiB)"], [
            [name, f"{result['container_idle_memory'].get(name, 0) / mib:.0f}", f"{peak / mib:.0f}"]
            for name, peak in sorted(result["container_peak_memory"].items())]),
        "",
        _table(["image", "size (MB)"], [[name, f"{size / 1e6:.0f}"] for name, size in result["image_sizes"].items()]),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="stedi-bench-docker", description=__doc__.splitlines()[0])
    parser.add_argument("--landing", type=Path, default=STARTER)
    parser.add_argument("--policy", default="rubric", choices=settings.POLICIES)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    compose.require_engine()
    args.out.mkdir(parents=True, exist_ok=True)
    progress = Progress()
    with private_lakehouse(args.out):
        result = run(args.landing, args.policy, args.runs, args.workers, progress)
    (args.out / "docker.json").write_text(json.dumps(result, indent=2) + "\n")
    report = markdown(result)
    (args.out / "docker.md").write_text(report + "\n")
    print(report)
    print(f"\n{args.out / 'docker.json'}, {args.out / 'docker.md'}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
