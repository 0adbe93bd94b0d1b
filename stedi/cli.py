"""The `stedi` command."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from stedi.runtime import settings
from stedi.runtime.params import add_policy_option
from stedi.runtime.progress import Progress, table


def main(argv: list[str] | None = None, *, in_engine: bool = False) -> int:
    """`in_engine`: this is the warm engine running a client's command (stedi/runtime/engine.py);
    the client has said which target already."""
    from stedi.gates.gate import GateFailed
    from stedi.intake.quarantine import QuarantineExceeded

    parser = _parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    try:
        if hasattr(args, "target"):  # a command that acts on a target: one rule picks it, and says so
            from stedi.targets import rule

            choice = rule.resolve(args.target)
            if not in_engine:
                # stdout stays the query's result (CSV, JSON); the sentence goes to stderr there
                print(choice.sentence, file=sys.stderr if args.command == "query" else sys.stdout, flush=True)
            target = choice.target()
            if not in_engine and _for_the_engine(args, target):
                handed = _submit(args, [*argv, "--target", target.name])
                if handed is not None:
                    return handed
            return args.handler(args, target) or 0
        return args.handler(args) or 0
    except (GateFailed, QuarantineExceeded) as failure:  # the data, not the command, is wrong: say what and where
        print(f"stedi: {failure}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like: not an error
        sys.stderr.close()
        return 0
    except Exception as error:  # user-facing errors: one sentence, no traceback
        from stedi.runtime.preflight import no_space_message

        no_space = no_space_message(error, settings.state_home())
        if no_space:
            print(f"stedi: error: {no_space}", file=sys.stderr)
            return 2
        if not _is_user_error(error):
            raise
        print(f"stedi: error: {error}", file=sys.stderr)
        return 2


def _for_the_engine(args, target) -> bool:
    """Whether this command runs in the warm engine: a run on the embedded target (not the Docker
    stack's container, which reads its key from stdin), unless STEDI_ENGINE=off."""
    from stedi.runtime import engine

    return (args.command in engine.COMMANDS and target.name == "embedded"
            and not getattr(args, "key_stdin", False) and engine.enabled())


def _submit(args, argv: list[str]) -> int | None:
    from stedi.runtime import engine

    to_stderr = str(getattr(args, "summary", None)) == "-"  # stdout is the summary's line there
    return engine.submit(argv, Progress(stream=sys.stderr if to_stderr else None))


def _is_user_error(error: Exception) -> bool:
    from stedi.datasets.udacity import FetchError
    from stedi.lakehouse.landing import LandingError
    from stedi.privacy.register import RegisterUnreadable
    from stedi.runtime.access import PolicyDenied
    from stedi.runtime.engine import EngineError
    from stedi.runtime.jdk import NoJdk
    from stedi.runtime.jvm import JarMismatch, JarsUnavailable
    from stedi.runtime.preflight import PreflightError
    from stedi.runtime.retry import Unreachable
    from stedi.runtime.runlock import LakehouseBusy
    from stedi.targets.compose import DockerStackError
    from stedi.targets.embedded_stack import StackError
    from stedi.targets.trino_server import TrinoError

    known = (StackError, DockerStackError, LandingError, PreflightError, FetchError, LakehouseBusy, Unreachable,
             TrinoError, NoJdk, JarsUnavailable, JarMismatch, PolicyDenied, RegisterUnreadable, EngineError)
    return isinstance(error, (*known, FileNotFoundError, ValueError))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stedi", description="STEDI lakehouse: run, query and promote the pipeline.")
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="start the embedded stack (S3 emulator + Iceberg catalog)")
    up.set_defaults(handler=_up)
    keys = commands.add_parser(
        "keys",
        help="print the embedded stack's keys as shell variables, for your own tools "
        "(eval \"$(stedi keys)\"; aws s3 ls s3://stedi-lakehouse/)",
    )
    keys.add_argument("--glue-job", action="store_true",
                      help="the Glue jobs' identity (the deployed least-privilege policy) instead of the administrator")
    keys.set_defaults(handler=_keys)
    down = _targeted(commands.add_parser("down", help="stop the target's stack (the embedded one keeps its lakehouse "
                                                      "on disk for the next run)"))
    down.set_defaults(handler=_down)
    discard = commands.add_parser("discard", help="stop the embedded stack and delete its lakehouse on disk: every "
                                                  "table, snapshot, landing object and catalog entry")
    discard.add_argument("--yes", action="store_true", help="do not ask first (required when stdin is not a terminal)")
    discard.set_defaults(handler=_discard)
    status = _targeted(commands.add_parser("status", help="show whether the target's stack runs, and where"))
    status.set_defaults(handler=_status)

    docs = _targeted(commands.add_parser("docs", help="open the Data Docs of the last run's quality gates"))
    docs.add_argument("--no-browser", action="store_true", help="only print where the report is")
    docs.set_defaults(handler=_docs)

    pipeline = _targeted(commands.add_parser("pipeline", help="run the landing step and the five jobs end to end"))
    pipeline.add_argument(
        "--landing",
        type=Path,
        help="directory laid out like the S3 landing zone (default: synthetic data from the generator)",
    )
    add_policy_option(pipeline)
    pipeline.add_argument(
        "--summary", type=Path, help="write the run summary (JSON) to this file ('-': one line on stdout)"
    )
    pipeline.add_argument("--seed", type=int, default=42, help="generator seed when no --landing is given")
    pipeline.add_argument("--customers", type=int, default=1000, help="generator size when no --landing is given")
    pipeline.add_argument(
        "--max-quarantine",
        type=float,
        metavar="SHARE",
        help="stop, publishing nothing, when more than this fraction of a source's records is quarantined "
        "(default: [quarantine] max_share in catalog/tables.toml, 0.05)",
    )
    pipeline.add_argument(
        "--full",
        action="store_true",
        help="do every step; by default a step whose inputs are those of the last run that did it (the landing "
        "objects, a job's file and input tables, the code, the policy) is skipped",
    )
    pipeline.add_argument("--key-stdin", action="store_true", help=argparse.SUPPRESS)  # the Docker target's container
    pipeline.add_argument("--no-gates", action="store_true", help=argparse.SUPPRESS)  # benchmarks only
    pipeline.set_defaults(handler=_pipeline)

    rerun = _targeted(
        commands.add_parser(
            "run",
            help="re-run one job and the jobs downstream of it on the published tables (after editing its file)",
        )
    )
    rerun.add_argument("job", help="a job's name, e.g. machine_learning_curated")
    add_policy_option(rerun, default=None)
    rerun.set_defaults(handler=_run)

    warm = commands.add_parser("engine", help="the warm engine `stedi pipeline` and `stedi run` hand their runs to "
                               "(started by them, stopped by `stedi down`; STEDI_ENGINE=off: not used)")
    warm.add_argument("action", choices=("status", "stop", "serve"))
    warm.set_defaults(handler=_engine)

    generate = commands.add_parser("generate", help="write synthetic landing data with the starter data's shape")
    generate.add_argument("--customers", type=int, default=1000)
    generate.add_argument("--seed", type=int, default=42)
    generate.add_argument("--out", type=Path, required=True)
    generate.set_defaults(handler=_generate)

    report = commands.add_parser("report", help="write the run report of the last pipeline run (build/report/)")
    report.set_defaults(handler=_report)

    trino = commands.add_parser("trino", help="the embedded stack's Trino, standing in for Athena (catalog "
                                "awsdatacatalog, on 127.0.0.1)")
    trino.add_argument("action", choices=("start", "stop", "status"))
    trino.set_defaults(handler=_trino)

    fetch = commands.add_parser("fetch-udacity", help="download the Udacity starter data and verify its checksums")
    fetch.add_argument("dest", type=Path)
    fetch.add_argument("--base-url", help="a mirror of the upstream folder (default: the public repository)")
    fetch.set_defaults(handler=_fetch_udacity)

    glue = commands.add_parser("glue", help="run an AWS Glue (Studio) script unchanged on the embedded stack")
    glue_commands = glue.add_subparsers(dest="glue_command", required=True)
    glue_run = _targeted(glue_commands.add_parser(
        "run", help="run Glue scripts: stedi glue run SCRIPT... [--JOB_NAME NAME] [--KEY VALUE ...]",
        description="Run AWS Glue scripts (Glue Studio jobs) unchanged on the embedded stack, with a local "
        "awsglue layer, S3 and the Data Catalog on the emulator, under the Glue jobs' identity. Several scripts "
        "run in turn in one Spark, each a job named after its file, stopping at the first that fails. With the "
        "Docker stack up (or --target docker) they run on its Spark cluster."))
    glue_run.add_argument("--keep-going", action="store_true",
                          help="run every script even after one fails (each reads what the ones before wrote)")
    glue_run.add_argument("words", nargs=argparse.REMAINDER, metavar="SCRIPT... [--KEY VALUE ...]",
                          help="the scripts, then the jobs' arguments as Glue passes them: --JOB_NAME NAME, "
                          "--job-bookmark-option job-bookmark-enable, --KEY VALUE")
    glue_run.set_defaults(handler=_glue_run)
    reset = _targeted(glue_commands.add_parser("reset-bookmark",
                                               help="forget a job's bookmark (aws glue reset-job-bookmark)"))
    reset.add_argument("job")
    reset.set_defaults(handler=_glue_reset_bookmark)

    land = _targeted(commands.add_parser("land", help="upload a directory of files to s3://BUCKET/PREFIX/ on the "
                                         "target's stack (the bucket is created on first use)"))
    land.add_argument("directory", type=Path)
    land.add_argument("destination", help="s3://BUCKET/PREFIX/")
    land.set_defaults(handler=_land)

    from stedi.privacy.cli import add_forget_parser

    _targeted(add_forget_parser(commands))

    from stedi.query.cli_handler import add_query_parser

    _targeted(add_query_parser(commands))

    from stedi.aws.cli import add_aws_parsers

    add_aws_parsers(commands)  # stedi aws deploy|run|forget|destroy
    return parser


