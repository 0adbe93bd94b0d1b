"""Progress for long work: one plain line per step off a terminal, rich's bar on one."""

from __future__ import annotations

import io
import re

from stedi.datasets import synthetic
from stedi.runtime.progress import Progress, bar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_off_a_terminal_a_bar_is_one_line_when_its_work_ends():
    stream = io.StringIO()
    progress = Progress(stream)
    assert not progress.interactive
    with progress.bar("downloading trino-server.tar.gz", 3_000_000, "bytes") as work:
        for _ in range(3):
            work.advance(1_000_000)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    line = r"\[ *\d+\.\ds\] downloading trino-server.tar.gz: 3.0 MB in \d+\.\ds \([\d,.]+ MB/s\)"
    assert re.fullmatch(line, lines[0])


def test_on_a_terminal_it_draws_a_bar_with_the_rate_and_time_left_and_lines_go_above_it(monkeypatch):
    monkeypatch.setenv("TERM", "xterm")
    stream = Terminal()
    progress = Progress(stream)
    assert progress.interactive
    with progress.bar("generating 200 customers", 200, "customers") as work:
        work.advance(100)
        progress("a line printed meanwhile")
        work.advance(100)
    text = stream.getvalue()
    assert "a line printed meanwhile" in text
    assert "generating 200 customers" in text and "left" in text  # the bar, with the time left
    assert "customers/s" in text  # its rate
    assert text.rstrip().splitlines()[-1].endswith("customers/s)")  # and the plain line at its end


def test_any_callback_gets_the_closing_line_and_report_false_leaves_it_to_the_caller():
    said: list[str] = []
    with bar(said.append, "Maven: the Iceberg jars", None) as work:
        work.set_total(10)
    with bar(said.append, "starting Trino", None, report=False):
        pass
    assert len(said) == 1 and said[0].startswith("Maven: the Iceberg jars: done in ")


def test_the_generator_reports_its_customers_on_a_bar(tmp_path):
    said: list[str] = []
    synthetic.generate(tmp_path, customers=1200, seed=3, policy_counts=False, progress=said.append)
    assert any(line.startswith("generating 1,200 customers: 1,200 customers in ") for line in said)
