"""The warm engine (stedi/runtime/engine.py): a real engine process on a real Unix socket, sent
commands that need no Spark (`stedi generate`), so that how a run is handed over, answered,
refused and retired is checked in seconds; tests/integration/test_pipeline.py runs the pipeline
and `stedi run` through it."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import threading

import pytest

from stedi.runtime import engine


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A state home of its own, and an engine that is stopped at the end, whatever happened."""
    monkeypatch.setenv("STEDI_HOME", str(tmp_path / "state"))
    monkeypatch.setenv(engine.ENV, "on")
    yield tmp_path / "state"
    engine.stop(tmp_path / "state")


def lines(progress_calls: list[str]):
    return lambda line: progress_calls.append(line)


def test_a_command_runs_in_the_engine_with_the_clients_directory_and_output(home, tmp_path, capfd, monkeypatch):
    said: list[str] = []
    monkeypatch.chdir(tmp_path)
    assert engine.submit(["generate", "--customers", "5", "--seed", "1", "--out", "landing"], lines(said)) == 0
    out, _ = capfd.readouterr()
    assert "wrote synthetic landing data for 5 customers (seed 1) to landing" in out
    assert (tmp_path / "landing" / "customer" / "landing").is_dir()  # relative to the client's directory
    assert said[0].startswith("warm engine (pid ") and "run 1" in said[0]
    socket_file = engine.socket_path(home)
    assert stat.S_IMODE(socket_file.stat().st_mode) & 0o077 == 0  # its owner only

    assert engine.submit(["generate", "--customers", "-"], lines(said)) == 2  # argparse's refusal, as at home
    _, err = capfd.readouterr()
    assert "invalid int value" in err
    assert "run 2" in said[-1]  # the same engine took both


def test_a_changed_environment_retires_the_engine_and_a_new_one_takes_the_run(home, tmp_path, monkeypatch):
    said: list[str] = []
    argv = ["generate", "--customers", "3", "--out", str(tmp_path / "a")]
    assert engine.submit(argv, lines(said)) == 0
    first = said[-1].split(",")[0]
    monkeypatch.setenv("STEDI_TABLE_IO", "pyiceberg")  # another JVM would be wanted
    assert engine.submit(argv, lines(said)) == 0
    assert any("the code changed since it started, or it was leaving" in line for line in said)
    assert said[-1].split(",")[0] != first and "run 1" in said[-1]


def test_stop_ends_it_and_leaves_no_socket(home, tmp_path):
    assert engine.submit(["generate", "--customers", "2", "--out", str(tmp_path / "b")], lambda line: None) == 0
    assert engine.stop(home)
    assert not engine.socket_path(home).exists()
    assert not engine.stop(home)  # nothing left to stop


