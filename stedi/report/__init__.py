"""The run report: one offline page (build/report/index.html) people look at after a run.

facts.py gathers its numbers (the run summary, the declarations, and Athena SQL over the tables
through `stedi query`'s DuckDB engine), charts.py draws them with Altair (Vega-Lite, rendered to
SVG here by vl-convert: the page has no script and fetches nothing), page.py lays them out.
Only counts and pseudonyms reach the page, never a landing record's identifiers.
"""

from __future__ import annotations

from pathlib import Path

from stedi.runtime import settings


def write(summary: dict, stack, out: Path, progress=None) -> Path:
    """Gather, draw and write the report of the run `summary` describes; returns index.html."""
    from stedi.report import charts, facts, page

    progress = progress or (lambda message: None)
    gathered = facts.gather(summary, stack)
    drawn = charts.draw(gathered)
    settings.private_dir(out)  # sensor data of pseudonymous devices, masked quarantine values
    index = out / "index.html"
    index.write_text(page.render(gathered, drawn, out))
    progress(f"run report: {index}")
    return index
