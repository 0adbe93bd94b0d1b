"""The `stedi` command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from stedi import settings
from stedi.progress import Progress, table


def main(argv: list[str] | None = None) -> int:
    from stedi.gate import GateFailed
    from stedi.quarantine import QuarantineExceeded

    parser = _parser()
    args = parser.parse_args(argv)
    try:
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
        from stedi.preflight import no_space_message

        no_space = no_space_message(error, settings.state_home())
        if no_space:
            print(f"stedi: error: {no_space}", file=sys.stderr)
            return 2
        if not _is_user_error(error):
            raise
        print(f"stedi: error: {error}", file=sys.stderr)
        return 2


def _is_user_error(error: Exception) -> bool:
    from stedi.docker_stack import DockerStackError
    from stedi.landing import LandingError
    from stedi.preflight import PreflightError
    from stedi.retry import Unreachable
    from stedi.runlock import LakehouseBusy
    from stedi.stack import StackError
    from stedi.udacity import FetchError

    known = (StackError, DockerStackError, LandingError, PreflightError, FetchError, LakehouseBusy, Unreachable)
    return isinstance(error, (*known, FileNotFoundError, ValueError))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stedi", description="STEDI lakehouse: run, query and promote the pipeline.")
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="start the embedded stack (S3 emulator + Iceberg catalog)")
    up.set_defaults(handler=_up)
    down = commands.add_parser("down", help="stop the embedded stack and discard its tables")
    down.set_defaults(handler=_down)
    status = commands.add_parser("status", help="show whether the embedded stack runs, and where")
    status.set_defaults(handler=_status)

    docs = commands.add_parser("docs", help="open the Data Docs of the last run's quality gates")
    docs.add_argument("--no-browser", action="store_true", help="only print where the report is")
    docs.set_defaults(handler=_docs)

    pipeline = commands.add_parser("pipeline", help="run the five jobs end to end")
    pipeline.add_argument(
        "--landing",
        type=Path,
        help="directory laid out like the S3 landing zone (default: synthetic data from the generator)",
    )
    pipeline.add_argument("--policy", default=settings.DEFAULT_POLICY, choices=settings.POLICIES)
    pipeline.add_argument("--summary", type=Path, help="write the run summary (JSON) to this file")
    pipeline.add_argument("--seed", type=int, default=42, help="generator seed when no --landing is given")
    pipeline.add_argument("--customers", type=int, default=1000, help="generator size when no --landing is given")
    pipeline.add_argument(
        "--max-quarantine",
        type=float,
        metavar="SHARE",
        help="stop, publishing nothing, when more than this fraction of a source's records is quarantined "
        "(default: [quarantine] max_share in catalog/tables.toml, 0.05)",
    )
    pipeline.set_defaults(handler=_pipeline)

    generate = commands.add_parser("generate", help="write synthetic landing data with the starter data's shape")
    generate.add_argument("--customers", type=int, default=1000)
    generate.add_argument("--seed", type=int, default=42)
    generate.add_argument("--out", type=Path, required=True)
    generate.set_defaults(handler=_generate)

    fetch = commands.add_parser("fetch-udacity", help="download the Udacity starter data and verify its checksums")
    fetch.add_argument("dest", type=Path)
    fetch.add_argument("--base-url", help="a mirror of the upstream folder (default: the public repository)")
    fetch.set_defaults(handler=_fetch_udacity)

    from stedi.query.cli_handler import add_query_parser

    add_query_parser(commands)

    from stedi.aws.cli import add_aws_parsers

    add_aws_parsers(commands)  # stedi aws deploy|run|destroy
    return parser


def _up(args) -> int:
    from stedi import stack

    stack.up()
    print("\n".join(stack.status_lines()))
    return 0


def _down(args) -> int:
    from stedi import runlock, stack

    with runlock.hold(settings.state_home(), "stedi down", wait_seconds=runlock.default_wait()):
        print("embedded stack stopped" if stack.down() else "embedded stack was not running")
    return 0


def _status(args) -> int:
    from stedi import stack

    print("\n".join(stack.status_lines()))
    return 0


def _pipeline(args) -> int:
    from stedi import pipeline, runlock
    from stedi.tables import lakehouse

    progress = Progress()
    progress(f"pipeline: policy {args.policy}, landing {args.landing or 'synthetic (generator)'}")
    with runlock.hold(settings.state_home(), "stedi pipeline", wait_seconds=runlock.default_wait(), progress=progress):
        summary = _run_pipeline(args, progress)
    if args.summary:
        pipeline.write_summary(summary, args.summary)
        progress(f"summary written to {args.summary}")
    house = lakehouse()
    rows = [(name, house.table(name).zone, count) for name, count in summary["tables"].items()]
    print()
    print(table(rows, ("table", "zone", "rows")))
    landed = [
        (name, n["files"], n["records"], n["accepted"], n["quarantined"])
        for name, n in summary.get("landing", {}).items()
        if "records" in n
    ]
    if landed:
        print()
        print(table(landed, ("landing table", "files", "records", "accepted", "quarantined")))
    if "cross_customer_pairs" in summary:
        print(f"\nmachine_learning_curated rows pairing two different customers: {summary['cross_customer_pairs']:,}")
    print(f"\npolicy {summary['policy']}: done in {progress.elapsed:.1f}s. Tables stay queryable until `make down`.")
    return 0


def _run_pipeline(args, progress) -> dict:
    from stedi import docker_stack, pipeline
    from stedi.preflight import check_java

    if docker_stack.is_up():
        progress("stack: Docker (jobs run in its Spark container; Iceberg REST catalog, LocalStack S3)")
        summary = docker_stack.run_pipeline(
            args.policy,
            args.landing,
            progress,
            seed=args.seed,
            customers=args.customers,
            max_quarantine=args.max_quarantine,
        )
    else:
        progress("stack: embedded (S3 emulator + Iceberg SQL catalog + local Spark)")
        check_java()
        summary = pipeline.run_embedded(
            args.landing,
            args.policy,
            progress,
            seed=args.seed,
            customers=args.customers,
            max_quarantine=args.max_quarantine,
        )
    return summary


def _docs(args) -> int:
    import webbrowser

    index = settings.docs_dir() / "index.html"
    if not index.exists():
        raise FileNotFoundError(f"no Data Docs at {index} yet: run `make pipeline` first")
    print(index)
    if not args.no_browser and not webbrowser.open(index.as_uri()):
        print("no browser found here: open the file above in one (it works offline)")
    return 0


def _generate(args) -> int:
    from stedi import synthetic

    result = synthetic.generate(args.out, customers=args.customers, seed=args.seed)
    print(f"wrote synthetic landing data for {args.customers:,} customers (seed {args.seed}) to {args.out}")
    for source, count in result["files"].items():
        print(f"  {source}: {count:,}")
    return 0


def _fetch_udacity(args) -> int:
    from stedi import udacity

    base_url = args.base_url or udacity.UPSTREAM
    paths = udacity.fetch_udacity(args.dest, base_url=base_url, progress=Progress())
    print(f"{len(paths)} files verified in {args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
