"""The report's HTML: the charts inline as SVG, the numbers in tables beside them, and links to
the Data Docs and the benchmark results. One file, no script, no request beyond itself."""

from __future__ import annotations

import os
from html import escape
from pathlib import Path

from stedi.runtime import settings

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1240px; color: #222; }
h1 { margin-bottom: .2rem; } .meta { color: #666; margin-top: 0; }
section { margin: 2.2rem 0; } table { border-collapse: collapse; margin: .6rem 0; }
th, td { border-bottom: 1px solid #ddd; padding: .25rem .7rem; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; } figure { margin: .5rem 0; }
"""


def render(facts, charts: dict[str, str], out: Path) -> str:
    summary = facts.summary
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<title>STEDI lakehouse: run report</title>",
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "img-src 'self' data:\">",
        f"<style>{STYLE}</style></head><body>",
        "<h1>STEDI lakehouse: run report</h1>",
        f"<p class='meta'>policy <b>{escape(summary['policy'])}</b> on the <b>{escape(summary.get('target', ''))}"
        f"</b> target, started {escape(summary.get('started_at', ''))}, {summary.get('seconds', 0):.1f}s; "
        "only counts and pseudonyms appear here.</p>",
        _section("lineage", "Lineage", charts, _tables_table(facts)),
        _section("funnel", "Where the rows went", charts, _funnel_table(facts)),
        _section("quarantine", "Quarantine", charts, _quarantine_table(facts)),
        _section("consent", "Consent", charts, _readings_table(facts)),
        _section("sensor", "Sensor data", charts, ""),
        _section("history", "History", charts, ""),
        _erasures_section(facts),
        _glue_section(facts),
        f"<section id='links'><h2>More</h2><ul>{_links(out)}</ul></section>",
        "</body></html>",
    ]
    return "\n".join(parts)


def _section(name: str, title: str, charts: dict[str, str], table: str) -> str:
    figure = f"<figure data-chart='{name}'>{charts[name]}</figure>" if name in charts else "<p>Nothing to draw.</p>"
    return f"<section id='{name}'><h2>{escape(title)}</h2>{figure}{table}</section>"


def _table(headers: list[str], rows: list[list], numeric: set[int]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(
            f"<td class='n' data-value='{value}'>{value:,}</td>" if i in numeric and isinstance(value, int)
            else f"<td>{escape(str(value))}</td>" for i, value in enumerate(row)) + "</tr>"
        for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _tables_table(facts) -> str:
    rows = [[n.name, n.zone, n.rows, n.gate or "-", str(n.snapshot or "-")] for n in facts.nodes if n.kind == "table"]
    return _table(["table", "zone", "rows", "gate", "snapshot"], rows, {2})


def _funnel_table(facts) -> str:
    rows = [[s.source, s.stage, s.rows_in, s.kept, s.dropped, s.why] for s in facts.funnel]
    return _table(["source", "stage", "in", "kept", "dropped", "kept by the rule"], rows, {2, 3, 4})


def _quarantine_table(facts) -> str:
    landing = facts.summary["landing"]
    totals = [[name, v["records"], v["accepted"], v["quarantined"], v.get("suppressed", 0)]
              for name, v in landing.items()]
    reasons = [[q["source"], q["reason"], q["records"], q["example"]] for q in facts.quarantine]
    return (_table(["source", "records in files", "accepted", "quarantined", "suppressed"], totals, {1, 2, 3, 4})
            + (_table(["source", "reason", "records", "first example (file:line)"], reasons, {2}) if reasons else ""))


def _readings_table(facts) -> str:
    rows = [[r["when_taken"], r["readings"]] for r in facts.readings_by_consent]
    return _table(["trusted accelerometer readings, by consent", "readings"], rows, {1})


def _erasures_section(facts) -> str:
    """Erasures (`stedi forget`) and revoked consent, in counts only."""
    e = facts.erasures
    if not e:
        return ""
    from datetime import UTC, datetime

    last = datetime.fromtimestamp(e["last"] / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC") if e["last"] else "never"
    lines = [
        ["people erased (stedi forget)", e["people"]],
        ["erasures under way (finished by the next stedi forget)", e["unfinished"]],
        *[[f"records of erased people suppressed this run: {name}", n] for name, n in e["suppressed"].items()],
        *[[f"rows and records removed by erasures: {name}", n] for name, n in sorted(e["removed"].items())],
        ["customers whose consent was revoked or moved later this run (older snapshots expired)", e["revocations"]],
    ]
    table = _table(["", "count"], lines, {1})
    return (f"<section id='erasures'><h2>Erasures</h2><p>Counts only; the last erasure finished {escape(last)}. "
            "<code>stedi forget --verify --email ADDRESS</code> proves a person is in no table, snapshot or "
            f"object.</p>{table}</section>")


def _glue_section(facts) -> str:
    """The Glue Studio scripts run on this stack (`stedi glue run`) and what each wrote."""
    if not facts.glue_runs:
        return ""
    rows = []
    for run in facts.glue_runs[-20:]:
        state = "failed" if run.get("error") or run.get("exit_code") else "done"
        writes = run.get("writes") or [{}]
        for write in writes:
            rows.append([run.get("started_at", ""), run["job"], state, write.get("table") or "",
                         write.get("path") or "", write.get("format", ""), write.get("rows", "")])
    table = _table(["started (UTC)", "job", "state", "wrote table", "path", "format", "rows"], rows, {6})
    return ("<section id='glue'><h2>Glue Studio scripts</h2><p>Scripts run on this stack with "
            f"<code>stedi glue run</code>, the newest last (their tables are not the pipeline's).</p>{table}</section>")


def _links(out: Path) -> str:
    links = []
    docs = settings.docs_dir() / "index.html"
    if docs.exists():
        links.append(f"<li><a href='{escape(_relative(docs, out))}'>Data Docs of the quality gates</a></li>")
    bench = settings.project_root() / "build" / "bench" / "results.md"
    if bench.exists():
        links.append(f"<li><a href='{escape(_relative(bench, out))}'>benchmark results</a></li>")
    return "".join(links) or "<li>No Data Docs or benchmark results yet.</li>"


def _relative(path: Path, out: Path) -> str:
    return os.path.relpath(path, out)
