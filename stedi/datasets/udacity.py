"""Fetching the Udacity starter data from its upstream repository.

The starter data's license (CC BY-NC-ND) forbids shipping it with the project, so users
download it themselves. The files are pinned by checksum: the published rubric counts are
only meaningful on exactly these bytes, and a changed upstream file must fail loudly
rather than quietly produce other counts. A file lands under its final name only once
verified, so an interrupted or corrupted download never looks like a good one, and
re-runs skip what is already there.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

UPSTREAM = (
    "https://raw.githubusercontent.com/udacity/nd027-Data-Engineering-Data-Lakes-AWS-Exercises/main/project/starter/"
)

# Relative path -> sha256 of the published file (from the reference copy's SHA256SUMS).
FILES: dict[str, str] = {
    "customer/landing/customer-1691348231425.json": "9662d9e49a4d10affe07370c6639767d52e852ccb3d8ff8726e0f5c4bbe09ecc",
    "accelerometer/landing/accelerometer-1691348231445.json": "86bc1e8aad1558e43d761807b2e8b8a4940d2f92f1e083c375c16d1f8fdb9b87",
    "accelerometer/landing/accelerometer-1691348231495.json": "7f09636e12b5770d84a3efcc42988a8272ff9e007c47988ee294352fc59859e6",
    "accelerometer/landing/accelerometer-1691348231576.json": "5bc420cf064ee563b2e9d05114845c50bed170d1cc847abd9c21cea5c691e0df",
    "accelerometer/landing/accelerometer-1691348231724.json": "b3d96e378a260db8c7f7268a00e6e49a27bb5d083ab47d22ef22b361a4c8270b",
    "accelerometer/landing/accelerometer-1691348231810.json": "bfd1d6bd019345d49ff1689c4ec305c701edb8e92f326d4352a669c0e966f1da",
    "accelerometer/landing/accelerometer-1691348231881.json": "762adfbcab2b2133981313d6cfbe6cee567bd13957dd14f6b3a33e5335c68a92",
    "accelerometer/landing/accelerometer-1691348231931.json": "86cf039b202136fd2bd808231eba7956817fdad03f2d3a51d90e93ae663a257d",
    "accelerometer/landing/accelerometer-1691348231983.json": "124b9cb06177a48424397c7ad59d785068d6eccdeaffadd606f6e171dfc1ce9b",
    "accelerometer/landing/accelerometer-1691348232031.json": "5674a727be749064c0d588ab2f33baeb439e853768d5e93d4cf52c5450b5f9a4",
    "step_trainer/landing/step_trainer-1691348232038.json": "924eae8656a5e94e531f6eb9411464d6b8b3ec88d63d239f2eb0ed0be5ee538b",
    "step_trainer/landing/step_trainer-1691348232085.json": "0626d6556ae2b4b3c61dca84b0462faae22e7c5a344618ff7003cecdb77d9eb3",
    "step_trainer/landing/step_trainer-1691348232132.json": "811096c339ca6b04968736d02047554ab8f6ef0893d5ffd20d184afb28089397",
}

RETRIES = 3
BACKOFF_S = 1.0  # doubled after each failed attempt
CHUNK = 1 << 16
# Server-side hiccups worth another try; any other HTTP status will not change on retry.
TRANSIENT_HTTP = {408, 425, 429, 500, 502, 503, 504}

_sleep = time.sleep  # a seam, so tests need not wait out the backoff


class FetchError(RuntimeError):
    """A starter file could not be downloaded."""


class ChecksumError(FetchError):
    """A downloaded starter file is not the pinned one."""


def fetch_udacity(
    dest: Path,
    base_url: str = UPSTREAM,
    progress: Callable[[str], None] | None = None,
    timeout: float = 60,
) -> list[Path]:
    """Make `dest` hold every verified starter file, downloading only what is missing or wrong.

    Returns the local path of every starter file, in FILES order.
    """
    dest = Path(dest)
    base = base_url if base_url.endswith("/") else base_url + "/"
    paths = []
    for relative, expected in FILES.items():
        target = dest / relative
        if target.is_file() and _sha256(target) == expected:
            _say(progress, f"{relative}: already present and verified")
        else:
            _download(base + urllib.parse.quote(relative), target, relative, expected, timeout)
            _say(progress, f"{relative}: downloaded and verified")
        paths.append(target)
    return paths


def _download(url: str, target: Path, relative: str, expected: str, timeout: float) -> None:
    """Download with retries: only network trouble is retried, never a checksum mismatch."""
    for attempt in range(RETRIES + 1):
        try:
            _download_once(url, target, relative, expected, timeout)
            return
        except (OSError, http.client.HTTPException) as error:
            if isinstance(error, urllib.error.HTTPError):
                error.close()
            if not _is_network_error(error):
                raise
            if not _is_transient(error):
                raise FetchError(f"could not download {url}: {_describe(error)}") from error
            if attempt == RETRIES:
                raise FetchError(
                    f"could not download {url} after {RETRIES + 1} attempts: {_describe(error)}"
                ) from error
            _sleep(BACKOFF_S * 2**attempt)


def _download_once(url: str, target: Path, relative: str, expected: str, timeout: float) -> None:
    """Stream into a temporary file beside the target, and rename it only once verified."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        digest = hashlib.sha256()
        request = urllib.request.Request(url, headers={"User-Agent": "stedi-lakehouse"})
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(request, timeout=timeout) as response:
            while chunk := response.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if actual != expected:
            raise ChecksumError(
                f"checksum mismatch for {relative} (downloaded from {url}): "
                f"expected sha256 {expected}, got {actual}; the file was not kept"
            )
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _is_network_error(error: BaseException) -> bool:
    """Network failures, as opposed to local ones (a full disk is not worth a retry or a URL)."""
    return isinstance(error, (urllib.error.URLError, ConnectionError, TimeoutError, http.client.HTTPException))


def _is_transient(error: BaseException) -> bool:
    if isinstance(error, urllib.error.HTTPError):
        return error.code in TRANSIENT_HTTP
    return True


def _describe(error: BaseException) -> str:
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    if isinstance(error, urllib.error.URLError):
        return str(error.reason)
    return f"{type(error).__name__}: {error}"


def is_starter_data(landing: Path) -> bool:
    """Whether a landing directory holds exactly the pinned starter files, byte for byte."""
    found = sorted(p.relative_to(landing).as_posix() for p in landing.glob("*/landing/*") if p.is_file())
    return found == sorted(FILES) and all(_sha256(landing / name) == digest for name, digest in FILES.items())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _say(progress: Callable[[str], None] | None, message: str) -> None:
    if progress:
        progress(message)
