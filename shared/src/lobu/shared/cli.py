"""The `lobu` command line: development tokens, the mail sink, dead letters, the outbox
(status, parked rows), consumer lag, contract schemas."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from lobu.shared.auth import ISSUER, Role, create_token
from lobu.shared.settings import DEVELOPMENT_JWT_SECRET
from lobu.shared.topic_declarations import add_topics_command

MAX_TOKEN_HOURS = 24 * 366


def _hours(text: str) -> float:
    """A token's lifetime: a finite number of hours above 0, at most a year."""
    try:
        hours = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of hours") from None
    if not 0 < hours <= MAX_TOKEN_HOURS:  # also refuses nan
        raise argparse.ArgumentTypeError(
            f"{text} hours: a token must live more than 0 and at most {MAX_TOKEN_HOURS} hours"
        )
    return hours


def _token(args: argparse.Namespace) -> int:
    # The secret `make run` gives its services (deploy/local/run.env) unless the caller
    # names another one; only the token goes to stdout, so TOKEN=$(lobu token ...) works.
    secret = os.environ.get("LOBU_JWT_SECRET") or DEVELOPMENT_JWT_SECRET
    try:
        token = create_token(
            secret=secret,
            role=Role(args.role),
            alliance_id=args.alliance_id,
            subject=args.subject,
            audience=os.environ.get("LOBU_JWT_AUDIENCE") or "lobu",
            issuer=os.environ.get("LOBU_JWT_ISSUER") or ISSUER,
            lifetime=timedelta(hours=args.hours),
        )
    except ValueError as error:
        print(f"lobu token: {error}", file=sys.stderr)
        return 2
    if secret == DEVELOPMENT_JWT_SECRET:
        print(
            "lobu token: signed with the development secret; only services started with "
            "ENVIRONMENT=development and that secret (make run) accept it. "
            "Set LOBU_JWT_SECRET to sign for another deployment.",
            file=sys.stderr,
        )
    print(token)
    return 0


def _mailsink(args: argparse.Namespace) -> int:
    from lobu.shared.mailsink import MailSink

    sink = MailSink(Path(args.dir), host=args.host, port=args.port)
    sink.start()
    print(f"mail sink: SMTP on {args.host}:{args.port}, saving to {args.dir}/", flush=True)
    stop = asyncio.Event()

    async def wait() -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()

    try:
        asyncio.run(wait())
    finally:
        sink.stop()
    return 0


EXIT_UNAVAILABLE = 3  # Kafka (or the database) is not reachable: try again later


def _kafka_unreachable(command: str, bootstrap: str, error: BaseException) -> int:
    from lobu.shared.safe_errors import describe_error

    print(
        f"lobu {command}: Kafka at {bootstrap} is not reachable ({describe_error(error)}).\n"
        "Start it with `make kafka-start` (or `make run`), or name another broker with "
        "--bootstrap HOST:PORT or KAFKA_BOOTSTRAP_SERVERS.",
        file=sys.stderr,
    )
    return EXIT_UNAVAILABLE


def _dlq_replay(args: argparse.Namespace) -> int:
    from aiokafka.errors import KafkaError

    from lobu.shared.replay import replay_dead_letters

    try:
        summary = asyncio.run(
            replay_dead_letters(args.topic, bootstrap_servers=args.bootstrap, limit=args.limit)
        )
    except (KafkaError, OSError) as error:
        return _kafka_unreachable("dlq replay", args.bootstrap, error)
    for letter in summary.refused:
        print(
            f"refused {args.topic}[{letter.partition}]@{letter.offset}: {letter.reason}",
            file=sys.stderr,
        )
    ends = " ".join(f"{p}:{end}" for p, end in sorted(summary.end_offsets.items())) or "-"
    print(
        f"replayed {len(summary.replayed)} dead letters from {args.topic}, "
        f"refused {len(summary.refused)} (they stay there), "
        f"{summary.left} left before the end offsets seen at start ({ends})"
    )
    return 1 if summary.refused else 0


