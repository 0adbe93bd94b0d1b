"""The scale benchmark's report: a Markdown summary and a log-log plot as a standalone SVG.

The question the benchmark asks is how the embedded pipeline's time grows with the data,
and how far it stays from a single-machine SQL engine doing the same work. A log-log plot
answers both at a glance (a slope of 1 is linear growth; the vertical gap between the two
lines is the ratio), so it is drawn by hand here: the project has no plotting library, and
an SVG opens in any browser and renders inline in Markdown.

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
from xml.sax.saxutils import escape

STEDI = "stedi spark"  # the pipeline on Spark's Iceberg catalog (the default)
BRIDGE = "stedi pyiceberg"  # the pipeline on the pyiceberg bridge (the offline fallback)
DUCKDB = "duckdb"
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")

# Plot geometry, in SVG user units.
WIDTH, HEIGHT = 720, 480
LEFT, RIGHT, TOP, BOTTOM = 80, 190, 50, 60


def measurements(results) -> list[dict]:
    return list(results["measurements"] if isinstance(results, dict) else results)


def engines(results) -> list[str]:
    """The engines measured, the embedded pipeline first, then the others as they appear."""
    seen = list(dict.fromkeys(m["engine"] for m in measurements(results)))
    return sorted(seen, key=lambda e: (e != STEDI, e != BRIDGE, e != DUCKDB, seen.index(e)))


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
    sections = [_scale_table(runs, names), _slopes(runs, names), _job_table(runs, names)]
    return "\n\n".join(s for s in sections if s) + "\n"


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
    header = ["job"] + [f"{e} s" for e in shown] + [f"{shown[0]} / {e}" for e in shown[1:]] + ["rows out"]
    lines = [f"Jobs at the largest scale ({scale}):", "", _row(header), _row(["---"] + ["---:"] * (len(header) - 1))]
    for job in jobs:
        details = [by_engine[e]["jobs"].get(job) for e in shown]
        seconds = [_job_seconds(d) for d in details]
        cells = [job] + [_seconds(s) for s in seconds] + [_ratio(seconds[0], s) for s in seconds[1:]]
        rows_out = next((d["rows_out"] for d in details if isinstance(d, dict) and "rows_out" in d), None)
        lines.append(_row(cells + [f"{rows_out:,}" if rows_out is not None else "–"]))
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
    """Write a log-log plot of wall seconds against landing rows, one line per engine."""
    runs = measurements(results)
    names = engines(runs)
    lines = {e: _points(runs, e) for e in names}
    every = [p for points in lines.values() for p in points]
    x_axis = _LogAxis([r for r, _ in every], LEFT, WIDTH - RIGHT)
    y_axis = _LogAxis([s for _, s in every], HEIGHT - BOTTOM, TOP)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        _text((LEFT + WIDTH - RIGHT) / 2, TOP / 2 + 4, title, size=15, anchor="middle", weight="bold"),
        *_grid(x_axis, y_axis),
        *[_series(points, x_axis, y_axis, COLORS[i % len(COLORS)], e) for i, (e, points) in enumerate(lines.items())],
        *_legend(names),
        "</svg>",
    ]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return path


class _LogAxis:
    """Maps values to pixels on a log scale spanning whole decades around the data."""

    def __init__(self, values: list[float], start: float, end: float):
        positive = [v for v in values if v > 0]
        if not positive:
            raise ValueError("a log axis needs positive values")
        self.low = math.floor(math.log10(min(positive)))
        self.high = max(math.ceil(math.log10(max(positive))), self.low + 1)
        self.start, self.end = start, end

    def __call__(self, value: float) -> float:
        share = (math.log10(value) - self.low) / (self.high - self.low)
        return self.start + share * (self.end - self.start)

    @property
    def decades(self) -> list[int]:
        return list(range(self.low, self.high + 1))


def _grid(x: _LogAxis, y: _LogAxis) -> list[str]:
    """Minor lines at 2..9 of each decade, labelled major lines at each decade, axis titles."""
    left, right, bottom, top = x.start, x.end, y.start, y.end
    parts = []
    for axis, vertical in ((x, True), (y, False)):
        for k in axis.decades[:-1]:
            for m in range(2, 10):
                p = axis(m * 10.0**k)
                parts.append(_line(p, bottom, p, top, "#eee") if vertical else _line(left, p, right, p, "#eee"))
    for k in x.decades:
        p = x(10.0**k)
        parts += [_line(p, bottom, p, top, "#bbb"), _text(p, bottom + 18, _count_label(k), anchor="middle")]
    for k in y.decades:
        p = y(10.0**k)
        parts += [_line(left, p, right, p, "#bbb"), _text(left - 8, p + 4, _seconds_label(k), anchor="end")]
    parts.append(
        f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" fill="none" stroke="#333"/>'
    )
    parts.append(_text((left + right) / 2, HEIGHT - 15, "landing rows (log scale)", anchor="middle"))
    mid = (top + bottom) / 2
    parts.append(
        f'<text x="20" y="{mid:.1f}" text-anchor="middle" transform="rotate(-90 20 {mid:.1f})">'
        "wall seconds (log scale)</text>"
    )
    return parts


def _series(points: list[tuple[float, float]], x: _LogAxis, y: _LogAxis, color: str, engine: str) -> str:
    placed = [(x(rows), y(seconds), rows, seconds) for rows, seconds in points]
    coords = " ".join(f"{px:.1f},{py:.1f}" for px, py, _, _ in placed)
    markers = "".join(
        f'<circle cx="{px:.1f}" cy="{py:.1f}" r="4" fill="{color}">'
        f"<title>{escape(engine)}: {rows:,.0f} rows, {seconds:.2f} s</title></circle>"
        for px, py, rows, seconds in placed
    )
    return (
        f'<g class="engine" data-engine="{escape(engine)}">'
        f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="2"/>{markers}</g>'
    )


def _legend(names: list[str]) -> list[str]:
    x, y = WIDTH - RIGHT + 20, TOP + 10
    parts = [
        f'<rect x="{x - 10}" y="{y - 15}" width="{RIGHT - 30}" height="{22 * len(names) + 12}" '
        'fill="white" stroke="#999"/>'
    ]
    for i, engine in enumerate(names):
        color, row = COLORS[i % len(COLORS)], y + 22 * i
        parts += [
            _line(x, row, x + 24, row, color, width=2),
            f'<circle cx="{x + 12}" cy="{row}" r="4" fill="{color}"/>',
            _text(x + 32, row + 4, engine),
        ]
    return parts


def _points(runs: list[dict], engine: str) -> list[tuple[float, float]]:
    return sorted((m["rows"], m["wall_seconds"]) for m in runs if m["engine"] == engine)


def _line(x1: float, y1: float, x2: float, y2: float, color: str, width: float = 1) -> str:
    return f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{color}" stroke-width="{width}"/>'


def _text(x: float, y: float, text: str, size: int = 12, anchor: str = "start", weight: str = "normal") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" font-weight="{weight}">'
        f"{escape(text)}</text>"
    )


def _count_label(decade: int) -> str:
    for suffix, power in (("G", 9), ("M", 6), ("k", 3)):
        if decade >= power:
            return f"{10 ** (decade - power)}{suffix}"
    return str(10**decade) if decade >= 0 else f"{10.0**decade:g}"


def _seconds_label(decade: int) -> str:
    return f"{10**decade:,} s" if decade >= 0 else f"{10.0**decade:g} s"
