"""Structured JSON logs carrying the correlation id and the CloudEvent id of the work at hand."""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

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
        return True


def configure_logging(*, service: str, level: str = "INFO", json: bool = True) -> None:
    """Send all logs to stderr, as one JSON object a line (or plain text for humans)."""
    handler = logging.StreamHandler(sys.stderr)
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
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiokafka logs every failed reconnect at ERROR while Kafka is away; our own
    # relay and readiness report the outage once, clearly.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