def _up(args) -> int:
    from stedi.targets import embedded_stack

    embedded_stack.up()
    print("\n".join(embedded_stack.status_lines()))
    return 0


def _keys(args) -> int:
    """Shell `export` lines; where the keys are kept goes to stderr, so `eval` sees only the exports."""
    import shlex

    from stedi.targets import embedded_stack, stack_keys

    stack = embedded_stack.require()
    if args.glue_job:
        stack = stack.as_glue_job()
    kept = stack_keys.folder(stack.home) / (stack_keys.JOB_FILE if args.glue_job else stack_keys.ADMIN_FILE)
    print(f"# {stack.keys.arn}, kept in {kept} (mode 0600)", file=sys.stderr)
    for name, value in stack.environment().items():
        print(f"export {name}={shlex.quote(value)}")
    return 0


def _glue_run(args, target) -> int:
    from stedi.studio import runner

    scripts, arguments = runner.split_command_line(args.words)
    progress = Progress(stream=sys.stderr)
    records = runner.run(scripts, arguments, progress, keep_going=args.keep_going, target=target.name)
    print("\n\n".join(runner.summary(record) for record in records))
    if settings.last_run_file().exists():  # the run report lists the scripts run on the stack too
        summary = json.loads(settings.last_run_file().read_text())
        same_stack = summary.get("target") == target.name and summary.get("s3_endpoint") == target.stack().endpoint
        if same_stack:  # (a pipeline run of a stack since stopped has no tables left to draw)
            report = _write_report(summary, target, progress)
            if report:
                print(f"Run report: {report}")
    failed = [r for r in records if r.get("error") or r.get("exit_code")] or len(records) < len(scripts)
    return 1 if failed else 0


