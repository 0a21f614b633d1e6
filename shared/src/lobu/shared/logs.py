"""Structured JSON logs carrying the correlation id and the CloudEvent id of the work at hand.

No personal data: exceptions passed as arguments or as `exc_info` (`logger.exception`,
also FastStream's and uvicorn's) are written as `describe_error` tells them, with
their frames but without their text or their chained exceptions.
"""

from __future__ import annotations

import logging
import re
import sys
from contextvars import ContextVar
from typing import Any, TextIO

from pydantic import ValidationError
from pythonjsonlogger.json import JsonFormatter

from lobu.shared.envelope import EnvelopeError
from lobu.shared.safe_errors import RedactedError, describe_error, redacted_exc_info

correlation_id_var: ContextVar[str | None] = ContextVar("correlation_id", default=None)
event_id_var: ContextVar[str | None] = ContextVar("event_id", default=None)


class ContextFilter(logging.Filter):
    """Adds `correlation_id`, `event_id` and `service` to every record."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        record.correlation_id = correlation_id_var.get()
        record.event_id = event_id_var.get()
        redact_record(record)
        return True


def redact_record(record: logging.LogRecord) -> None:
    """Replace the exceptions in a log record by descriptions without personal data."""
    if isinstance(record.args, tuple):
        record.args = tuple(
            describe_error(arg) if isinstance(arg, BaseException) else arg for arg in record.args
        )
    elif isinstance(record.args, dict):
        record.args = {
            name: describe_error(arg) if isinstance(arg, BaseException) else arg
            for name, arg in record.args.items()
        }
    if record.exc_info and record.exc_info[1] is not None:
        error = record.exc_info[1]
        if isinstance(error, RedactedError):
            return
        # A library that writes the error into its message ("ValidationError: 30 lines
        # with the input") gets the one-line description there instead.
        text = str(error)
        if text and isinstance(record.msg, str) and text in record.msg:
            record.msg = record.msg.replace(text, describe_error(error))
        if isinstance(error, (ValidationError, EnvelopeError)):
            # The record's fault, not the code's: the description says all; no frames.
            record.exc_info = None
        else:
            record.exc_info = redacted_exc_info(error)
        record.exc_text = None


# Paths whose last segment is a credential: the sign-in link, the survey's personal
# link (page and API), the cancel link of a registration, the unsubscribe link.
SECRET_PATHS = re.compile(
    r"(/anmelden|/umfrage|/answers|/unsubscribe|/registrations/[^/?\s]+)/[^/?\s]+"
)


def without_secrets(text: str) -> str:
    """`text` with the credential of every secret link replaced by `…`."""
    return SECRET_PATHS.sub(r"\1/…", text)


class SecretPathFilter(logging.Filter):
    """Takes the credentials out of the paths uvicorn's access log writes.

    uvicorn's access records carry (client, method, path, HTTP version, status) as
    arguments; the path of a one-time sign-in link or a personal survey link would
    otherwise land in every log shipper.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                without_secrets(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        if isinstance(record.msg, str):
            record.msg = without_secrets(record.msg)
        return True


# aiokafka logs every failed reconnect at ERROR while Kafka is away (our relay and
# readiness report the outage once, clearly); FastStream logs "Received" and
# "Processed" for every record (800 lines for a backlog of 400 at start-up; lobu's
# consumer writes one line per record with its outcome). Both speak again at DEBUG.
# aiosqlite logs every statement with its bound values (personal data) at DEBUG,
# whatever the engine's hide_parameters says: it stays at INFO even then.
QUIET_LOGGERS = {
    "aiokafka": logging.CRITICAL,
    "faststream": logging.WARNING,
    "aiosqlite": logging.INFO,
}
SPEAK_AT_DEBUG = ("aiokafka", "faststream")
PLAIN_FORMAT = "%(asctime)s %(levelname)s [%(service)s] %(name)s: %(message)s"
CONTEXT_FIELDS = ("correlation_id", "event_id")


class PlainFormatter(logging.Formatter):
    """Lines for people: the correlation and event ids follow only when there are some."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ids = [
            f"{name}={value}"
            for name in CONTEXT_FIELDS
            if (value := getattr(record, name, None)) is not None
        ]
        if not ids:
            return line
        first, newline, rest = line.partition("\n")  # the ids end the message, not a traceback
        return f"{first} ({' '.join(ids)}){newline}{rest}"


class LobuJsonFormatter(JsonFormatter):
    """One JSON object a line; ids that are not there are left out, not written as null."""

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        for name in CONTEXT_FIELDS:
            if log_data.get(name) is None:
                log_data.pop(name, None)
        return log_data


def log_handler(
    *, service: str, json: bool = True, stream: TextIO | None = None
) -> logging.Handler:
    """The handler lobu logs through: context fields, exceptions without personal data."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.addFilter(ContextFilter(service))
    if json:
        handler.setFormatter(
            LobuJsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s "
                "%(service)s %(correlation_id)s %(event_id)s",
                rename_fields={"levelname": "level", "asctime": "time", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(PlainFormatter(PLAIN_FORMAT))
    return handler


def set_log_levels(level: str) -> None:
    """The root at `level`; the chatty libraries quieter unless `level` is DEBUG."""
    logging.getLogger().setLevel(level)
    debug = logging.getLevelName(level) == logging.DEBUG
    for name, quiet_level in QUIET_LOGGERS.items():
        loud = debug and name in SPEAK_AT_DEBUG
        logging.getLogger(name).setLevel(logging.NOTSET if loud else quiet_level)


def configure_logging(*, service: str, level: str = "INFO", json: bool = True) -> None:
    """Send all logs to stderr, as one JSON object a line (or plain text for humans)."""
    handler = log_handler(service=service, json=json)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    set_log_levels(level)
    # uvicorn's access logger has its own handler (it does not propagate to the root).
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(known, SecretPathFilter) for known in access.filters):
        access.addFilter(SecretPathFilter())
    handler.addFilter(SecretPathFilter())
