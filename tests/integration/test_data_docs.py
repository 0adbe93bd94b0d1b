"""Great Expectations Data Docs work offline: a real validation, a real Data Docs build, the
site rewritten by `stedi.datadocs.make_offline`, then opened in headless Chromium with every
host unresolvable and the network log recorded.

Artifacts (kept for people to look at): build/test-artifacts/data-docs-index.png and
build/test-artifacts/data-docs-validation.png.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import struct
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from stedi.gates import datadocs
from tests.conftest import PROJECT_ROOT

ARTIFACTS = PROJECT_ROOT / "build" / "test-artifacts"
SUITE = "customer_trusted"
GX_BUCKET = "great-expectations-web-assets"
# Hosts of Chromium's own background services (time sync, updater, account check): they show up
# in the network log whatever page is open, and are unresolvable here like every other host.
CHROMIUM_SERVICE_HOSTS = ("google.com", "googleapis.com", "gstatic.com", "gvt1.com", "gvt2.com")


def chromium_binary() -> str:
    found = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if not found:
        pytest.fail(
            "headless Chromium is needed to check the Data Docs in a browser and is not installed: "
            "run `make test` (it installs it) or `apt-get update && apt-get install -y chromium` (Debian)",
            pytrace=False,
        )
    return found


def run_chromium(page: Path, workdir: Path, *, screenshot: Path | None = None) -> tuple[str, list[str]]:
    """Open `page` with no network: returns the DOM after scripts ran and the http(s) URLs Chromium tried."""
    workdir.mkdir(parents=True, exist_ok=True)
    netlog = workdir / "netlog.json"
    cmd = [
        chromium_binary(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={workdir / 'profile'}",
        # No fetch can leave the machine: every name is unresolvable, and whatever still tries
        # (an IP literal) goes to a proxy on a closed local port.
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--proxy-server=127.0.0.1:9",
        f"--log-net-log={netlog}",
        "--hide-scrollbars",
        "--window-size=1400,1000",
        "--virtual-time-budget=10000",
        "--dump-dom",
    ]
    if screenshot is not None:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        screenshot.unlink(missing_ok=True)
        cmd.append(f"--screenshot={screenshot}")
    proc = subprocess.run([*cmd, page.as_uri()], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"chromium failed ({proc.returncode}):\n{proc.stderr[-3000:]}"
    assert "<html" in proc.stdout, f"chromium printed no DOM:\n{proc.stderr[-3000:]}"
    tried = sorted(set(re.findall(r'"url":"(https?://[^"]+)"', netlog.read_text(errors="replace"))))
    return proc.stdout, tried


def page_requests(tried: list[str]) -> list[str]:
    """The http(s) requests that did not come from Chromium's own background services."""

    def own_service(url: str) -> bool:
        host = urlsplit(url).hostname or ""
        return any(host == h or host.endswith("." + h) for h in CHROMIUM_SERVICE_HOSTS)

    return [url for url in tried if not own_service(url)]


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A file-backed GX context (so pages carry a data context id), one failing validation, docs built."""
    import great_expectations as gx
    import great_expectations.expectations as gxe
    import pandas as pd

    root = tmp_path_factory.mktemp("gx")
    site_dir = root / "data-docs"
    context = gx.get_context(mode="file", project_root_dir=str(root / "project"))
    datadocs.use_data_docs_site(context, site_dir)
    assert list(context.list_data_docs_sites()) == [datadocs.DEFAULT_SITE_NAME]

    customers = pd.DataFrame(
        {
            "serialnumber": [f"sn-{i:03d}" for i in range(8)],
            "email": [f"user{i}@example.test" for i in range(8)],
            "country": ["US", "US", "FR", "XX", "US", "FR", "YY", "US"],
            "age": [21, 34, 45, 52, 61, 38, 29, 47],
        }
    )
    batch = (
        context.data_sources.add_pandas("stedi")
        .add_dataframe_asset(SUITE)
        .add_batch_definition_whole_dataframe("whole table")
    )
    suite = context.suites.add(gx.ExpectationSuite(name=SUITE))
    for expectation in (
        gxe.ExpectTableRowCountToBeBetween(min_value=1, max_value=1000),
        gxe.ExpectColumnValuesToNotBeNull(column="serialnumber"),
        gxe.ExpectColumnValuesToBeUnique(column="serialnumber"),
        gxe.ExpectColumnValuesToBeInSet(column="country", value_set=["US", "FR"]),  # fails: XX, YY
        # rendered with a vega-lite chart on the validation page: exercises the vendored vega
        gxe.ExpectColumnKLDivergenceToBeLessThan(
            column="age", partition_object={"bins": [18, 40, 70], "weights": [0.5, 0.5]}, threshold=0.6
        ),
    ):
        suite.add_expectation(expectation)
    validation = context.validation_definitions.add(gx.ValidationDefinition(name=SUITE, data=batch, suite=suite))
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name="quality_gate",
            validation_definitions=[validation],
            actions=[gx.checkpoint.UpdateDataDocsAction(name="update_data_docs")],
            result_format={"result_format": "COMPLETE"},
        )
    )
    result = checkpoint.run(batch_parameters={"dataframe": customers})
    assert not result.success  # the country expectation fails, so the page shows unexpected values

    # As GX writes it, the index loads its tables' code from CDNs and leaks the context id.
    raw_index = (site_dir / "index.html").read_text()
    context_id = str(context.data_context_id)
    assert "https://code.jquery.com/" in raw_index and f"dataContextId={context_id}" in raw_index

    report = datadocs.build_offline_data_docs(context)
    print(report.summary())
    return {"dir": site_dir, "report": report, "context_id": context_id}


def test_vendored_assets_match_the_manifest():
    datadocs.verify_vendored_assets()
    packages = {(f.npm, f.version) for f in datadocs.vendored_assets() if f.npm}
    # the exact versions the GX 1.24.1 templates reference
    for pinned in [
        ("jquery", "3.7.1"),
        ("bootstrap", "4.3.1"),
        ("popper.js", "1.12.9"),
        ("bootstrap-table", "1.19.1"),
        ("bootstrap-table", "1.19.0"),
        ("bootstrap-datepicker", "1.9.0"),
        ("@forevolve/bootstrap-dark", "1.1.0"),
        ("@fortawesome/fontawesome-free", "6.6.0"),
    ]:
        assert pinned in packages
    majors = {npm: version.split(".")[0] for npm, version in packages}
    assert (majors["vega"], majors["vega-lite"], majors["vega-embed"]) == ("5", "5", "6")
    for f in datadocs.vendored_assets():
        if f.npm:
            licences = [p for p in f.source.parents if p.parent.name == "vendor"][0].glob("LICENSE*")
            assert list(licences), f"no LICENSE next to {f.source}"


def test_make_offline_refuses_an_unknown_remote_asset(tmp_path):
    (tmp_path / "index.html").write_text(
        '<html><head><script src="https://cdn.example.test/new-widget.js"></script></head><body></body></html>'
    )
    with pytest.raises(datadocs.OfflineError, match="new-widget.js"):
        datadocs.make_offline(tmp_path)


def test_no_remote_reference_is_left(site):
    site_dir, report = site["dir"], site["report"]
    cdn = {"https://code.jquery.com/jquery-3.7.1.min.js", "https://cdn.jsdelivr.net/npm/vega@5"}
    assert cdn <= set(report.rewritten)
    assert any("logo-long.png" in url for url in report.rewritten)
    assert datadocs.find_remote_references(site_dir) == []
    assert datadocs.find_broken_local_references(site_dir) == []

    vendor = site_dir / datadocs.SITE_VENDOR_DIR
    for path in sorted(site_dir.rglob("*")):
        if path.suffix not in (".html", ".css"):
            continue
        text = path.read_text(encoding="utf-8")
        assert site["context_id"] not in text, f"{path} leaks the data context id"
        assert GX_BUCKET not in text, f"{path} still points at GX's asset bucket"
        if path.is_relative_to(vendor):
            continue  # npm's own files, byte for byte: URLs only in licence comments and SVG namespaces
        left = [
            url
            for url in re.findall(r"https?://[^\s\"'<>)]+", text)
            # not fetched: a vega-lite spec's "$schema" identifier, an inline SVG's XML namespace
            if not url.startswith(("https://vega.github.io/schema/", "http://www.w3.org/"))
        ]
        assert left == [], f"{path.relative_to(site_dir)} still mentions {left}"

    font_css = next(vendor.glob("fontawesome-free-*/css/all.min.css")).read_text()
    assert "url(../webfonts/fa-solid-900.woff2)" in font_css

    # idempotent: GX rebuilds pages on every checkpoint run, so this runs after every build
    again = datadocs.make_offline(site_dir)
    assert again.rewritten == {} and again.removed == {}


def test_index_renders_offline_in_chromium(site, tmp_path):
    screenshot = ARTIFACTS / "data-docs-index.png"
    dom, tried = run_chromium(site["dir"] / "index.html", tmp_path / "index", screenshot=screenshot)
    assert page_requests(tried) == [], f"the index tried to reach the network: {page_requests(tried)}"

    # bootstrap-table wraps the table and builds its rows from JSON: only if jQuery and
    # bootstrap-table loaded (offline with the stock CDN links the table stays empty).
    assert 'class="bootstrap-table bootstrap4"' in dom and "fixed-table-container" in dom
    table = re.search(r"<table[^>]*ge-index-page-validation-results-table[^>]*>(.*?)</table>", dom, re.DOTALL)
    assert table, "no validation results table in the rendered index"
    rows = re.findall(r'<tr[^>]*\bdata-index="\d+"[^>]*>(.*?)</tr>', table.group(1), re.DOTALL)
    assert rows, "the validation results table has no rows"
    assert SUITE in rows[0] and "ge-failed-icon" in rows[0]

    assert png_size(screenshot) == (1400, 1000)
    assert screenshot.stat().st_size > 20_000  # a blank or unstyled page compresses far smaller


def test_index_styles_scripts_and_fonts_load_from_the_site(site, tmp_path):
    """A copy of the index with a probe script appended reports what the browser really applied."""
    probe_page = site["dir"] / "_offline_probe.html"
    probe = """
