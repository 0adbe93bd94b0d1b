"""The scale benchmark's report: a Markdown summary and a log-log plot as a standalone SVG.

The question the benchmark asks is how the embedded pipeline's time grows with the data,
and how far it stays from a single-machine SQL engine doing the same work. A log-log plot
answers both at a glance (a slope of 1 is linear growth; the vertical gap between the two
lines is the ratio). It is drawn with Altair and rendered to SVG by vl-convert, offline, like
the run report's charts: an SVG opens in any browser and renders inline in Markdown.

A measurement is a dict:
    {"engine": "stedi spark" | "stedi pyiceberg" | "duckdb", "scale": "1x", "customers": 1000,
     "rows": <total landing rows>, "wall_seconds": <median wall>,
     "jobs": {job: seconds | {"seconds": ..., "rows_out": ...}},
     "peak_memory_bytes": <bytes> | None}
`results` is a list of them, or a dict holding that list under "measurements".
"""

from __future__ import annotations

import math
from pathlib import Path

STEDI = "stedi spark"  # the pipeline on Spark's Iceberg catalog (the default)
BRIDGE = "stedi pyiceberg"  # the pipeline on the pyiceberg bridge (the offline fallback)
DUCKDB = "duckdb"
FLOOR = "floor (read + parse)"  # every landing file read once and parsed: no engine can be faster
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#7f7f7f")


def measurements(results) -> list[dict]:
    return list(results["measurements"] if isinstance(results, dict) else results)


def engines(results) -> list[str]:
    """The engines measured, the embedded pipeline first, then the others as they appear."""
    seen = list(dict.fromkeys(m["engine"] for m in measurements(results)))
    return sorted(seen, key=lambda e: (e != STEDI, e != BRIDGE, e != DUCKDB, e != FLOOR, seen.index(e)))


def linearity(points) -> float:
    """Log-log slope between the smallest and the largest scale: 1.0 is linear, 2.0 quadratic.

    `points` are (rows, seconds) pairs in any order.
    """
    ordered = sorted(points)
    (rows_lo, secs_lo), (rows_hi, secs_hi) = ordered[0], ordered[-1]
    if rows_lo <= 0 or rows_hi == rows_lo:
        raise ValueError("linearity needs two scales of different, positive row counts")
    return math.log(secs_hi / secs_lo) / math.log(rows_hi / rows_lo)


# --------------------------------------------------------------------------- Markdown


def markdown(results) -> str:
    """The scale table (one row per scale), each engine's slope, and the largest scale's jobs."""
    runs = measurements(results)
    names = engines(runs)
    sections = [_scale_table(runs, names), _slopes(runs, names), _job_table(runs, names), _memory_table(runs, names)]
    sections.append(_edit_run(results.get("edit_run") if isinstance(results, dict) else None))
    return "\n\n".join(s for s in sections if s) + "\n"


EDIT_RUN_GOALS = {"pipeline_again_seconds": 6.0, "run_job_seconds": 3.0}


def _edit_run(loop: dict | None) -> str:
    """The edit-run loop's wall times (the `stedi` command, through the warm engine), beside its goals."""
    if not loop:
        return ""
    rows = [
        ("first `stedi pipeline` (the warm engine and Spark start)", loop["first_pipeline_seconds"], None, None),
        ("`stedi pipeline` again, a job file edited", loop["pipeline_again_seconds"],
         loop["pipeline_again_samples"], EDIT_RUN_GOALS["pipeline_again_seconds"]),
        *([("`stedi pipeline --full` again (every step), a job file edited", loop["pipeline_full_seconds"],
            loop["pipeline_full_samples"], None)] if "pipeline_full_seconds" in loop else []),
        (f"`stedi run {loop['run_job']}`", loop["run_job_seconds"], loop["run_job_samples"],
         EDIT_RUN_GOALS["run_job_seconds"]),
    ]
    lines = [f"Edit-run loop on {Path(loop['landing']).name} (policy {loop['policy']}, gates included, wall):", "",
             _row(["step", "median s", "runs", "goal s"]), _row(["---", "---:", "---", "---:"])]
    for step, median, samples, goal in rows:
        shown = ", ".join(f"{x:.1f}" for x in samples) if samples else "1"
        lines.append(_row([step, _seconds(median), shown, _seconds(goal) if goal else "–"]))
    return "\n".join(lines)


def _scale_table(runs: list[dict], names: list[str]) -> str:
    header = ["scale", "customers", "landing rows"]
    header += [f"{e} wall s" for e in names]
    header += [f"{names[0]} / {n}" for n in names[1:]]
    header += [f"{e} rows/s" for e in names] + [f"{e} peak memory" for e in names]
    lines = [_row(header), _row(["---"] * 3 + ["---:"] * (len(header) - 3))]
    for scale in _scales(runs):
        by_engine = {m["engine"]: m for m in runs if m["scale"] == scale}
        first = next(iter(by_engine.values()))
        cells = [scale, f"{first['customers']:,}", f"{first['rows']:,}"]
        cells += [_seconds(_wall(by_engine.get(e))) for e in names]
        cells += [_ratio(_wall(by_engine.get(names[0])), _wall(by_engine.get(n))) for n in names[1:]]
        cells += [_rate(by_engine.get(e)) for e in names]
        cells += [_bytes(by_engine[e].get("peak_memory_bytes") if e in by_engine else None) for e in names]
        lines.append(_row(cells))
    return "\n".join(lines)