def _dlq_show(args: argparse.Namespace) -> int:
    from aiokafka.errors import KafkaError

    from lobu.shared.replay import read_dead_letters

    try:
        letters = asyncio.run(read_dead_letters(args.topic, bootstrap_servers=args.bootstrap))
    except (KafkaError, OSError) as error:
        return _kafka_unreachable("dlq show", args.bootstrap, error)
    for letter in letters:
        print(json.dumps(letter, ensure_ascii=False))
    return 0


def _outbox_database_url(args: argparse.Namespace) -> str:
    """The service's database: --database-url, else LOBU_<SERVICE>_DATABASE_URL, else var/."""
    if args.database_url:
        return str(args.database_url)
    variable = f"LOBU_{args.service.upper()}_DATABASE_URL"
    return os.environ.get(variable, f"sqlite+aiosqlite:///var/{args.service}.db")


async def _with_outbox_sessions(args: argparse.Namespace, use: Any) -> int:
    from lobu.shared.database import create_engine, create_session_factory

    engine = create_engine(_outbox_database_url(args))
    try:
        return int(await use(create_session_factory(engine)))
    finally:
        await engine.dispose()


def _outbox_parked(args: argparse.Namespace) -> int:
    from lobu.shared.outbox_parking import parked_rows

    async def show(sessions: Any) -> int:
        for row in await parked_rows(sessions):
            print(
                json.dumps(
                    {
                        "event_id": row.event_id, "position": row.position,
                        "topic": row.topic, "type": row.event_type, "subject": row.subject,
                        "attempts": row.attempts, "parked_at": str(row.parked_at),
                        "last_error": row.last_error,
                    },
                    ensure_ascii=False,
                )
            )  # fmt: skip
        return 0

    return asyncio.run(_with_outbox_sessions(args, show))


def _outbox_retry(args: argparse.Namespace) -> int:
    from lobu.shared.outbox_parking import release_parked

    if not args.event_ids and not args.all:
        print("lobu outbox retry: name event ids, or --all", file=sys.stderr)
        return 2

    async def release(sessions: Any) -> int:
        released = await release_parked(sessions, None if args.all else args.event_ids)
        print(f"released {released} parked outbox events; the relay publishes them next")
        return 0

    return asyncio.run(_with_outbox_sessions(args, release))


SERVICES = ("directory", "surveys", "events", "notifications")


def _outbox_status(args: argparse.Namespace) -> int:
    from sqlalchemy.engine import make_url

    from lobu.shared.operations import outbox_status, table
    from lobu.shared.safe_errors import describe_error

    absent = {}  # SQLite files that are not there: reading would create an empty one
    for service in args.services or SERVICES:
        url = make_url(_outbox_database_url(argparse.Namespace(service=service, **vars(args))))
        database = url.database or ""
        on_file = url.get_backend_name() == "sqlite" and database not in ("", ":memory:")
        if on_file and not Path(database).exists():
            absent[service] = database

    async def read_all() -> list[dict[str, Any]]:
        found = []
        for service in args.services or SERVICES:
            one = argparse.Namespace(service=service, database_url=args.database_url)
            report: dict[str, Any] = {"service": service}

            async def read(sessions: Any, into: dict[str, Any] = report) -> int:
                status = await outbox_status(sessions)
                into.update(
                    unpublished=status.unpublished, parked=status.parked,
                    oldest_age_seconds=status.oldest_age_seconds, published=status.published,
                )  # fmt: skip
                return 0

            if service in absent:
                report["error"] = f"no database at {absent[service]}"
                found.append(report)
                continue
            try:
                await _with_outbox_sessions(one, read)
            except Exception as error:  # a database that is not there (yet), or away
                report["error"] = describe_error(error)
            found.append(report)
        return found

    reports = asyncio.run(read_all())
    if args.json:
        print(json.dumps(reports, ensure_ascii=False))
    else:
        rows = [
            [
                r["service"], r.get("unpublished", "-"), r.get("parked", "-"),
                "-" if r.get("oldest_age_seconds") is None else round(r["oldest_age_seconds"], 1),
                r.get("published", "-"), r.get("error", ""),
            ]
            for r in reports
        ]  # fmt: skip
        print(table(["SERVICE", "UNPUBLISHED", "PARKED", "OLDEST_S", "PUBLISHED", "ERROR"], rows))
    return EXIT_UNAVAILABLE if all("error" in r for r in reports) else 0