<script>
window.addEventListener('load', async () => {
  await document.fonts.ready;
  const q = (s) => document.querySelector(s);
  const style = (s, p) => (q(s) ? getComputedStyle(q(s)).getPropertyValue(p) : null);
  document.body.setAttribute('data-probe', JSON.stringify({
    jquery: window.jQuery ? jQuery.fn.jquery : null,
    bootstrapTable: !!(window.jQuery && jQuery.fn.bootstrapTable),
    vega: window.vega ? vega.version : null,
    vegaLite: window.vegaLite ? vegaLite.version : null,
    vegaEmbed: typeof window.vegaEmbed === 'function',
    tableCollapse: style('table.ge-index-page-validation-results-table', 'border-collapse'),
    rowColor: style('table.ge-index-page-validation-results-table tbody td', 'border-top-color'),
    iconFont: style('i.fas', 'font-family'),
    fontAwesome: document.fonts.check('900 16px "Font Awesome 6 Free"'),
    logoWidth: q('.navbar-brand img') ? q('.navbar-brand img').naturalWidth : 0,
    // (Chromium keeps no resource timing for file:// loads, so list what the document linked)
    resources: [...Array.from(document.scripts).map((e) => e.src),
                ...Array.from(document.styleSheets).map((e) => e.href)].filter(Boolean),
  }));
});
</script>"""
    probe_page.write_text((site["dir"] / "index.html").read_text().replace("</body>", probe + "\n</body>"))
    try:
        dom, tried = run_chromium(probe_page, tmp_path / "probe")
    finally:
        probe_page.unlink()
    assert page_requests(tried) == []
    found = re.search(r'data-probe="([^"]*)"', dom)
    assert found, "the probe script did not run"
    result = json.loads(html.unescape(found.group(1)))

    assert result["jquery"] == "3.7.1" and result["bootstrapTable"]
    assert result["vega"].startswith("5.") and result["vegaLite"].startswith("5.") and result["vegaEmbed"]
    assert result["tableCollapse"] == "collapse"  # bootstrap's .table styles applied
    assert result["rowColor"] == "rgb(222, 226, 230)"  # bootstrap 4's table border colour
    assert "Font Awesome 6 Free" in result["iconFont"] and result["fontAwesome"]
    assert result["logoWidth"] > 0  # GX's own logo, served from the site
    assert all(url.startswith("file://") for url in result["resources"]), result["resources"]
    linked = "\n".join(result["resources"])
    for asset in ("jquery.min.js", "bootstrap-table.min.js", "vega.min.js", "bootstrap.min.css", "all.min.css"):
        assert "/static/vendor/" in linked and asset in linked, f"{asset} is not linked from the site"


def test_validation_page_shows_the_unexpected_values(site, tmp_path):
    pages = sorted((site["dir"] / "validations").rglob("*.html"))
    assert len(pages) == 1
    screenshot = ARTIFACTS / "data-docs-validation.png"
    dom, tried = run_chromium(pages[0], tmp_path / "validation", screenshot=screenshot)
    assert page_requests(tried) == [], f"the validation page tried to reach the network: {page_requests(tried)}"

    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", dom)))
    assert "values must belong to this set" in text
    assert "2 unexpected values found" in text
    unexpected = re.search(r"Unexpected Value\s+Count.*?(XX.*?YY|YY.*?XX)", text)
    assert unexpected, "the unexpected values XX and YY are not listed"
    # vega-embed drew the KL divergence chart (a canvas it creates itself)
    assert re.search(r'class="[^"]*\bvega-embed\b[^"]*"[^>]*>\s*<canvas[^>]*class="marks"', dom)
    assert png_size(screenshot) == (1400, 1000)


def test_chromium_network_log_catches_remote_requests(tmp_path):
    """Control: the network-log check is not vacuous, a page with a CDN script is caught."""
    page = tmp_path / "remote.html"
    page.write_text('<html><head><script src="https://code.jquery.com/jquery-3.7.1.min.js"></script></head></html>')
    _, tried = run_chromium(page, tmp_path / "control")
    assert page_requests(tried) == ["https://code.jquery.com/jquery-3.7.1.min.js"]
