"""The scale benchmark's report: its Markdown figures and its hand-drawn SVG plot."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from stedi.tools import bench_report
from stedi.tools.bench_report import DUCKDB, STEDI, linearity, markdown, plot_svg

SVG = "{http://www.w3.org/2000/svg}"
SCALES = (("1x", 1_000, 111_000), ("10x", 10_000, 1_110_000), ("100x", 100_000, 11_100_000))


def measurement(engine: str, scale: str, customers: int, rows: int, wall: float, memory: int | None) -> dict:
    jobs = {
        "customer_landing_to_trusted": {"seconds": wall * 0.1, "rows_out": customers // 2},
        "machine_learning_curated": {"seconds": wall * 0.4, "rows_in": rows // 2, "rows_out": rows // 3},
    }
    return {
        "engine": engine,
        "scale": scale,
        "customers": customers,
        "rows": rows,
        "wall_seconds": wall,
        "jobs": jobs,
        "peak_memory_bytes": memory,
    }


@pytest.fixture
def results() -> list[dict]:
    stedi = [measurement(STEDI, s, c, r, 20.0 * 10**i, 2 * 2**30) for i, (s, c, r) in enumerate(SCALES)]
    duck = [measurement(DUCKDB, s, c, r, 0.25 * 10**i, None) for i, (s, c, r) in enumerate(SCALES)]
    return duck + stedi  # any order


def test_markdown_has_one_row_per_scale_with_both_walls_ratio_rate_and_memory(results):
    text = markdown(results)
    rows = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| 1")}
    assert list(rows) == ["1x", "10x", "100x"]
    assert "| 100x | 100,000 | 11,100,000 | 2000.0 | 25.0 | 80.0× |" in rows["100x"]
    assert "5,550" in rows["1x"] and "444,000" in rows["1x"]  # rows/s of each engine
    assert "2.0 GiB" in rows["1x"] and "–" in rows["1x"]  # duckdb's memory was not measured


def test_markdown_lists_the_jobs_of_the_largest_scale_and_the_slopes(results):
    text = markdown(results)
    assert "Jobs at the largest scale (100x)" in text
    # rows in per second of the first engine: 5,550,000 rows in 800 s
    assert "| machine_learning_curated | 800.0 | 10.0 | 80.0× | 5,550,000 | 3,700,000 | 6,938 |" in text
    assert "stedi spark 1.00; duckdb 1.00" in text


def test_the_floor_is_a_line_of_its_own_with_the_ratio_to_it(results):
    floor = [
        {"engine": bench_report.FLOOR, "scale": s, "customers": c, "rows": r, "wall_seconds": 0.1 * 10**i, "jobs": {}}
        for i, (s, c, r) in enumerate(SCALES)
    ]
    runs = results + floor
    assert bench_report.engines(runs) == [STEDI, DUCKDB, bench_report.FLOOR]
    row = next(line for line in markdown(runs).splitlines() if line.startswith("| 100x"))
    assert "| 2000.0 | 25.0 | 10.0 | 80.0× | 200.0× |" in row  # walls, then stedi / duckdb and stedi / floor


def test_markdown_accepts_a_results_dict_and_a_single_engine(results):
    only_duck = {"measurements": [m for m in results if m["engine"] == DUCKDB]}
    text = markdown(only_duck)
    assert "| 10x | 10,000 | 1,110,000 | 2.50 |" in text
    assert STEDI not in text


def points_drawn(root) -> dict[str, list[tuple[float, float, float]]]:
    """engine -> (rows, x, y) of each point mark Vega drew (its aria-label names the datum)."""
    drawn: dict[str, list] = {}
    for element in root.iter(f"{SVG}path"):
        label, move = element.get("aria-label") or "", element.get("transform") or ""
        if element.get("aria-roledescription") == "point" and move.startswith("translate("):
            fields = dict(part.split(": ", 1) for part in label.split("; "))
            x, y = (float(v) for v in move[len("translate("):-1].split(","))
            drawn.setdefault(fields["engine"], []).append((float(fields["rows"]), x, y))
    return drawn


def test_svg_parses_with_one_line_per_engine_increasing_in_x(tmp_path, results):
    path = plot_svg(results, tmp_path / "plot" / "scale.svg")
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    lines = [e for e in root.iter(f"{SVG}path") if e.get("aria-roledescription") == "line mark"]
    assert len(lines) == 2
    drawn = points_drawn(root)
    assert set(drawn) == {STEDI, DUCKDB}
    for points in drawn.values():
        xs = [x for _, x, _ in sorted(points)]
        assert len(xs) == 3 and xs == sorted(xs) and len(set(xs)) == 3  # more rows, further right
    texts = {t.text for t in root.iter(f"{SVG}text")}
    assert {STEDI, DUCKDB} <= texts  # the legend
    assert {"landing rows", "wall seconds (median)"} <= texts


def test_slower_engine_is_drawn_higher(tmp_path, results):
    drawn = points_drawn(ET.parse(plot_svg(results, tmp_path / "scale.svg")).getroot())
    heights = {engine: [y for _, _, y in sorted(points)] for engine, points in drawn.items()}
    assert all(s < d for s, d in zip(heights[STEDI], heights[DUCKDB], strict=True))  # SVG y grows downwards


def test_linearity_is_the_log_log_slope_between_the_extreme_scales():
    assert linearity([(1e3, 1), (1e5, 100)]) == pytest.approx(1.0)
    assert linearity([(1e5, 10_000), (1e4, 50), (1e3, 1)]) == pytest.approx(2.0)
    assert linearity([(1e3, 5), (1e6, 5)]) == 0.0
    with pytest.raises(ValueError):
        linearity([(1e3, 1), (1e3, 2)])


def test_engines_put_the_embedded_pipeline_first(results):
    assert bench_report.engines(results) == [STEDI, DUCKDB]


def test_peak_memory_is_shown_per_kind_of_process_at_the_largest_scale(results):
    for m in results:
        if m["engine"] == STEDI:
            m["peak_memory_by_process"] = {"python": 3 * 2**30, "jvm": 5 * 2**30, "emulator": 200 * 2**20}
    text = markdown(results)
    assert "Peak memory per process at the largest scale (100x):" in text
    assert "| engine | python | jvm | emulator | whole tree |" in text
    assert "| stedi spark | 3.0 GiB | 5.0 GiB | 200.0 MiB | 2.0 GiB |" in text


def test_the_edit_run_loop_is_shown_beside_its_goals():
    loop = {"landing": "/data/udacity-starter", "policy": "strict", "first_pipeline_seconds": 52.0,
            "pipeline_again_seconds": 24.4, "pipeline_again_samples": [24.4, 23.9, 25.0],
            "pipeline_full_seconds": 30.1, "pipeline_full_samples": [30.1, 29.0, 31.5],
            "run_job": "machine_learning_curated", "run_job_seconds": 7.2, "run_job_samples": [7.9, 7.2, 6.8]}
    point = {"engine": bench_report.STEDI, "scale": "1x", "customers": 1000, "rows": 10, "wall_seconds": 1.0}
    text = bench_report.markdown({"measurements": [point], "edit_run": loop})
    assert "Edit-run loop on udacity-starter (policy strict, gates included, wall):" in text
    assert "| `stedi pipeline` again, a job file edited | 24.4 | 24.4, 23.9, 25.0 | 6.00 |" in text
    assert "| `stedi pipeline --full` again (every step), a job file edited | 30.1 | 30.1, 29.0, 31.5 | – |" in text
    assert "| `stedi run machine_learning_curated` | 7.20 | 7.9, 7.2, 6.8 | 3.00 |" in text
    assert "| first `stedi pipeline` (the warm engine and Spark start) | 52.0 | 1 | – |" in text