def _glue_reset_bookmark(args, target) -> int:
    from stedi.studio import runner

    reset = runner.reset_bookmark(args.job, target.name)
    print(f"{args.job}: bookmark reset" if reset else f"{args.job}: had no bookmark")
    return 0


def _land(args, target) -> int:
    from stedi.studio import workspace

    if target.name == "docker":
        from stedi.targets import compose

        client = compose.s3_client()
    elif target.name == "embedded":
        from stedi.targets import embedded_stack

        client = embedded_stack.up().s3_client()
    else:
        raise ValueError("stedi land uploads to a local stack (embedded or docker); on AWS use `aws s3 cp --recursive`")
    workspace.land(client, args.directory, args.destination, Progress())
    return 0


def _trino(args) -> int:
    from stedi.targets import embedded_stack, trino_server
    from stedi.targets.rule import get

    if args.action == "start":
        trino = get("embedded").trino(Progress())
        print(f"Trino {trino_server.version()} runs at {trino.url}: stedi query --engine trino \"SELECT ...\"")
    elif args.action == "stop":
        print("Trino: stopped" if trino_server.stop() else "Trino: was not running")
    else:
        running = embedded_stack.current() is not None
        print("\n".join(trino_server.status_lines()) if running else "embedded stack: not running")
    return 0


