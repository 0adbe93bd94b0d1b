"""The one rule that picks the target a command acts on, case by case, and the sentence each
command prints about it (stedi/targets/rule.py)."""

from __future__ import annotations

import pytest

from stedi import cli
from stedi.targets import rule
from stedi.targets.base import TargetError

SENTENCES = {
    (False, False): "target: embedded (no stack runs yet; --target docker or aws picks another)",
    (True, False): "target: embedded (the embedded stack runs)",
    (False, True): "target: docker (the Docker stack runs; the embedded stack does not)",
    (True, True): (
        "target: embedded (both the embedded and the Docker stack run; "
        "--target docker or STEDI_TARGET=docker acts on the Docker stack)"
    ),
}


@pytest.fixture
def stacks(monkeypatch):
    """Which stacks run, as the rule asks them (the real checks start processes)."""
    running = {"embedded": False, "docker": False}
    monkeypatch.setattr(rule, "_embedded_running", lambda: running["embedded"])
    monkeypatch.setattr(rule, "_docker_running", lambda: running["docker"])
    monkeypatch.delenv(rule.ENV, raising=False)
    return running


@pytest.mark.parametrize(("embedded", "docker"), list(SENTENCES))
def test_without_a_choice_the_running_stack_is_the_target(stacks, capsys, embedded, docker):
    stacks.update(embedded=embedded, docker=docker)
    choice = rule.resolve()
    assert choice.name == ("docker" if docker and not embedded else "embedded")
    assert choice.sentence == SENTENCES[(embedded, docker)]
    assert cli.main(["status"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == SENTENCES[(embedded, docker)]


def test_an_explicit_choice_wins_over_what_runs(stacks, capsys, monkeypatch):
    stacks.update(embedded=True, docker=True)
    assert rule.resolve("docker").sentence == "target: docker (chosen with --target docker)"
    monkeypatch.setenv(rule.ENV, "aws")
    assert rule.resolve().sentence == "target: aws (chosen with STEDI_TARGET=aws)"
    assert rule.resolve("embedded").name == "embedded"  # the option wins over the environment
    assert cli.main(["status"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "target: aws (chosen with STEDI_TARGET=aws)" and out[1].startswith("aws: the Glue jobs")


def test_query_says_which_target_on_stderr_and_keeps_stdout_for_rows(stacks, capsys):
    assert cli.main(["query", "--translate", "SELECT 1 AS one"]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines()[0] == SENTENCES[(False, False)]
    assert captured.out.strip() == 'SELECT 1 AS "one";'  # the DuckDB translation, and nothing else


def test_an_unknown_target_is_one_sentence(stacks, monkeypatch, capsys):
    monkeypatch.setenv(rule.ENV, "mainframe")
    with pytest.raises(TargetError, match="unknown target 'mainframe': use one of embedded, docker, aws"):
        rule.resolve()
    assert cli.main(["status"]) == 2
    assert (
        capsys.readouterr().err.strip() == "stedi: error: unknown target 'mainframe': use one of embedded, docker, aws"
    )


def test_the_docker_target_runs_its_jobs_only_in_its_container(stacks):
    from stedi.runtime.params import JobParams

    target = rule.get("docker")
    assert target.delegates  # from the host: the run is handed to the Spark container
    with pytest.raises(TargetError, match="inside its Spark container"):
        target.runtime("x", JobParams("strict", b"k" * 32))