def _slopes(runs: list[dict], names: list[str]) -> str:
    parts = []
    for engine in names:
        points = _points(runs, engine)
        if len({rows for rows, _ in points}) > 1:
            parts.append(f"{engine} {linearity(points):.2f}")
    return f"Log-log slope, smallest to largest scale (1.00 = linear): {'; '.join(parts)}." if parts else ""


def _job_table(runs: list[dict], names: list[str]) -> str:
    scale = _scales(runs)[-1]
    by_engine = {m["engine"]: m for m in runs if m["scale"] == scale and m.get("jobs")}
    if not by_engine:
        return ""
    shown = [e for e in names if e in by_engine]
    jobs = list(dict.fromkeys(job for e in shown for job in by_engine[e]["jobs"]))
    header = ["job"] + [f"{e} s" for e in shown] + [f"{shown[0]} / {e}" for e in shown[1:]]
    header += ["rows in", "rows out", f"{shown[0]} rows in/s"]
    lines = [f"Jobs at the largest scale ({scale}):", "", _row(header), _row(["---"] + ["---:"] * (len(header) - 1))]
    for job in jobs:
        details = [by_engine[e]["jobs"].get(job) for e in shown]
        seconds = [_job_seconds(d) for d in details]
        cells = [job] + [_seconds(s) for s in seconds] + [_ratio(seconds[0], s) for s in seconds[1:]]
        rows_in, rows_out = (
            next((d[key] for d in details if isinstance(d, dict) and key in d), None) for key in ("rows_in", "rows_out")
        )
        rate = f"{rows_in / seconds[0]:,.0f}" if rows_in is not None and seconds[0] else "–"
        cells += [f"{n:,}" if n is not None else "–" for n in (rows_in, rows_out)] + [rate]
        lines.append(_row(cells))
    return "\n".join(lines)


PROCESS_KINDS = ("python", "jvm", "emulator", "trino", "other")


def _memory_table(runs: list[dict], names: list[str]) -> str:
    """Each engine's peak resident memory per kind of process at the largest scale (each kind's
    own peak), beside the peak of the whole process tree."""
    scale = _scales(runs)[-1]
    by_engine = {m["engine"]: m for m in runs if m["scale"] == scale and m.get("peak_memory_by_process")}
    if not by_engine:
        return ""
    shown = [e for e in names if e in by_engine]
    kinds = [k for k in PROCESS_KINDS if any(by_engine[e]["peak_memory_by_process"].get(k) for e in shown)]
    header = ["engine"] + kinds + ["whole tree"]
    lines = [f"Peak memory per process at the largest scale ({scale}):", "", _row(header)]
    lines.append(_row(["---"] + ["---:"] * (len(header) - 1)))
    for engine in shown:
        kind_peaks = by_engine[engine]["peak_memory_by_process"]
        cells = [engine] + [_bytes(kind_peaks.get(k)) for k in kinds] + [_bytes(by_engine[engine]["peak_memory_bytes"])]
        lines.append(_row(cells))
    return "\n".join(lines)


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _scales(runs: list[dict]) -> list[str]:
    """Scale labels from the smallest data to the largest."""
    smallest: dict[str, int] = {}
    for m in runs:
        smallest[m["scale"]] = min(m["rows"], smallest.get(m["scale"], m["rows"]))
    return sorted(smallest, key=smallest.__getitem__)


def _wall(m: dict | None) -> float | None:
    return m["wall_seconds"] if m else None


def _job_seconds(detail) -> float | None:
    if detail is None:
        return None
    return detail["seconds"] if isinstance(detail, dict) else float(detail)


def _seconds(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def _ratio(numerator: float | None, denominator: float | None) -> str:
    return f"{numerator / denominator:.1f}×" if numerator and denominator else "–"


def _rate(m: dict | None) -> str:
    return f"{m['rows'] / m['wall_seconds']:,.0f}" if m and m["wall_seconds"] else "–"


def _bytes(value: int | None) -> str:
    if value is None:
        return "–"
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if value >= size:
            return f"{value / size:.1f} {unit}"
    return f"{value} B"


# --------------------------------------------------------------------------- SVG


def plot_svg(results, path: Path, title: str = "STEDI pipeline: wall time against landing rows") -> Path:
    """Write a log-log plot of wall seconds against landing rows, one line per engine (Altair,
    rendered to SVG offline by vl-convert, as the run report's charts are)."""
    import altair as alt
    import pandas as pd

    from stedi.report.charts import svg

    runs = measurements(results)
    names = engines(runs)
    rows = [{"engine": e, "rows": r, "seconds": s} for e in names for r, s in _points(runs, e)]
    chart = alt.Chart(pd.DataFrame(rows)).mark_line(point=True).encode(
        x=alt.X("rows:Q", scale=alt.Scale(type="log"), title="landing rows"),
        y=alt.Y("seconds:Q", scale=alt.Scale(type="log"), title="wall seconds (median)"),
        color=alt.Color("engine:N", sort=names, scale=alt.Scale(domain=names, range=list(COLORS[: len(names)]))),
        tooltip=["engine:N", "rows:Q", "seconds:Q"],
    ).properties(width=520, height=360, title=title)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(svg(chart))
    return path


def _points(runs: list[dict], engine: str) -> list[tuple[float, float]]:
    return sorted((m["rows"], m["wall_seconds"]) for m in runs if m["engine"] == engine)