def _targeted(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The one `--target` option; which target applies is decided once, in main()."""
    from stedi.targets import rule

    parser.add_argument(
        "--target",
        choices=rule.NAMES,
        help=f"embedded, docker or aws (default: {rule.ENV}, else the stack that runs, else embedded)",
    )
    return parser


def _down(args, target) -> int:
    print(f"{target.name}: stopped" if target.stop() else f"{target.name}: was not running")
    return 0


def _discard(args) -> int:
    """The one command that deletes the embedded lakehouse; it asks first, or wants --yes."""
    from stedi.targets import embedded_stack
    from stedi.targets.embedded import EmbeddedTarget

    kept = embedded_stack.store_summary()
    if kept is None:
        print("embedded: no lakehouse on disk")
        return 0
    if not args.yes:
        if not sys.stdin.isatty():
            raise embedded_stack.StackError(f"`stedi discard` deletes {kept}: pass --yes to confirm")
        if input(f"delete {kept}? [y/N] ").strip().lower() not in ("y", "yes"):
            print("embedded: nothing deleted")
            return 1
    stopped, size = EmbeddedTarget().discard()
    print(f"embedded: {'stopped, and ' if stopped else ''}deleted the lakehouse on disk ({size / 1e6:,.1f} MB)")
    return 0


def _status(args, target) -> int:
    print("\n".join(target.status_lines()))
    if target.name == "embedded" and target.running():
        from stedi.studio.runner import status_lines

        print("\n".join(status_lines()))
    return 0


def _pipeline(args, target) -> int:
    from stedi import pipeline
    from stedi.runtime.params import RunRequest

    progress = Progress(stream=sys.stderr if str(args.summary) == "-" else None)
    if args.key_stdin:  # the Docker target's container: the key arrives on stdin, never in a process list
        from stedi.privacy import register

        os.environ[settings.KEY_ENV] = sys.stdin.readline().strip()
        register.receive(sys.stdin.read())  # then the host's erasure register
    # In the Docker stack's container the landing files are already in the bucket, sent by the host.
    landing = args.landing or ("the bucket (uploaded by the host)" if args.key_stdin else "synthetic (generator)")
    progress(f"pipeline: policy {args.policy}, landing {landing}")
    request = RunRequest(
        landing=args.landing,
        policy=args.policy,
        seed=args.seed,
        customers=args.customers,
        max_quarantine=args.max_quarantine,
        gates=not args.no_gates,
        incremental=not args.full,
    )
    if target.name == "aws":  # runs there are started by the deployer, which knows the deployed jobs
        from stedi.aws.run import run_request

        summary = run_request(request, progress)
    else:
        summary = pipeline.execute(target, request, progress)
    if str(args.summary) == "-":  # one line for a program reading this one's output (the Docker target)
        from stedi.runtime.progress import SUMMARY_MARK

        print(SUMMARY_MARK + json.dumps(summary), flush=True)
        return 0
    if args.summary:
        pipeline.write_summary(summary, args.summary)
        progress(f"summary written to {args.summary}")
    _print_tables(summary)
    report = _write_report(summary, target, progress) if target.name in ("embedded", "docker") else None
    kept = ("The stack stays up for queries; `make down` stops it, and the lakehouse stays on disk."
            if target.name == "embedded" else "Tables stay queryable until `make down`.")
    print(f"\npolicy {summary['policy']} on the {target.name} target: done in {progress.elapsed:.1f}s. {kept}")
    if report:
        print(f"Run report: {report}")
    return 0


def _run(args, target) -> int:
    """`stedi run JOB`: the job and its downstream jobs, on the landing data and under the policy
    of the last whole run (its summary says which), each through its gate. The run report and
    the Data Docs stay those of that whole run."""
    from stedi import pipeline
    from stedi.runtime.params import RunRequest
    from stedi.targets.base import TargetError

    if target.name != "embedded":
        raise TargetError(f"`stedi run` re-runs jobs on the embedded stack; on the {target.name} target "
                          f"run the whole pipeline (`make pipeline TARGET={target.name}`)")
    from stedi.targets import embedded_stack

    chosen = pipeline.downstream(args.job)
    last = settings.last_run_file()
    if not last.is_file() or not embedded_stack.store_path().exists():  # a stopped stack's lakehouse is loaded
        raise TargetError("no pipeline has run on this lakehouse yet: `make pipeline` first, then `stedi run JOB`")
    previous = json.loads(last.read_text())
    policy = args.policy or previous["policy"]
    progress = Progress()
    progress(f"run: {', '.join(job.name for job in chosen)}; policy {policy}, landing {previous['landing_dir']}")
    request = RunRequest(landing=Path(previous["landing_dir"]), policy=policy, jobs=tuple(j.name for j in chosen))
    summary = pipeline.execute(target, request, progress)
    _print_tables(summary)
    print(f"\n{len(chosen)} job(s) on the {target.name} target: done in {progress.elapsed:.1f}s. "
          "The run report and the Data Docs are still the last whole run's.")
    return 0


def _engine(args) -> int:
    """`stedi engine serve` is what `stedi pipeline` starts in the background (stedi/runtime/engine.py)."""
    from stedi.runtime import engine

    if args.action == "serve":
        engine.serve(settings.state_home(), command=lambda argv: main(argv, in_engine=True))
    elif args.action == "stop":
        print("warm engine: stopped" if engine.stop() else "warm engine: was not running")
    else:
        print("\n".join(engine.status_lines()))
    return 0


def _write_report(summary: dict, target, progress) -> Path | None:
    """The run report of a run on a local stack, read from that stack (the summary is kept for `stedi
    report`). A report that cannot be drawn does not undo the run: it is said, and the run stands."""
    from stedi import pipeline, report

    pipeline.write_summary(summary, settings.last_run_file())
    try:
        return report.write(summary, target.stack(), settings.report_dir())
    except Exception as error:  # noqa: BLE001 - the tables are published; only the picture failed
        progress(f"the run report could not be written ({type(error).__name__}: {error}); `stedi report` retries")
        return None


def _report(args) -> int:
    """The report of the last local run, read from the stack it ran on (the summary names it)."""
    from stedi import report
    from stedi.targets import embedded_stack, rule

    try:
        summary = json.loads(settings.last_run_file().read_text())
    except FileNotFoundError:
        raise embedded_stack.StackError(
            "no pipeline run is recorded on a local stack: run `make pipeline` first") from None
    target = rule.get(summary.get("target", "embedded"))
    print(report.write(summary, target.stack(), settings.report_dir()))
    return 0


def _print_tables(summary: dict) -> None:
    from stedi.tables import lakehouse

    house = lakehouse()
    rows = [(name, house.table(name).zone, count) for name, count in summary["tables"].items()]
    if rows:
        print()
        print(table(rows, ("table", "zone", "rows")))
    landed = [
        (name, n["files"], n["records"], n["accepted"], n["quarantined"], n.get("suppressed", 0))
        for name, n in summary.get("landing", {}).items()
        if "records" in n
    ]
    if landed:
        print()
        print(table(landed, ("landing table", "files", "records", "accepted", "quarantined", "suppressed")))
    erasures = summary.get("erasures")
    if erasures and (erasures["people"] or erasures["suppressed"]):
        print(f"\nerased people: {erasures['people']:,} (stedi.erasures); their records suppressed this run: "
              f"{erasures['suppressed']:,}")
    if "cross_customer_pairs" in summary:
        print(f"\nmachine_learning_curated rows pairing two different customers: {summary['cross_customer_pairs']:,}")


def _docs(args, target) -> int:
    import webbrowser

    index = target.docs_dir() / "index.html"
    if not index.exists():
        raise FileNotFoundError(f"no Data Docs at {index} yet: run `make pipeline` first")
    print(index)
    if not args.no_browser and not webbrowser.open(index.as_uri()):
        print("no browser found here: open the file above in one (it works offline)")
    return 0


def _generate(args) -> int:
    from stedi.datasets import synthetic

    result = synthetic.generate(args.out, customers=args.customers, seed=args.seed)
    print(f"wrote synthetic landing data for {args.customers:,} customers (seed {args.seed}) to {args.out}")
    for source, count in result["files"].items():
        print(f"  {source}: {count:,}")
    return 0


def _fetch_udacity(args) -> int:
    from stedi.datasets import udacity

    base_url = args.base_url or udacity.UPSTREAM
    paths = udacity.fetch_udacity(args.dest, base_url=base_url, progress=Progress())
    print(f"{len(paths)} files verified in {args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
