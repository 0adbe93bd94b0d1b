"""Great Expectations Data Docs that work offline.

GX 1.24.1 renders Data Docs pages that load Bootstrap, jQuery, bootstrap-table, popper,
bootstrap-datepicker, bootstrap-dark, font-awesome and vega from CDNs, and a logo from GX's S3
bucket with the build time and the data context id in its query string. Offline, the index
tables render empty. `make_offline` rewrites a built site to use copies of those assets vendored
from the npm registry (`stedi/datadocs_assets/`, pinned with sha256 in `MANIFEST.json`,
re-fetched by `scripts/vendor_datadocs_assets.sh`), drops the remaining remote links, and fails
if any remote reference is left.

Typical use::

    site = use_data_docs_site(context, Path("build/data-docs"))
    ...  # run checkpoints (UpdateDataDocsAction builds pages into the site)
    report = build_offline_data_docs(context)  # build_data_docs + make_offline

GX rewrites its static files and regenerates pages on every build (UpdateDataDocsAction
included), so `make_offline` must run after the last build; it is idempotent.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from stedi.runtime import settings

ASSETS_DIR = Path(__file__).resolve().with_name("datadocs_assets")
MANIFEST_PATH = ASSETS_DIR / "MANIFEST.json"
SITE_VENDOR_DIR = "static/vendor"  # where make_offline puts the assets, relative to the site root
DEFAULT_SITE_NAME = "local_site"


class OfflineError(RuntimeError):
    """A Data Docs site still references something on the network, or a local asset is missing."""


# ---------------------------------------------------------------------------------------------
# The vendored assets


@dataclass(frozen=True)
class VendoredFile:
    npm: str | None  # npm package name; None for a file written for this project
    version: str
    license: str
    path: str  # path inside the npm package
    source: Path  # the copy in stedi/datadocs_assets/vendor/
    sha256: str
    cdn_urls: tuple[str, ...]  # the remote URLs (as written in the GX templates) it replaces

    @property
    def site_path(self) -> str:
        """Where make_offline puts it, relative to the site root."""
        return f"{SITE_VENDOR_DIR}/{self.source.relative_to(ASSETS_DIR / 'vendor').as_posix()}"


@cache
def _manifest() -> dict[str, Any]:
    return json.loads(MANIFEST_PATH.read_text())


@cache
def vendored_assets() -> tuple[VendoredFile, ...]:
    """Every file listed in MANIFEST.json (scripts, stylesheets, fonts, licences, the dark logo)."""
    files = []
    for pkg in _manifest()["packages"]:
        for entry in pkg["files"]:
            files.append(
                VendoredFile(
                    npm=pkg["npm"],
                    version=pkg["version"],
                    license=pkg["license"],
                    path=entry["path"],
                    source=ASSETS_DIR / "vendor" / pkg["dir"] / entry["path"],
                    sha256=entry["sha256"],
                    cdn_urls=tuple(entry.get("cdn_urls", ())),
                )
            )
    return tuple(files)


@cache
def url_rewrites() -> dict[str, str]:
    """Remote URL (without query string) -> target path relative to the site root."""
    rewrites = {url: f.site_path for f in vendored_assets() for url in f.cdn_urls}
    for entry in _manifest().get("site_rewrites", ()):
        rewrites[entry["cdn_url"]] = entry["target"]
    return rewrites


def verify_vendored_assets() -> None:
    """Raise OfflineError unless every vendored file is present with its pinned sha256."""
    bad = []
    for f in vendored_assets():
        if not f.source.is_file():
            bad.append(f"missing {f.source}")
        elif hashlib.sha256(f.source.read_bytes()).hexdigest() != f.sha256:
            bad.append(f"sha256 mismatch: {f.source}")
    if bad:
        raise OfflineError(
            "the vendored Data Docs assets do not match MANIFEST.json "
            "(re-run scripts/vendor_datadocs_assets.sh):\n  " + "\n  ".join(bad)
        )


# ---------------------------------------------------------------------------------------------
# The GX site


def data_docs_site_config(base_directory: Path) -> dict[str, Any]:
    """A GX 1.24.1 Data Docs site writing static HTML under `base_directory` (index.html at its root).

    Register it with `context.add_data_docs_site(name, config)` (or `use_data_docs_site`).
    A relative `base_directory` is taken by GX relative to a file context's root; pass an
    absolute path to avoid surprises.
    """
    return {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str(base_directory),
        },
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }


def use_data_docs_site(context: Any, base_directory: Path, site_name: str = DEFAULT_SITE_NAME) -> str:
    """Make `base_directory` the context's only Data Docs site; returns the site name.

    Every GX context starts with a default site (an ephemeral context's writes into a fresh
    temporary directory); it is removed so that UpdateDataDocsAction builds only this one.
    """
    for name in list(context.list_data_docs_sites()):
        context.delete_data_docs_site(name)
    settings.private_dir(Path(base_directory))  # its pages show values of the tables they check
    context.add_data_docs_site(site_name, data_docs_site_config(Path(base_directory).resolve()))
    return site_name


def build_offline_data_docs(context: Any, site_name: str = DEFAULT_SITE_NAME) -> OfflineReport:
    """`context.build_data_docs(site_names=[site_name])`, then `make_offline` on the site."""
    site_config = context.list_data_docs_sites()[site_name]
    site_dir = Path(site_config["store_backend"]["base_directory"])
    if not site_dir.is_absolute():
        site_dir = Path(context.root_directory) / site_dir
    context.build_data_docs(site_names=[site_name])
    return make_offline(site_dir)


# ---------------------------------------------------------------------------------------------
# Rewriting a built site


@dataclass
class OfflineReport:
    site_dir: Path
    pages: list[Path] = field(default_factory=list)  # html files processed
    stylesheets: list[Path] = field(default_factory=list)  # css files processed
    vendored: list[str] = field(default_factory=list)  # files copied, relative to the site root
    rewritten: dict[str, int] = field(default_factory=dict)  # remote URL -> how many references
    removed: dict[str, int] = field(default_factory=dict)  # what was dropped -> how many times

    def _count(self, table: dict[str, int], key: str, n: int = 1) -> None:
        if n:
            table[key] = table.get(key, 0) + n

    def summary(self) -> str:
        lines = [
            f"Data Docs made offline in {self.site_dir}: {len(self.pages)} pages, "
            f"{len(self.stylesheets)} stylesheets, {len(self.vendored)} vendored files"
        ]
        lines += [f"  rewrote {n:3d} x {url}" for url, n in sorted(self.rewritten.items())]
        lines += [f"  removed {n:3d} x {what}" for what, n in sorted(self.removed.items())]
        return "\n".join(lines)


@dataclass(frozen=True)
class Reference:
    file: Path
    kind: str  # e.g. "script src", "link href", "css url()", "a href"
    url: str

    def __str__(self) -> str:
        return f"{self.file}: {self.kind} {self.url}"


# A reference that leaves the machine: any URL with an authority (`https://`, `//cdn...`, `ftp://`).
_REMOTE = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
_NOT_FETCHED = re.compile(r"^\s*(?:#|data:|javascript:|mailto:|about:|blob:)", re.IGNORECASE)
# a CDN URL as the templates write it, plus any query string (the logo carries ?d=<time>&dataContextId=<id>),
# up to the end of the attribute or url(): a longer URL that merely starts the same is left alone
_QUERY = r"""(?:\?[^"'\s<>()]*)?(?=["'\s<>()]|$)"""
_CSS_URL = re.compile(r"""url\(\s*(['"]?)(.*?)\1\s*\)|@import\s+(['"])(.*?)\3""", re.IGNORECASE | re.DOTALL)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
# `../../static/images/favicon.ico`: GX's favicon template counts one `../` too few on validation pages
_RELATIVE_STATIC = re.compile(r"""(\b(?:src|href)=["'])(?:\./|(?:\.\./)+)static/""")
_TAG_WITH_SRI = re.compile(r"<(?:script|link)\b[^>]*\b(?:integrity|crossorigin)\b[^>]*>", re.IGNORECASE)
_SRI_ATTR = re.compile(r"""\s+(?:integrity|crossorigin)(?:=(?:"[^"]*"|'[^']*'|[^\s>]+))?""", re.IGNORECASE)
_REMOTE_ANCHOR = re.compile(
    r"""<a\b(?P<attrs>[^>]*?)\bhref=(["'])\s*(?P<url>(?:[a-z][a-z0-9+.-]*:)?//[^"']*)\2(?P<rest>[^>]*)>(?P<body>.*?)</a>""",
    re.IGNORECASE | re.DOTALL,
)
# The GX footer holds nothing but a newsletter subscription link.
_NEWSLETTER_FOOTER = re.compile(r"<footer>\s*<p>\s*Stay current on everything GX.*?</footer>", re.DOTALL)


def _relative_prefix(site_dir: Path, directory: Path) -> str:
    return Path(os.path.relpath(site_dir, directory)).as_posix()


def _rewrite_urls(text: str, prefix: str, report: OfflineReport) -> str:
    for url, target in url_rewrites().items():
        text, n = re.subn(re.escape(url) + _QUERY, f"{prefix}/{target}", text)
        report._count(report.rewritten, url, n)
    return text


def _strip_sri(match: re.Match[str], report: OfflineReport) -> str:
    tag = match.group(0)
    # Subresource integrity needs a CORS fetch, which file:// pages cannot make: once a script
    # points at a local copy (verified by sha256 and SRI hash when vendored), drop the attributes.
    if re.search(r"""\b(?:src|href)=["']\s*(?:[a-z][a-z0-9+.-]*:)?//""", tag, re.IGNORECASE):
        return tag
    stripped, n = _SRI_ATTR.subn("", tag)
    report._count(report.removed, "integrity/crossorigin attribute of a vendored script", n)
    return stripped


def _rewrite_page(page: Path, site_dir: Path, report: OfflineReport) -> None:
    original = page.read_text(encoding="utf-8")
    prefix = _relative_prefix(site_dir, page.parent)
    text = _rewrite_urls(original, prefix, report)
    text = _RELATIVE_STATIC.sub(lambda m: f"{m.group(1)}{prefix}/static/", text)
    text = _TAG_WITH_SRI.sub(lambda m: _strip_sri(m, report), text)
    text, n = _NEWSLETTER_FOOTER.subn("", text)
    report._count(report.removed, "GX newsletter footer", n)

    def unlink(m: re.Match[str]) -> str:
        report._count(report.removed, f"link to {m.group('url')}")
        return f"<span{m.group('attrs')}{m.group('rest')}>{m.group('body')}</span>"

    text = _REMOTE_ANCHOR.sub(unlink, text)
    if text != original:
        page.write_text(text, encoding="utf-8")


def _rewrite_stylesheet(sheet: Path, site_dir: Path, report: OfflineReport) -> None:
    original = sheet.read_text(encoding="utf-8")
    text = _rewrite_urls(original, _relative_prefix(site_dir, sheet.parent), report)
    if text != original:
        sheet.write_text(text, encoding="utf-8")


def _copy_vendored(site_dir: Path, report: OfflineReport) -> None:
    verify_vendored_assets()
    for f in vendored_assets():
        target = site_dir / f.site_path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f.source, target)
        report.vendored.append(f.site_path)


def make_offline(site_dir: Path) -> OfflineReport:
    """Rewrite the Data Docs site at `site_dir` so that no page loads anything from the network.

    Copies the vendored assets to `site_dir/static/vendor/`, points every CDN script, stylesheet
    and the GX logos at local copies (relative paths, so the site can be moved or zipped), drops
    the SRI/crossorigin attributes that file:// cannot satisfy, turns links to GX web pages into
    plain text, removes the newsletter footer, and fixes the favicon path GX gets wrong on
    validation pages. Raises OfflineError if any remote reference, or any broken local asset
    reference, is left in the site's HTML or CSS. Idempotent: run it after every GX build.
    """
    site_dir = Path(site_dir).resolve()
    if not (site_dir / "index.html").is_file():
        raise OfflineError(f"{site_dir} is not a Data Docs site: it has no index.html")
    report = OfflineReport(site_dir=site_dir)
    _copy_vendored(site_dir, report)
    vendor_root = site_dir / SITE_VENDOR_DIR
    for page in sorted(site_dir.rglob("*.html")):
        _rewrite_page(page, site_dir, report)
        report.pages.append(page)
    for sheet in sorted(site_dir.rglob("*.css")):
        if not sheet.is_relative_to(vendor_root):  # vendored files stay byte-identical to npm's
            _rewrite_stylesheet(sheet, site_dir, report)
        report.stylesheets.append(sheet)
    problems = [str(r) for r in find_remote_references(site_dir)]
    problems += [f"{r} (missing file)" for r in find_broken_local_references(site_dir)]
    if problems:
        raise OfflineError(
            "Data Docs still reference assets that are not in the site (a new GX template? add the asset to "
            "stedi/datadocs_assets/MANIFEST.json and run scripts/vendor_datadocs_assets.sh):\n  "
            + "\n  ".join(problems)
        )
    return report


# ---------------------------------------------------------------------------------------------
# Scanning a site


class _ReferenceCollector(HTMLParser):
    # Attributes through which a browser fetches something (plus <a href>, a link away).
    FETCHING = {
        "script": ("src",),
        "link": ("href",),
        "img": ("src", "srcset"),
        "source": ("src", "srcset"),
        "iframe": ("src",),
        "frame": ("src",),
        "embed": ("src",),
        "object": ("data",),
        "video": ("src", "poster"),
        "audio": ("src",),
        "track": ("src",),
        "input": ("src",),
        "image": ("href", "xlink:href"),
        "use": ("href", "xlink:href"),
        "a": ("href",),
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.refs: list[tuple[str, str]] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = self.FETCHING.get(tag, ())
        for name, value in attrs:
            if value is None:
                continue
            if name in wanted:
                urls = [u.strip().split(" ")[0] for u in value.split(",")] if name == "srcset" else [value]
                self.refs += [(f"{tag} {name}", u) for u in urls]
            elif name == "style":
                self.refs += [("style url()", u) for u in _css_urls(value)]
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.refs += [("<style> url()", u) for u in _css_urls(data)]


def _css_urls(css: str) -> list[str]:
    css = _CSS_COMMENT.sub("", css)
    return [(m.group(2) if m.group(2) is not None else m.group(4)).strip() for m in _CSS_URL.finditer(css)]


def _references(site_dir: Path) -> list[Reference]:
    refs = []
    for page in sorted(Path(site_dir).rglob("*.html")):
        collector = _ReferenceCollector()
        collector.feed(page.read_text(encoding="utf-8"))
        collector.close()
        refs += [Reference(page, kind, url) for kind, url in collector.refs]
    for sheet in sorted(Path(site_dir).rglob("*.css")):
        refs += [Reference(sheet, "css url()", u) for u in _css_urls(sheet.read_text(encoding="utf-8"))]
    return refs


def find_remote_references(site_dir: Path) -> list[Reference]:
    """Every reference in the site's HTML and CSS that points off the machine (links included)."""
    return [r for r in _references(site_dir) if _REMOTE.match(r.url)]


def find_broken_local_references(site_dir: Path) -> list[Reference]:
    """Local scripts, stylesheets, images and CSS url()s whose file does not exist in the site."""
    broken = []
    for r in _references(site_dir):
        if r.kind.startswith("a ") or _REMOTE.match(r.url) or _NOT_FETCHED.match(r.url) or not r.url:
            continue
        target = r.url.split("#")[0].split("?")[0]
        if target and not (r.file.parent / target).exists():
            broken.append(r)
    return broken
