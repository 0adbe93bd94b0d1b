"""The run report (stedi/report/), for real: `stedi pipeline` on the starter data plus a file of
bad records writes build/report/index.html; headless Chromium renders it with the network
blocked; its numbers are the run summary's; no landing identifier reaches it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from stedi.runtime import settings
from tests.conftest import PROJECT_ROOT
from tests.integration.test_data_docs import ARTIFACTS, chromium_binary, page_requests, png_size, run_chromium

pytestmark = pytest.mark.e2e

CHARTS = ("lineage", "funnel", "quarantine", "consent", "sensor", "history")
# A reading whose user is an email no other record has, and whose x breaks the declared range: it is
# quarantined with a reason, and its email must not reach the report.
SECRET_EMAIL = "Report.Secret.Person@test.com"
BAD_LINES = [
    json.dumps({"user": SECRET_EMAIL, "timestamp": 1655564444103, "x": 99.0, "y": 0.0, "z": 0.0}),
    '{"user": "Broken.Line@test.com", "timestamp": ',
]


@pytest.fixture(scope="module")
def landing(starter_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("report") / "landing"
    shutil.copytree(starter_data, root)
    (root / "accelerometer" / "landing" / "accelerometer-bad.json").write_text("\n".join(BAD_LINES) + "\n")
    return root


@pytest.fixture(scope="module")
def run(landing, tmp_path_factory):
    """`stedi pipeline` as `make pipeline` runs it, its report in a directory of the module's."""
    out = tmp_path_factory.mktemp("report-out")
    summary = out / "summary.json"
    env = {**os.environ, "STEDI_REPORT_DIR": str(out / "report")}
    completed = subprocess.run(
        [sys.executable, "-m", "stedi.cli", "pipeline", "--landing", str(landing), "--policy", "rubric",
         "--summary", str(summary)],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=900,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return {"stdout": completed.stdout, "summary": json.loads(summary.read_text()), "dir": out / "report",
            "env": env}


def test_make_pipeline_prints_where_the_report_is(run):
    index = run["dir"] / "index.html"
    assert f"Run report: {index}" in run["stdout"].splitlines()
    assert index.is_file() and json.loads(settings.last_run_file().read_text()) == run["summary"]


def test_the_report_renders_offline_with_every_chart_drawn(run, tmp_path):
    screenshot = ARTIFACTS / "report.png"
    dom, tried = run_chromium(run["dir"] / "index.html", tmp_path / "chromium", screenshot=screenshot)
    assert page_requests(tried) == [], f"the report tried to reach the network: {page_requests(tried)}"
    for chart in CHARTS:
        figure = re.search(rf"<figure data-chart=\"{chart}\">(.*?)</figure>", dom, re.DOTALL)
        assert figure, f"no {chart} chart"
        assert "<svg" in figure.group(1) and len(re.findall(r"<path", figure.group(1))) >= 3, chart
    assert png_size(screenshot) == (1400, 1000) and screenshot.stat().st_size > 30_000


def test_the_page_logs_no_console_message(run, tmp_path):
    completed = subprocess.run(
        [chromium_binary(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", "--host-resolver-rules=MAP * ~NOTFOUND",
         "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000", "--dump-dom",
         (run["dir"] / "index.html").as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    assert completed.returncode == 0
    console = [line for line in completed.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == []


def cells(html: str, table_header: str) -> list[list[str]]:
    """The rows of every table of the page whose first header cell is `table_header`."""
    tables = re.findall(rf"<table><thead><tr><th>{table_header}</th>.*?</thead><tbody>(.*?)</tbody>", html, re.DOTALL)
    assert tables, table_header
    return [re.findall(r"<td[^>]*>(.*?)</td>", row) for body in tables for row in re.findall(r"<tr>(.*?)</tr>", body)]


def test_the_numbers_on_the_page_are_the_run_summarys(run):
    html = (run["dir"] / "index.html").read_text()
    summary = run["summary"]
    tables = {row[0]: int(row[2].replace(",", "")) for row in cells(html, "table")}
    assert tables == summary["tables"]
    landing = {row[0]: [int(v.replace(",", "")) for v in row[1:5]] for row in cells(html, "source")
               if len(row) == 5 and row[1].replace(",", "").isdigit()}
    assert landing == {name: [v["records"], v["accepted"], v["quarantined"], v["suppressed"]]
                       for name, v in summary["landing"].items()}
    assert summary["landing"]["accelerometer_landing"]["quarantined"] == len(BAD_LINES)
    for job in ("accelerometer_landing_to_trusted", "step_trainer_trusted"):  # every dropped row has its reason
        result, rows_in = summary["jobs"][job], summary["tables"][job.split("_to_")[0] if "_to_" in job
                                                                else "step_trainer_landing"]
        assert result["rows"] + sum(result["dropped"].values()) == rows_in, job
    assert "no consenting customer" in html and "device of no curated customer" in html
    assert f"{summary['cross_customer_pairs']:,} of the rows pair two different customers" in html
    kept = {row[1]: int(row[3].replace(",", "")) for row in cells(html, "source") if len(row) == 6}
    for job, result in summary["jobs"].items():
        assert any(stage.startswith(f"{job} -&gt;") and count == result["rows"] for stage, count in kept.items()), job


def test_no_direct_identifier_of_a_landing_record_is_on_the_page(run, landing):
    html = (run["dir"] / "index.html").read_text()
    identifiers = {SECRET_EMAIL, "Broken.Line@test.com"}
    for path in (landing / "customer" / "landing").glob("*.json"):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            identifiers |= {record[k] for k in ("email", "customerName", "phone", "serialNumber", "birthDay")
                            if record.get(k)}
    for path in (landing / "step_trainer" / "landing").glob("*.json"):
        identifiers |= {json.loads(line)["serialNumber"] for line in path.read_text().splitlines()}
    found = sorted(value for value in identifiers if str(value) in html)
    assert found == []
    assert "quarantined" in html and "declared range" in html  # the bad reading is there, by reason


def test_stedi_report_redraws_the_last_run(run):
    index = run["dir"] / "index.html"
    index.unlink()
    completed = subprocess.run([sys.executable, "-m", "stedi.cli", "report"], cwd=PROJECT_ROOT, env=run["env"],
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == str(index) and index.is_file()
