"""Structured JSON logs carrying the correlation id and the CloudEvent id of the work at hand.

No personal data: exceptions passed as arguments or as `exc_info` (`logger.exception`,
also FastStream's and uvicorn's) are written as `describe_error` tells them, with
their frames but without their text or their chained exceptions.
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from typing import TextIO

from pythonjsonlogger.json import JsonFormatter

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
        if not isinstance(error, RedactedError):
            record.exc_info = redacted_exc_info(error)
            record.exc_text = None


# aiokafka logs every failed reconnect at ERROR while Kafka is away (our relay and
# readiness report the outage once, clearly); aiosqlite logs every statement with its
# bound values (personal data) at DEBUG, whatever the engine's hide_parameters says.
QUIET_LOGGERS = {"aiokafka": logging.CRITICAL, "aiosqlite": logging.INFO}


def log_handler(
    *, service: str, json: bool = True, stream: TextIO | None = None
) -> logging.Handler:
    """The handler lobu logs through: context fields, exceptions without personal data."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.addFilter(ContextFilter(service))
    if json:
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s "
                "%(service)s %(correlation_id)s %(event_id)s",
                rename_fields={"levelname": "level", "asctime": "time", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(
            logging.Formatter(
                "%(asctime)s %(levelname)s [%(service)s] %(name)s: %(message)s "
                "(correlation_id=%(correlation_id)s event_id=%(event_id)s)"
            )
        )
    return handler


def configure_logging(*, service: str, level: str = "INFO", json: bool = True) -> None:
    """Send all logs to stderr, as one JSON object a line (or plain text for humans)."""
    handler = log_handler(service=service, json=json)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name, quiet_level in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(quiet_level)