def _consumer_lag(args: argparse.Namespace) -> int:
    from aiokafka.errors import KafkaError

    from lobu.shared.consumer_lag import groups_and_topics, read_lag
    from lobu.shared.operations import table

    async def read() -> list[Any]:
        wanted = {args.group: list(args.topics)} if args.group and args.topics else None
        groups = wanted or await groups_and_topics(args.bootstrap, args.group)
        found = []
        for group, topics in groups.items():
            if topics:
                found += await read_lag(args.bootstrap, group, topics)
        return found

    try:
        lags = asyncio.run(read())
    except (KafkaError, OSError) as error:
        return _kafka_unreachable("consumer lag", args.bootstrap, error)
    if args.json:
        print(
            json.dumps(
                [
                    {"group": lag.group, "topic": lag.topic, "partition": lag.partition,
                     "end_offset": lag.end_offset, "committed": lag.committed, "lag": lag.lag}
                    for lag in lags
                ]
            )
        )  # fmt: skip
        return 0
    rows: list[list[object]] = [
        [lag.group, lag.topic, lag.partition, lag.end_offset,
         "-" if lag.committed is None else lag.committed, lag.lag]
        for lag in lags
    ]  # fmt: skip
    rows.append(["total", "", "", "", "", sum(lag.lag for lag in lags)])
    print(table(["GROUP", "TOPIC", "PARTITION", "END", "COMMITTED", "LAG"], rows))
    return 0


def _add_consumer_commands(commands: Any) -> None:
    consumer = commands.add_parser("consumer", help="consumer groups: lag")
    consumer_commands = consumer.add_subparsers(dest="consumer_command", required=True)
    lag = consumer_commands.add_parser(
        "lag",
        help="records each group has not committed yet, per partition",
        description="End offset minus committed offset per partition, read from the broker "
        "(the numbers of lobu_consumer_lag_records). Without GROUP: every group; without "
        "TOPIC: the topics the group has committed offsets on. Exit status: 0 done, "
        f"{EXIT_UNAVAILABLE} Kafka not reachable.",
        epilog="example: lobu consumer lag notifications directory.alliance --json",
    )
    lag.add_argument("group", nargs="?", help="the consumer group, e.g. notifications")
    lag.add_argument("topics", nargs="*", help="its topics (default: those it has offsets on)")
    lag.add_argument(
        "--bootstrap",
        default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
        help="HOST:PORT of Kafka (default: KAFKA_BOOTSTRAP_SERVERS, else 127.0.0.1:9092)",
    )
    lag.add_argument("--json", action="store_true", help="print JSON instead of a table")
    lag.set_defaults(run=_consumer_lag)


def _add_outbox_commands(commands: Any) -> None:
    outbox = commands.add_parser("outbox", help="the outbox: status, parked events")
    outbox_commands = outbox.add_subparsers(dest="outbox_command", required=True)
    status = outbox_commands.add_parser(
        "status",
        help="waiting, parked and published events, and the oldest waiting one, per service",
        description="Reads each service's outbox table. Exit status: 0 done, "
        f"{EXIT_UNAVAILABLE} no database answered.",
    )
    status.add_argument(
        "--service", dest="services", action="append", choices=SERVICES,
        help="whose outbox (repeatable; default: all four)",
    )  # fmt: skip
    status.add_argument(
        "--database-url",
        help="with one --service: its database (default LOBU_<SERVICE>_DATABASE_URL, "
        "else var/<service>.db)",
    )
    status.add_argument("--json", action="store_true", help="print JSON instead of a table")
    status.set_defaults(run=_outbox_status)
    parked = outbox_commands.add_parser("parked", help="print the parked events (JSON lines)")
    retry = outbox_commands.add_parser("retry", help="release parked events for the relay")
    retry.add_argument("event_ids", nargs="*", help="the events to release")
    retry.add_argument("--all", action="store_true", help="release every parked event")
    for command, run in ((parked, _outbox_parked), (retry, _outbox_retry)):
        command.add_argument("--service", default="directory", help="whose outbox")
        command.add_argument(
            "--database-url", help="default: LOBU_<SERVICE>_DATABASE_URL, else var/<service>.db"
        )
        command.set_defaults(run=run)


