"""The scale benchmark's own parts: what it measures must be right before its figures are."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from stedi.tools import bench


def test_the_process_tree_memory_counts_the_children():
    alone = bench.tree_rss(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "b = bytearray(200_000_000); import time; time.sleep(30)"])
    try:
        deadline = time.monotonic() + 20
        while bench.tree_rss(os.getpid()) < alone + 150_000_000:
            assert time.monotonic() < deadline, "the child's 200 MB never showed"
            time.sleep(0.1)
    finally:
        child.kill()
        child.wait()


def test_the_memory_of_each_kind_of_process_is_counted_apart():
    # a child whose command line names the emulator's module counts as the emulator
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", "stedi.targets.emulator"])
    try:
        deadline = time.monotonic() + 20
        while "emulator" not in bench.tree_rss_by_kind(os.getpid()):
            assert time.monotonic() < deadline, "the child never showed"
            time.sleep(0.1)
        assert bench.process_kind(child.pid) == "emulator"
        assert bench.process_kind(os.getpid()) == "python"
        assert bench.tree_rss_by_kind(os.getpid())["python"] > 0
    finally:
        child.kill()
        child.wait()


def test_a_run_with_wrong_counts_is_refused():
    bench._check_counts("duckdb", {"customer_trusted": 3}, {"customer_trusted": 3, "other": 1})
    with pytest.raises(
        AssertionError, match=r"duckdb produced wrong row counts \(got, expected\): \{'customer_trusted': \(2, 3\)\}"
    ):
        bench._check_counts("duckdb", {"customer_trusted": 2}, {"customer_trusted": 3})


def test_the_median_run_is_kept_whole():
    samples = [{"wall_seconds": w, "jobs": {"j": w / 2}} for w in (9.0, 3.0, 5.0)]
    median = bench._median(samples)
    assert (median["wall_seconds"], median["jobs"], median["runs"]) == (5.0, {"j": 2.5}, 3)
    assert median["wall_samples"] == [9.0, 3.0, 5.0]
