"""Shared fixtures: one SparkSession and one private embedded-stack home per test session."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
STARTER_DATA = PROJECT_ROOT.parent / "shared" / "data" / "udacity-starter"
TEST_KEY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
DOCKER_PROJECT = "stedi-lakehouse-test"


def pytest_configure(config):
    # Every test, and every subprocess a test starts, uses a private stack and key: the
    # suite never touches the developer's own lakehouse or pseudonym key.
    home = Path(tempfile.mkdtemp(prefix="stedi-test-"))
    os.environ["STEDI_HOME"] = str(home / "state")
    os.environ["STEDI_KEY_FILE"] = str(home / "pseudonym.key")
    os.environ["STEDI_DOCS_DIR"] = str(home / "data-docs")
    os.environ["STEDI_REPORT_DIR"] = str(home / "report")
    os.environ.pop("STEDI_PSEUDONYM_KEY", None)
    os.environ.pop("STEDI_S3_PORT", None)
    # The suite's Docker stack is a compose project of its own: a developer's own Docker stack is
    # neither seen by the target rule nor touched (tests/integration/test_docker_stack.py).
    os.environ["STEDI_DOCKER_PROJECT"] = DOCKER_PROJECT
    # A command a test starts runs in its own process, as the tests that kill one mid-run need; the
    # tests of the warm engine (stedi/runtime/engine.py) turn it on for their own commands.
    os.environ["STEDI_ENGINE"] = "off"


def pytest_unconfigure(config):
    from stedi.runtime import engine
    from stedi.targets import embedded_stack as stack
    from stedi.targets import trino_server

    engine.stop()
    trino_server.stop()
    stack.down()


@pytest.fixture(scope="session")
def spark():
    from stedi.runtime.spark import local_session

    return local_session("stedi-tests")


@pytest.fixture(scope="session")
def key() -> bytes:
    return bytes.fromhex(TEST_KEY)


@pytest.fixture(scope="session")
def starter_data() -> Path:
    if not STARTER_DATA.is_dir():
        pytest.fail(f"the reference data is missing: expected it at {STARTER_DATA}")
    return STARTER_DATA
