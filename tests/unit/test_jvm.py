"""The JVM jars: resolved by Maven, checked against jvm/jars.lock, and one sentence when they
cannot be had. Maven here is the real one, told to work offline with an empty repository."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from stedi.runtime import jvm
from tests.conftest import PROJECT_ROOT


def offline_maven(home: Path) -> dict[str, str]:
    """Maven with an empty local repository and `<offline>true</offline>`, as on a cut-off machine."""
    (home / ".m2").mkdir(parents=True)
    (home / ".m2" / "settings.xml").write_text("<settings><offline>true</offline></settings>\n")
    return {"MAVEN_OPTS": f"-Duser.home={home}"}


def test_offline_with_nothing_cached_is_one_sentence_naming_the_jars(tmp_path):
    env = {**os.environ, **offline_maven(tmp_path / "home"), "STEDI_CACHE": str(tmp_path / "cache")}
    completed = subprocess.run(
        [sys.executable, "-m", "stedi.runtime.jvm", "resolve"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 2
    (line,) = completed.stderr.strip().splitlines()
    assert line.startswith(
        "stedi: error: the Iceberg jars for Spark (iceberg-aws-bundle-1.11.0.jar, "
        "iceberg-spark-runtime-4.1_2.13-1.11.0.jar) are not cached here and Maven could not fetch them"
    )
    assert "offline mode" in line and line.endswith("(STEDI_TABLE_IO=pyiceberg)")
    assert "Traceback" not in completed.stderr


def test_a_jar_that_is_not_the_locked_file_is_refused(tmp_path):
    (locked,) = [j for j in jvm.locked() if j.file.startswith("iceberg-aws-bundle")]
    impostor = tmp_path / locked.file
    impostor.write_bytes(b"not the jar Maven Central serves")
    with pytest.raises(jvm.JarMismatch, match=f"{impostor} has SHA-256 [0-9a-f]{{64}}, but jvm/jars.lock pins"):
        jvm.verify([locked], [str(impostor)])


def test_the_lock_names_each_jar_once_with_its_maven_central_address():
    jars = jvm.locked()
    assert sorted(j.coordinates for j in jars) == [
        "org.apache.iceberg:iceberg-aws-bundle:1.11.0",
        "org.apache.iceberg:iceberg-spark-runtime-4.1_2.13:1.11.0",
    ]
    pom = (PROJECT_ROOT / "jvm" / "pom.xml").read_text()
    assert "<iceberg.version>1.11.0</iceberg.version>" in pom and "<spark.binary>4.1</spark.binary>" in pom
    assert jvm.spark_packages()["spark.jars.packages"] == ",".join(j.coordinates for j in jars)
