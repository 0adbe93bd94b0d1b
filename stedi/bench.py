"""Benchmarks, run by `make bench`; figures are medians of runs made side by side.

`gates`: what the quality gates cost. The embedded pipeline runs alternately with and
without its gates on the same landing data and the same warm Spark session (the first,
cold run of each kind is discarded), and the medians are compared.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from stedi import settings
from stedi.progress import Progress, table

DEFAULT_OUT = settings.project_root() / "build" / "bench"
STARTER = settings.project_root().parent / "shared" / "data" / "udacity-starter"


def gates(landing: Path | None, policy: str, runs: int, progress) -> dict:
    from stedi import pipeline

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="stedi-bench", description=__doc__.splitlines()[0])
    parser.add_argument("benchmark", choices=["gates"])
    parser.add_argument("--landing", type=Path, default=STARTER if STARTER.is_dir() else None)
    parser.add_argument("--policy", default="rubric", choices=settings.POLICIES)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    progress = Progress()
    result = gates(args.landing, args.policy, args.runs, progress)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "gates.json").write_text(json.dumps(result, indent=2) + "\n")
    m = result["median_seconds"]
    rows = [(label, f"{v['wall']:.1f}", f"{v['gates']:.1f}", f"{v['docs']:.1f}") for label, v in m.items()]
    print(table(rows, ("pipeline", "wall s (median)", "gates s", "data docs s")))
    print(
        f"\nquality gates add {result['overhead_seconds']:.1f}s "
        f"({(result['overhead_ratio'] - 1) * 100:.0f}%) to the pipeline; {args.out / 'gates.json'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