def test_a_forgotten_package_is_read_again_from_its_files(tmp_path, monkeypatch):
    """What lets an edited job file be what runs: spark_jobs/ is imported afresh for every run."""
    package = tmp_path / "edited_jobs"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "job.py").write_text("VERSION = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    from edited_jobs import job

    assert job.VERSION == 1
    (package / "job.py").write_text(textwrap.dedent("""\
        VERSION = 2  # an edit of another length: a cached byte code would not match it
    """))
    engine.forget_modules("edited_jobs")
    assert "edited_jobs.job" not in sys.modules
    from edited_jobs import job as again

    assert again.VERSION == 2


def test_the_stamp_follows_what_shapes_the_jvm_and_nothing_else():
    base = dict(os.environ)
    assert engine.stamp(base) == engine.stamp({**base, "TERM": "dumb", "COLUMNS": "200"})
    assert engine.stamp(base) != engine.stamp({**base, "STEDI_SPARK_MASTER": "local[1]"})


def test_engine_setting_is_on_or_off(monkeypatch):
    monkeypatch.setenv(engine.ENV, "off")
    assert not engine.enabled()
    monkeypatch.delenv(engine.ENV)
    assert engine.enabled()
    monkeypatch.setenv(engine.ENV, "sometimes")
    with pytest.raises(ValueError, match="on or off"):
        engine.enabled()


def test_while_it_runs_one_command_another_is_sent_back_to_run_in_its_own_process(home, tmp_path):
    """So the run lock decides, as without the engine: the second pipeline waits or refuses."""
    first_said: list[str] = []
    accepted = threading.Event()

    def first_progress(line: str) -> None:
        first_said.append(line)
        accepted.set()

    slow = ["generate", "--customers", "5000", "--out", str(tmp_path / "slow")]
    first = threading.Thread(target=lambda: first_said.append(engine.submit(slow, first_progress)))
    first.start()
    assert accepted.wait(30)
    said: list[str] = []
    assert engine.submit(["generate", "--customers", "2", "--out", str(tmp_path / "c")], lines(said)) is None
    assert said == ["warm engine: busy with another run; this one runs in its own process"]
    first.join(120)
    assert first_said[-1] == 0


def test_status_says_whether_it_runs_and_how_many_runs_it_took(home, tmp_path):
    assert engine.status_lines(home)[0].startswith("warm engine: not running")
    assert engine.submit(["generate", "--customers", "2", "--out", str(tmp_path / "d")], lambda line: None) == 0
    assert engine.status_lines(home)[0].startswith("warm engine: pid ")
    assert " 1 runs since it started " in engine.status_lines(home)[0]


def test_ctrl_c_in_the_client_interrupts_the_run_in_the_engine_which_takes_the_next_one(home, tmp_path):
    script = ("import sys; from stedi.runtime import engine; "
              "sys.exit(engine.submit(sys.argv[1:], lambda line: print(line, flush=True)))")
    client = subprocess.Popen(
        [sys.executable, "-c", script, "generate", "--customers", "500000", "--out", str(tmp_path / "big")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.default_int_handler),  # as on a terminal
    )
    assert client.stdout.readline().startswith("warm engine (pid ")  # the engine took the run
    client.send_signal(signal.SIGINT)
    _, err = client.communicate(timeout=120)
    assert client.returncode == 130 and "interrupted" in err, err[-2000:]
    said: list[str] = []
    assert engine.submit(["generate", "--customers", "2", "--out", str(tmp_path / "e")], lines(said)) == 0
    assert "run 2" in said[-1]


def test_two_commands_starting_at_once_share_one_engine(home, tmp_path):
    said: list[list[str]] = [[], []]
    codes: list[int | None] = [None, None]

    def client(i: int) -> None:
        argv = ["generate", "--customers", "2", "--out", str(tmp_path / f"twin{i}")]
        codes[i] = engine.submit(argv, lines(said[i]))

    twins = [threading.Thread(target=client, args=(i,)) for i in range(2)]
    for twin in twins:
        twin.start()
    for twin in twins:
        twin.join(60)
    accepted = [line for lines_said in said for line in lines_said if line.startswith("warm engine (pid")]
    busy = [line for lines_said in said for line in lines_said if "busy" in line]
    assert len({line.split(",")[0] for line in accepted}) == 1  # one engine took what it was given
    assert len(accepted) + len(busy) == 2 and all(code in (0, None) for code in codes)


def test_the_terminals_size_goes_with_the_run_unless_the_terminal_does_not_know_it(monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)
    monkeypatch.setattr(sys.stdout, "fileno", lambda: 1, raising=False)
    monkeypatch.setattr(os, "get_terminal_size", lambda fd: os.terminal_size((132, 40)))
    assert (engine._client_environment()["COLUMNS"], engine._client_environment()["LINES"]) == ("132", "40")
    monkeypatch.setattr(os, "get_terminal_size", lambda fd: os.terminal_size((0, 0)))  # a pty nobody sized
    assert "COLUMNS" not in engine._client_environment()  # else rich would draw bars 0 wide: nothing


def test_an_engine_leaving_as_a_command_arrives_is_replaced_for_it(home, tmp_path, monkeypatch):
    """A connection the engine closes before taking the run (it was leaving: idle, or stopped)."""
    home.mkdir(parents=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(engine.socket_path(home)))
    listener.listen(1)

    def leave() -> None:  # an engine on its way out: it accepts, then closes without a word
        connection, _ = listener.accept()
        connection.close()
        listener.close()
        engine.socket_path(home).unlink()

    threading.Thread(target=leave, daemon=True).start()
    said: list[str] = []
    assert engine.submit(["generate", "--customers", "2", "--out", str(tmp_path / "f")], lines(said)) == 0
    assert "or it was leaving" in said[0] and said[-1].startswith("warm engine (pid ")


def test_the_stamp_ignores_the_byte_code_the_engines_own_imports_write(tmp_path, monkeypatch):
    """The first run in a new engine imports expectations/ and writes its __pycache__: no edit."""
    from stedi.runtime import settings

    (tmp_path / "expectations").mkdir()
    (tmp_path / "expectations" / "suite.py").write_text("X = 1\n")
    monkeypatch.setattr(settings, "project_root", lambda: tmp_path)
    before = engine.stamp({})
    (tmp_path / "expectations" / "__pycache__").mkdir()
    (tmp_path / "expectations" / "__pycache__" / "suite.cpython-311.pyc").write_bytes(b"\0" * 16)
    assert engine.stamp({}) == before
    (tmp_path / "expectations" / "suite.py").write_text("X = 22\n")  # an edit
    assert engine.stamp({}) != before


def test_an_erasure_stops_the_warm_engine_with_the_tables_its_gates_kept(home, tmp_path, capfd):
    """The engine keeps the published tables its gates joined against (stedi/gates/published.py):
    `stedi forget` retires it, so no copy of an erased person's rows stays in its memory."""
    from stedi.cli import main

    assert engine.submit(["generate", "--customers", "2", "--out", str(tmp_path / "g")], lambda line: None) == 0
    assert "pid" in engine.status_lines(home)[0]
    assert main(["forget", "--email", "someone@x.test"]) == 0  # no stack: only the register learns them
    assert engine.status_lines(home)[0].startswith("warm engine: not running")
