"""The report's pictures, drawn with Altair (Vega-Lite) and rendered to SVG by vl-convert, here
and offline: the page embeds the SVG and needs no script."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

ZONES = ("files", "landing", "trusted", "curated")
KIND_COLOURS = {"source": "#8c8c8c", "table": "#3b7dd8", "job": "#e0892b"}


def draw(facts) -> dict[str, str]:
    """Chart name -> SVG text, for the charts that have data."""
    charts = {"lineage": _lineage(facts), "funnel": _funnel(facts)}
    if facts.quarantine:
        charts["quarantine"] = _quarantine(facts)
    if facts.consent:
        charts["consent"] = _consent(facts)
    if facts.sensor:
        charts["sensor"] = _sensor(facts)
    if facts.history:
        charts["history"] = _history(facts)
    return {name: svg(chart) for name, chart in charts.items()}


def svg(chart) -> str:
    return _rendered(chart.to_json())


@functools.lru_cache(maxsize=32)
def _rendered(spec: str) -> str:
    """The SVG of a Vega-Lite spec (which holds the chart's data): the same spec draws the same
    picture, so a process that draws the report again (the warm engine) renders only what changed."""
    import vl_convert

    return vl_convert.vegalite_to_svg(spec)


def _frame(rows):
    import pandas as pd

    return pd.DataFrame(rows)


def _lineage(facts):
    """Each node in its zone's column, edges as lines; jobs sit between the zones they join."""
    import altair as alt

    column = {"source": 0, "landing": 1, "trusted": 2.2, "curated": 3.4}
    placed: dict[str, tuple[float, float]] = {}
    per_column: dict[float, int] = {}
    for node in facts.nodes:
        x = column["source"] if node.kind == "source" else column[node.zone] - (0.6 if node.kind == "job" else 0)
        per_column[x] = per_column.get(x, 0) + 1
        placed[node.id] = (x, per_column[x])
    nodes = [{"name": n.name if n.kind != "source" else n.name.split("/", 3)[-1], "kind": n.kind,
              "x": placed[n.id][0], "y": placed[n.id][1],
              "label": _node_label(n)} for n in facts.nodes]
    edges = []
    for i, (a, b) in enumerate(facts.edges):
        for end in (a, b):
            edges.append({"edge": i, "x": placed[end][0], "y": placed[end][1]})
    x = alt.X("x:Q", axis=None, scale=alt.Scale(domain=[-0.35, 3.75]))
    y = alt.Y("y:Q", axis=None, scale=alt.Scale(reverse=True, domain=[0.3, max(per_column.values()) + 0.7]))
    lines = alt.Chart(_frame(edges)).mark_line(color="#bbbbbb").encode(x=x, y=y, detail="edge:N")
    colour = alt.Color("kind:N", scale=alt.Scale(domain=list(KIND_COLOURS), range=list(KIND_COLOURS.values())),
                       legend=alt.Legend(orient="bottom", title=None))
    points = alt.Chart(_frame(nodes)).mark_circle(size=220, opacity=1).encode(x=x, y=y, color=colour)
    names = alt.Chart(_frame(nodes)).mark_text(dy=-14, fontSize=10, fontWeight="bold")
    labels = alt.Chart(_frame(nodes)).mark_text(dy=10, fontSize=9, color="#555555", lineBreak="\n", baseline="top")
    layers = lines + points + names.encode(x=x, y=y, text="name:N") + labels.encode(x=x, y=y, text="label:N")
    return layers.properties(width=1180, height=70 * max(per_column.values()) + 40,
                             title="Lineage: sources -> landing -> jobs -> trusted -> curated")


def _node_label(node) -> str:
    parts = [] if node.rows is None else [f"{node.rows:,} {'records' if node.kind == 'source' else 'rows'}"]
    if node.gate:
        parts.append(f"gate {node.gate}")
    label = " · ".join(parts)
    return label + (f"\nsnapshot {node.snapshot}" if node.snapshot else "")


def _funnel(facts):
    import altair as alt

    rows = []
    for order, step in enumerate(facts.funnel):
        rows.append({"source": step.source, "order": order, "stage": step.stage, "rows": step.kept, "part": "kept"})
        rows.append({"source": step.source, "order": order, "stage": step.stage,
                     "rows": step.dropped, "part": "dropped"})
    return alt.Chart(_frame(rows)).mark_bar().encode(
        y=alt.Y("stage:N", sort=alt.SortField("order"), title=None),
        x=alt.X("rows:Q", title="rows", stack="zero"),
        color=alt.Color("part:N", scale=alt.Scale(domain=["kept", "dropped"], range=["#3b7dd8", "#d9534f"]),
                        legend=alt.Legend(orient="bottom", title=None)),
        row=alt.Row("source:N", title=None, header=alt.Header(labelAngle=0, labelAlign="left", labelFontSize=12)),
        tooltip=["stage:N", "part:N", "rows:Q"],
    ).resolve_scale(y="independent", x="independent").properties(width=700, title="Row funnel per source")


def _quarantine(facts):
    import altair as alt

    return alt.Chart(_frame(facts.quarantine)).mark_bar(color="#d9534f").encode(
        y=alt.Y("reason:N", sort="-x", title=None, axis=alt.Axis(labelLimit=520)),
        x=alt.X("records:Q", title="records quarantined"),
        row=alt.Row("source:N", title=None),
    ).resolve_scale(y="independent").properties(width=360, title="Quarantine by reason")


def _consent(facts):
    import altair as alt

    return alt.Chart(_frame(facts.consent)).mark_bar().encode(
        x=alt.X("day:O", title="day"),
        y=alt.Y("customers:Q", title="curated customers"),
        xOffset="event:N",
        color=alt.Color("event:N", legend=alt.Legend(orient="bottom", title=None)),
    ).properties(width=700, height=220, title="Curated customers: registration and research consent, by day")


def _sensor(facts):
    import altair as alt

    rows = [{**r, "time": datetime.fromtimestamp(r["instant"] / 1000, tz=UTC).isoformat()} for r in facts.sensor]
    return alt.Chart(_frame(rows)).mark_line(point=True).encode(
        x=alt.X("time:T", title="time (UTC)"),
        y=alt.Y("value:Q", title=None),
        color=alt.Color("device:N", legend=alt.Legend(orient="bottom", title="device (pseudonym)")),
        row=alt.Row("measure:N", title=None,
                    sort=["distance", "magnitude"]),
    ).resolve_scale(y="independent").properties(
        width=900, height=180,
        title="Sensor data: Step Trainer distance and accelerometer magnitude on one time axis")


def _history(facts):
    import altair as alt

    rows = [{**r, "committed_at": r["committed_at"].isoformat()} for r in facts.history]
    return alt.Chart(_frame(rows)).mark_line(point=True).encode(
        x=alt.X("committed_at:T", title="snapshot committed"),
        y=alt.Y("records:Q", title="rows"),
        color=alt.Color("table:N", legend=alt.Legend(orient="right", title=None)),
    ).properties(width=800, height=240, title="Rows per table across the snapshots kept (one per run)")
