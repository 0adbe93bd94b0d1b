"""Checks that turn a missing prerequisite into one sentence instead of a JVM stack trace."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

MIN_JAVA = 17


class PreflightError(RuntimeError):
    pass


def java_version() -> int:
    """Major version of the Java that Spark will start (JAVA_HOME first, as Spark does)."""
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not java or not Path(java).exists():
        raise PreflightError(
            f"Java was not found: Spark needs Java {MIN_JAVA} or newer; install it (for example "
            "`apt-get install openjdk-17-jre-headless` or `brew install openjdk@17`) or set JAVA_HOME"
        )
    output = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    match = re.search(r'version "(\d+)(?:\.(\d+))?', output)
    if not match:
        raise PreflightError(f"could not read the version of {java}: {output.strip()[:200]}")
    major = int(match.group(1))
    return int(match.group(2)) if major == 1 else major


def check_java() -> None:
    major = java_version()
    if major < MIN_JAVA:
        raise PreflightError(
            f"Spark 4 needs Java {MIN_JAVA} or newer, but this machine runs Java {major}: "
            f"install Java {MIN_JAVA} and point JAVA_HOME at it"
        )