def _schemas(args: argparse.Namespace) -> int:
    from lobu.shared.contracts.schemas import export_schemas

    for path in export_schemas(Path(args.folder)):
        print(path)
    return 0


EXAMPLES = """examples:
  TOKEN=$(lobu token --role admin)          a token for make run's services
  lobu mailsink --port 1025                 catch mail as .eml files in var/mail/
  lobu dlq show directory.alliance.dlq      what was dead-lettered, and why
  lobu dlq replay directory.alliance.dlq    put the letters back after a fix
  lobu outbox status                        each service's outbox: waiting, parked, oldest
  lobu outbox parked --service directory    events Kafka refused, kept back
  lobu consumer lag notifications           records the group has not committed yet
  lobu schemas                              write the contracts' JSON Schemas

exit status: 0 done, 1 something refused, 2 wrong arguments, 3 Kafka not reachable
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `lobu`."""
    parser = argparse.ArgumentParser(
        prog="lobu",
        description="lobu development and operations: tokens, the mail sink, dead letters, "
        "the outbox, consumer lag, event schemas. `lobu COMMAND --help` tells more.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    token = commands.add_parser(
        "token",
        help="print a JWT (the development secret of make run unless LOBU_JWT_SECRET is set)",
        description="Print a signed JWT on stdout, and nothing else (notes go to stderr), "
        "so that TOKEN=$(lobu token --role admin) works. Signed with the development "
        "secret of make run unless LOBU_JWT_SECRET is set; LOBU_JWT_AUDIENCE and "
        "LOBU_JWT_ISSUER override 'lobu'.",
        epilog="example: lobu token --role alliance --alliance-id <id> --hours 2",
    )
    token.add_argument("--role", choices=[role.value for role in Role], required=True)
    token.add_argument("--alliance-id", help="the alliance a coordinator token is bound to")
    token.add_argument("--subject", default="developer", help="who the token names")
    token.add_argument(
        "--hours", type=_hours, default=12, help="lifetime in hours, more than 0 (default: 12)"
    )
    token.set_defaults(run=_token)

    sink = commands.add_parser("mailsink", help="run the local SMTP sink (.eml files)")
    sink.add_argument("--host", default="127.0.0.1")
    sink.add_argument("--port", type=int, default=1025)
    sink.add_argument("--dir", default="var/mail")
    sink.set_defaults(run=_mailsink)

    dlq = commands.add_parser("dlq", help="inspect and replay dead letters")
    dlq_commands = dlq.add_subparsers(dest="dlq_command", required=True)
    for name, run, text in (
        ("show", _dlq_show, "print the dead letters of a topic with their reasons"),
        ("replay", _dlq_replay, "put dead letters back on the topic they came from"),
    ):
        command = dlq_commands.add_parser(
            name,
            help=text,
            description=f"{text[0].upper()}{text[1:]}. Exit status: 0 done, 1 letters "
            f"refused (replay), 2 wrong arguments, {EXIT_UNAVAILABLE} Kafka not reachable.",
            epilog=f"example: lobu dlq {name} directory.alliance.dlq --bootstrap 127.0.0.1:9092",
        )
        command.add_argument("topic", help="the dead-letter topic, e.g. directory.alliance.dlq")
        command.add_argument(
            "--bootstrap",
            default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
            help="HOST:PORT of Kafka (default: KAFKA_BOOTSTRAP_SERVERS, else 127.0.0.1:9092)",
        )
        if name == "replay":
            command.add_argument(
                "--limit", type=int, default=None, help="replay at most this many letters"
            )
        command.set_defaults(run=run)

    _add_outbox_commands(commands)
    add_topics_command(commands)  # lobu topics apply|show (lobu.shared.topic_declarations)
    _add_consumer_commands(commands)

    schemas = commands.add_parser("schemas", help="export the JSON Schemas of all event contracts")
    schemas.add_argument("folder", nargs="?", default="shared/schemas")
    schemas.set_defaults(run=_schemas)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `lobu` command."""
    from lobu.shared.logs import set_log_levels

    set_log_levels("WARNING")  # aiokafka's reconnect errors would repeat what lobu says once
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
